"""Circuit breaker port: per-provider health shared by every worker of the deployment.

The rules live in `domain.breaker`; an adapter only keeps each key's `BreakerState` where all
workers see it and applies `admit` and `record` to it atomically.
"""

from __future__ import annotations

import abc

from promptcanvas.domain.breaker import Admission, BreakerState, Outcome


class CircuitBreaker(abc.ABC):
    """Contract:

    - `admit(key, now, probe_seconds)` before each call. `Admission.allowed` means call now;
      otherwise `wait` is the number of seconds before asking again makes sense. At most one
      caller at a time is admitted as the HALF_OPEN probe (`probe` true); its lease lasts
      `probe_seconds`, after which another caller may probe.
    - `record(key, now, outcome, probe=...)` after every admitted call, with the admission's
      `probe` flag, including calls that were admitted but then not made (NEUTRAL), so a probe
      lease is handed on at once.
    - `state(key, now)` for display; it changes nothing.
    - `now` is epoch seconds from the caller's clock (the same clock that schedules jobs), so a
      test with a fake clock moves breakers and job schedules together.
    - A breaker that cannot reach its store must fail open (admit), never stop all work.
    """

    @abc.abstractmethod
    def admit(self, key: str, now: float, probe_seconds: float) -> Admission:
        """May a call to `key` be made now?"""

    @abc.abstractmethod
    def record(self, key: str, now: float, outcome: Outcome, *, probe: bool) -> None:
        """The outcome of an admitted call."""

    @abc.abstractmethod
    def state(self, key: str, now: float) -> BreakerState:
        """The current state of `key` (CLOSED when nothing is known)."""
