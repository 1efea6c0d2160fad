"""HTTP rate limiting through the app: keys, headers, excluded paths, proxies and Redis outages."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from my_service.factory import create_app

from tests.conftest import settings_for
from tests.issuer import TestIssuer
from tests.redis_server import RedisServer
from tests.test_auth import probe

Started = Callable[..., AbstractAsyncContextManager[tuple[FastAPI, httpx.AsyncClient]]]


@pytest.fixture
def started(sqlite_url: str, issuer: TestIssuer) -> Started:
    """``async with started(RATE_LIMIT_PER_MINUTE=5, ...) as (app, http)``: a running app."""

    @asynccontextmanager
    async def start(**overrides: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
        values = {"RATE_LIMIT_PER_MINUTE": 5, "RATE_LIMIT_BURST": 0, **overrides}
        app = create_app(settings_for(sqlite_url, **issuer.settings(), **values))
        app.include_router(probe)
        transport = httpx.ASGITransport(app=app, client=("203.0.113.7", 5000))
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://t") as http,
        ):
            yield app, http

    return start


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_headers_count_down_then_429(started: Started, issuer: TestIssuer) -> None:
    async with started() as (_, http):
        headers = bearer(issuer.token("alice"))
        responses = [await http.get("/probe/me", headers=headers) for _ in range(6)]
    assert [r.status_code for r in responses] == [200] * 5 + [429]
    assert [r.headers["X-RateLimit-Remaining"] for r in responses] == ["4", "3", "2", "1", "0", "0"]
    assert {r.headers["X-RateLimit-Limit"] for r in responses} == {"5"}
    assert responses[0].headers["X-RateLimit-Reset"] == "60"
    refused = responses[5]
    assert refused.json() == {"detail": "rate limit exceeded", "retry_after": 60}
    assert 1 <= int(refused.headers["Retry-After"]) <= 60


async def test_excluded_paths_are_never_limited(started: Started) -> None:
    async with started(RATE_LIMIT_PER_MINUTE=1) as (_, http):
        responses = [await http.get("/health") for _ in range(5)]
    assert {r.status_code for r in responses} == {200}
    assert "X-RateLimit-Limit" not in responses[0].headers


async def test_invalid_token_floods_are_limited_by_ip(started: Started) -> None:
    async with started() as (_, http):
        responses = [await http.get("/probe/me", headers=bearer("garbage")) for _ in range(7)]
    assert [r.status_code for r in responses] == [401] * 5 + [429] * 2


async def test_each_user_and_each_anonymous_ip_has_its_own_budget(
    started: Started, issuer: TestIssuer
) -> None:
    async with started(RATE_LIMIT_PER_MINUTE=2) as (_, http):
        alice, bob = bearer(issuer.token("alice")), bearer(issuer.token("bob"))
        codes = [
            (await http.get("/probe/me", headers=alice)).status_code,
            (await http.get("/probe/me", headers=alice)).status_code,
            (await http.get("/probe/me", headers=alice)).status_code,
            (await http.get("/probe/me", headers=bob)).status_code,
            (await http.get("/openapi.json")).status_code,
        ]
    assert codes == [200, 200, 429, 200, 200]


async def test_burst_setting_uses_a_token_bucket(started: Started) -> None:
    async with started(RATE_LIMIT_PER_MINUTE=60, RATE_LIMIT_BURST=3) as (_, http):
        codes = [(await http.get("/openapi.json")).status_code for _ in range(5)]
    assert codes == [200, 200, 200, 429, 429]


@pytest.mark.parametrize(
    ("trusted", "expected"),
    [
        (["203.0.113.0/24"], [200, 200, 200, 200]),  # each forwarded client has its own budget
        ([], [200, 200, 429, 429]),  # untrusted peer: the header is ignored, not a bypass
    ],
)
async def test_forwarded_for_only_from_trusted_proxies(
    started: Started, trusted: list[str], expected: list[int]
) -> None:
    async with started(RATE_LIMIT_PER_MINUTE=2, TRUSTED_PROXIES=trusted) as (_, http):
        codes = []
        for client in ["198.51.100.1", "198.51.100.1", "198.51.100.2", "198.51.100.3"]:
            headers = {"X-Forwarded-For": f"{client}, 203.0.113.9"}
            codes.append((await http.get("/openapi.json", headers=headers)).status_code)
    # With the trusted range, 198.51.100.1 uses its 2, the others 1 each.
    assert codes == expected


async def test_disabled_rate_limiting_adds_nothing(started: Started) -> None:
    async with started(RATE_LIMIT_ENABLED=False, RATE_LIMIT_PER_MINUTE=1) as (_, http):
        responses = [await http.get("/openapi.json") for _ in range(3)]
    assert {r.status_code for r in responses} == {200}
    assert "X-RateLimit-Limit" not in responses[0].headers


@pytest.fixture
def own_redis(tmp_path: Path) -> RedisServer:
    return RedisServer(tmp_path / "redis")


async def test_redis_outage_keeps_requests_flowing_and_limits_resume(
    started: Started, own_redis: RedisServer, caplog: pytest.LogCaptureFixture
) -> None:
    with own_redis:
        async with started(REDIS_URL=own_redis.url, RATE_LIMIT_PER_MINUTE=3) as (app, http):
            assert [(await http.get("/openapi.json")).status_code for _ in range(4)] == [
                200,
                200,
                200,
                429,
            ]
            health = (await http.get("/health")).json()
            assert health["checks"]["redis"]["status"] == "ok"
            own_redis.stop()
            with caplog.at_level(logging.WARNING):
                during = [await http.get("/openapi.json") for _ in range(10)]
            assert [r.status_code for r in during] == [200] * 10
            assert "X-RateLimit-Remaining" not in during[0].headers  # no made-up numbers
            assert app.state.limiter_health.failures == 10
            assert len([r for r in caplog.records if "unavailable" in r.getMessage()]) == 1
            health = await http.get("/health")
            assert health.status_code == 200
            assert health.json()["status"] == "degraded"
            assert health.json()["checks"]["redis"]["status"] == "unavailable"
            own_redis.start()
            after = [(await http.get("/openapi.json")).status_code for _ in range(4)]
            assert after == [200, 200, 200, 429]


async def test_redis_outage_with_fail_mode_closed_refuses(
    started: Started, own_redis: RedisServer
) -> None:
    with own_redis:
        settings = {"REDIS_URL": own_redis.url, "RATE_LIMIT_FAIL_MODE": "closed"}
        async with started(**settings) as (_, http):
            assert (await http.get("/openapi.json")).status_code == 200
            own_redis.stop()
            refused = await http.get("/openapi.json")
            assert refused.status_code == 503
            assert refused.json() == {"detail": "rate limiter unavailable", "retry_after": 1}
            assert refused.headers["Retry-After"] == "1"
            assert (await http.get("/health")).status_code == 503
            own_redis.start()
            assert (await http.get("/openapi.json")).status_code == 200
