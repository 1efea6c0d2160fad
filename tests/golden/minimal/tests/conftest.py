"""Fixtures: real databases (SQLite and PostgreSQL), a real token issuer, and started apps."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from redis.asyncio import Redis
from sqlmodel.ext.asyncio.session import AsyncSession

from my_service.factory import create_app
from my_service.settings import Settings
from my_service.storage import db
from my_service.storage.redis import create_client

from tests import live, postgres
from tests.databases import PostgresDatabases, SQLiteDatabases
from tests.issuer import TestIssuer
from tests.redis_server import RedisServer


@pytest.fixture(scope="session", autouse=True)
def dev_keys_outside_the_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Apps that fall back to the dev issuer keep its key in a temporary folder."""
    folder = tmp_path_factory.mktemp("dev-auth")
    previous = os.environ.get("AUTH_DEV_KEYS_DIR")
    os.environ["AUTH_DEV_KEYS_DIR"] = str(folder)
    yield
    if previous is None:
        del os.environ["AUTH_DEV_KEYS_DIR"]
    else:
        os.environ["AUTH_DEV_KEYS_DIR"] = previous


@pytest.fixture(scope="session")
async def issuer() -> AsyncIterator[TestIssuer]:
    """A token issuer whose discovery document and JWKS are served over real HTTP."""
    test_issuer = TestIssuer()
    async with test_issuer.running():
        yield test_issuer


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a PostgreSQL server: ``TEST_POSTGRES_URL`` or an embedded one for this session."""
    external = os.environ.get("TEST_POSTGRES_URL")
    if external:
        yield external
        return
    with postgres.EmbeddedPostgres(tmp_path_factory.mktemp("postgres")) as server:
        yield server.url


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a Redis server: ``TEST_REDIS_URL`` or one started for this session."""
    external = os.environ.get("TEST_REDIS_URL")
    if external:
        yield external
        return
    with RedisServer(tmp_path_factory.mktemp("redis")) as server:
        yield server.url


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[Redis]:
    """A client on an emptied Redis database."""
    client = create_client(redis_url, timeout=2.0)
    await client.flushdb()
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture(scope="session")
async def sqlite_databases(tmp_path_factory: pytest.TempPathFactory) -> SQLiteDatabases:
    databases = SQLiteDatabases(tmp_path_factory.mktemp("sqlite"))
    await databases.setup()
    return databases


@pytest.fixture(scope="session")
async def postgres_databases(postgres_url: str) -> PostgresDatabases:
    databases = PostgresDatabases(postgres_url)
    await databases.setup()
    return databases


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest,
    sqlite_databases: SQLiteDatabases,
    postgres_databases: PostgresDatabases,
) -> AsyncIterator[str]:
    """A freshly migrated, empty database of each backend; every test gets its own."""
    if request.param == "sqlite":
        with sqlite_databases.fresh() as url:
            yield url
        return
    url = await postgres_databases.create()
    try:
        yield url
    finally:
        await postgres_databases.drop(url)


def settings_for(database_url: str, **overrides: Any) -> Settings:
    """Settings that ignore the developer's ``.env`` and environment-specific defaults."""
    values: dict[str, Any] = {"DATABASE_URL": database_url, "ENV": "dev", **overrides}
    return Settings(_env_file=None, **values)


@pytest.fixture
async def sqlite_url(sqlite_databases: SQLiteDatabases) -> AsyncIterator[str]:
    """A fresh migrated SQLite database, for tests that need one backend only."""
    with sqlite_databases.fresh() as url:
        yield url


@pytest.fixture
async def client(database_url: str, issuer: TestIssuer) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to a started app bound to ``database_url``, trusting ``issuer``."""
    app = create_app(settings_for(database_url, **issuer.settings()))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as http,
    ):
        yield http


@pytest.fixture
async def live_app(sqlite_url: str, issuer: TestIssuer) -> AsyncIterator[tuple[FastAPI, str]]:
    """An app trusting ``issuer``, served by uvicorn; yields it and its ``ws://`` base URL."""
    app = create_app(settings_for(sqlite_url, **issuer.settings(), WS_AUTH_TIMEOUT=1.0))
    async with live.serve(app) as base_url:
        yield app, base_url.replace("http://", "ws://")


@pytest.fixture
async def session(database_url: str) -> AsyncIterator[AsyncSession]:
    """A session on ``database_url``, outside any app; the test owns its transactions."""
    engine = db.create_engine(database_url)
    try:
        async with AsyncSession(engine, expire_on_commit=False) as session:
            yield session
    finally:
        await engine.dispose()


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory with no service variables in the environment."""
    for name in list(Settings.model_fields):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path
