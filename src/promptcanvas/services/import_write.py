"""Recording a chunk of imported files: prompts found or created, assets, generations, states.

Everything a chunk writes goes in one transaction under the owner's import lock, so two
imports of one owner never create the same prompt twice or import the same bytes twice, and
a crash leaves every file of the chunk either fully recorded or not at all.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from promptcanvas.domain.assets import Asset, Generation, blob_key, thumbnail_key
from promptcanvas.domain.ids import new_id
from promptcanvas.domain.prompts import Prompt, new_prompt
from promptcanvas.ports.clock import Clock
from promptcanvas.ports.imports import (
    DUPLICATE,
    FAILED,
    IMPORTED,
    FileState,
    ImportRepository,
    ImportUnitOfWork,
    ImportUowFactory,
)
from promptcanvas.services import import_records as records
from promptcanvas.services.import_media import TRUNCATED, Header, Thumb
from promptcanvas.services.import_scan import Entry
from promptcanvas.services.metadata.record import GenerationMetadata


@dataclass(frozen=True)
class ImportOptions:
    """How to import: into which project, with thumbnails or not, under which run id."""

    project_id: str | None = None
    thumbnails: bool = True
    run_id: str | None = None  # a job's id, so a resumed job keeps counting into one summary


@dataclass(frozen=True, slots=True)
class Recorded:
    """What a file's metadata gives its generation, worked out where the file is loaded."""

    provider: str
    model: str | None
    version: str | None
    seed: int | None
    parameters: dict[str, Any]

    @classmethod
    def of(cls, meta: GenerationMetadata, *, source_name: str, error: str | None) -> Recorded:
        model, version = records.model_of(meta)
        return cls(
            provider=records.provider_of(meta),
            model=model,
            version=version,
            seed=records.seed_of(meta),
            parameters=records.parameters(meta, source_name=source_name, error=error),
        )


@dataclass(slots=True)
class Loaded:
    """A readable image file with its hash, header and metadata (thumbnail added later).

    `data` is None once a worker process has stored the file (and its thumbnail) itself.
    """

    entry: Entry
    data: bytes | None
    sha: str
    header: Header
    recorded: Recorded
    text: str
    negative: str
    when: datetime  # when the file was made (its modification time)
    thumb: bytes | None = None  # the thumbnail's bytes, while this process holds them
    thumb_key: str | None = None  # set once a thumbnail is made
    phash: str | None = None
    asset_key: str = field(init=False)
    size: int = field(init=False)

    def __post_init__(self) -> None:
        self.asset_key = blob_key(self.sha)
        self.size = len(self.data or b"")

    def add_thumbnail(self, thumb: Thumb) -> str:
        """Take a thumbnail that was made: its key, hash and the displayed size; returns the key."""
        self.thumb_key = thumbnail_key(self.sha, thumb.media_type)
        self.phash = thumb.phash
        if thumb.swapped:
            self.header = self.header.swapped()
        return self.thumb_key

    @classmethod
    def of(
        cls,
        entry: Entry,
        data: bytes,
        sha: str,
        header: Header,
        meta: GenerationMetadata,
        error: str | None,
        now: datetime,
    ) -> Loaded:
        """A loaded file, its prompt wording and generation fields worked out from the metadata.

        (In a worker process, for big imports: the importing process only records them.)
        """
        text, negative = records.wording(meta)
        when = records.file_time(entry.mtime_ns, now)
        recorded = Recorded.of(meta, source_name=entry.name, error=error)
        return cls(entry, data, sha, header, recorded, text, negative, when)


class _PromptIndex:
    """The owner's live prompts by wording, kept in step by reading only newer rows."""

    def __init__(self, owner_id: str) -> None:
        self.owner_id = owner_id
        self.ids: dict[bytes, str] = {}
        self.last_pk = 0

    def refresh(self, repo: ImportRepository) -> None:
        for found in repo.prompt_keys(self.owner_id, self.last_pk):
            key = records.wording_key(found.text, found.negative_text)
            self.ids.setdefault(key, found.id)  # the oldest prompt with a wording wins
            self.last_pk = max(self.last_pk, found.pk)


