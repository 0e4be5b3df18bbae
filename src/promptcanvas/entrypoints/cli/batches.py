"""`promptcanvas batch ...`: re-run many prompts on another model, follow it, compare."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table
from rich.text import Text

from promptcanvas.bootstrap import Container
from promptcanvas.domain.jobs import Target
from promptcanvas.entrypoints.api.batch_schemas import BatchPublic, PairPublic, PairsPublic
from promptcanvas.entrypoints.cli.common import console, container, err_console, print_json
from promptcanvas.entrypoints.cli.prompts import JsonOpt, UserOpt, _owner
from promptcanvas.services.batches import MAX_BATCH, BatchRequest, BatchStatus
from promptcanvas.services.library import SearchRequest

app = typer.Typer(
    help="Re-run many prompts on another model and compare before with after.",
    no_args_is_help=True,
)
POLL_SECONDS = 0.5
ENDED = ("SUCCESS", "FAILURE", "CANCELLED")


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    minutes, secs = divmod(int(seconds + 0.5), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def _summary(s: BatchStatus) -> str:
    c = s.counts
    return (
        f"{s.batch.id}  {s.status}  {c.done}/{s.batch.total} done, {c.failed} failed, "
        f"{c.cancelled} cancelled, {c.running} running, {c.pending} pending  "
        f"ETA {_eta(s.eta_seconds)}"
    )


def _wait(c: Container, owner: str, batch_id: str, workers: int) -> BatchStatus:
    """Poll the batch with a progress bar until it ends (Ctrl-C stops waiting, not the batch)."""
    pool = c.worker_pool(workers) if workers else None
    if pool is not None:
        pool.start()
    status = c.batches.status(owner, batch_id)
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[detail]}  ETA {task.fields[eta]}"),
    )
    try:
        with Progress(*columns, console=console, transient=False) as progress:
            b = status.batch
            task = progress.add_task(
                f"→ {Target(b.provider, b.model, b.model_version)}",
                total=status.batch.total,
                detail="",
                eta=_eta(None),
            )
            while True:
                counts = status.counts
                progress.update(
                    task,
                    completed=counts.finished,
                    detail=f"{counts.failed} failed" if counts.failed else "",
                    eta=_eta(status.eta_seconds),
                )
                if status.status in ENDED:
                    break
                time.sleep(POLL_SECONDS)
                status = c.batches.status(owner, batch_id)
    except KeyboardInterrupt:
        err_console.print(
            f"stopped waiting; the batch goes on: promptcanvas batch status {batch_id}"
        )
    finally:
        if pool is not None:
            pool.stop()
    return status


@app.command("rerun")
def rerun(
    to: Annotated[str, typer.Option("--to", help="Target as provider:model[@version]")],
    query: Annotated[str | None, typer.Option("--query", "-q", help="Search words")] = None,
    tag: Annotated[list[str] | None, typer.Option("--tag", "-t")] = None,
    category: Annotated[str | None, typer.Option("--category", "-c")] = None,
    prompt_id: Annotated[list[str] | None, typer.Option("--id", help="Prompt ids")] = None,
    every: Annotated[bool, typer.Option("--all", help="Every live prompt")] = False,
    seeds: Annotated[str, typer.Option(help="same: keep each old seed; new: fresh ones")] = "same",
    params: Annotated[str | None, typer.Option(help="JSON object of parameter overrides")] = None,
    wait: Annotated[bool, typer.Option(help="Show progress until the batch ends")] = False,
    workers: Annotated[
        int, typer.Option(min=0, max=64, help="With --wait: also run jobs in this process")
    ] = 0,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Re-run the prompts a query (or --id) selects on another provider/model/version."""
    try:
        target = Target.parse(to)
        override: Any = json.loads(params) if params else {}
    except ValueError as exc:
        err_console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    if not (query or tag or category or prompt_id or every):
        err_console.print(
            "[red]error:[/red] select prompts with --query, --tag, --category, --id or --all"
        )
        raise typer.Exit(2)
    search = None
    if not prompt_id:
        search = SearchRequest(q=query, tags=tuple(tag or []), category=category)
    request = BatchRequest(
        target=target,
        prompt_ids=tuple(prompt_id) if prompt_id else None,
        query=search,
        params_override=override,
        seeds=seeds,
    )
    with container() as c:
        owner = _owner(c, user)
        batch = c.batches.create(owner, request)
        if not as_json:
            console.print(f"batch {batch.id}: {batch.total} prompt(s) → {target}")
        status = _wait(c, owner, batch.id, workers) if wait else c.batches.status(owner, batch.id)
    if as_json:
        print_json(BatchPublic.of(status))
    elif wait:
        console.print(_summary(status))
    if wait and status.status != "SUCCESS":
        raise typer.Exit(1)


@app.command("status")
def status(batch_id: str, user: UserOpt = "admin", as_json: JsonOpt = False) -> None:
    """Progress of a batch."""
    with container() as c:
        found = c.batches.status(_owner(c, user), batch_id)
    if as_json:
        print_json(BatchPublic.of(found))
    else:
        console.print(_summary(found), highlight=False)


@app.command("cancel")
def cancel(batch_id: str, user: UserOpt = "admin") -> None:
    """Cancel a batch's unfinished jobs."""
    with container() as c:
        console.print(_summary(c.batches.cancel(_owner(c, user), batch_id)), highlight=False)


@app.command("retry")
def retry(batch_id: str, user: UserOpt = "admin") -> None:
    """Run a batch's failed and cancelled jobs again."""
    with container() as c:
        console.print(_summary(c.batches.retry_failed(_owner(c, user), batch_id)), highlight=False)


def _num(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3f}" if isinstance(value, float) else str(value)


@app.command("compare")
def compare(
    batch_id: str,
    limit: Annotated[int, typer.Option(min=1, max=MAX_BATCH)] = MAX_BATCH,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Before and after of each prompt: versions, seeds, image distances, latency change."""
    with container() as c:
        pairs, next_cursor = c.batches.compare(_owner(c, user), batch_id, limit=limit)
    if as_json:
        print_json(PairsPublic(data=[PairPublic.of(p) for p in pairs], next_cursor=next_cursor))
        return
    table = Table("prompt", "text", "before", "after", "seed", "pHash", "colour", "Δ ms")
    for p in pairs:
        before = p.before.generation if p.before else None
        after = p.after.generation
        f = p.figures
        text = p.text if len(p.text) <= 40 else p.text[:39] + "…"
        table.add_row(
            p.prompt_id,
            Text(text),
            f"{before.model}@{before.model_version}" if before else "—",
            f"{after.model}@{after.model_version} {after.status}",
            _num(after.seed),
            _num(f.phash_distance) if f else "—",
            _num(f.colour_distance) if f else "—",
            _num(f.latency_delta_ms) if f else "—",
        )
    console.print(table)
