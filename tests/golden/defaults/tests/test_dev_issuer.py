"""The built-in dev issuer: a key on first start, its JWKS served, CLI tokens that work."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from my_service.auth.dev_issuer import PRIVATE_KEY_FILE, DevIssuer
from my_service.factory import create_app

from tests.conftest import settings_for
from tests.issuer import TestIssuer
from tests.test_auth import probe

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "my_service"


def mint(keys: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the ``token`` command against the key folder ``keys``."""
    return subprocess.run(
        [sys.executable, "-m", PACKAGE, "token", *args],
        cwd=keys.parent,
        env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT), "AUTH_DEV_KEYS_DIR": str(keys), **env},
        capture_output=True,
        text=True,
    )


async def test_first_start_creates_a_private_key_and_serves_its_jwks(
    sqlite_url: str, tmp_path: Path
) -> None:
    keys = tmp_path / "keys"
    app = create_app(settings_for(sqlite_url, AUTH_DEV_KEYS_DIR=keys))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        jwks = (await http.get("/dev-auth/jwks.json")).json()
    key_file = keys / PRIVATE_KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (keys / ".gitignore").read_text() == "*\n"
    issuer = DevIssuer.load_or_create(keys)
    assert jwks == issuer.jwks
    assert [key["kid"] for key in jwks["keys"]] == [issuer.kid]
    assert "d" not in jwks["keys"][0]  # the private exponent never leaves the key file


async def test_cli_token_works_against_the_running_service(sqlite_url: str, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    app = create_app(settings_for(sqlite_url, AUTH_DEV_KEYS_DIR=keys))
    app.include_router(probe)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        minted = mint(keys, "--sub", "alice", "--role", "admin", "--role", "editor")
        assert minted.returncode == 0, minted.stderr
        token = minted.stdout.strip()
        response = await http.get("/probe/me", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json() == {"id": "alice", "roles": ["admin", "editor"]}


def test_cli_token_refuses_when_a_real_issuer_is_configured(tmp_path: Path) -> None:
    result = mint(
        tmp_path / "keys",
        "--sub",
        "alice",
        AUTH_ISSUER="https://issuer.example.com",
        AUTH_AUDIENCE="api",
    )
    assert result.returncode == 2
    assert "dev issuer" in result.stderr
    assert not (tmp_path / "keys").exists()


async def test_dev_jwks_is_404_with_a_real_issuer(sqlite_url: str, issuer: TestIssuer) -> None:
    app = create_app(settings_for(sqlite_url, **issuer.settings()))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        assert (await http.get("/dev-auth/jwks.json")).status_code == 404
