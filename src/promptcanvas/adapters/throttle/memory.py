"""Provider limits for one process (the embedded mode runs every worker in it)."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque

from promptcanvas.ports.jobs import Permit, Throttle

WINDOW = 60.0
SLOT_POLL = 0.02  # how soon to ask again when only a concurrency slot was missing


class MemoryThrottle(Throttle):
    """Sliding one-minute window plus a slot count, per key, under one lock."""

    def __init__(self, clock: object = time.monotonic) -> None:
        self._now = clock if callable(clock) else time.monotonic
        self._lock = threading.Lock()
        self._calls: dict[str, deque[float]] = {}
        self._slots: dict[str, dict[str, float]] = {}  # key -> token -> expiry

    def acquire(
        self, key: str, *, concurrency: int, per_minute: int | None, ttl: float
    ) -> Permit | float:
        """Take a slot and count a call, or say how long to wait."""
        with self._lock:
            now = float(self._now())
            slots = self._slots.setdefault(key, {})
            for token, expiry in list(slots.items()):
                if expiry <= now:
                    del slots[token]
            calls = self._calls.setdefault(key, deque())
            while calls and calls[0] <= now - WINDOW:
                calls.popleft()
            if per_minute is not None and len(calls) >= per_minute:
                return max(0.01, calls[0] + WINDOW - now)
            if len(slots) >= concurrency:
                return SLOT_POLL
            token = secrets.token_hex(8)
            slots[token] = now + ttl
            calls.append(now)
            return Permit(key, token)

    def release(self, permit: Permit) -> None:
        """Free the slot."""
        with self._lock:
            self._slots.get(permit.key, {}).pop(permit.token, None)
