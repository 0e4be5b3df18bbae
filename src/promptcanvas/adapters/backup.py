"""Backup and restore: a consistent snapshot of the database and the files it references.

An adapter-level tool (it reads tables and storage keys directly), called by the CLI.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from promptcanvas import __version__
from promptcanvas.adapters.db import migrate, snapshot
from promptcanvas.adapters.db.engine import Database
from promptcanvas.domain.errors import Conflict, InvalidInput
from promptcanvas.ports.storage import ObjectNotFound, Storage, validate_key

FORMAT = "promptcanvas-backup"


@dataclass
class BackupReport:
    """What a backup or restore wrote."""

    path: Path
    tables: dict[str, int] = field(default_factory=dict)
    files: int = 0
    missing: list[str] = field(default_factory=list)


def _write_jsonl(path: Path, rows: Iterator[dict[str, Any]]) -> int:
    count = 0
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
            count += 1
        out.flush()
        os.fsync(out.fileno())
    return count


def backup(db: Database, storage: Storage, target: Path) -> BackupReport:
    """Write a snapshot to a new directory; safe while the server runs.

    Rows are read in one transaction; files are immutable and content-addressed, and purges
    never delete files directly (the orphan sweeper does, after a grace period), so every
    file a snapshot row references is still there to copy.
    """
    if target.exists() and not target.is_dir():
        raise Conflict(f"{target} exists and is not a directory", {"path": str(target)})
    if target.exists() and any(target.iterdir()):
        raise Conflict(f"{target} exists and is not empty", {"path": str(target)})
    (target / "db").mkdir(parents=True, exist_ok=True)
    report = BackupReport(target)
    keys: set[str] = set()

    def sink(name: str, rows: Iterator[dict[str, Any]]) -> None:
        def collect() -> Iterator[dict[str, Any]]:
            for row in rows:
                if name == "assets":
                    keys.add(row["storage_key"])
                    if row.get("thumbnail_key"):
                        keys.add(row["thumbnail_key"])
                yield row

        report.tables[name] = _write_jsonl(target / "db" / f"{name}.jsonl", collect())

    snapshot.export_tables(db, sink)
    for key in sorted(keys):
        destination = target / "files" / key
        destination.parent.mkdir(parents=True, exist_ok=True)
        try:
            data = storage.read(key)
        except ObjectNotFound:
            report.missing.append(key)
            continue
        destination.write_bytes(data)
        report.files += 1
    manifest = {
        "format": FORMAT,
        "version": 1,
        "app_version": __version__,
        "schema_revision": migrate.current_revision(db),
        "created_at": datetime.now(UTC).isoformat(),
        "tables": report.tables,
        "files": report.files,
        "missing_files": report.missing,
    }
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2))
    return report


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    if not path.exists():
        return
    with path.open(encoding="utf-8") as source:
        for number, line in enumerate(source, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except ValueError:
                row = None
            if not isinstance(row, dict):
                raise InvalidInput(f"backup file {path} is damaged at line {number}")
            yield row


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def restore(db: Database, storage: Storage, source: Path) -> BackupReport:
    """Load a backup into an empty library: files first (verified), then rows."""
    manifest_path = source / "manifest.json"
    if not manifest_path.is_file():
        raise InvalidInput(f"{source} is not a PromptCanvas backup (no manifest.json)")
    try:
        manifest = json.loads(manifest_path.read_text())
    except ValueError:
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InvalidInput(f"{source} is not a PromptCanvas backup (unreadable manifest.json)")
    if manifest.get("version") != 1:
        raise InvalidInput(f"{source} is not a PromptCanvas backup of a known version")
    migrate.upgrade(db)
    if not snapshot.is_empty(db):
        raise Conflict("restore needs an empty library (a fresh data dir or database)")
    report = BackupReport(source)
    files_root = source / "files"
    files: list[tuple[str, Path]] = []
    if files_root.is_dir():
        for path in sorted(files_root.rglob("*")):
            if path.is_file():
                files.append((path.relative_to(files_root).as_posix(), path))
    # Check every row and file before storing any, so a damaged backup leaves the library
    # untouched.
    for table_file in sorted((source / "db").glob("*.jsonl")):
        for _row in _read_jsonl(table_file):
            pass
    for key, path in files:
        try:
            validate_key(key)
        except ValueError:
            raise InvalidInput(f"backup file {key!r} has an invalid name") from None
        name = key.rsplit("/", 1)[-1]
        if key.startswith("blobs/") and _sha256_of(path) != name:
            raise InvalidInput(f"backup file {key} is corrupt (hash mismatch)")
    for key, path in files:
        storage.put(key, path.read_bytes())
        report.files += 1
    try:
        report.tables = snapshot.import_tables(
            db, lambda name: _read_jsonl(source / "db" / f"{name}.jsonl")
        )
    except (ValueError, TypeError, sa.exc.SQLAlchemyError) as exc:
        # The rows were rolled back; the files stored above are orphans for the sweeper.
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise InvalidInput(f"the backup's rows cannot be loaded: {reason}") from exc
    return report
