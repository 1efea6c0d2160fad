"""The WebSocket package API over a real server and a real client (the websockets package)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from typing import Any

import pytest
from fastapi import FastAPI
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from my_service.api.ws.constants import CloseCode, PkgID, RSPCode
from my_service.api.ws.endpoint import close_reason
from my_service.factory import create_app

from tests import live, ws_probe
from tests.conftest import settings_for
from tests.issuer import TestIssuer
from tests.test_auth import BAD_TOKEN_CASES, bad_tokens
from tests.waiting import eventually

LiveApp = tuple[FastAPI, str]


def frame(pkg_id: int, data: dict[str, Any] | None = None, **extra: Any) -> str:
    return json.dumps({"pkg_id": pkg_id, "req_id": str(uuid.uuid4()), "data": data or {}, **extra})


async def ask(ws: ClientConnection, message: str | bytes) -> dict[str, Any]:
    await ws.send(message)
    reply: dict[str, Any] = json.loads(await ws.recv())
    return reply


async def ping_works(ws: ClientConnection) -> None:
    reply = await ask(ws, frame(PkgID.PING))
    assert reply["status_code"] == RSPCode.OK
    assert reply["data"]["pong"] is True


def auth_header(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def closed_with(ws: ClientConnection) -> tuple[int | None, str | None]:
    with pytest.raises(ConnectionClosed):
        await asyncio.wait_for(ws.recv(), 5)
    assert ws.close_code is not None
    return ws.close_code, ws.close_reason


async def test_header_token_authenticates(live_app: LiveApp, issuer: TestIssuer) -> None:
    _, url = live_app
    async with connect(f"{url}/web", additional_headers=auth_header(issuer.token())) as ws:
        reply = await ask(ws, frame(PkgID.PING))
        assert reply["status_code"] == RSPCode.OK
        assert reply["meta"] is None
        assert set(reply) == {"pkg_id", "req_id", "status_code", "meta", "data"}


async def test_first_message_token_authenticates(live_app: LiveApp, issuer: TestIssuer) -> None:
    _, url = live_app
    async with connect(f"{url}/web") as ws:
        ack = await ask(ws, json.dumps({"type": "auth", "token": issuer.token("dora")}))
        assert ack == {"type": "auth", "status": "ok", "user": "dora"}
        await ping_works(ws)


async def test_no_token_in_time_closes_4401(live_app: LiveApp) -> None:
    _, url = live_app
    async with connect(f"{url}/web") as ws:
        code, reason = await closed_with(ws)
    assert code == CloseCode.AUTHENTICATION_FAILED
    assert reason == "authentication required"


@pytest.mark.parametrize("case", BAD_TOKEN_CASES)
@pytest.mark.parametrize("how", ["header", "first-message"])
async def test_bad_tokens_close_4401(
    live_app: LiveApp, issuer: TestIssuer, case: str, how: str
) -> None:
    _, url = live_app
    token, _ = bad_tokens(issuer)[case]
    headers = auth_header(token) if how == "header" and token else {}
    async with connect(f"{url}/web", additional_headers=headers) as ws:
        if how == "first-message":
            await ws.send(json.dumps({"type": "auth", "token": token}))
        code, _ = await closed_with(ws)
    assert code == CloseCode.AUTHENTICATION_FAILED


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


async def test_query_token_only_when_enabled_and_never_logged(
    sqlite_url: str, issuer: TestIssuer
) -> None:
    token = issuer.token("erin")
    collected = Collect()
    await connect_with_query_token(sqlite_url, issuer, token, collected)
    logged = "\n".join(collected.lines)
    assert "Authorization=[redacted]" in logged
    assert token not in logged


async def connect_with_query_token(
    sqlite_url: str, issuer: TestIssuer, token: str, collected: logging.Handler
) -> None:
    """Connect with ``?Authorization=`` with the setting off, then on; log into ``collected``."""
    uvicorn_log = logging.getLogger("uvicorn.error")
    for enabled in (False, True):
        settings = settings_for(
            sqlite_url, **issuer.settings(), WS_QUERY_TOKEN_ENABLED=enabled, WS_AUTH_TIMEOUT=0.5
        )
        async with live.serve(create_app(settings)) as base:
            uvicorn_log.setLevel(logging.INFO)  # the server configures its loggers on start
            uvicorn_log.addHandler(collected)
            url = base.replace("http://", "ws://") + f"/web?Authorization=Bearer%20{token}"
            async with connect(url) as ws:
                if enabled:
                    await ping_works(ws)
                else:
                    code, _ = await closed_with(ws)
                    assert code == CloseCode.AUTHENTICATION_FAILED
            uvicorn_log.removeHandler(collected)


@pytest.mark.parametrize(
    ("origin", "allowed"),
    [
        ("https://evil.example.com", False),
        ("https://app.example.com", True),
        (None, True),
    ],
)
async def test_origin_check(
    sqlite_url: str, issuer: TestIssuer, origin: str | None, allowed: bool
) -> None:
    settings = settings_for(
        sqlite_url, **issuer.settings(), ALLOWED_WS_ORIGINS=["https://app.example.com"]
    )
    async with live.serve(create_app(settings)) as base:
        url = base.replace("http://", "ws://") + "/web"
        headers = auth_header(issuer.token())
        async with connect(url, origin=origin, additional_headers=headers) as ws:  # type: ignore[arg-type]
            if allowed:
                await ping_works(ws)
            else:
                code, _ = await closed_with(ws)
                assert code == CloseCode.ORIGIN_NOT_ALLOWED


async def test_same_origin_browser_is_allowed(live_app: LiveApp, issuer: TestIssuer) -> None:
    _, url = live_app
    own_origin = url.replace("ws://", "http://")
    headers = auth_header(issuer.token())
    async with connect(f"{url}/web", origin=own_origin, additional_headers=headers) as ws:  # type: ignore[arg-type]
        await ping_works(ws)


MALFORMED = {
    "not-json": ("{oops", None, None),
    "json-array": ("[1, 2]", None, None),
    "json-string": ('"hello"', None, None),
    "missing-pkg-id": (json.dumps({"req_id": str(uuid.uuid4())}), None, "any"),
    "string-pkg-id": (json.dumps({"pkg_id": "1", "req_id": str(uuid.uuid4())}), None, "any"),
    "bool-pkg-id": (json.dumps({"pkg_id": True, "req_id": str(uuid.uuid4())}), None, "any"),
    "missing-req-id": (json.dumps({"pkg_id": 100}), 100, None),
    "bad-req-id": (json.dumps({"pkg_id": 100, "req_id": "not-a-uuid"}), 100, None),
    "data-not-object": (
        json.dumps({"pkg_id": 100, "req_id": str(uuid.uuid4()), "data": [1]}),
        100,
        "any",
    ),
    "oversized": (frame(PkgID.PING, {"blob": "x" * 70_000}), None, None),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_frame_gets_invalid_data_and_connection_keeps_serving(
    live_app: LiveApp, issuer: TestIssuer, case: str
) -> None:
    message, echoed_pkg_id, echoed_req_id = MALFORMED[case]
    _, url = live_app
    async with connect(f"{url}/web", additional_headers=auth_header(issuer.token())) as ws:
        reply = await ask(ws, message)
        assert reply["status_code"] == RSPCode.INVALID_DATA
        assert reply["data"]["msg"]
        assert reply["pkg_id"] == echoed_pkg_id
        if echoed_req_id is None:
            assert reply["req_id"] is None
        else:
            assert reply["req_id"] is not None
        await ping_works(ws)


async def test_binary_frame_is_refused_and_connection_keeps_serving(
    live_app: LiveApp, issuer: TestIssuer
) -> None:
    _, url = live_app
    async with connect(f"{url}/web", additional_headers=auth_header(issuer.token())) as ws:
        reply = await ask(ws, b"\x00\x01")
        assert reply["status_code"] == RSPCode.INVALID_DATA
        await ping_works(ws)


async def test_unknown_pkg_id_and_failing_handler_are_errors(
    live_app: LiveApp, issuer: TestIssuer
) -> None:
    _, url = live_app
    async with connect(f"{url}/web", additional_headers=auth_header(issuer.token())) as ws:
        unknown = await ask(ws, frame(424242))
        assert unknown["status_code"] == RSPCode.ERROR
        assert unknown["pkg_id"] == 424242
        failing = await ask(ws, frame(ws_probe.FAILING))
        assert failing["status_code"] == RSPCode.ERROR
        assert failing["data"] == {"msg": "internal error"}
        refused = await ask(ws, frame(ws_probe.REFUSED_BY_MODEL))
        assert refused["status_code"] == RSPCode.INVALID_DATA
        assert "does not allow updating sku" in refused["data"]["msg"]
        await ping_works(ws)


@pytest.mark.parametrize(
    ("pkg_id", "data", "bad_loc"),
    [
        (ws_probe.DICT_SCHEMA, {}, None),
        (ws_probe.DICT_SCHEMA, {"count": 0}, ["count"]),
        (ws_probe.DICT_SCHEMA, {"count": 1, "extra": True}, None),
        (ws_probe.MODEL_SCHEMA, {"x": "a", "y": 1}, ["x"]),
        (ws_probe.MODEL_SCHEMA, {"x": 1, "y": -1}, ["y"]),
        (ws_probe.MODEL_SCHEMA, {"x": 1, "y": 1, "z": 1}, ["z"]),
    ],
)
async def test_schema_violations_are_invalid_data_with_errors(
    live_app: LiveApp,
    issuer: TestIssuer,
    pkg_id: int,
    data: dict[str, Any],
    bad_loc: list[str] | None,
) -> None:
    _, url = live_app
    async with connect(f"{url}/web", additional_headers=auth_header(issuer.token())) as ws:
        reply = await ask(ws, frame(pkg_id, data))
        assert reply["status_code"] == RSPCode.INVALID_DATA
        errors = reply["data"]["errors"]
        assert errors
        if bad_loc is not None:
            assert [error["loc"] for error in errors] == [bad_loc]
        good = {"count": 2} if pkg_id == ws_probe.DICT_SCHEMA else {"x": 1, "y": 2}
        assert (await ask(ws, frame(pkg_id, good)))["data"] == good


async def test_every_listed_role_is_required(live_app: LiveApp, issuer: TestIssuer) -> None:
    _, url = live_app
    cases = [(["auditor"], RSPCode.PERMISSION_DENIED), (["auditor", "viewer"], RSPCode.OK)]
    for roles, expected in cases:
        headers = auth_header(issuer.token("frank", roles))
        async with connect(f"{url}/web", additional_headers=headers) as ws:
            reply = await ask(ws, frame(ws_probe.NEEDS_AUDITOR))
            assert reply["status_code"] == expected


async def test_datetimes_uuids_and_rows_serialize(live_app: LiveApp, issuer: TestIssuer) -> None:
    _, url = live_app
    async with connect(f"{url}/web", additional_headers=auth_header(issuer.token())) as ws:
        reply = await ask(ws, frame(ws_probe.RICH_TYPES))
    assert reply["data"] == {
        "when": "2026-01-02T03:04:05Z",
        "id": "12345678-1234-5678-1234-567812345678",
        "row": {"id": 7, "label": "seven", "price": 70, "sku": "none"},
    }


async def test_send_to_user_reaches_every_socket_of_that_user(
    live_app: LiveApp, issuer: TestIssuer
) -> None:
    app, url = live_app
    alice = auth_header(issuer.token("alice"))
    sockets = [await connect(f"{url}/web", additional_headers=alice) for _ in range(3)]
    bob_socket = await connect(f"{url}/web", additional_headers=auth_header(issuer.token("bob")))
    try:
        for ws in [*sockets, bob_socket]:
            await ping_works(ws)  # every connection is registered once it has answered
        connections = app.state.connections
        assert len(connections.sockets_of("alice")) == 3
        assert await connections.send_to_user("alice", '{"event": "hello alice"}') == 3
        for ws in sockets:
            assert json.loads(await ws.recv()) == {"event": "hello alice"}
        assert await connections.broadcast('{"event": "all"}') == 4
        for ws in [*sockets, bob_socket]:
            assert json.loads(await ws.recv()) == {"event": "all"}
        await sockets[0].close()
        await eventually(lambda: len(connections.sockets_of("alice")) == 2)
    finally:
        for ws in [*sockets, bob_socket]:
            await ws.close()
    await eventually(lambda: connections.user_count == 0)


def test_close_reasons_fit_a_close_frame() -> None:
    reason = close_reason("authentication failed: " + "é" * 200)
    assert len(reason.encode()) <= 123
    assert reason.startswith("authentication failed: é")
