"""The Redis client, created at start-up when ``REDIS_URL`` is set."""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError


def create_client(url: str, timeout: float, max_connections: int = 50) -> Redis:
    """A client that fails fast: a slow or absent Redis must not slow every request down.

    Short timeouts and a single immediate retry, only for a broken connection: after Redis
    restarts, every pooled connection is stale, and the retry reconnects instead of failing the
    command. A timeout is never retried; the rate limiter's fail mode decides what a failure
    means. At most ``max_connections`` are opened; further commands wait up to ``timeout`` for a
    free one, and one that still finds none counts as a failure (the fail mode decides).
    """
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout,
        socket_timeout=timeout,
        socket_connect_timeout=timeout,
        retry=Retry(NoBackoff(), 1, supported_errors=(RedisConnectionError,)),
    )
    return Redis(connection_pool=pool)
