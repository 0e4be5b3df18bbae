"""The compare page (a prompt's two outputs, or one pair of a batch) and the batch page."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from promptcanvas.domain.errors import BadRequest, InvalidInput, NotFound
from promptcanvas.domain.jobs import Target
from promptcanvas.domain.users import User
from promptcanvas.entrypoints.api.deps import ContainerDep
from promptcanvas.entrypoints.web.base import PageUser, language, render
from promptcanvas.entrypoints.web.prompt_views import (
    figure_rows,
    image_view,
    iso,
    snippet,
    target_label,
)
from promptcanvas.entrypoints.web.strings import strings
from promptcanvas.services.batch_views import Pair
from promptcanvas.services.compare import GroupPair
from promptcanvas.services.library import Output
from promptcanvas.services.similarity import Histograms, first_image, pair_figures

router = APIRouter(include_in_schema=False)
PAIRS_PAGE = 200
TERMINAL = ("SUCCESS", "FAILURE", "CANCELLED")


def _not_found(request: Request, c: ContainerDep, user: User) -> HTMLResponse:
    return render(request, c, "not_found.html", user=user, status=404)


def _side(output: Output, text: str) -> dict[str, Any] | None:
    """One side of a comparison: the output's first image with its label."""
    image = first_image(output)
    if image is None or output.generation.status != "SUCCESS":
        return None
    g = output.generation
    return {
        "id": g.id,
        "label": target_label(g),
        "seed": g.seed,
        "created": iso(g.created_at),
        "alt": snippet(text),
        **{k: v for k, v in image_view(image).items() if k != "id"},
    }


def _defaults(imaged: list[tuple[str, Output]]) -> tuple[Output, Output]:
    """The oldest model/version group's first image against the newest group's latest one."""
    first_seen: dict[str, Any] = {}
    for label, output in imaged:
        first_seen.setdefault(label, output.generation.created_at)
    oldest = min(first_seen, key=lambda k: first_seen[k])
    newest = max(first_seen, key=lambda k: first_seen[k])
    before = next(o for label, o in imaged if label == oldest)
    after = [o for label, o in imaged if label == newest][-1]
    if before is after:
        before, after = imaged[0][1], imaged[-1][1]
    return before, after


def _group_pair_row(p: GroupPair) -> dict[str, Any]:
    return {
        "before": str(p.before),
        "after": str(p.after),
        "compared": p.compared,
        "matched_by": p.matched_by,
        "shape": None if p.mean_phash_distance is None else f"{p.mean_phash_distance:.1f} / 64",
        "colour": None if p.mean_colour_distance is None else f"{p.mean_colour_distance:.2f}",
        "bytes": None if p.mean_bytes_delta is None else f"{p.mean_bytes_delta / 1024:+,.1f} KB",
        "latency": None
        if p.mean_latency_delta_ms is None
        else f"{p.mean_latency_delta_ms:+,.0f} ms",
    }


@router.get("/prompts/{prompt_id}/compare", response_class=HTMLResponse)
def prompt_compare_page(
    prompt_id: str, request: Request, c: ContainerDep, user: PageUser, a: str = "", b: str = ""
) -> HTMLResponse:
    """Two outputs of a prompt, or of it and its earlier revisions, side by side, as a slider
    or blinking, with the figures."""
    try:
        comparison = c.compare.prompt_compare(user.id, prompt_id)
    except NotFound:
        return _not_found(request, c, user)
    prompt = comparison.prompt
    own = [(str(g.target), o) for g in comparison.groups for o in g.outputs]
    imaged = [(label, o, prompt.text) for label, o in own if _side(o, prompt.text) is not None]
    label = strings(language(request))["compare"]["earlier"]
    earlier = [
        (f"{target_label(o.generation)} · {label}", o, older.text)
        for older, o in c.compare.earlier_outputs(user.id, prompt.id)
        if _side(o, older.text) is not None
    ]
    everything = sorted(imaged + earlier, key=lambda item: item[1].generation.created_at)
    texts = {o.generation.id: text for _, o, text in everything}
    context: dict[str, Any] = {
        "prompt_id": prompt.id,
        "prompt_text": prompt.text,
        "back_url": f"/prompts/{prompt.id}",
        "group_pairs": [_group_pair_row(p) for p in comparison.pairs],
        "choices": [
            {"id": o.generation.id, "label": label, "seed": o.generation.seed, "n": i + 1}
            for i, (label, o, _text) in enumerate(everything)
        ],
        "before": None,
        "after": None,
        "figures": [],
    }
    if len(everything) >= 2:
        by_id = {o.generation.id: o for _, o, _text in everything}
        if len(imaged) >= 2:
            before, after = _defaults([(label, o) for label, o, _text in imaged])
        elif imaged:  # this revision's image against the nearest earlier revision's latest
            before, after = earlier[0][1], imaged[-1][1]
        else:
            before, after = _defaults([(label, o) for label, o, _text in earlier])
        before, after = by_id.get(a, before), by_id.get(b, after)
        context["before"] = _side(before, texts[before.generation.id])
        context["after"] = _side(after, texts[after.generation.id])
        figures = pair_figures(before, after, Histograms(c.assets))
        context["figures"] = figure_rows(figures) if figures else []
    return render(request, c, "compare.html", user=user, nav="gallery", **context)