class ChunkWriter:
    """Decides duplicates and writes chunks for one run."""

    def __init__(
        self,
        uow: ImportUowFactory,
        clock: Clock,
        owner_id: str,
        run_id: str,
        options: ImportOptions,
    ) -> None:
        self.uow = uow
        self.clock = clock
        self.owner_id = owner_id
        self.run_id = run_id
        self.options = options
        self.prompts = _PromptIndex(owner_id)
        self.assets: dict[str, str] = {}  # sha256 -> asset id, for bytes this run recorded
        self.claimed: set[str] = set()  # new bytes of chunks read but not yet recorded
        self._primed = False

    def split(self, loaded: Sequence[Loaded]) -> tuple[list[Loaded], list[Loaded]]:
        """(new content, duplicates): bytes seen earlier in the run, the chunk or the library."""
        with self.uow(write=False) as uow:
            if not self._primed:
                self.prompts.refresh(uow.imports)  # the whole library once, outside the lock
                self._primed = True
            before = uow.imports.imported_assets(self.owner_id, [x.sha for x in loaded])
        self.assets.update(before)
        fresh: list[Loaded] = []
        duplicates: list[Loaded] = []
        shas: set[str] = set()
        for x in loaded:
            if x.sha in self.assets or x.sha in shas or x.sha in self.claimed:
                duplicates.append(x)
            else:
                shas.add(x.sha)
                fresh.append(x)
        self.claimed |= shas
        return fresh, duplicates

    def release(self, shas: Sequence[str]) -> None:
        """Forget bytes claimed by a chunk that will not record them (they failed)."""
        self.claimed.difference_update(shas)

    def write(
        self,
        fresh: list[Loaded],
        duplicates: list[Loaded],
        failed: list[FileState],
        keys: dict[str, str],
    ) -> list[tuple[Loaded, str]]:
        """Record the chunk in one transaction; returns each file with the state it got."""
        now = self.clock.now()
        claimed = [x.sha for x in fresh]
        settled: list[tuple[Loaded, str]] = []
        with self.uow() as uow:
            repo = uow.imports
            repo.lock_owner(self.owner_id)
            # Another import of this owner may have recorded the same bytes meanwhile.
            raced = repo.imported_assets(self.owner_id, [x.sha for x in fresh])
            self.assets.update(raced)
            duplicates = duplicates + [x for x in fresh if x.sha in raced]
            fresh = [x for x in fresh if x.sha not in raced]
            self.prompts.refresh(repo)
            created = self._prompts(uow, fresh)
            stored = repo.add_assets([self._asset(x, now) for x in fresh])
            generations = [self._generation(x, stored[x.sha], created) for x in fresh]
            uow.assets.add_generations(generations)
            states = list(failed)
            for x, generation in zip(fresh, generations, strict=True):
                states.append(self._state(x, keys, IMPORTED, stored[x.sha], generation.id))
                settled.append((x, IMPORTED))
            for x in duplicates:
                known = self.assets.get(x.sha) or stored.get(x.sha)
                if known is None:  # a copy of bytes an earlier chunk could not import
                    states.append(self._state(x, keys, FAILED, None, None, TRUNCATED))
                    settled.append((x, FAILED))
                    continue
                states.append(self._state(x, keys, DUPLICATE, known, None))
                settled.append((x, DUPLICATE))
            repo.record(states)
            uow.commit()
        self.prompts.ids.update(created)
        self.assets.update(stored)
        self.claimed.difference_update(claimed)
        return settled

    def _prompts(self, uow: ImportUnitOfWork, fresh: list[Loaded]) -> dict[bytes, str]:
        """Prompt ids of new wordings created in this transaction (known ones are reused)."""
        created: dict[bytes, str] = {}
        new: list[Prompt] = []
        for x in fresh:
            key = records.wording_key(x.text, x.negative)
            if key in self.prompts.ids or key in created:
                continue
            prompt = new_prompt(
                owner_id=self.owner_id,
                text=x.text,
                negative_text=x.negative,
                tags=records.tags_for(x.text),
                project_id=self.options.project_id,
                now=x.when,
            )
            new.append(prompt)
            created[key] = prompt.id
        uow.imports.add_prompts(new)
        return created

    def _asset(self, x: Loaded, now: datetime) -> Asset:
        name = os.path.basename(x.entry.name)
        return Asset(
            id=new_id(),
            owner_id=self.owner_id,
            sha256=x.sha,
            media_type=x.header.media_type,
            size=x.size,
            width=x.header.width,
            height=x.header.height,
            created_at=now,
            storage_key=x.asset_key,
            thumbnail_key=x.thumb_key,
            original_name="".join(ch for ch in name if ord(ch) >= 32)[-255:] or None,
            phash=x.phash,
        )

    def _generation(self, x: Loaded, asset_id: str, created: dict[bytes, str]) -> Generation:
        key = records.wording_key(x.text, x.negative)
        r = x.recorded
        return Generation(
            id=new_id(),
            owner_id=self.owner_id,
            prompt_id=self.prompts.ids.get(key) or created[key],
            provider=r.provider,
            model=r.model,
            model_version=r.version,
            parameters=r.parameters,
            created_at=x.when,
            seed=r.seed,
            asset_ids=[asset_id],
            finished_at=x.when,
        )

    def _state(
        self,
        x: Loaded,
        keys: dict[str, str],
        state: str,
        asset_id: str | None,
        generation_id: str | None,
        reason: str | None = None,
    ) -> FileState:
        return FileState(
            owner_id=self.owner_id,
            path_key=keys[x.entry.key],
            path=x.entry.key,
            size=x.entry.size,
            mtime_ns=x.entry.mtime_ns,
            state=state,
            run_id=self.run_id,
            updated_at=self.clock.now(),
            sha256=x.sha,
            asset_id=asset_id,
            generation_id=generation_id,
            reason=reason,
        )
