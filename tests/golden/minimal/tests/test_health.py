"""GET /health reports the database: 200 when it answers, 503 when it does not, never a 500."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import make_url

from my_service.factory import create_app
from my_service.settings import Settings

from tests import postgres
from tests.conftest import settings_for
from tests.databases import asyncpg_url


async def get_health(settings: Settings) -> httpx.Response:
    app = create_app(settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        return await http.get("/health")


async def test_healthy_database(client: httpx.AsyncClient, database_url: str) -> None:
    response = await client.get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == {
        "status": "ok",
        "backend": make_url(database_url).get_backend_name(),
        "error": None,
    }


async def test_unreachable_sqlite_file_is_503(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder" / "app.db"
    settings = settings_for(f"sqlite+aiosqlite:///{missing}", DB_AUTO_MIGRATE=False)
    response = await get_health(settings)
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["checks"]["database"]["status"] == "unavailable"
    assert body["checks"]["database"]["error"]


async def test_unreachable_postgres_server_is_503(tmp_path: Path) -> None:
    url = "postgresql+asyncpg://nobody:secret@127.0.0.1:1/nothing"
    response = await get_health(settings_for(url, HEALTH_CHECK_TIMEOUT=5))
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["backend"] == "postgresql"
    assert "secret" not in response.text


@pytest.fixture
async def outage_server(tmp_path: Path) -> AsyncIterator[postgres.EmbeddedPostgres]:
    """A PostgreSQL server of its own, so a test can stop and restart it."""
    with postgres.EmbeddedPostgres(tmp_path) as server:
        yield server


async def test_postgres_outage_and_recovery(outage_server: postgres.EmbeddedPostgres) -> None:
    url = asyncpg_url(outage_server.url, "postgres").render_as_string(hide_password=False)
    app = create_app(settings_for(url))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http,
    ):
        assert (await http.get("/health")).status_code == 200
        outage_server.stop()
        down = await http.get("/health")
        assert down.status_code == 503
        assert down.json()["checks"]["database"]["status"] == "unavailable"
        outage_server.start()
        assert (await http.get("/health")).status_code == 200
