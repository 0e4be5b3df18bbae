"""Token buckets in this process (the embedded mode serves every request from it)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from promptcanvas.ports.ratelimit import Rate, RateLimiter

# Past this many buckets, full ones are dropped (a full bucket is the same as none), so
# callers inventing a new key per request cannot grow memory without bound.
MAX_BUCKETS = 100_000


class MemoryRateLimiter(RateLimiter):
    """One (tokens, last refill) pair per key under one lock; `clock` gives seconds."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._now = clock
        self._lock = threading.Lock()
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str, rate: Rate) -> float:
        """Take a token: 0.0 when granted, else the seconds until one is there."""
        with self._lock:
            now = float(self._now())
            tokens, at = self._buckets.get(key, (float(rate.burst), now))
            tokens = min(float(rate.burst), tokens + max(0.0, now - at) * rate.per_second)
            if tokens < 1.0:
                return (1.0 - tokens) / rate.per_second
            if key not in self._buckets and len(self._buckets) >= MAX_BUCKETS:
                self._drop_full(now, rate)
            self._buckets[key] = (tokens - 1.0, now)
            return 0.0

    def _drop_full(self, now: float, rate: Rate) -> None:
        for key, (tokens, at) in list(self._buckets.items()):
            if tokens + (now - at) * rate.per_second >= rate.burst:
                del self._buckets[key]
        if len(self._buckets) >= MAX_BUCKETS:  # all busy: forget the oldest half
            for key in list(self._buckets)[: MAX_BUCKETS // 2]:
                del self._buckets[key]
