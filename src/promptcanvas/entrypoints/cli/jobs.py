"""`promptcanvas generate`, `promptcanvas worker` and `promptcanvas jobs ...`."""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from promptcanvas.bootstrap import Container
from promptcanvas.domain.jobs import Job
from promptcanvas.entrypoints.api.job_schemas import JobPublic
from promptcanvas.entrypoints.api.schemas import GenerationPublic
from promptcanvas.entrypoints.cli.common import console, container, err_console, print_json
from promptcanvas.entrypoints.cli.prompts import JsonOpt, UserOpt, _owner
from promptcanvas.services.generate import GenerationRequest
from promptcanvas.services.users import ADMIN
from promptcanvas.settings import Settings

jobs_app = typer.Typer(help="Follow, cancel and retry background jobs.", no_args_is_help=True)


def _wait(c: Container, owner: str, job_id: str, *, quiet: bool) -> Job:
    """Run or watch the job until it ends, with a progress bar unless quiet."""
    pool = None
    if c.settings.queue == "embedded":
        # No server may be running: work the queue here while waiting.
        pool = c.worker_pool(threads=max(1, min(4, c.settings.workers)))
        pool.start()
    try:
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TimeElapsedColumn(),
            console=err_console,
            disable=quiet,
        ) as bar:
            task = bar.add_task("queued", total=1.0)
            while True:
                job = c.generations.job(owner, job_id).job
                bar.update(task, completed=job.progress, description=job.status.value.lower())
                if job.status.terminal:
                    return job
                time.sleep(0.1)
    finally:
        if pool is not None:
            pool.stop()


def generate(
    text: Annotated[str, typer.Argument(help="The prompt")],
    provider: Annotated[str, typer.Option(help="Provider name")] = "local",
    model: Annotated[str, typer.Option(help="Model name")] = "sketch",
    version: Annotated[str | None, typer.Option("--version", help="Model version")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed")] = None,
    n: Annotated[int, typer.Option("-n", help="How many images")] = 1,
    negative: Annotated[str, typer.Option("--negative", help="Negative prompt")] = "",
    size: Annotated[str | None, typer.Option(help="WxH, e.g. 1024x1024")] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="Provider option key=value")
    ] = None,
    wait: Annotated[bool, typer.Option(help="Wait for the result")] = True,
    as_json: JsonOpt = False,
    user: UserOpt = ADMIN,
) -> None:
    """Generate images from a prompt; prints the job, generation ids and file paths."""
    params: dict[str, Any] = {}
    if size:
        params["size"] = size
    for item in param or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise typer.BadParameter(f"{item!r} is not key=value", param_hint="--param")
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    with container() as c:
        owner = _owner(c, user)
        submitted = c.generations.submit(
            owner,
            GenerationRequest(
                provider=provider,
                model=model,
                model_version=version,
                text=text,
                negative_text=negative,
                params=params,
                seed=seed,
                n=n,
            ),
        )
        job = submitted.job
        if wait:
            job = _wait(c, owner, job.id, quiet=as_json)
        results = [c.generations.generation(owner, g) for g in submitted.generation_ids]
        if as_json:
            print_json(
                {
                    "job": JobPublic.of(job).model_dump(mode="json"),
                    "generations": [
                        GenerationPublic.of(g, a).model_dump(mode="json") for g, a in results
                    ],
                    "files": [c.storage.locate(x.storage_key) for _, a in results for x in a],
                }
            )
        else:
            console.print(f"job {job.id}: {job.status.value}")
            for g, assets in results:
                where = ", ".join(c.storage.locate(a.storage_key) for a in assets) or "-"
                console.print(
                    f"generation {g.id} seed={g.seed} {g.provider}:{g.model}"
                    f"@{g.model_version or '-'} {g.status} {where}",
                    soft_wrap=True,
                )
            if job.error:
                err_console.print(f"[red]error:[/red] {job.error}")
        if job.status.terminal and job.status.value != "SUCCESS":
            raise typer.Exit(1)


def worker(
    celery: Annotated[bool, typer.Option("--celery", help="Run a Celery worker")] = False,
    concurrency: Annotated[int, typer.Option(help="Jobs run at once")] = 8,
    name: Annotated[str | None, typer.Option(help="Celery worker name")] = None,
) -> None:
    """Run job workers without the web server (embedded pool, or Celery with --celery)."""
    import logging
    import signal
    import threading

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings()
    if celery:
        from promptcanvas.adapters.queue.celery import run_worker

        run_worker(settings, concurrency=concurrency, name=name)
        return
    with container() as c:
        pool = c.worker_pool(threads=concurrency)
        pool.start()
        console.print(f"{concurrency} workers on {settings.database_kind}; Ctrl-C stops them")
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        try:
            while not stop.wait(1.0):
                pass
        except KeyboardInterrupt:
            pass
        finally:
            pool.stop()


@jobs_app.command("list")
def list_jobs(
    status: Annotated[str | None, typer.Option(help="PENDING, RUNNING, SUCCESS, ...")] = None,
    batch: Annotated[str | None, typer.Option(help="Only this batch")] = None,
    limit: Annotated[int, typer.Option(help="How many")] = 50,
    as_json: JsonOpt = False,
    user: UserOpt = ADMIN,
) -> None:
    """The newest jobs."""
    with container() as c:
        found, _ = c.generations.jobs(_owner(c, user), status=status, batch_id=batch, limit=limit)
        if as_json:
            print_json([JobPublic.of(j) for j in found])
            return
        table = Table("id", "status", "target", "attempts", "created", "error")
        for j in found:
            t = j.payload["targets"][j.target_index]
            target = f"{t['provider']}:{t['model']}@{t.get('model_version') or '-'}"
            table.add_row(
                j.id,
                j.status.value,
                target,
                str(j.attempts),
                j.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                (j.error or "")[:60],
            )
        console.print(table)


@jobs_app.command("show")
def show_job(job_id: str, user: UserOpt = ADMIN) -> None:
    """One job with its attempts, as JSON."""
    with container() as c:
        view = c.generations.job(_owner(c, user), job_id)
        print_json(JobPublic.of(view.job, view.attempts))


@jobs_app.command("cancel")
def cancel_job(job_id: str, user: UserOpt = ADMIN) -> None:
    """Cancel a job that has not ended."""
    with container() as c:
        job = c.generations.cancel(_owner(c, user), job_id)
        console.print(f"job {job.id}: {job.status.value}")


@jobs_app.command("retry")
def retry_job(job_id: str, user: UserOpt = ADMIN) -> None:
    """Queue a failed or cancelled job again."""
    with container() as c:
        job = c.generations.retry(_owner(c, user), job_id)
        console.print(f"job {job.id}: {job.status.value}")
