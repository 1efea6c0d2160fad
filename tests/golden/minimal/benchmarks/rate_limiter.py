"""Rate-limiter cost: Redis round trips per check, and checks per second against a baseline.

The baseline is a bare ``PING`` on the same Redis connection in the same run (the cheapest
possible round trip), so the ratio shows what the atomic scripts add, whatever the machine:

    python benchmarks/rate_limiter.py --checks 5000            # starts its own redis-server
    python benchmarks/rate_limiter.py --redis-url redis://...  # or uses yours (keys rl:*:bench:*)
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from my_service.storage.redis import create_client
from my_service.utils.limiter_backends import (
    MemoryBackend,
    RedisBackend,
)
from my_service.utils.rate_limiter import RateLimiter

from tests.redis_server import RedisServer


async def rate(count: int, call: Callable[[int], Awaitable[Any]]) -> float:
    """Calls per second of ``call(i)`` for ``i`` in ``range(count)``, one after another."""
    started = time.perf_counter()
    for i in range(count):
        await call(i)
    return count / (time.perf_counter() - started)


async def measure(url: str, checks: int) -> None:
    client = create_client(url, timeout=2.0)
    round_trips = 0
    execute = client.execute_command

    async def counted(*args: Any, **options: Any) -> Any:
        nonlocal round_trips
        round_trips += 1
        return await execute(*args, **options)  # type: ignore[no-untyped-call]

    client.execute_command = counted  # type: ignore[method-assign]
    limiter = RateLimiter()
    limiter.configure(RedisBackend(client))
    memory = RateLimiter()
    memory.configure(MemoryBackend())
    keys = [f"bench:{n}" for n in range(100)]
    await limiter.check(keys[0], 10**9)  # load the scripts once

    async def ping_once(_: int) -> None:
        await client.ping()

    ping = await rate(checks, ping_once)
    before = round_trips
    window = await rate(checks, lambda i: limiter.check(keys[i % 100], 10**9, 60))
    window_trips = (round_trips - before) / checks
    before = round_trips
    bucket = await rate(checks, lambda i: limiter.check(keys[i % 100], 10**9, 60, burst=100))
    bucket_trips = (round_trips - before) / checks
    in_memory = await rate(checks, lambda i: memory.check(keys[i % 100], 10**9, 60))
    await client.aclose()

    print(f"baseline PING           : {ping:10.0f} round trips/s")
    print(
        f"sliding window (Redis)  : {window:10.0f} checks/s, {window_trips:.2f} round trips "
        f"per check, {window / ping:6.1%} of PING"
    )
    print(
        f"token bucket (Redis)    : {bucket:10.0f} checks/s, {bucket_trips:.2f} round trips "
        f"per check, {bucket / ping:6.1%} of PING"
    )
    print(f"sliding window (memory) : {in_memory:10.0f} checks/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checks", type=int, default=3000, help="checks per measurement")
    parser.add_argument("--redis-url", help="use this Redis instead of starting one")
    args = parser.parse_args()
    if args.redis_url:
        asyncio.run(measure(args.redis_url, args.checks))
        return
    with RedisServer(Path(tempfile.mkdtemp(prefix="rl-bench-"))) as server:
        asyncio.run(measure(server.url, args.checks))


if __name__ == "__main__":
    main()
