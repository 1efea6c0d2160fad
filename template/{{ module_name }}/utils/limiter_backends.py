"""Where rate-limit state lives: Redis (shared by every process) or this process's memory.

Both backends implement the same three algorithms with the same results, so the service behaves
the same with or without Redis. Times are integer milliseconds from the caller's clock.

- Sliding window log: a request is admitted while fewer than ``limit`` admissions happened in the
  last ``window_ms``; so no interval of ``window_ms`` ever holds more than ``limit`` admissions.
- Token bucket (GCRA): a bucket of ``capacity`` tokens refilled one per ``interval_ms``; each
  admission takes a token, so spikes of up to ``capacity`` ride on top of the steady rate.
- Connection set: members with an expiry; a member that is not refreshed stops counting, and a
  refresh puts back a member the backend lost (say, Redis restarted empty).

With Redis each operation is one Lua script: one round trip, executed atomically.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Protocol

from redis.asyncio import Redis


@dataclass(frozen=True)
class Decision:
    """The outcome of one check."""

    allowed: bool
    remaining: int
    """Admissions left right now."""
    retry_after_ms: int
    """When not allowed: how long until the next admission can succeed (0 when allowed)."""
    reset_ms: int
    """How long until the limit is fully available again."""


class LimiterBackend(Protocol):
    """Operations the limiters need; each one is atomic."""

    async def sliding_window(
        self, key: str, limit: int, window_ms: int, now_ms: int, member: str
    ) -> Decision: ...

    async def token_bucket(
        self, key: str, capacity: int, interval_ms: float, now_ms: int
    ) -> Decision: ...

    async def add_member(
        self, key: str, member: str, maximum: int, ttl_ms: int, now_ms: int
    ) -> bool: ...

    async def refresh_member(self, key: str, member: str, ttl_ms: int, now_ms: int) -> None: ...

    async def remove_member(self, key: str, member: str) -> None: ...

    async def ping(self) -> None: ...


SLIDING_WINDOW = """
local key, member = KEYS[1], ARGV[4]
local limit, window, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
local count = redis.call('ZCARD', key)
if count >= limit then
  local oldest = tonumber(redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2])
  local newest = tonumber(redis.call('ZRANGE', key, -1, -1, 'WITHSCORES')[2])
  return {0, 0, oldest + window - now, newest + window - now}
end
redis.call('ZADD', key, now, member)
redis.call('PEXPIRE', key, window)
return {1, limit - count - 1, 0, window}
"""

TOKEN_BUCKET = """
local key = KEYS[1]
local capacity, interval, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local tat = now
local stored = redis.call('GET', key)
if stored then tat = math.max(tonumber(stored), now) end
local tolerance = (capacity - 1) * interval
if tat - now > tolerance then
  return {0, 0, math.ceil(tat - now - tolerance), math.ceil(tat - now)}
end
local new_tat = tat + interval
redis.call('SET', key, tostring(new_tat), 'PX', math.max(1, math.ceil(new_tat - now)))
local remaining = math.floor((capacity * interval - (new_tat - now)) / interval + 1e-9)
return {1, remaining, 0, math.ceil(new_tat - now)}
"""

ADD_MEMBER = """
local key, member = KEYS[1], ARGV[1]
local maximum, ttl, now = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now)
if redis.call('ZSCORE', key, member) == false and redis.call('ZCARD', key) >= maximum then
  return 0
