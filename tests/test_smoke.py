"""The rendered service starts with no environment at all and serves the Author API over HTTP."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest


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


def test_service_starts_on_embedded_defaults_and_serves_authors(service: tuple[str, Path]) -> None:
    base_url, project = service
    with httpx.Client(base_url=base_url, timeout=10) as http:
        health = http.get("/health").json()
        assert health["checks"]["database"] == {"status": "ok", "backend": "sqlite", "error": None}

        created = http.post("/authors", json={"name": "Smoke Test"})
        assert created.status_code == 201
        author = created.json()
        assert http.get(f"/authors/{author['id']}").json() == author

        listed = http.get("/authors", params={"name": "Smoke Test"}).json()
        assert [a["id"] for a in listed["items"]] == [author["id"]]

        patched = http.patch(f"/authors/{author['id']}", json={"name": "Renamed"})
        assert patched.json() == {"id": author["id"], "name": "Renamed"}
        assert http.post("/authors", json={"id": 7, "name": "x"}).status_code == 422

        assert http.delete(f"/authors/{author['id']}").status_code == 204
        assert http.get(f"/authors/{author['id']}").status_code == 404
        assert http.get("/openapi.json").json()["info"]["title"] == "My Service"
    assert (project / "my_service.db").is_file()
