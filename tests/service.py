"""A rendered service run as a real process: ``python -m <module> serve`` on a free port."""

from __future__ import annotations

import asyncio
import json
import signal
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from websockets.asyncio.client import connect

PING = 100  # PkgID.PING: every generated project has it, whatever its options


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def module_of(project: Path) -> str:
    """The rendered project's import name, from its answers file."""
    answers = yaml.safe_load((project / ".copier-answers.yml").read_text(encoding="utf-8"))
    return str(answers["module_name"])


@contextmanager
def serving(project: Path, python: str, log: Path, timeout: float = 60) -> Iterator[str]:
    """Start the project's CLI server with an empty environment; yield its base URL once
    ``/health`` answers 200. On exit, SIGINT must stop it cleanly (exit code 0)."""
    port = free_port()
    with log.open("w") as output:
        process = subprocess.Popen(
            [python, "-m", module_of(project), "serve", "--port", str(port)],
            cwd=project,
            env={},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        base_url = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + timeout
            while True:
                if process.poll() is not None:
                    pytest.fail(f"service exited {process.returncode}:\n{log.read_text()}")
                try:
                    if httpx.get(f"{base_url}/health", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    pytest.fail(f"no healthy service after {timeout:.0f} s:\n{log.read_text()}")
                time.sleep(0.2)
            yield base_url
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    assert process.returncode == 0, log.read_text()


def mint_token(project: Path, python: str, *roles: str) -> str:
    """``python -m <module> token`` in the project, with no environment, as a user would."""
    role_args = [arg for role in roles for arg in ("--role", role)]
    result = subprocess.run(
        [python, "-m", module_of(project), "token", "--sub", "smoke", *role_args],
        cwd=project,
        env={},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def ws_url(base_url: str) -> str:
    return base_url.replace("http://", "ws://") + "/web"


def ping(base_url: str, token: str) -> dict[str, Any]:
    """One authenticated WebSocket round trip: a PING package and its reply."""

    async def conversation() -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {token}"}
        async with connect(ws_url(base_url), additional_headers=headers) as ws:
            await ws.send(json.dumps({"pkg_id": PING, "req_id": str(uuid.uuid4()), "data": {}}))
            reply: dict[str, Any] = json.loads(await ws.recv())
            return reply

    return asyncio.run(conversation())
