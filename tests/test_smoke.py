"""The rendered service starts with no environment at all and serves its HTTP and WebSocket APIs."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.asyncio.client import connect


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def read_log(folder: Path) -> str:
    return (folder / "service.log").read_text()


@pytest.fixture
def service(
    rendered: Callable[[str], Path], project_env: dict[str, str], tmp_path: Path
) -> Iterator[tuple[str, Path]]:
    """``python -m my_service serve`` in the rendered project, with an empty environment."""
    project = rendered("defaults")
    port = free_port()
    log = (tmp_path / "service.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "my_service", "serve", "--port", str(port)],
        cwd=project,
        env={},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base_url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"service exited {process.returncode}:\n{read_log(tmp_path)}")
            try:
                if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"no healthy service after 60 s:\n{read_log(tmp_path)}")
            time.sleep(0.2)
        yield base_url, project
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
    assert process.returncode == 0, read_log(tmp_path)


def mint_token(project: Path, *roles: str) -> str:
    """``python -m my_service token`` in the project, with no environment, as a user would."""
    role_args = [arg for role in roles for arg in ("--role", role)]
    result = subprocess.run(
        [sys.executable, "-m", "my_service", "token", "--sub", "smoke", *role_args],
        cwd=project,
        env={},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


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
    ws_url = base_url.replace("http://", "ws://") + "/web"

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
