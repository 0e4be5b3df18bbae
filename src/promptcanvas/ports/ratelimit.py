"""Rate-limit port: token buckets, one per caller (an API key, a browser session, an address)."""

from __future__ import annotations

import abc
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    """A bucket that refills `per_second` tokens a second and holds at most `burst` of them."""

    per_second: float
    burst: int


class RateLimiter(abc.ABC):
    """Contract: `take(key, rate)` takes one token from `key`'s bucket and answers 0.0, or,
    when the bucket holds less than one token, takes nothing and answers the seconds (> 0)
    until it will hold one. A bucket nobody has used yet is full. Buckets of different keys
    are independent. Safe to call from several threads; `blocking` says whether a call may
    wait on the network (callers on an event loop then run it in a thread).

    `MemoryRateLimiter(clock=...)` in adapters/ratelimit/memory.py is the test double.
    """

    blocking: bool = False

    @abc.abstractmethod
    def take(self, key: str, rate: Rate) -> float:
        """Take a token: 0.0 when granted, else the seconds until one is there."""
