"""Export a project as one zip: its images (metadata embedded), manifest.json and prompts.csv.

Layout of the zip:
- `images/<generation id>.<ext>` (`-<n>` before the extension when a generation has several
  files): generated outputs carry their generation record (A1111 text + our JSON, see
  metadata/writer.py); uploads and imports are kept byte for byte.
- `manifest.json`: the project, its live prompts (trash excluded) and every generation with its
  parameters and files (name, sha256 of the bytes in the zip, size, media type, pixel size).
- `prompts.csv`: one row per generation (UTF-8 with a BOM so spreadsheet apps read Korean
  correctly). Text cells starting with = + - @ get a leading apostrophe so spreadsheets show
  them as text rather than run them as formulas; manifest.json has every text exactly.

Images are read and written one at a time, straight into the zip: memory stays flat however big
the project is.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

from promptcanvas.domain.assets import MEDIA_EXTENSIONS, Asset, Generation
from promptcanvas.domain.errors import NotFound
from promptcanvas.domain.ids import is_valid_id
from promptcanvas.domain.projects import Project
from promptcanvas.domain.prompts import Prompt
from promptcanvas.ports.clock import Clock
from promptcanvas.services.assets import AssetService
from promptcanvas.services.downloads import is_output_of, output_record
from promptcanvas.services.library import Library, SearchRequest
from promptcanvas.services.metadata import writer
from promptcanvas.services.projects import ProjectService

FORMAT = "promptcanvas-export"
VERSION = 1
CSV_COLUMNS = (
    "prompt",
    "negative",
    "provider",
    "model",
    "version",
    "seed",
    "parameters",
    "file",
    "generation_id",
    "prompt_id",
    "status",
    "created_at",
)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class ExportSummary:
    """What went into an export."""

    project: Project
    prompts: int
    generations: int
    files: int
    image_bytes: int


def _cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _zip_time(when: datetime) -> tuple[int, int, int, int, int, int]:
    stamp = max(when.timetuple()[:6], (1980, 1, 1, 0, 0, 0))
    return (stamp[0], stamp[1], stamp[2], stamp[3], stamp[4], stamp[5])


def _prompt_entry(p: Prompt) -> dict[str, Any]:
    return {
        "id": p.id,
        "text": p.text,
        "negative_text": p.negative_text,
        "category": p.category,
        "tags": p.tags,
        "language": p.language,
        "author": p.author,
        "parent_id": p.parent_id,
        "starred": p.starred,
        "rating": p.rating,
        "note": p.note,
        "created_at": p.created_at.isoformat(),
    }


def _generation_entry(g: Generation, files: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "id": g.id,
        "prompt_id": g.prompt_id,
        "provider": g.provider,
        "model": g.model,
        "model_version": g.model_version,
        "seed": g.seed,
        "parameters": g.parameters,
        "status": g.status,
        "revised_prompt": g.revised_prompt,
        "batch_id": g.batch_id,
        "created_at": g.created_at.isoformat(),
        "files": files,
    }


class ProjectExporter:
    """Builds export archives of one owner's projects."""

    def __init__(
        self, library: Library, projects: ProjectService, assets: AssetService, clock: Clock
    ) -> None:
        self.library = library
        self.projects = projects
        self.assets = assets
        self.clock = clock

    def find_project(self, owner_id: str, name_or_id: str) -> Project:
        """The owner's project by exact name (or by id); NotFound with the name otherwise."""
        found = self.projects.find_by_name(owner_id, name_or_id) if name_or_id.strip() else None
        if found is None and is_valid_id(name_or_id):
            try:
                found = self.projects.get_project(owner_id, name_or_id)
            except NotFound:
                found = None
        if found is None:
            raise NotFound(f"no project named {name_or_id!r}", {"project": name_or_id})
        return found

    def _prompts(self, owner_id: str, project_id: str) -> Iterator[Prompt]:
        cursor: str | None = None
        while True:
            page = self.library.search(
                owner_id,
                SearchRequest(project_id=project_id, sort="oldest", limit=200, cursor=cursor),
            )
            yield from page.items
            if page.next_cursor is None:
                return
            cursor = page.next_cursor

    def _file_bytes(self, generation: Generation, prompt: Prompt, asset: Asset) -> bytes:
        with self.assets.open(asset) as stream:
            data = stream.read()
        if is_output_of(generation, asset):
            return writer.embed(data, output_record(generation, prompt, asset))
        return data

    def export_zip(
        self,
        owner_id: str,
        project: Project,
        out: BinaryIO,
        progress: Callable[[int], None] | None = None,
    ) -> ExportSummary:
        """Write the project's zip to `out`; `progress` hears of each file written."""
        prompts: list[dict[str, Any]] = []
        generations: list[dict[str, Any]] = []
        table = io.StringIO()
        rows = csv.writer(table)
        rows.writerow(CSV_COLUMNS)
        files = image_bytes = 0
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for listed in self._prompts(owner_id, project.id):
                prompt, outputs = self.library.prompt_detail(owner_id, listed.id)
                prompts.append(_prompt_entry(prompt))
                for output in outputs:
                    g = output.generation
                    written: list[dict[str, Any]] = []
                    for i, asset in enumerate(output.assets):
                        ext = MEDIA_EXTENSIONS.get(asset.media_type, "bin")
                        name = f"images/{g.id}{f'-{i + 1}' if i else ''}.{ext}"
                        data = self._file_bytes(g, prompt, asset)
                        info = zipfile.ZipInfo(name, date_time=_zip_time(g.created_at))
                        # Images are compressed already; deflating them again only costs time.
                        archive.writestr(info, data, compress_type=zipfile.ZIP_STORED)
                        written.append(
                            {
                                "name": name,
                                "sha256": hashlib.sha256(data).hexdigest(),
                                "size": len(data),
                                "media_type": asset.media_type,
                                "width": asset.width,
                                "height": asset.height,
                                "asset_id": asset.id,
                            }
                        )
                        files += 1
                        image_bytes += len(data)
                        if progress is not None:
                            progress(files)
                    generations.append(_generation_entry(g, written))
                    rows.writerow(
                        [
                            _cell(prompt.text),
                            _cell(prompt.negative_text),
                            _cell(g.provider),
                            _cell(g.model),
                            _cell(g.model_version),
                            "" if g.seed is None else str(g.seed),
                            json.dumps(g.parameters, ensure_ascii=False, sort_keys=True),
                            " ".join(f["name"] for f in written),
                            g.id,
                            g.prompt_id,
                            g.status,
                            g.created_at.isoformat(),
                        ]
                    )
            manifest = {
                "format": FORMAT,
                "version": VERSION,
                "exported_at": self.clock.now().isoformat(),
                "project": {
                    "id": project.id,
                    "name": project.name,
                    "description": project.description,
                },
                "prompts": prompts,
                "generations": generations,
            }
            archive.writestr(
                "manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
            )
            archive.writestr("prompts.csv", "\ufeff" + table.getvalue())
        return ExportSummary(project, len(prompts), len(generations), files, image_bytes)
