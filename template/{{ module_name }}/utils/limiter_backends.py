"""Where rate-limit state lives: Redis (shared by every process) or this process's memory.

Both backends implement the same three algorithms with the same results, so the service behaves
the same with or without Redis. Times are integer milliseconds from the caller's clock.

- Sliding window log: a request is admitted while fewer than ``limit`` admissions happened in the
  last ``window_ms``; so no interval of ``window_ms`` ever holds more than ``limit`` admissions.
- Token bucket (GCRA): a bucket of ``capacity`` tokens refilled one per ``interval_ms``; each
  admission takes a token, so spikes of up to ``capacity`` ride on top of the steady rate.
- Connection set: members with an expiry; a member that is not refreshed stops counting, and a
  refresh puts back a member the backend lost (say, Redis restarted empty).
- Leased window: the sliding window, taken in leases of several admissions at once, so a
  caller makes one call for many admissions. A lease counts in the window from the moment it is
  granted until ``window_ms`` after it expires; the caller uses it only until it expires, so
  every admission stays counted for the ``window_ms`` after it happened, and no interval of
  ``window_ms`` holds more than ``limit`` admissions. What a lease left unused is given back
  when its holder takes the next one, or closes.

With Redis each operation is one Lua script: one round trip, executed atomically.
"""

from __future__ import annotations

import heapq
import math
from collections import deque
from dataclasses import dataclass, field
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


@dataclass(frozen=True)
class LeaseRequest:
    """A holder asking for up to ``want`` admissions of a leased window (``limit`` per
    ``window_ms``), to use until ``now_ms + hold_ms``; ``returned`` gives back what a previous
    lease (its holder id, then the count) left unused."""

    limit: int
    window_ms: int
    now_ms: int
    want: int
    hold_ms: int
    holder: str
    returned: tuple[str, int] | None = None


@dataclass(frozen=True)
class Grant:
    """The outcome of a lease request: ``granted`` admissions (0: refused)."""

    granted: int
    remaining: int
    """Admissions left to lease after this one."""
    retry_after_ms: int
    """When refused: how long until a lease can be granted again (0 when granted)."""


