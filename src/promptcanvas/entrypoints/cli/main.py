"""The `promptcanvas` command."""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path
from typing import Annotated

import typer

from promptcanvas import __version__
from promptcanvas.adapters import backup as backups
from promptcanvas.adapters.db import migrate
from promptcanvas.adapters.db.engine import create_database
from promptcanvas.bootstrap import Container
from promptcanvas.entrypoints.cli.accounts import keys_app, users_app
from promptcanvas.entrypoints.cli.batches import app as batches_app
from promptcanvas.entrypoints.cli.common import console, container, err_console, print_json
from promptcanvas.entrypoints.cli.export import export
from promptcanvas.entrypoints.cli.imports import import_folder
from promptcanvas.entrypoints.cli.inspect import inspect_files
from promptcanvas.entrypoints.cli.jobs import generate, jobs_app, worker
from promptcanvas.entrypoints.cli.prompts import app as prompts_app
from promptcanvas.settings import Settings

app = typer.Typer(
    help="PromptCanvas: keep every prompt with everything it produced.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(users_app, name="users")
app.add_typer(keys_app, name="keys")
app.add_typer(prompts_app, name="prompts")
app.add_typer(db_app, name="db")
app.add_typer(batches_app, name="batch")
app.add_typer(jobs_app, name="jobs")
app.command()(generate)
app.command()(worker)
app.command()(export)
app.command("import")(import_folder)
app.command("inspect")(inspect_files)


@app.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


class _RedactTokens(logging.Filter):
    """Keep one-time login tokens out of access logs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                re.sub(r"token=[^&\s\"]+", "token=[redacted]", a) if isinstance(a, str) else a
                for a in record.args
            )
        return True


def _sweep_later(c: Container) -> None:
    def run() -> None:
        try:
            report = c.maintenance.sweep()
            if report.deleted:
                logging.getLogger("promptcanvas").info("swept %d orphaned files", report.deleted)
        except Exception:  # a failed sweep must never stop the server
            logging.getLogger("promptcanvas").exception("orphan sweep failed")

    threading.Thread(target=run, name="orphan-sweep", daemon=True).start()


def _warm_up_semantic(c: Container) -> None:
    """Index prompts for semantic search and load the Korean analyser before the first query."""
    from promptcanvas.services import translate

    if c.indexer.background:
        c.indexer.start()
    threading.Thread(target=translate.warm_up, name="korean-warm-up", daemon=True).start()


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on")] = None,
) -> None:
    """Start the server (applies migrations, creates the admin user, prints a login link)."""
    import uvicorn

    from promptcanvas.entrypoints.api.app import create_app

    overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
    settings = Settings(**overrides)  # type: ignore[arg-type]
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from promptcanvas.bootstrap import bootstrap

    c = bootstrap(settings)
    admin, created = c.users.ensure_admin()
    token = c.users.create_login_token(admin.name)
    console.print(
        f"PromptCanvas {__version__} — {settings.mode} mode, "
        f"{settings.database_kind} database, {settings.storage_kind} storage"
    )
    console.print(f"data dir: {settings.data_dir.resolve()}")
    if created:
        console.print("created the admin user")
    console.print(
        f"open this link to sign in (one use, {settings.login_link_ttl_seconds // 60} minutes):"
    )
    typer.echo(f"  {settings.base_url}/auth/login?token={token}")
    console.print(f"API docs: {settings.base_url}/docs")
    _sweep_later(c)
    _warm_up_semantic(c)
    logging.getLogger("uvicorn.access").addFilter(_RedactTokens())
    try:
        embedded = settings.queue == "embedded"
        if embedded and settings.workers:
            console.print(f"job workers: {settings.workers} in this process")
        app = create_app(c, workers=embedded)
        # Open live streams (the jobs page) would otherwise hold a shutdown for minutes.
        uvicorn.run(
            app,
            host=settings.host,
            port=settings.port,
            log_level="info",
            timeout_graceful_shutdown=10,
            forwarded_allow_ips=settings.forwarded_allow_ips,
        )
    finally:
        c.close()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply pending migrations."""
    settings = Settings()
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = create_database(settings.resolved_database_url)
    try:
        migrate.upgrade(db)
        console.print(f"database at revision {migrate.current_revision(db)}")
    finally:
        db.dispose()


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the database."""
    settings = Settings()
    db = create_database(settings.resolved_database_url)
    try:
        typer.echo(f"{migrate.current_revision(db)} (head: {migrate.head_revision()})")
    finally:
        db.dispose()


@app.command()
def backup(path: Path) -> None:
    """Write a consistent snapshot of database and files to a new directory (server may run)."""
    with container() as c:
        report = backups.backup(c.db, c.storage, path)
    console.print(
        f"backed up {sum(report.tables.values())} rows and {report.files} files to {path}"
    )
    if report.missing:
        err_console.print(
            f"[yellow]warning:[/yellow] {len(report.missing)} referenced files "
            "were missing from storage; run `promptcanvas doctor`"
        )


@app.command()
def restore(path: Path) -> None:
    """Load a backup into an empty data dir / database."""
    with container() as c:
        report = backups.restore(c.db, c.storage, path)
    console.print(f"restored {sum(report.tables.values())} rows and {report.files} files")


@app.command()
def doctor(
    repair: Annotated[
        bool,
        typer.Option(
            help="Fix what can be fixed: delete orphaned and stale temp files, regenerate "
            "thumbnails, re-queue (or fail) jobs of dead workers, remove dangling rows"
        ),
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
) -> None:
    """Check that database and file store agree (server may run); exit 1 while problems remain."""
    from promptcanvas.adapters.db.consistency import SqlConsistency
    from promptcanvas.services.doctor import Doctor
    from promptcanvas.services.import_media import remake_thumbnail

    with container() as c:
        size = c.assets.thumb_size

        def thumbnail(data: bytes, key: str) -> bytes:
            return remake_thumbnail(data, size, key)

        checker = Doctor(c.maintenance, SqlConsistency(c.db), thumbnailer=thumbnail, queue=c.queue)
        report = checker.run(repair=repair)
    if as_json:
        print_json(report.as_dict())
    else:
        for line in report.summary():
            console.print(line)
    if report.problems:
        raise typer.Exit(1)