def _pair_view(n: int, batch_id: str, pair: Pair) -> dict[str, Any]:
    """One pair of a batch for the batch page."""
    after = pair.after.generation
    return {
        "n": n,
        "prompt_id": pair.prompt_id,
        "text": snippet(pair.text, 120),
        "before": _side(pair.before, pair.text) if pair.before else None,
        "after": _side(pair.after, pair.text),
        "after_status": after.status,
        "after_error": after.error,
        "after_label": target_label(after),
        "shape": pair.figures.phash_distance if pair.figures else None,
        "compare_url": f"/batches/{batch_id}/compare?pair={n}",
    }


def _page_number(value: str, default: int) -> int | None:
    """A positive whole number from the query string, the default if absent, else None."""
    if value == "":
        return default
    return int(value) if value.isdigit() and len(value) < 9 and int(value) > 0 else None


def _pairs_page(
    c: ContainerDep, user: User, batch_id: str, cursor: str, start: str
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of a batch's pairs for the page, and the link to the next page."""
    first = _page_number(start, 1) or 1
    try:
        pairs, next_cursor = c.batches.compare(
            user.id, batch_id, cursor=cursor or None, limit=PAIRS_PAGE
        )
    except (InvalidInput, BadRequest):  # a stale or edited cursor: start from the top
        first = 1
        pairs, next_cursor = c.batches.compare(user.id, batch_id, cursor=None, limit=PAIRS_PAGE)
    views = [_pair_view(first + i, batch_id, p) for i, p in enumerate(pairs)]
    more = f"?cursor={next_cursor}&start={first + len(pairs)}" if next_cursor else None
    return views, more


@router.get("/batches/{batch_id}", response_class=HTMLResponse)
def batch_page(
    batch_id: str,
    request: Request,
    c: ContainerDep,
    user: PageUser,
    cursor: str = "",
    start: str = "",
) -> HTMLResponse:
    """A batch re-run: live progress, then before/after pairs for every prompt of it."""
    try:
        status = c.batches.status(user.id, batch_id)
        pairs, more = _pairs_page(c, user, batch_id, cursor, start)
    except NotFound:
        return _not_found(request, c, user)
    b = status.batch
    counts = status.counts
    paged = bool(pairs) and pairs[0]["n"] > 1
    return render(
        request,
        c,
        "batch.html",
        user=user,
        nav="jobs",
        batch=b,
        state=status.status,
        done=status.status in TERMINAL,
        target=str(Target(b.provider, b.model, b.model_version)),
        counts=counts,
        finished=counts.done + counts.failed + counts.cancelled,
        eta=status.eta_seconds,
        created=iso(b.created_at),
        pairs=pairs,
        more_url=more,
        script={"id": b.id, "status": status.status, "paged": paged},
    )


@router.get("/batches/{batch_id}/pairs", response_class=HTMLResponse)
def batch_pairs_fragment(
    batch_id: str, request: Request, c: ContainerDep, user: PageUser
) -> HTMLResponse:
    """The first page of a batch's pairs as list items, for the batch page's live refresh."""
    try:
        pairs, _ = _pairs_page(c, user, batch_id, "", "")
    except NotFound:
        return _not_found(request, c, user)
    return render(request, c, "_prompt_batch_pairs.html", user=user, pairs=pairs)


@router.get("/batches/{batch_id}/compare", response_class=HTMLResponse)
def batch_compare_page(
    batch_id: str, request: Request, c: ContainerDep, user: PageUser, pair: str = ""
) -> HTMLResponse:
    """Pair N (from 1) of a batch: before and after side by side, as a slider or blinking."""
    n = _page_number(pair, 1)
    try:
        status = c.batches.status(user.id, batch_id)
        if n is None or n > status.batch.total:
            return _not_found(request, c, user)
        pairs, _ = c.batches.compare(user.id, batch_id, cursor=None, limit=n)
    except NotFound:
        return _not_found(request, c, user)
    if len(pairs) < n:
        return _not_found(request, c, user)
    chosen = pairs[n - 1]
    before = _side(chosen.before, chosen.text) if chosen.before else None
    after = _side(chosen.after, chosen.text)
    context: dict[str, Any] = {
        "back_url": f"/batches/{batch_id}",
        "batch_id": batch_id,
        "prompt_id": chosen.prompt_id,
        "prompt_text": chosen.text,
        "position": n,
        "total": status.batch.total,
        "prev_url": f"/batches/{batch_id}/compare?pair={n - 1}" if n > 1 else None,
        "next_url": f"/batches/{batch_id}/compare?pair={n + 1}" if n < status.batch.total else None,
        "before": before if before and after else None,
        "after": after if before and after else None,
        "figures": figure_rows(chosen.figures) if chosen.figures else [],
        "group_pairs": [],
        "choices": [],
    }
    return render(request, c, "compare.html", user=user, nav="jobs", **context)