def lease_size(want: int, free: int) -> int:
    """What a lease request for ``want`` admissions gets while ``free`` are left: at most half of
    them (at least one), so leases held elsewhere never keep most of what is left unused."""
    return max(0, min(want, max(1, free // 2) if free > 0 else 0))


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

    async def lease(self, key: str, request: LeaseRequest) -> Grant: ...

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


LEASE = """
local leases, counts = KEYS[1], KEYS[2]
local limit, window, now = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local want, expires, holder = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6]
local returned, unused = ARGV[7], tonumber(ARGV[8])
local total = tonumber(redis.call('HGET', counts, 'total') or '0')
local gone
repeat
  gone = redis.call('ZRANGEBYSCORE', leases, '-inf', now - window, 'LIMIT', 0, 500)
  if #gone > 0 then
    local sizes = redis.call('HMGET', counts, unpack(gone))
    for i = 1, #gone do total = total - tonumber(sizes[i] or '0') end
    redis.call('ZREM', leases, unpack(gone))
    redis.call('HDEL', counts, unpack(gone))
  end
until #gone < 500
if unused > 0 then
  local size = tonumber(redis.call('HGET', counts, returned) or '0')
  local back = math.min(unused, size)
  if back > 0 then
    total = total - back
    if back == size then
      redis.call('ZREM', leases, returned)
      redis.call('HDEL', counts, returned)
    else
      redis.call('HSET', counts, returned, size - back)
    end
  end
end
local free = limit - total
local granted = 0
if free > 0 then granted = math.min(want, math.max(1, math.floor(free / 2))) end
local retry = 0
if granted > 0 then
  redis.call('ZADD', leases, expires, holder)
  redis.call('HSET', counts, holder, granted)
  total = total + granted
else
  local oldest = redis.call('ZRANGE', leases, 0, 0, 'WITHSCORES')
  if oldest[2] then retry = tonumber(oldest[2]) + window - now end
end
redis.call('HSET', counts, 'total', total)
local newest = redis.call('ZRANGE', leases, -1, -1, 'WITHSCORES')
local keep = window
if newest[2] then keep = math.max(1, tonumber(newest[2]) + window - now) end
redis.call('PEXPIRE', leases, keep)
redis.call('PEXPIRE', counts, keep)
return {granted, limit - total, retry}
"""


class RedisBackend:
    """Limiter state in Redis, shared by every process of the service."""

    def __init__(self, client: Redis) -> None:
        self.client = client
        self._sliding_window = client.register_script(SLIDING_WINDOW)
        self._token_bucket = client.register_script(TOKEN_BUCKET)
        self._add_member = client.register_script(ADD_MEMBER)
        self._refresh_member = client.register_script(REFRESH_MEMBER)
        self._lease = client.register_script(LEASE)

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

    async def lease(self, key: str, request: LeaseRequest) -> Grant:
        previous, unused = request.returned if request.returned is not None else ("", 0)
        args: list[str | int] = [request.limit, request.window_ms, request.now_ms, request.want]
        args += [request.now_ms + request.hold_ms, request.holder, previous, unused]
        result = await self._lease(keys=[key, f"{key}:n"], args=args)
        granted, remaining, retry_after = (int(value) for value in result)
        return Grant(granted, remaining, retry_after)

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
        self._leases: dict[str, _Leases] = {}
        self._sweep_every = sweep_every
        self._calls = 0

    @property
    def key_count(self) -> int:
        """Keys held right now (windows, buckets and connection sets)."""
        return len(self._windows) + len(self._buckets) + len(self._members) + len(self._leases)

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
        self._leases = {k: v for k, v in self._leases.items() if v.kept_until > now_ms}

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

    async def lease(self, key: str, request: LeaseRequest) -> Grant:
        now_ms, window_ms = request.now_ms, request.window_ms
        self._tick(now_ms)
        leases = self._leases.setdefault(key, _Leases())
        leases.forget(now_ms - window_ms)
        if request.returned is not None:
            leases.give_back(*request.returned)
        granted = lease_size(request.want, request.limit - leases.total)
        retry_after = 0
        if granted:
            leases.add(request.holder, now_ms + request.hold_ms, granted, window_ms)
        elif (oldest := leases.oldest()) is not None:
            retry_after = oldest + window_ms - now_ms
        return Grant(granted, request.limit - leases.total, retry_after)

    async def ping(self) -> None:
        return None


@dataclass
class _Leases:
    """One key's leases in memory: holder -> (expiry, admissions), their total, and a heap of
    expiries so that forgetting old leases costs nothing per lease still held."""

    held: dict[str, tuple[int, int]] = field(default_factory=dict)
    total: int = 0
    kept_until: int = 0
    _expiries: list[tuple[int, str]] = field(default_factory=list)

    def forget(self, before_ms: int) -> None:
        while self._expiries and self._expiries[0][0] <= before_ms:
            expires, holder = heapq.heappop(self._expiries)
            found = self.held.get(holder)
            if found is not None and found[0] == expires:
                del self.held[holder]
                self.total -= found[1]

    def oldest(self) -> int | None:
        """The earliest expiry of a lease still held."""
        while self._expiries:
            expires, holder = self._expiries[0]
            found = self.held.get(holder)
            if found is not None and found[0] == expires:
                return expires
            heapq.heappop(self._expiries)  # given back since
        return None

    def give_back(self, holder: str, unused: int) -> None:
        expires, size = self.held.get(holder, (0, 0))
        back = min(unused, size)
        if back <= 0:
            return
        self.total -= back
        if back == size:
            del self.held[holder]
        else:
            self.held[holder] = (expires, size - back)

    def add(self, holder: str, expires: int, size: int, window_ms: int) -> None:
        self.held[holder] = (expires, size)
        heapq.heappush(self._expiries, (expires, holder))
        self.total += size
        self.kept_until = max(self.kept_until, expires + window_ms)
