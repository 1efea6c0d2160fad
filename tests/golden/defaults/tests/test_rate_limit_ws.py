"""WebSocket limits over a real server: concurrent connections and messages per user."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from my_service.api.ws.constants import PkgID, RSPCode
from my_service.factory import create_app
from my_service.storage.redis import create_client

from tests import live
from tests.conftest import settings_for
from tests.issuer import TestIssuer
from tests.redis_server import RedisServer
from tests.waiting import eventually

POLICY_VIOLATION = 1008


def connection_count(app: FastAPI, user_id: str) -> int:
    return len(app.state.connections.sockets_of(user_id))


@pytest.fixture(params=["memory", "redis"])
async def served(
    request: pytest.FixtureRequest, sqlite_url: str, issuer: TestIssuer
) -> AsyncIterator[tuple[FastAPI, str]]:
    """/web of a served app allowing 2 connections and 5 messages a minute per user."""
    limits: dict[str, Any] = {"WS_MAX_CONNECTIONS_PER_USER": 2, "WS_MESSAGE_RATE_LIMIT": 5}
    if request.param == "redis":
        limits["REDIS_URL"] = url = request.getfixturevalue("redis_url")
        client = create_client(url, timeout=2.0)
        await client.flushdb()
        await client.aclose()
    app = create_app(settings_for(sqlite_url, **issuer.settings(), **limits))
    async with live.serve(app) as base_url:
        yield app, base_url.replace("http://", "ws://") + "/web"


def ping() -> str:
    return json.dumps({"pkg_id": int(PkgID.PING), "req_id": str(uuid.uuid4())})


async def answered(ws: ClientConnection) -> bool:
    await ws.send(ping())
    return bool(json.loads(await ws.recv())["status_code"] == RSPCode.OK)


async def close_of(ws: ClientConnection) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 5)
    return ws.close_code, ws.close_reason


async def test_third_connection_of_a_user_is_refused(
    served: tuple[FastAPI, str], issuer: TestIssuer
) -> None:
    app, ws_url = served
    alice = {"Authorization": f"Bearer {issuer.token('alice')}"}
    first = await connect(ws_url, additional_headers=alice)
    second = await connect(ws_url, additional_headers=alice)
    try:
        assert await answered(first)
        assert await answered(second)
        async with connect(ws_url, additional_headers=alice) as third:
            refused = await close_of(third)
            assert refused == (POLICY_VIOLATION, "Maximum concurrent connections exceeded")
        bob = {"Authorization": f"Bearer {issuer.token('bob')}"}
        async with connect(ws_url, additional_headers=bob) as other_user:
            assert await answered(other_user)
        await first.close()
        # The server releases the slot once it has seen the close.
        await eventually(lambda: connection_count(app, "alice") == 1)
        async with connect(ws_url, additional_headers=alice) as replacement:
            assert await answered(replacement)
    finally:
        await first.close()
        await second.close()


async def test_message_limit_spans_all_sockets_of_a_user(
    served: tuple[FastAPI, str], issuer: TestIssuer
) -> None:
    _, ws_url = served
    alice = {"Authorization": f"Bearer {issuer.token('alice')}"}
    async with (
        connect(ws_url, additional_headers=alice) as one,
        connect(ws_url, additional_headers=alice) as two,
    ):
        assert [await answered(ws) for ws in (one, two, one, two, one)] == [True] * 5
        await two.send(ping())
        assert await close_of(two) == (POLICY_VIOLATION, "Message rate limit exceeded")


async def test_closed_fail_mode_refuses_with_1013_while_redis_is_down(
    sqlite_url: str, issuer: TestIssuer, tmp_path: Path
) -> None:
    with RedisServer(tmp_path / "redis") as server:
        settings = settings_for(
            sqlite_url, **issuer.settings(), REDIS_URL=server.url, RATE_LIMIT_FAIL_MODE="closed"
        )
        async with live.serve(create_app(settings)) as base_url:
            url = base_url.replace("http://", "ws://") + "/web"
            alice = {"Authorization": f"Bearer {issuer.token('alice')}"}
            async with connect(url, additional_headers=alice) as ws:
                assert await answered(ws)
                server.stop()
                await ws.send(ping())
                assert await close_of(ws) == (1013, "Rate limiter unavailable")
            async with connect(url, additional_headers=alice) as refused:
                assert await close_of(refused) == (1013, "Rate limiter unavailable")
