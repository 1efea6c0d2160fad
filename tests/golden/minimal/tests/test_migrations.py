"""The Alembic history and the table models describe the same schema."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection
from sqlmodel import SQLModel

from my_service.models import load_models
from my_service.storage import db, migrations
from my_service.storage.migrations import alembic_config

from tests.gadget import Gadget

PROJECT_ROOT = Path(__file__).resolve().parent.parent
TEST_ONLY_TABLES = {Gadget.__tablename__}


def only_service_tables(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table":
        return name not in TEST_ONLY_TABLES
    table = getattr(obj, "table", None)
    return table is None or table.name not in TEST_ONLY_TABLES


def schema_differences(connection: Connection) -> list[Any]:
    context = MigrationContext.configure(
        connection, opts={"include_object": only_service_tables, "compare_type": True}
    )
    return list(compare_metadata(context, SQLModel.metadata))


async def test_migrations_match_models(database_url: str) -> None:
    load_models()
    engine = db.create_engine(database_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(schema_differences)
    finally:
        await engine.dispose()
    assert differences == [], "run `alembic revision --autogenerate` and commit the revision"


def current_revision(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def test_history_downgrades_to_base_and_upgrades_again(database_url: str) -> None:
    engine = db.create_engine(database_url)
    try:
        async with engine.begin() as connection:
            head = await connection.run_sync(current_revision)
            await connection.run_sync(lambda sync: command.downgrade(alembic_config(sync), "base"))
            assert await connection.run_sync(current_revision) is None
        await migrations.upgrade(engine)
        async with engine.connect() as connection:
            assert await connection.run_sync(current_revision) == head
    finally:
        await engine.dispose()
    assert head is not None


def test_alembic_command_line_uses_database_url(tmp_path: Path) -> None:
    database = tmp_path / "cli.db"
    env = {**os.environ, "DATABASE_URL": f"sqlite+aiosqlite:///{database}"}
    result = subprocess.run(
        [sys.executable, "-m", "alembic", "upgrade", "head"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(database) as connection:
        (version,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    assert version == ScriptDirectory.from_config(alembic_config()).get_current_head()
