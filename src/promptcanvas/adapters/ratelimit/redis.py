"""Token buckets in Redis, shared by every API replica.

One Lua script refills and takes atomically, by Redis's own clock (replicas with skewed clocks
still agree) unless a clock is given (tests). A refused call writes nothing; a bucket expires
once it would be full again, so idle keys cost nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from promptcanvas.ports.ratelimit import Rate, RateLimiter

log = logging.getLogger(__name__)

_TAKE = """
local rate, burst, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or burst
local at = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
if tokens < 1 then
  return tostring((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens - 1), 'at', tostring(now))
redis.call('EXPIRE', KEYS[1], math.ceil(burst / rate) + 1)
return '0'
"""


class RedisRateLimiter(RateLimiter):
    """Buckets under `prefix` in one Redis; if Redis fails, requests are let through (logged)."""

    blocking = True

    def __init__(
        self,
        url: str,
        *,
        prefix: str = "promptcanvas:ratelimit:",
        clock: Callable[[], float] | None = None,
    ) -> None:
        import redis  # imported here: the embedded install does not need it

        self.client: Any = redis.Redis.from_url(url, socket_timeout=1.0, socket_connect_timeout=1.0)
        self.prefix = prefix
        self._clock = clock
        self._take = self.client.register_script(_TAKE)
        self._quiet_until = 0.0

    def take(self, key: str, rate: Rate) -> float:
        """Take a token: 0.0 when granted, else the seconds until one is there."""
        import redis

        now = float(self._clock()) if self._clock else -1.0
        try:
            answer = self._take(keys=[self.prefix + key], args=[rate.per_second, rate.burst, now])
        except redis.RedisError as exc:
            # A rate limit is a guard, not a dependency: Redis being down must not stop the API.
            if time.monotonic() >= self._quiet_until:  # one warning a minute, not one a request
                self._quiet_until = time.monotonic() + 60
                log.warning(
                    "rate limiter: Redis unavailable (%s); requests let through unlimited",
                    type(exc).__name__,
                )
            return 0.0
        return float(answer.decode() if isinstance(answer, bytes) else answer)
