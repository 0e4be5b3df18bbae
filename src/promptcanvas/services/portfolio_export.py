"""A portfolio as a static HTML zip: `index.html`, `images/*` and `manifest.json`.

`index.html` is self-contained (inline style, no script, only relative links to `images/`), so
it opens from a folder or any static host without a request elsewhere. Generated outputs carry
their generation record (A1111 text + our JSON, as downloads do); other files go in byte for
byte. The total size of the files is checked against a limit before anything is read.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any

from promptcanvas.domain.assets import MEDIA_EXTENSIONS, Asset, Generation
from promptcanvas.domain.errors import TooLarge
from promptcanvas.domain.portfolios import Portfolio
from promptcanvas.domain.prompts import Prompt
from promptcanvas.ports.portfolios import ItemView
from promptcanvas.ports.repositories import UowFactory
from promptcanvas.services.assets import AssetService
from promptcanvas.services.downloads import is_output_of, output_record
from promptcanvas.services.metadata import writer

FORMAT = "promptcanvas-portfolio"
VERSION = 1


@dataclass(frozen=True)
class ExportItem:
    """One item as index.html shows it."""

    file: str
    caption: str
    prompt_text: str
    width: int | None
    height: int | None


@dataclass(frozen=True)
class ExportView:
    """What index.html is rendered from."""

    title: str
    description: str
    cover: str | None
    exported_at: datetime
    items: list[ExportItem] = field(default_factory=list)


def _file_name(position: int, asset: Asset) -> str:
    return f"images/{position + 1:03d}-{asset.id}.{MEDIA_EXTENSIONS.get(asset.media_type, 'bin')}"


def _records(
    uow_factory: UowFactory, owner_id: str, items: list[ItemView]
) -> tuple[dict[str, Asset], dict[str, Generation], dict[str, Prompt]]:
    with uow_factory(write=False) as uow:
        found = uow.assets.assets_by_ids(owner_id, [i.asset_id for i in items])
        gens = uow.jobs.generations_by_ids(
            owner_id, [i.generation_id for i in items if i.generation_id]
        )
        prompts: dict[str, Prompt] = {}
        for g in gens.values():
            if g.prompt_id not in prompts:
                prompt = uow.prompts.get(owner_id, g.prompt_id)
                if prompt is not None:
                    prompts[prompt.id] = prompt
    return found, gens, prompts


def write_zip(
    uow_factory: UowFactory,
    assets: AssetService,
    portfolio: Portfolio,
    items: list[ItemView],
    out: IO[bytes],
    render_index: Callable[[ExportView], str],
    *,
    now: datetime,
    max_bytes: int,
) -> None:
    """Write the zip of these items to `out`; TooLarge before writing when over `max_bytes`."""
    found, gens, prompts = _records(uow_factory, portfolio.owner_id, items)
    items = [i for i in items if i.asset_id in found]
    total = sum(found[i.asset_id].size for i in items)
    if total > max_bytes:
        raise TooLarge(
            f"the portfolio's files add up to {total:,} bytes; an export holds at most "
            f"{max_bytes:,}",
            {"limit": max_bytes, "size": total},
        )
    shown: list[ExportItem] = []
    listed: list[dict[str, Any]] = []
    cover: str | None = None
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for position, item in enumerate(items):
            asset = found[item.asset_id]
            name = _file_name(position, asset)
            with assets.open(asset) as stream:
                data = stream.read()
            generation = gens.get(item.generation_id or "")
            prompt = prompts.get(generation.prompt_id) if generation else None
            if generation and prompt and is_output_of(generation, asset):
                data = writer.embed(data, output_record(generation, prompt, asset))
            # Images are compressed already; deflating them again only costs time.
            archive.writestr(name, data, compress_type=zipfile.ZIP_STORED)
            text = item.prompt_text or ""
            shown.append(ExportItem(name, item.caption, text, asset.width, asset.height))
            if asset.id == portfolio.cover:
                cover = name
            listed.append(
                {
                    "position": position + 1,
                    "file": name,
                    "caption": item.caption,
                    "prompt": text,
                    "prompt_id": item.prompt_id,
                    "generation_id": item.generation_id,
                    "negative_prompt": prompt.negative_text if prompt else None,
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "size": len(data),
                    "media_type": asset.media_type,
                    "width": asset.width,
                    "height": asset.height,
                    "provider": generation.provider if generation else None,
                    "model": generation.model if generation else None,
                    "model_version": generation.model_version if generation else None,
                    "seed": generation.seed if generation else None,
                    "parameters": generation.parameters if generation else None,
                }
            )
        view = ExportView(
            portfolio.title,
            portfolio.description,
            cover or (shown[0].file if shown else None),
            now,
            shown,
        )
        archive.writestr("index.html", render_index(view))
        manifest = {
            "format": FORMAT,
            "version": VERSION,
            "exported_at": now.isoformat(),
            "title": portfolio.title,
            "description": portfolio.description,
            "cover": view.cover,
            "items": listed,
        }
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2) + "\n")
