"""The rendered service starts with no environment at all and serves its HTTP and WebSocket APIs."""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect

from tests import service as svc


@pytest.fixture
def service(
    rendered: Callable[[str], Path], project_env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    """``python -m my_service serve`` in the rendered project, with an empty environment."""
    project = rendered("defaults")
    with svc.serving(project, sys.executable, tmp_path / "service.log") as base_url:
        yield base_url, project


def mint_token(project: Path, *roles: str) -> str:
    return svc.mint_token(project, sys.executable, *roles)


def test_service_starts_on_embedded_defaults_and_serves_authors(service: tuple[str, Path]) -> None:
    base_url, project = service
    token = mint_token(project, "editor", "admin")
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, timeout=10) as http:
        health = http.get("/health").json()
        assert health["checks"]["database"] == {"status": "ok", "backend": "sqlite", "error": None}
        assert http.get("/authors").status_code == 401

        created = http.post("/authors", json={"name": "Smoke Test"}, headers=auth)
        assert created.status_code == 201
        author = created.json()
        assert http.get(f"/authors/{author['id']}", headers=auth).json() == author

        listed = http.get("/authors", params={"name": "Smoke Test"}, headers=auth).json()
        assert [a["id"] for a in listed["items"]] == [author["id"]]

        patched = http.patch(f"/authors/{author['id']}", json={"name": "Renamed"}, headers=auth)
        assert patched.json() == {"id": author["id"], "name": "Renamed"}
        assert http.post("/authors", json={"id": 7, "name": "x"}, headers=auth).status_code == 422

        assert http.delete(f"/authors/{author['id']}", headers=auth).status_code == 204
        assert http.get(f"/authors/{author['id']}", headers=auth).status_code == 404
        assert http.get("/openapi.json").json()["info"]["title"] == "My Service"
    assert (project / "my_service.db").is_file()


def test_forwarded_headers_do_not_buy_a_fresh_budget(service: tuple[str, Path]) -> None:
    """Without TRUSTED_PROXIES, X-Forwarded-For is ignored, uvicorn's own handling included."""
    base_url, _ = service
    with httpx.Client(base_url=base_url, timeout=10) as http:
        codes = [
            http.get("/openapi.json", headers={"X-Forwarded-For": f"198.51.100.{n}"}).status_code
            for n in range(15)
        ]
    assert 429 in codes  # default: bursts of 10, then 1 a second, all for 127.0.0.1


def test_service_answers_websocket_packages(service: tuple[str, Path]) -> None:
    base_url, project = service
    reader = mint_token(project)
    editor = mint_token(project, "editor")
    ws_url = svc.ws_url(base_url)

    async def conversation() -> list[dict[str, Any]]:
        replies = []
        async with connect(ws_url, additional_headers={"Authorization": f"Bearer {editor}"}) as ws:
            for pkg_id, data in [(3, {"name": "Over WS"}), (1, {"filters": {"name": "Over WS"}})]:
                await ws.send(
                    json.dumps({"pkg_id": pkg_id, "req_id": str(uuid.uuid4()), "data": data})
                )
                replies.append(json.loads(await ws.recv()))
        async with connect(ws_url) as ws:  # a browser-style client: the token in its first message
            await ws.send(json.dumps({"type": "auth", "token": reader}))
            replies.append(json.loads(await ws.recv()))
            await ws.send(
                json.dumps({"pkg_id": 3, "req_id": str(uuid.uuid4()), "data": {"name": "x"}})
            )
            replies.append(json.loads(await ws.recv()))
        return replies

    created, listed, ack, denied = asyncio.run(conversation())
    assert created["status_code"] == 0
    assert listed["data"] == [created["data"]]
    assert ack == {"type": "auth", "status": "ok", "user": "smoke"}
    assert denied["status_code"] == 3  # PERMISSION_DENIED: creating needs the editor role
