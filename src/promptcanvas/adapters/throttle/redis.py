"""Provider limits shared through Redis by every worker on every machine.

One Lua script checks and takes both limits atomically, using Redis's own clock so machines
with skewed clocks still agree: a sorted set of call times for the rate window, and a sorted
set of held slots scored by expiry (a crashed worker's slot lapses after `ttl`).

A caller that finds every slot taken waits on a list that `release` pushes to (BLPOP), so a
freed slot is handed over within a round trip instead of at the next poll.
"""

from __future__ import annotations

import secrets
from typing import Any

from promptcanvas.ports.jobs import RATE_WINDOW_SECONDS, Permit, Throttle

_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local calls, slots = KEYS[1], KEYS[2]
local concurrency, per_minute, ttl = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local token, window = ARGV[4], tonumber(ARGV[5])
redis.call('ZREMRANGEBYSCORE', calls, '-inf', now - window)
redis.call('ZREMRANGEBYSCORE', slots, '-inf', now)
if per_minute > 0 and redis.call('ZCARD', calls) >= per_minute then
  local oldest = redis.call('ZRANGE', calls, 0, 0, 'WITHSCORES')
  return tostring(math.max(0.01, tonumber(oldest[2]) + window - now))
end
if redis.call('ZCARD', slots) >= concurrency then
  return 'full'
end
redis.call('ZADD', slots, now + ttl, token)
redis.call('ZADD', calls, now, token)
redis.call('EXPIRE', calls, math.ceil(window) + 60)
redis.call('EXPIRE', slots, math.ceil(ttl) + 60)
return 'ok'
"""

_RENEW = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local ttl = tonumber(ARGV[2])
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], now + ttl, ARGV[1])
redis.call('EXPIRE', KEYS[1], math.ceil(ttl) + 60)
return 1
"""


_RELEASE = """
if redis.call('ZREM', KEYS[1], ARGV[1]) == 1 then
  redis.call('LPUSH', KEYS[2], '1')
  redis.call('LTRIM', KEYS[2], 0, 63)
  redis.call('EXPIRE', KEYS[2], 60)
end
return 1
"""
# How long a caller waits for a freed slot before asking again (a crashed holder's slot is
# never released, only lapses, so waiters must look again now and then).
SLOT_WAIT = 0.25


class RedisThrottle(Throttle):
    """Limits shared across processes and machines."""

    def __init__(self, url: str, *, prefix: str = "promptcanvas:throttle:") -> None:
        import redis  # imported here: the embedded install does not need it

        self.client: Any = redis.Redis.from_url(url)
        self.prefix = prefix
        self._acquire = self.client.register_script(_ACQUIRE)
        self._renew = self.client.register_script(_RENEW)
        self._release = self.client.register_script(_RELEASE)

    def acquire(
        self, key: str, *, concurrency: int, per_minute: int | None, ttl: float
    ) -> Permit | float:
        """Take a slot and count a call, or say how long to wait."""
        token = secrets.token_hex(8)
        keys = [f"{self.prefix}{key}:calls", f"{self.prefix}{key}:slots"]
        args: list[str | float] = [concurrency, per_minute or 0, ttl, token, RATE_WINDOW_SECONDS]
        for wait in (True, False):
            answer = self._acquire(keys=keys, args=args)
            text = answer.decode() if isinstance(answer, bytes) else str(answer)
            if text == "ok":
                return Permit(key, token)
            if text != "full":
                return float(text)
            if wait:  # only a slot is missing: wait for a release, then try once more
                self.client.blpop([f"{self.prefix}{key}:freed"], timeout=SLOT_WAIT)
        return 0.0

    def renew(self, permit: Permit, ttl: float) -> bool:
        """Push the slot's expiry to `ttl` seconds from now, unless it was taken back."""
        keys = [f"{self.prefix}{permit.key}:slots"]
        return bool(self._renew(keys=keys, args=[permit.token, ttl]))

    def release(self, permit: Permit) -> None:
        """Free the slot (the call stays counted in its window)."""
        keys = [f"{self.prefix}{permit.key}:slots", f"{self.prefix}{permit.key}:freed"]
        self._release(keys=keys, args=[permit.token])
