"""What an import did, counted as it goes and reported at the end."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from promptcanvas.ports.imports import DUPLICATE, FAILED, IMPORTED

MAX_LISTED_FAILURES = 200


@dataclass(frozen=True)
class ImportSummary:
    """Counts of one import run; `failed` maps each reason to how many files had it."""

    run_id: str
    source: str
    found: int  # image files (and files named like images) the run looked at
    imported: int
    unchanged: int  # seen before with the same size and modification time: not read
    duplicate: int  # same bytes as a file imported before
    failed: dict[str, int]
    failures: list[dict[str, str]]  # the first MAX_LISTED_FAILURES files that failed, with why
    ignored: int  # files that are not images and are not named like images
    interrupted: bool
    seconds: float
    thumbnails: bool

    @property
    def failed_total(self) -> int:
        """How many files failed, whatever the reason."""
        return sum(self.failed.values())

    @property
    def rate(self) -> float:
        """Files settled per second."""
        done = self.imported + self.unchanged + self.duplicate + self.failed_total
        return done / self.seconds if self.seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (the job result of an API import)."""
        return {
            "run_id": self.run_id,
            "source": self.source,
            "found": self.found,
            "imported": self.imported,
            "skipped_unchanged": self.unchanged,
            "skipped_duplicate": self.duplicate,
            "failed": self.failed_total,
            "failed_by_reason": dict(sorted(self.failed.items())),
            "failures": self.failures,
            "ignored_not_images": self.ignored,
            "interrupted": self.interrupted,
            "seconds": round(self.seconds, 3),
            "files_per_second": round(self.rate, 1),
            "thumbnails": self.thumbnails,
        }


@dataclass
class Tally:
    """Running counts, shared with a progress display (thread-safe)."""

    run_id: str
    source: str
    thumbnails: bool
    total: int = 0
    imported: int = 0
    unchanged: int = 0
    duplicate: int = 0
    ignored: int = 0
    failed: dict[str, int] = field(default_factory=dict)
    failures: list[dict[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def done(self) -> int:
        """Files settled so far (ignored non-images included, so progress reaches the total)."""
        return (
            self.imported
            + self.unchanged
            + self.duplicate
            + self.ignored
            + sum(self.failed.values())
        )

    def add(self, state: str, name: str, reason: str | None = None) -> None:
        """Count one file in a state (IMPORTED, DUPLICATE, FAILED, "unchanged", "ignored")."""
        with self._lock:
            if state == IMPORTED:
                self.imported += 1
            elif state == DUPLICATE:
                self.duplicate += 1
            elif state == FAILED:
                why = reason or "unknown error"
                self.failed[why] = self.failed.get(why, 0) + 1
                if len(self.failures) < MAX_LISTED_FAILURES:
                    self.failures.append({"file": name, "reason": why})
            elif state == "ignored":
                self.ignored += 1
            else:
                self.unchanged += 1

    def summary(self, *, seconds: float, interrupted: bool) -> ImportSummary:
        """The frozen result."""
        with self._lock:
            return ImportSummary(
                run_id=self.run_id,
                source=self.source,
                found=self.total - self.ignored,
                imported=self.imported,
                unchanged=self.unchanged,
                duplicate=self.duplicate,
                failed=dict(self.failed),
                failures=list(self.failures),
                ignored=self.ignored,
                interrupted=interrupted,
                seconds=seconds,
                thumbnails=self.thumbnails,
            )
