"""GET /metrics: Prometheus text format, deployment-wide, aggregates only (no user data)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from starlette.concurrency import run_in_threadpool

from promptcanvas.domain.jobs import JobStatus
from promptcanvas.entrypoints.api.deps import ContainerDep
from promptcanvas.ports.jobs import DURATION_BUCKETS, QueueStats
from promptcanvas.services.text_cache import CacheStats

router = APIRouter(tags=["meta"])


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def render(stats: QueueStats) -> str:
    """The exposition text for one snapshot."""
    out = [
        "# HELP promptcanvas_jobs Jobs by kind (generate, import, embed) and state.",
        "# TYPE promptcanvas_jobs gauge",
    ]
    kinds = sorted({"generate", *(kind for kind, _ in stats.jobs_by_status)})
    for kind in kinds:
        for state in JobStatus:
            count = stats.jobs_by_status.get((kind, state.value), 0)
            out.append(f'promptcanvas_jobs{{kind="{_label(kind)}",state="{state.value}"}} {count}')
    out += [
        "# HELP promptcanvas_queue_depth Jobs waiting and due to run.",
        "# TYPE promptcanvas_queue_depth gauge",
        f"promptcanvas_queue_depth {stats.queue_depth}",
        "# HELP promptcanvas_provider_call_seconds Provider call durations by outcome.",
        "# TYPE promptcanvas_provider_call_seconds histogram",
    ]
    for (provider, outcome), (count, total, buckets) in sorted(stats.attempts.items()):
        labels = f'provider="{_label(provider)}",outcome="{_label(outcome)}"'
        for bound, n in zip(DURATION_BUCKETS, buckets, strict=True):
            out.append(f'promptcanvas_provider_call_seconds_bucket{{{labels},le="{bound}"}} {n}')
        out.append(f'promptcanvas_provider_call_seconds_bucket{{{labels},le="+Inf"}} {count}')
        out.append(f"promptcanvas_provider_call_seconds_sum{{{labels}}} {total:.6f}")
        out.append(f"promptcanvas_provider_call_seconds_count{{{labels}}} {count}")
    out += [
        "# HELP promptcanvas_provider_errors_total Failed provider calls by kind.",
        "# TYPE promptcanvas_provider_errors_total counter",
    ]
    for (provider, outcome), (count, _, _) in sorted(stats.attempts.items()):
        if outcome != "success":
            labels = f'provider="{_label(provider)}",kind="{_label(outcome)}"'
            out.append(f"promptcanvas_provider_errors_total{{{labels}}} {count}")
    out += [
        "# HELP promptcanvas_generations_total Successful generations.",
        "# TYPE promptcanvas_generations_total counter",
    ]
    for (provider, model), (count, _) in sorted(stats.cost.items()):
        labels = f'provider="{_label(provider)}",model="{_label(model)}"'
        out.append(f"promptcanvas_generations_total{{{labels}}} {count}")
    out += [
        "# HELP promptcanvas_cost_dollars_total Recorded provider cost in US dollars.",
        "# TYPE promptcanvas_cost_dollars_total counter",
    ]
    for (provider, model), (_, dollars) in sorted(stats.cost.items()):
        labels = f'provider="{_label(provider)}",model="{_label(model)}"'
        out.append(f"promptcanvas_cost_dollars_total{{{labels}}} {dollars:.6f}")
    return "\n".join(out) + "\n"


def render_text_cache(stats: CacheStats) -> str:
    """The semantic cache's counters (services/text_cache.py)."""
    out = [
        "# HELP promptcanvas_text_cache_requests_total Text-model calls by cache outcome.",
        "# TYPE promptcanvas_text_cache_requests_total counter",
    ]
    for result, count in (
        ("exact_hit", stats.exact_hits),
        ("semantic_hit", stats.semantic_hits),
        ("miss", stats.misses),
        ("bypass", stats.bypassed),
    ):
        out.append(f'promptcanvas_text_cache_requests_total{{result="{result}"}} {count}')
    out += [
        "# HELP promptcanvas_text_cache_stores_total Answers stored in the text cache.",
        "# TYPE promptcanvas_text_cache_stores_total counter",
        f"promptcanvas_text_cache_stores_total {stats.stores}",
        "# HELP promptcanvas_text_cache_errors_total Cache failures (the model still answered).",
        "# TYPE promptcanvas_text_cache_errors_total counter",
        f"promptcanvas_text_cache_errors_total {stats.errors}",
    ]
    return "\n".join(out) + "\n"


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(c: ContainerDep) -> PlainTextResponse:
    """Jobs by state, queue depth, provider call durations and errors, cost."""
    stats = await run_in_threadpool(c.generations.stats)
    text = render(stats) + render_text_cache(c.text_cache.stats())
    return PlainTextResponse(text, media_type="text/plain; version=0.0.4")
