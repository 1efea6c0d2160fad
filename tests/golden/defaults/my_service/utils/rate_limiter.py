"""Rate limits for HTTP requests and WebSocket messages, and per-user WebSocket connection limits.

``rate_limiter`` and ``connection_limiter`` are importable from anywhere; the app gives them their
backend at start-up (Redis when ``REDIS_URL`` is set, else this process's memory)::

    allowed, remaining = await rate_limiter.check_rate_limit(f"export:{user.id}", limit=10)

Semantics (documented in ``docs/rate-limiting.md``):

- Without ``burst``: never more than ``limit`` admissions in any ``window_seconds`` interval.
- With ``burst``: a bucket of ``burst`` tokens refilled at ``limit / window_seconds`` per second;
  spikes of up to ``burst`` requests pass at once on top of that steady rate.

When the backend fails, checks follow ``RATE_LIMIT_FAIL_MODE``: ``open`` admits, ``closed``
refuses. An outage is logged once when it starts and once when it ends; ``failures`` counts the
failed calls.
"""

from __future__ import annotations

import itertools
import math
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from redis.exceptions import RedisError

from my_service.logging import logger
from my_service.utils.limiter_backends import (
    Decision,
    LimiterBackend,
    MemoryBackend,
)

Clock = Callable[[], float]
BACKEND_ERRORS = (RedisError, OSError, TimeoutError)


@dataclass(frozen=True)
class RateLimitResult:
    """One check, with what HTTP headers need to report it."""

    allowed: bool
    limit: int
    remaining: int
    retry_after: float
    """Seconds until a new request can pass (0 when allowed)."""
    reset_after: float
    """Seconds until the limit is fully available again."""
    backend_failed: bool = False
    """True when the backend failed and the fail mode decided."""


class BackendHealth:
    """Tracks outages of the limiter backend: log once per outage, count every failure."""

    def __init__(self) -> None:
        self.failing = False
        self.failures = 0
        """Failed calls since start-up."""
        self.outage_failures = 0
        """Failed calls in the current (or last) outage."""

    def failed(self, error: Exception) -> None:
        self.failures += 1
        self.outage_failures += 1
        if not self.failing:
            self.failing = True
            self.outage_failures = 1
            logger.warning("rate limiter backend unavailable, applying fail mode: %s", error)

    def succeeded(self) -> None:
        if self.failing:
            self.failing = False
            logger.warning(
                "rate limiter backend available again after %d failed calls", self.outage_failures
            )


class _Configured:
    """Holds the backend, fail mode and clock the app configured at start-up."""

    def __init__(self, clock: Clock = time.time) -> None:
        self.backend: LimiterBackend = MemoryBackend()
        self.fail_open = True
        self.health = BackendHealth()
        self.clock = clock

    def configure(
        self,
        backend: LimiterBackend,
        *,
        fail_open: bool = True,
        health: BackendHealth | None = None,
        clock: Clock | None = None,
    ) -> None:
        """Use ``backend`` from now on (called by the app at start-up, and by tests)."""
        self.backend = backend
        self.fail_open = fail_open
        self.health = health or BackendHealth()
        if clock is not None:
            self.clock = clock

    def now_ms(self) -> int:
        return round(self.clock() * 1000)


class RateLimiter(_Configured):
    """Counts admissions per key; see the module docstring for the semantics."""

    def __init__(self, clock: Clock = time.time) -> None:
        super().__init__(clock)
        self._members = (f"{os.getpid()}-{secrets.token_hex(4)}-{n}" for n in itertools.count())

    async def check(
        self, key: str, limit: int, window_seconds: float = 60, burst: int | None = None
    ) -> RateLimitResult:
        """Admit or refuse one request for ``key``; never raises for a backend failure."""
        if limit < 1 or window_seconds <= 0 or (burst is not None and burst < 1):
            raise ValueError("limit and burst must be at least 1, window_seconds positive")
        window_ms = int(window_seconds * 1000)
        try:
            if burst is None:
                decision = await self.backend.sliding_window(
                    f"rl:sw:{key}", limit, window_ms, self.now_ms(), next(self._members)
                )
            else:
                decision = await self.backend.token_bucket(
                    f"rl:tb:{key}", burst, window_ms / limit, self.now_ms()
                )
        except BACKEND_ERRORS as error:
            self.health.failed(error)
            return RateLimitResult(self.fail_open, limit, limit, 0, 0, backend_failed=True)
        self.health.succeeded()
        return _result(decision, limit)

    async def check_rate_limit(
        self, key: str, limit: int, window_seconds: float = 60, burst: int | None = None
    ) -> tuple[bool, int]:
        """``(allowed, remaining)`` for one request under ``key``."""
        result = await self.check(key, limit, window_seconds, burst)
        return result.allowed, result.remaining


def _result(decision: Decision, limit: int) -> RateLimitResult:
    return RateLimitResult(
        allowed=decision.allowed,
        limit=limit,
        remaining=decision.remaining,
        retry_after=decision.retry_after_ms / 1000,
        reset_after=decision.reset_ms / 1000,
    )


class ConnectionLimiter(_Configured):
    """At most ``max_connections`` open WebSockets per user, across every process.

    Each connection is registered with an expiry of ``ttl_seconds`` and must be refreshed by a
    heartbeat; connections of a process that died stop counting once their expiry passes.
    """

    def __init__(self, clock: Clock = time.time) -> None:
        super().__init__(clock)
        self.max_connections = 5
        self.ttl_seconds = 60.0

    def set_limits(self, max_connections: int, ttl_seconds: float) -> None:
        self.max_connections = max_connections
        self.ttl_seconds = ttl_seconds

    @property
    def heartbeat_seconds(self) -> float:
        """How often an open connection should call :meth:`refresh_connection`."""
        return self.ttl_seconds / 3

    def _ttl_ms(self) -> int:
        return math.ceil(self.ttl_seconds * 1000)

    async def add_connection(self, user_id: str, connection_id: str) -> bool:
        """Register a connection; ``False`` when the user is at the limit."""
        try:
            added = await self.backend.add_member(
                f"ws:conn:{user_id}",
                connection_id,
                self.max_connections,
                self._ttl_ms(),
                self.now_ms(),
            )
        except BACKEND_ERRORS as error:
            self.health.failed(error)
            return self.fail_open
        self.health.succeeded()
        return added

    async def refresh_connection(self, user_id: str, connection_id: str) -> None:
        """Heartbeat: keep counting this connection for another ``ttl_seconds``."""
        try:
            await self.backend.refresh_member(
                f"ws:conn:{user_id}", connection_id, self._ttl_ms(), self.now_ms()
            )
        except BACKEND_ERRORS as error:
            self.health.failed(error)

    async def remove_connection(self, user_id: str, connection_id: str) -> None:
        """Stop counting a connection that closed."""
        try:
            await self.backend.remove_member(f"ws:conn:{user_id}", connection_id)
        except BACKEND_ERRORS as error:
            self.health.failed(error)


rate_limiter = RateLimiter()
"""Shared request/message limiter; configured when the app starts."""

connection_limiter = ConnectionLimiter()
"""Shared WebSocket connection limiter; configured when the app starts."""
