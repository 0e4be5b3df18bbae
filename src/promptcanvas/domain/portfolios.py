"""Portfolios: a hand-ordered selection of outputs with captions, shared by an unguessable token.

Rules kept here: title, description and caption limits; an edit of the items may reorder,
re-caption and drop items but never add ones that were not there (adding goes through
`append_items`, which skips outputs already present); the cover is always one of the items or
none; a share token carries 192 random bits and is replaced on every publish.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from promptcanvas.domain.errors import InvalidInput
from promptcanvas.domain.text import normalize

MAX_TITLE = 200
MAX_DESCRIPTION = 4_000
MAX_CAPTION = 2_000
MAX_ITEMS = 500
TOKEN_BYTES = 24  # 192 bits; token_urlsafe makes 32 characters of [A-Za-z0-9_-]
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")


@dataclass
class PortfolioItem:
    """One output in a portfolio: the file, the generation it came from, its caption."""

    asset_id: str
    generation_id: str | None
    position: int
    caption: str = ""


@dataclass
class Portfolio:
    """An owner's ordered selection of outputs; `share_token` is None while unpublished."""

    id: str
    owner_id: str
    title: str
    created_at: datetime
    updated_at: datetime
    description: str = ""
    project_id: str | None = None
    cover_asset_id: str | None = None
    share_token: str | None = None
    items: list[PortfolioItem] = field(default_factory=list)

    @property
    def published(self) -> bool:
        """True while a share link works."""
        return self.share_token is not None

    @property
    def cover(self) -> str | None:
        """The asset shown as the cover: the chosen one, else the first item's."""
        if self.cover_asset_id is not None:
            return self.cover_asset_id
        return self.items[0].asset_id if self.items else None


@dataclass(frozen=True)
class ItemEdit:
    """One entry of an edit of the items: which output, and its caption (None keeps it)."""

    asset_id: str
    caption: str | None = None


def _no_controls(text: str, field_name: str, *, newlines: bool) -> None:
    allowed = "\n\t" if newlines else ""
    if any(ord(ch) < 32 and ch not in allowed for ch in text):
        raise InvalidInput(
            f"{field_name} must not contain control characters", {"field": field_name}
        )


def clean_title(value: str) -> str:
    """Titles are 1-200 characters after trimming, on one line."""
    title = " ".join(normalize(value).split())
    if not title:
        raise InvalidInput("title must not be empty", {"field": "title"})
    if len(title) > MAX_TITLE:
        raise InvalidInput(f"title is longer than {MAX_TITLE} characters", {"field": "title"})
    _no_controls(title, "title", newlines=False)
    return title


def clean_description(value: str | None) -> str:
    """An optional description of at most 4,000 characters."""
    text = normalize(value or "").replace("\r\n", "\n")
    if len(text) > MAX_DESCRIPTION:
        raise InvalidInput(
            f"description is longer than {MAX_DESCRIPTION} characters", {"field": "description"}
        )
    _no_controls(text, "description", newlines=True)
    return text


def clean_caption(value: str, index: int | None = None) -> str:
    """A caption of at most 2,000 characters (line breaks allowed)."""
    where = "caption" if index is None else f"items.{index}.caption"
    text = normalize(value).replace("\r\n", "\n")
    if len(text) > MAX_CAPTION:
        raise InvalidInput(f"{where} is longer than {MAX_CAPTION} characters", {"field": where})
    _no_controls(text, where, newlines=True)
    return text


def rearrange(items: list[PortfolioItem], edits: list[ItemEdit]) -> list[PortfolioItem]:
    """The items in the edit's order with its captions; items left out are removed.

    Every asset in the edit must be a current item, and appear once.
    """
    current = {item.asset_id: item for item in items}
    seen: set[str] = set()
    result: list[PortfolioItem] = []
    for i, edit in enumerate(edits):
        found = current.get(edit.asset_id)
        if found is None:
            raise InvalidInput(
                "items may only reorder, re-caption or drop the portfolio's own items; "
                "add outputs with POST /api/v1/portfolios/{id}/items",
                {"field": f"items.{i}.asset_id", "asset_id": edit.asset_id[:64]},
            )
        if edit.asset_id in seen:
            raise InvalidInput(
                "an item appears twice", {"field": f"items.{i}.asset_id", "asset_id": edit.asset_id}
            )
        seen.add(edit.asset_id)
        caption = found.caption if edit.caption is None else clean_caption(edit.caption, i)
        result.append(PortfolioItem(found.asset_id, found.generation_id, len(result), caption))
    return result


def append_items(
    items: list[PortfolioItem], outputs: list[tuple[str, str | None]]
) -> list[PortfolioItem]:
    """Add (asset id, generation id) outputs at the end, skipping ones already there."""
    result = list(items)
    present = {item.asset_id for item in items}
    for asset_id, generation_id in outputs:
        if asset_id in present:
            continue
        present.add(asset_id)
        result.append(PortfolioItem(asset_id, generation_id, len(result)))
    if len(result) > MAX_ITEMS:
        raise InvalidInput(
            f"a portfolio holds at most {MAX_ITEMS} items; this would make {len(result)}",
            {"field": "items", "limit": MAX_ITEMS},
        )
    return result


def check_cover(items: list[PortfolioItem], cover_asset_id: str | None) -> str | None:
    """The cover must be one of the items (or None for "the first item")."""
    if cover_asset_id is None:
        return None
    if all(item.asset_id != cover_asset_id for item in items):
        raise InvalidInput(
            "cover_asset_id must be one of the portfolio's items", {"field": "cover_asset_id"}
        )
    return cover_asset_id


def kept_cover(items: list[PortfolioItem], cover_asset_id: str | None) -> str | None:
    """The cover after an edit: dropped with its item."""
    return cover_asset_id if any(i.asset_id == cover_asset_id for i in items) else None


def new_share_token() -> str:
    """A fresh share token: 192 random bits, URL-safe."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def is_token_shaped(value: str) -> bool:
    """True when value could be a token this system issued (others are 404 without a lookup)."""
    return bool(_TOKEN.match(value))