end
redis.call('ZADD', key, now + ttl, member)
redis.call('PEXPIRE', key, ttl)
return 1
"""

REFRESH_MEMBER = """
redis.call('ZADD', KEYS[1], tonumber(ARGV[3]) + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
"""


class RedisBackend:
    """Limiter state in Redis, shared by every process of the service."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self._sliding_window = client.register_script(SLIDING_WINDOW)
        self._token_bucket = client.register_script(TOKEN_BUCKET)
        self._add_member = client.register_script(ADD_MEMBER)
        self._refresh_member = client.register_script(REFRESH_MEMBER)

    async def sliding_window(
        self, key: str, limit: int, window_ms: int, now_ms: int, member: str
    ) -> Decision:
        result = await self._sliding_window(keys=[key], args=[limit, window_ms, now_ms, member])
        return _decision(result)

    async def token_bucket(
        self, key: str, capacity: int, interval_ms: float, now_ms: int
    ) -> Decision:
        result = await self._token_bucket(keys=[key], args=[capacity, interval_ms, now_ms])
        return _decision(result)

    async def add_member(
        self, key: str, member: str, maximum: int, ttl_ms: int, now_ms: int
    ) -> bool:
        return bool(await self._add_member(keys=[key], args=[member, maximum, ttl_ms, now_ms]))

    async def refresh_member(self, key: str, member: str, ttl_ms: int, now_ms: int) -> None:
        await self._refresh_member(keys=[key], args=[member, ttl_ms, now_ms])

    async def remove_member(self, key: str, member: str) -> None:
        await self.client.zrem(key, member)

    async def ping(self) -> None:
        await self.client.ping()


def _decision(result: list[int]) -> Decision:
    allowed, remaining, retry_after, reset = (int(value) for value in result)
    return Decision(bool(allowed), remaining, retry_after, reset)


class MemoryBackend:
    """Limiter state in this process: the embedded default, for a single-process service.

    Expired keys are dropped as they are touched and in a sweep every ``sweep_every`` calls, so
    memory stays bounded by the keys active within their windows.
    """

    def __init__(self, sweep_every: int = 10_000) -> None:
        self._windows: dict[str, tuple[deque[int], int]] = {}
        self._buckets: dict[str, tuple[float, int]] = {}
        self._members: dict[str, dict[str, int]] = {}
        self._sweep_every = sweep_every
        self._calls = 0

    @property
    def key_count(self) -> int:
        """Keys held right now (windows, buckets and connection sets)."""
        return len(self._windows) + len(self._buckets) + len(self._members)

    def _tick(self, now_ms: int) -> None:
        self._calls += 1
        if self._calls % self._sweep_every:
            return
        self._windows = {k: v for k, v in self._windows.items() if v[1] > now_ms}
        self._buckets = {k: v for k, v in self._buckets.items() if v[1] > now_ms}
        self._members = {
            k: {m: e for m, e in v.items() if e > now_ms} for k, v in self._members.items()
        }
        self._members = {k: v for k, v in self._members.items() if v}

    async def sliding_window(
        self, key: str, limit: int, window_ms: int, now_ms: int, member: str
    ) -> Decision:
        self._tick(now_ms)
        stamps, _ = self._windows.get(key, (deque(), 0))
        while stamps and stamps[0] <= now_ms - window_ms:
            stamps.popleft()
        if len(stamps) >= limit:
            self._windows[key] = (stamps, stamps[-1] + window_ms)
            return Decision(
                False, 0, stamps[0] + window_ms - now_ms, stamps[-1] + window_ms - now_ms
            )
        stamps.append(now_ms)
        self._windows[key] = (stamps, now_ms + window_ms)
        return Decision(True, limit - len(stamps), 0, window_ms)

    async def token_bucket(
        self, key: str, capacity: int, interval_ms: float, now_ms: int
    ) -> Decision:
        self._tick(now_ms)
        stored = self._buckets.get(key)
        tat = max(stored[0], now_ms) if stored and stored[1] > now_ms else float(now_ms)
        tolerance = (capacity - 1) * interval_ms
        if tat - now_ms > tolerance:
            return Decision(False, 0, math.ceil(tat - now_ms - tolerance), math.ceil(tat - now_ms))
        new_tat = tat + interval_ms
        self._buckets[key] = (new_tat, now_ms + max(1, math.ceil(new_tat - now_ms)))
        remaining = math.floor((capacity * interval_ms - (new_tat - now_ms)) / interval_ms + 1e-9)
        return Decision(True, remaining, 0, math.ceil(new_tat - now_ms))

    async def add_member(
        self, key: str, member: str, maximum: int, ttl_ms: int, now_ms: int
    ) -> bool:
        self._tick(now_ms)
        members = {m: e for m, e in self._members.get(key, {}).items() if e > now_ms}
        if member not in members and len(members) >= maximum:
            self._members[key] = members
            return False
        members[member] = now_ms + ttl_ms
        self._members[key] = members
        return True

    async def refresh_member(self, key: str, member: str, ttl_ms: int, now_ms: int) -> None:
        self._members.setdefault(key, {})[member] = now_ms + ttl_ms

    async def remove_member(self, key: str, member: str) -> None:
        members = self._members.get(key)
        if members is not None:
            members.pop(member, None)
            if not members:
                del self._members[key]

    async def ping(self) -> None:
        return None
