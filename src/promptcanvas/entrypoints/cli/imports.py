"""`promptcanvas import DIR`: bring a folder of past work (any tool's images) into the library."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from promptcanvas.bootstrap import Container
from promptcanvas.entrypoints.cli.common import console, container, err_console, print_json
from promptcanvas.entrypoints.cli.prompts import JsonOpt, UserOpt, _owner, _project_id
from promptcanvas.services.import_backfill import fill_thumbnails
from promptcanvas.services.import_scan import FolderSource
from promptcanvas.services.import_summary import ImportSummary, Tally
from promptcanvas.services.import_watch import FolderWatch
from promptcanvas.services.importing import ImportOptions

INTERRUPTED_EXIT = 130


class _RateColumn(ProgressColumn):
    """Files per second, over Rich's recent-speed window."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("-- files/s" if speed is None else f"{speed:,.0f} files/s", style="cyan")


def _detail(tally: Tally) -> str:
    failed = sum(tally.failed.values())
    parts = [f"{tally.imported} new", f"{tally.unchanged + tally.duplicate} skipped"]
    if failed:
        parts.append(f"{failed} failed")
    return " · ".join(parts)


def _print_summary(summary: ImportSummary) -> None:
    verb = "Stopped importing" if summary.interrupted else "Imported"
    console.print(
        f"{verb} {summary.source}: {summary.found:,} image files in {summary.seconds:.1f} s "
        f"({summary.rate:,.0f} files/s)"
    )
    rows = [
        ("imported", summary.imported),
        ("skipped (unchanged)", summary.unchanged),
        ("skipped (duplicate)", summary.duplicate),
        ("failed", summary.failed_total),
    ]
    for label, value in rows:
        console.print(f"  {label:<22}{value:>8,}")
    for reason, count in sorted(summary.failed.items(), key=lambda kv: (-kv[1], kv[0])):
        console.print(f"    {reason:<40}{count:>6,}", markup=False, highlight=False)
    if summary.ignored:
        console.print(f"  {'not images (ignored)':<22}{summary.ignored:>8,}")
    shown = summary.failures[:50]
    for failure in shown:
        err_console.print(f"failed: {failure['file']}: {failure['reason']}", markup=False)
    if summary.failed_total > len(shown):
        err_console.print(f"... and {summary.failed_total - len(shown):,} more failed files")
    if summary.interrupted:
        console.print("Run the same command again to resume; nothing is imported twice.")
    if not summary.thumbnails:
        console.print("Thumbnails were skipped; run again without --no-thumbnails to add them.")


@contextmanager
def _first_ctrl_c_stops() -> Iterator[threading.Event]:
    """The first Ctrl-C asks the run to stop after the chunk being recorded; a second aborts.

    A KeyboardInterrupt raised wherever the main thread happens to be (inside a database
    driver's call, say) can leave the driver in a state that turns it into another error; a
    flag checked between chunks cannot.
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def handle(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = signal.signal(signal.SIGINT, handle)
    try:
        yield stop
    finally:
        signal.signal(signal.SIGINT, previous)


def _run_with_progress(
    c: Container,
    owner: str,
    source: FolderSource,
    options: ImportOptions,
    watch: FolderWatch | None,
) -> ImportSummary:
    entries = list(source.entries()) if watch is None else watch.ready()
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeRemainingColumn(),
        TextColumn("{task.fields[detail]}"),
    )
    with Progress(*columns, console=err_console, transient=False) as progress:
        task = progress.add_task("importing", total=len(entries), detail="")

        def show(tally: Tally) -> None:
            progress.update(task, completed=tally.done, detail=_detail(tally))

        with _first_ctrl_c_stops() as stop:
            return c.importer.run(
                owner, source, options, on_progress=show, should_stop=stop.is_set, entries=entries
            )


def _watch(
    c: Container, owner: str, source: FolderSource, options: ImportOptions, watch: FolderWatch
) -> None:
    interval = c.settings.import_watch_seconds
    console.print(f"Watching {source.label} for new images (Ctrl-C to stop)...")
    with c.importer.session(owner, source, options, expected=0) as run:
        try:
            while True:
                time.sleep(interval)
                ready = watch.ready()
                if not ready:
                    continue
                before = (run.tally.imported, run.tally.duplicate, len(run.tally.failures))
                run.process(ready)
                t = run.tally
                stamp = time.strftime("%H:%M:%S")
                console.print(
                    f"{stamp} imported {t.imported - before[0]}, "
                    f"duplicate {t.duplicate - before[1]}, failed "
                    f"{len(t.failures) - before[2]}",
                )
                for failure in t.failures[before[2] :]:
                    err_console.print(
                        f"failed: {failure['file']}: {failure['reason']}", markup=False
                    )
        except KeyboardInterrupt:
            console.print("Stopped watching.")


def import_folder(
    folder: Annotated[Path, typer.Argument(help="Folder to import (searched recursively)")],
    project: Annotated[
        str | None, typer.Option("--project", "-p", help="Put new prompts in this project")
    ] = None,
    watch: Annotated[
        bool, typer.Option("--watch", help="Keep running and import new files as they appear")
    ] = False,
    thumbnails: Annotated[
        bool,
        typer.Option(
            "--thumbnails/--no-thumbnails",
            help="Make thumbnails now (the default); without, a later run adds them",
        ),
    ] = True,
    user: UserOpt = "admin",
    as_json: JsonOpt = False,
) -> None:
    """Import PNG, JPEG and WebP images with their prompts and settings (any tool's metadata).

    Incremental and resumable: files seen before with the same size and modification time
    are skipped, bytes imported before are skipped as duplicates, and an interrupted run picks
    up where it stopped. Images without a prompt go under one prompt, "(imported images
    without a prompt)". Hidden files and symlinked folders are skipped.
    """
    if not folder.exists():
        err_console.print(f"[red]error:[/red] {folder} does not exist")
        raise typer.Exit(2)
    with container() as c:
        owner = _owner(c, user)
        options = ImportOptions(project_id=_project_id(c, owner, project), thumbnails=thumbnails)
        source = FolderSource(folder)
        tracker = FolderWatch(source, settle=c.settings.import_settle_seconds) if watch else None
        summary = _run_with_progress(c, owner, source, options, tracker)
        added = 0
        if thumbnails and not summary.interrupted:
            added = fill_thumbnails(c.importer, owner)
        if as_json:
            print_json({**summary.to_dict(), "thumbnails_added": added})
        else:
            _print_summary(summary)
            if added:
                console.print(f"Added {added:,} thumbnails skipped by an earlier run.")
        if summary.interrupted:
            raise typer.Exit(INTERRUPTED_EXIT)
        if tracker is not None:
            _watch(c, owner, source, options, tracker)
