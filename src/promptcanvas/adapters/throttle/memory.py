"""Provider limits for one process (the embedded mode runs every worker in it)."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque

from promptcanvas.ports.jobs import RATE_WINDOW_SECONDS as WINDOW
from promptcanvas.ports.jobs import Permit, Throttle

# How long `acquire` waits for a slot to be released before asking the caller to call again.
# Waiting here, woken by `release`, hands a freed slot over at once; a caller sleeping between
# polls would leave it idle meanwhile (up to 20 ms a call: 5% of a 200 ms provider's capacity).
SLOT_WAIT = 0.25


class MemoryThrottle(Throttle):
    """Sliding window of granted calls plus a slot count, per key, under one lock."""

    def __init__(self, clock: object = time.monotonic) -> None:
        self._now = clock if callable(clock) else time.monotonic
        self._lock = threading.Lock()
        self._freed = threading.Condition(self._lock)
        self._calls: dict[str, deque[float]] = {}
        self._slots: dict[str, dict[str, float]] = {}  # key -> token -> expiry

    def acquire(
        self, key: str, *, concurrency: int, per_minute: int | None, ttl: float
    ) -> Permit | float:
        """Take a slot and count a call, or say how long to wait.

        When only a slot is missing, wait up to SLOT_WAIT for one to be released, then answer
        0 (ask again now) if none was.
        """
        give_up = time.monotonic() + SLOT_WAIT
        with self._freed:
            while True:
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
                if len(slots) < concurrency:
                    token = secrets.token_hex(8)
                    slots[token] = now + ttl
                    calls.append(now)
                    return Permit(key, token)
                left = give_up - time.monotonic()
                if left <= 0:
                    return 0.0
                self._freed.wait(left)

    def renew(self, permit: Permit, ttl: float) -> bool:
        """Push the slot's expiry to `ttl` seconds from now, unless it was taken back."""
        with self._lock:
            slots = self._slots.get(permit.key, {})
            if permit.token not in slots:
                return False
            slots[permit.token] = float(self._now()) + ttl
            return True

    def release(self, permit: Permit) -> None:
        """Free the slot and wake the callers waiting for one."""
        with self._freed:
            self._slots.get(permit.key, {}).pop(permit.token, None)
            self._freed.notify_all()
