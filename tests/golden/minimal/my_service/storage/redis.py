"""The Redis client, created at start-up when ``REDIS_URL`` is set."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.backoff import NoBackoff
from redis.retry import Retry


def create_client(url: str, timeout: float, max_connections: int = 50) -> Redis:
    """A client that fails fast: a slow or absent Redis must not slow every request down.

    No retries and short timeouts; the rate limiter's fail mode decides what a failure means,
    and the client reconnects by itself on the next command once Redis is back. At most
    ``max_connections`` are opened; further commands wait up to ``timeout`` for a free one, and
    one that still finds none counts as a failure (the fail mode decides).
    """
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )
    return Redis(connection_pool=pool)
