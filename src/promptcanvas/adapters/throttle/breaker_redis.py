"""Circuit breakers shared through Redis by every worker on every machine.

Each key's `BreakerState` is one JSON string. A change is read, computed with the domain
rules and written in a WATCH/MULTI transaction, retried when another worker changed the key
in between, so two workers never both become the probe. Only transitions write: admitting a
call through a closed breaker and recording a success on a clean one are a single GET.

The key expires a while after its last change, so a provider removed from the configuration
leaves nothing behind. When Redis cannot be reached the breaker fails open (calls go through)
and says so in the log: a missing breaker must not stop every job.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable
from typing import Any

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
_RETRIES = 20


class RedisBreaker(CircuitBreaker):
    """Breaker state in Redis, changed atomically with optimistic transactions."""

    def __init__(
        self, url: str, policy: BreakerPolicy, *, prefix: str = "promptcanvas:breaker:"
    ) -> None:
        import redis  # imported here: the embedded install does not need it

        self._redis = redis
        # Short timeouts: a Redis that hangs must fail open quickly, not hold every worker
        # for the operating system's TCP timeout.
        self.client: Any = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.policy = policy
        self.prefix = prefix
        # Long enough to outlive an open period and a failure window, whichever is longer.
        self.expire = math.ceil(2 * max(policy.max_open_seconds, policy.window_seconds)) + 60

    def admit(self, key: str, now: float, probe_seconds: float) -> Admission:
        """Apply `domain.breaker.admit` to the shared state."""
        found: list[Admission] = []

        def change(state: BreakerState) -> BreakerState:
            new, answer = admit(state, self.policy, now, probe_seconds)
            found[:] = [answer]
            return new

        if not self._update(key, change):
            return Admission()
        return found[0] if found else Admission()

    def record(self, key: str, now: float, outcome: Outcome, *, probe: bool) -> None:
        """Apply `domain.breaker.record` to the shared state."""
        self._update(key, lambda state: record(state, self.policy, now, outcome, probe=probe))

    def state(self, key: str, now: float) -> BreakerState:  # noqa: ARG002
        """The shared state (CLOSED when unknown or unreachable)."""
        try:
            return _decode(self.client.get(self.prefix + key))
        except self._redis.RedisError:
            log.warning("circuit breaker state for %s is unreadable; shown as closed", key)
            return BreakerState()

    def _update(self, key: str, change: Callable[[BreakerState], BreakerState]) -> bool:
        """Apply `change` atomically; False when Redis failed (the caller fails open)."""
        name = self.prefix + key
        try:
            with self.client.pipeline() as pipe:
                for _ in range(_RETRIES):
                    try:
                        pipe.watch(name)
                        current = _decode(pipe.get(name))
                        new = change(current)
                        if new == current:
                            pipe.unwatch()
                            return True
                        pipe.multi()
                        if new == BreakerState():
                            pipe.delete(name)
                        else:
                            pipe.set(name, json.dumps(new.as_dict()), ex=self.expire)
                        pipe.execute()
                        if new.circuit is not current.circuit:
                            log.warning(
                                "circuit breaker %s: %s -> %s", key, current.circuit, new.circuit
                            )
                        return True
                    except self._redis.WatchError:
                        continue
        except self._redis.RedisError:
            log.exception("circuit breaker %s: Redis failed; letting calls through", key)
            return False
        log.warning("circuit breaker %s: too much contention; letting the call through", key)
        return False


def _decode(raw: Any) -> BreakerState:
    if not raw:
        return BreakerState()
    try:
        data = json.loads(raw)
        return BreakerState.from_dict(data) if isinstance(data, dict) else BreakerState()
    except (ValueError, TypeError):
        return BreakerState()
