"""Circuit breakers for one process (the embedded mode runs every worker in it)."""

from __future__ import annotations

import logging
import threading

from promptcanvas.domain.breaker import (
    Admission,
    BreakerPolicy,
    BreakerState,
    Outcome,
    admit,
    record,
)
from promptcanvas.ports.breaker import CircuitBreaker

log = logging.getLogger(__name__)


class MemoryBreaker(CircuitBreaker):
    """Each key's state in a dict under one lock. Also the test double of the port."""

    def __init__(self, policy: BreakerPolicy) -> None:
        self.policy = policy
        self._lock = threading.Lock()
        self._states: dict[str, BreakerState] = {}

    def admit(self, key: str, now: float, probe_seconds: float) -> Admission:
        """Apply `domain.breaker.admit` to the key's state."""
        with self._lock:
            state, answer = admit(
                self._states.get(key, BreakerState()), self.policy, now, probe_seconds
            )
            self._states[key] = state
            return answer

    def record(self, key: str, now: float, outcome: Outcome, *, probe: bool) -> None:
        """Apply `domain.breaker.record` to the key's state."""
        with self._lock:
            current = self._states.get(key, BreakerState())
            new = self._states[key] = record(current, self.policy, now, outcome, probe=probe)
        if new.circuit is not current.circuit:
            log.warning("circuit breaker %s: %s -> %s", key, current.circuit, new.circuit)

    def state(self, key: str, now: float) -> BreakerState:  # noqa: ARG002
        """The key's state."""
        with self._lock:
            return self._states.get(key, BreakerState())
