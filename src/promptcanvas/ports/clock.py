"""Clock port: where 'now' comes from, so tests can fix it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta


class Clock:
    """Contract: `now()` returns an aware UTC datetime that never goes backwards in one process."""

    def now(self) -> datetime:
        """The current time in UTC, to the microsecond."""
        return datetime.now(UTC)


class FakeClock(Clock):
    """A clock that only moves when told to."""

    def __init__(self, start: datetime | None = None) -> None:
        self.current = start or datetime(2026, 1, 1, tzinfo=UTC)

    def now(self) -> datetime:
        """The fixed current time."""
        return self.current

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.current += timedelta(seconds=seconds)
