"""Rate-limit semantics, checked identically on Redis and on the in-memory backend."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from my_service.storage.redis import create_client
from my_service.utils.limiter_backends import (
    LimiterBackend,
    MemoryBackend,
    RedisBackend,
)
from my_service.utils.rate_limiter import (
    ConnectionLimiter,
    RateLimiter,
)

from tests.clock import FakeClock
from tests.redis_server import RedisServer


@pytest.fixture(params=["memory", "redis"])
def backend(request: pytest.FixtureRequest) -> LimiterBackend:
    if request.param == "memory":
        return MemoryBackend()
    client: Redis = request.getfixturevalue("redis_client")
    return RedisBackend(client)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(backend: LimiterBackend, clock: FakeClock) -> RateLimiter:
    limiter = RateLimiter()
    limiter.configure(backend, clock=clock)
    return limiter


def arrivals(seed: int, count: int, spread_ms: int) -> list[int]:
    """Sorted random request times (milliseconds) within ``spread_ms``: bursts and gaps."""
    rng = random.Random(seed)
    return sorted(rng.randrange(spread_ms) for _ in range(count))


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_window_admits_exactly_what_fits_in_the_trailing_window(
    limiter: RateLimiter, clock: FakeClock, seed: int
) -> None:
    limit, window = 5, 10_000
    start = clock.now
    admitted: list[int] = []
    for at in arrivals(seed, 120, 60_000):
        clock.now = start + at / 1000
        allowed, remaining = await limiter.check_rate_limit("user:1", limit, window / 1000)
        in_window = [t for t in admitted if t > at - window]
        assert allowed == (len(in_window) < limit)  # exact: never too strict, never too lax
        if allowed:
            admitted.append(at)
            assert remaining == limit - len(in_window) - 1
        else:
            assert remaining == 0
    for first in admitted:  # the promise: no interval of `window` holds more than `limit`
        assert len([t for t in admitted if first <= t < first + window]) <= limit


async def test_refusal_says_when_to_retry(limiter: RateLimiter, clock: FakeClock) -> None:
    results = [await limiter.check("k", 3, 10) for _ in range(3)]
    assert [r.remaining for r in results] == [2, 1, 0]
    assert all(r.allowed and r.reset_after == 10 for r in results)
    clock.advance(4)
    refused = await limiter.check("k", 3, 10)
    assert not refused.allowed
    assert refused.retry_after == pytest.approx(6)
    clock.advance(6)
    assert (await limiter.check("k", 3, 10)).allowed


async def test_burst_rides_on_top_of_the_steady_rate(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    spike = [await limiter.check("api", 60, 60, burst=10) for _ in range(11)]
    assert [r.allowed for r in spike] == [True] * 10 + [False]
    assert [r.remaining for r in spike[:10]] == list(range(9, -1, -1))
    assert spike[10].retry_after == pytest.approx(1)
    clock.advance(1)
    assert (await limiter.check("api", 60, 60, burst=10)).allowed
    assert not (await limiter.check("api", 60, 60, burst=10)).allowed
    clock.advance(30)  # idle: the bucket refills, but never beyond `burst`
    again = [await limiter.check("api", 60, 60, burst=10) for _ in range(11)]
    assert sum(r.allowed for r in again) == 10


async def test_sustained_traffic_gets_the_steady_rate_plus_one_burst(
    limiter: RateLimiter, clock: FakeClock
) -> None:
    admitted = 0
    for _ in range(1000):  # 10 attempts per second for 100 seconds
        admitted += (await limiter.check("api", 60, 60, burst=10)).allowed
        clock.advance(0.1)
    assert 100 <= admitted <= 10 + 100


async def test_keys_are_independent(limiter: RateLimiter) -> None:
    assert (await limiter.check_rate_limit("a", 1, 60))[0]
    assert not (await limiter.check_rate_limit("a", 1, 60))[0]
    assert (await limiter.check_rate_limit("b", 1, 60))[0]


@pytest.mark.parametrize("burst", [None, 50])
async def test_concurrent_checks_at_the_edge_admit_exactly_the_limit(
    limiter: RateLimiter, burst: int | None
) -> None:
    results = await asyncio.gather(*(limiter.check("edge", 50, 60, burst) for _ in range(200)))
    assert sum(r.allowed for r in results) == 50


async def test_redis_keys_expire_and_stay_small(redis_client: Redis, clock: FakeClock) -> None:
    limiter = RateLimiter()
    limiter.configure(RedisBackend(redis_client), clock=clock)
    for _ in range(1000):
        await limiter.check("busy", 10, 30)
        await limiter.check("bucket", 10, 30, burst=5)
    assert await redis_client.zcard("rl:sw:busy") == 10
    assert 0 < await redis_client.pttl("rl:sw:busy") <= 30_000
    assert 0 < await redis_client.pttl("rl:tb:bucket") <= 30_000


@pytest.mark.parametrize(("limit", "window", "burst"), [(0, 60, None), (5, 0, None), (5, 60, 0)])
async def test_nonsense_limits_are_refused(
    limiter: RateLimiter, limit: int, window: float, burst: int | None
) -> None:
    with pytest.raises(ValueError, match="at least 1"):
        await limiter.check("k", limit, window, burst)


@pytest.fixture
def connections(backend: LimiterBackend, clock: FakeClock) -> ConnectionLimiter:
    limiter = ConnectionLimiter()
    limiter.configure(backend, clock=clock)
    limiter.set_limits(max_connections=2, ttl_seconds=30)
    return limiter


async def test_connection_limit_and_release(connections: ConnectionLimiter) -> None:
    assert await connections.add_connection("alice", "c1")
    assert await connections.add_connection("alice", "c2")
    assert not await connections.add_connection("alice", "c3")
    assert await connections.add_connection("bob", "c4")
    await connections.remove_connection("alice", "c1")
    assert await connections.add_connection("alice", "c3")


async def test_connections_of_a_dead_process_stop_counting_after_the_ttl(
    connections: ConnectionLimiter, clock: FakeClock
) -> None:
    assert await connections.add_connection("alice", "live")
    assert await connections.add_connection("alice", "crashed")  # never refreshed again
    for _ in range(4):
        clock.advance(connections.heartbeat_seconds)
        await connections.refresh_connection("alice", "live")
        if clock.now - 1_700_000_000.0 < 30:
            assert not await connections.add_connection("alice", "new")
    assert await connections.add_connection("alice", "new")
    assert not await connections.add_connection("alice", "another")  # "live" still counts


async def test_heartbeat_puts_back_a_connection_the_backend_lost(
    backend: LimiterBackend, connections: ConnectionLimiter
) -> None:
    connections.set_limits(max_connections=1, ttl_seconds=30)
    assert await connections.add_connection("alice", "open")
    if isinstance(backend, RedisBackend):
        await backend.client.flushdb()  # Redis restarted empty
    else:
        await backend.remove_member("ws:conn:alice", "open")
    assert await connections.add_connection("alice", "sneaky")
    await connections.remove_connection("alice", "sneaky")
    await connections.refresh_connection("alice", "open")
    assert not await connections.add_connection("alice", "new")


async def test_concurrent_connections_are_admitted_exactly(connections: ConnectionLimiter) -> None:
    connections.set_limits(max_connections=5, ttl_seconds=30)
    added = await asyncio.gather(*(connections.add_connection("u", f"c{i}") for i in range(40)))
    assert sum(added) == 5


@pytest.fixture
async def outage_redis(tmp_path: Path) -> AsyncIterator[tuple[RedisServer, Redis]]:
    """A Redis server of its own, so a test can stop and restart it."""
    with RedisServer(tmp_path / "redis") as server:
        client = create_client(server.url, timeout=0.5)
        try:
            yield server, client
        finally:
            await client.aclose()


@pytest.mark.parametrize("fail_open", [True, False])
async def test_redis_outage_follows_the_fail_mode_and_recovers(
    outage_redis: tuple[RedisServer, Redis], caplog: pytest.LogCaptureFixture, fail_open: bool
) -> None:
    server, client = outage_redis
    limiter = RateLimiter()
    limiter.configure(RedisBackend(client), fail_open=fail_open)
    assert (await limiter.check("k", 2, 60)).allowed
    server.stop()
    with caplog.at_level(logging.WARNING):
        during = [await limiter.check("k", 2, 60) for _ in range(5)]
    assert all(r.allowed is fail_open and r.backend_failed for r in during)
    assert limiter.health.failures == 5
    outage_logs = [r for r in caplog.records if "unavailable" in r.getMessage()]
    assert len(outage_logs) == 1
    server.start()  # an empty Redis: the earlier admission is forgotten
    after = [await limiter.check("k", 2, 60) for _ in range(3)]
    assert [r.allowed for r in after] == [True, True, False]  # limiting resumed, no restart
    assert not limiter.health.failing
