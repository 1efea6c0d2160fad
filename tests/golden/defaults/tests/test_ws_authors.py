"""Every Author PkgID over a real WebSocket, on each real database, with its role checks."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect

from my_service.api.ws.constants import PkgID, RSPCode
from my_service.factory import create_app

from tests import live
from tests.conftest import settings_for
from tests.issuer import TestIssuer


@pytest.fixture
async def ws_url(database_url: str, issuer: TestIssuer) -> AsyncIterator[str]:
    app = create_app(settings_for(database_url, **issuer.settings()))
    async with live.serve(app) as base_url:
        yield base_url.replace("http://", "ws://") + "/web"


class Client:
    """A connected user: ``await client.call(PkgID.X, {...})`` returns the response frame."""

    def __init__(self, ws: ClientConnection) -> None:
        self.ws = ws

    async def call(self, pkg_id: PkgID, data: dict[str, Any] | None = None) -> dict[str, Any]:
        req_id = str(uuid.uuid4())
        await self.ws.send(json.dumps({"pkg_id": pkg_id, "req_id": req_id, "data": data or {}}))
        reply: dict[str, Any] = json.loads(await self.ws.recv())
        assert (reply["pkg_id"], reply["req_id"]) == (pkg_id, req_id)
        return reply


@pytest.fixture
async def root(ws_url: str, issuer: TestIssuer) -> AsyncIterator[Client]:
    """A user holding every role."""
    headers = {"Authorization": f"Bearer {issuer.token('root', ['editor', 'admin'])}"}
    async with connect(ws_url, additional_headers=headers) as ws:
        yield Client(ws)


async def test_crud_over_websocket(root: Client) -> None:
    created = await root.call(PkgID.CREATE_AUTHOR, {"name": "Ada"})
    assert created["status_code"] == RSPCode.OK
    author_id = created["data"]["id"]
    assert created["data"] == {"id": author_id, "name": "Ada"}

    await root.call(PkgID.CREATE_AUTHOR, {"name": "Grace"})
    listed = await root.call(PkgID.GET_AUTHORS, {"filters": {"name": "Ada"}})
    assert listed["data"] == [{"id": author_id, "name": "Ada"}]
    everyone = await root.call(PkgID.GET_AUTHORS)
    assert [a["name"] for a in everyone["data"]] == ["Ada", "Grace"]

    renamed = await root.call(PkgID.UPDATE_AUTHOR, {"id": author_id, "name": "Ada L."})
    assert renamed["data"] == {"id": author_id, "name": "Ada L."}

    deleted = await root.call(PkgID.DELETE_AUTHOR, {"id": author_id})
    assert deleted["status_code"] == RSPCode.OK
    again = await root.call(PkgID.DELETE_AUTHOR, {"id": author_id})
    assert again["status_code"] == RSPCode.NOT_FOUND
    missing = await root.call(PkgID.UPDATE_AUTHOR, {"id": author_id, "name": "x"})
    assert missing["status_code"] == RSPCode.NOT_FOUND


async def test_paginated_authors_carry_meta(root: Client) -> None:
    for i in range(5):
        await root.call(PkgID.CREATE_AUTHOR, {"name": f"author {i}"})
    page = await root.call(PkgID.GET_PAGINATED_AUTHORS, {"page": 2, "per_page": 2})
    assert [a["name"] for a in page["data"]] == ["author 2", "author 3"]
    assert page["meta"] == {"page": 2, "per_page": 2, "total": 5, "pages": 3}
    filtered = await root.call(
        PkgID.GET_PAGINATED_AUTHORS, {"filters": {"name": "author 4"}, "per_page": 10}
    )
    assert filtered["meta"] == {"page": 1, "per_page": 10, "total": 1, "pages": 1}


@pytest.mark.parametrize(
    ("pkg_id", "data"),
    [
        (PkgID.GET_AUTHORS, {"filters": {"colour": "red"}}),
        (PkgID.GET_AUTHORS, {"filters": {"name": 5}}),
        (PkgID.GET_PAGINATED_AUTHORS, {"page": 0}),
        (PkgID.GET_PAGINATED_AUTHORS, {"per_page": 1000}),
        (PkgID.CREATE_AUTHOR, {}),
        (PkgID.CREATE_AUTHOR, {"name": ""}),
        (PkgID.CREATE_AUTHOR, {"name": "Eve", "id": 99}),
        (PkgID.UPDATE_AUTHOR, {"name": "no id"}),
        (PkgID.UPDATE_AUTHOR, {"id": 1, "name": "x", "extra": 1}),
        (PkgID.DELETE_AUTHOR, {"id": "one"}),
    ],
)
async def test_schema_violations(root: Client, pkg_id: PkgID, data: dict[str, Any]) -> None:
    reply = await root.call(pkg_id, data)
    assert reply["status_code"] == RSPCode.INVALID_DATA
    assert reply["data"]["errors"]
    assert (await root.call(PkgID.GET_AUTHORS))["data"] == []


# What each role set may call: reads need a valid token, writes "editor", deletes "admin".
ALLOWED = {
    (): {PkgID.GET_AUTHORS, PkgID.GET_PAGINATED_AUTHORS},
    ("editor",): {
        PkgID.GET_AUTHORS,
        PkgID.GET_PAGINATED_AUTHORS,
        PkgID.CREATE_AUTHOR,
        PkgID.UPDATE_AUTHOR,
    },
    ("admin",): {PkgID.GET_AUTHORS, PkgID.GET_PAGINATED_AUTHORS, PkgID.DELETE_AUTHOR},
}
AUTHOR_PKG_IDS = [
    PkgID.GET_AUTHORS,
    PkgID.GET_PAGINATED_AUTHORS,
    PkgID.CREATE_AUTHOR,
    PkgID.UPDATE_AUTHOR,
    PkgID.DELETE_AUTHOR,
]


@pytest.mark.parametrize("roles", list(ALLOWED), ids=lambda r: "+".join(r) or "no-roles")
async def test_role_matrix(
    ws_url: str, root: Client, issuer: TestIssuer, roles: tuple[str, ...]
) -> None:
    headers = {"Authorization": f"Bearer {issuer.token('someone', roles)}"}
    async with connect(ws_url, additional_headers=headers) as ws:
        user = Client(ws)
        for pkg_id in AUTHOR_PKG_IDS:
            target = await root.call(PkgID.CREATE_AUTHOR, {"name": "Target"})
            data = {
                PkgID.CREATE_AUTHOR: {"name": "New"},
                PkgID.UPDATE_AUTHOR: {"id": target["data"]["id"], "name": "Changed"},
                PkgID.DELETE_AUTHOR: {"id": target["data"]["id"]},
            }.get(pkg_id, {})
            reply = await user.call(pkg_id, data)
            expected = RSPCode.OK if pkg_id in ALLOWED[roles] else RSPCode.PERMISSION_DENIED
            assert reply["status_code"] == expected, (pkg_id, reply)
