"""Import ports: what an import remembers about each file, and the unit of work that holds it.

An import run walks a source (a folder, an uploaded zip) and settles every image file it finds
into exactly one state: imported (the file became an asset and a generation), duplicate (its
bytes were imported before), or failed (with a reason). The file's row is written in the same
transaction as its generation, so a run killed at any point is resumed by running it again:
files whose row matches their size and modification time are skipped without being read.
"""

from __future__ import annotations

import abc
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from promptcanvas.domain.assets import Asset
from promptcanvas.domain.prompts import Prompt
from promptcanvas.ports.repositories import UnitOfWork

IMPORTED = "imported"
DUPLICATE = "duplicate"
FAILED = "failed"


@dataclass(frozen=True, slots=True)
class FileState:
    """One file an import has settled, as recorded."""

    owner_id: str
    path_key: str  # sha256 of the source key (absolute path, or zip + member name)
    path: str
    size: int
    mtime_ns: int
    state: str  # IMPORTED | DUPLICATE | FAILED
    run_id: str
    updated_at: datetime
    sha256: str | None = None
    reason: str | None = None
    asset_id: str | None = None
    generation_id: str | None = None


@dataclass(frozen=True, slots=True)
class PromptKey:
    """A live prompt's wording, for finding the prompt again by its text."""

    pk: int
    id: str
    text: str
    negative_text: str


class ImportRepository(abc.ABC):
    """File states, and the bulk reads and writes an import needs (few statements per chunk)."""

    @abc.abstractmethod
    def seen(self, owner_id: str, path_keys: Sequence[str]) -> dict[str, FileState]:
        """The recorded state of each of these files that has one, by path key."""

    @abc.abstractmethod
    def record(self, states: Sequence[FileState]) -> None:
        """Insert or replace the state of each file (keyed by owner and path key)."""

    @abc.abstractmethod
    def imported_assets(self, owner_id: str, shas: Sequence[str]) -> dict[str, str]:
        """Asset id by content hash, for the owner's assets that already are some generation's
        output (an earlier import, a generated file, an upload attached to a prompt)."""

    @abc.abstractmethod
    def add_assets(self, new: Sequence[Asset]) -> dict[str, str]:
        """Insert assets the owner does not have yet; every one's stored id, by sha256.

        An asset whose bytes the owner already has keeps its existing row.
        """

    @abc.abstractmethod
    def add_prompts(self, new: Sequence[Prompt]) -> None:
        """Insert new prompts with their tags and search entries, in a few statements (sets pk)."""

    @abc.abstractmethod
    def unthumbnailed(self, owner_id: str, after_id: str | None, limit: int) -> list[Asset]:
        """The owner's assets without a thumbnail (imported with thumbnails off), by id."""

    @abc.abstractmethod
    def set_thumbnails(self, thumbs: Sequence[tuple[str, str, str | None]]) -> None:
        """Record (asset id, thumbnail key, perceptual hash) of assets made without one."""

    @abc.abstractmethod
    def prompt_keys(self, owner_id: str, after_pk: int) -> Iterator[PromptKey]:
        """The owner's live prompts with pk > after_pk, in pk order (streamed)."""

    @abc.abstractmethod
    def lock_owner(self, owner_id: str) -> None:
        """Serialise import writes of one owner until the transaction ends.

        Two imports of the same owner then never both create a prompt for one text or a
        generation for one file.
        """

    @abc.abstractmethod
    def run_counts(self, owner_id: str, run_id: str) -> dict[tuple[str, str | None], int]:
        """How many files a run settled, by (state, reason)."""


class ImportUnitOfWork(UnitOfWork):
    """A unit of work that also reaches the import file states."""

    imports: ImportRepository


class ImportUowFactory(Protocol):
    """Builds import units of work."""

    def __call__(self, *, write: bool = True) -> ImportUnitOfWork:
        """A new unit of work; write=False promises not to write."""
        ...
