"""Alembic environment: runs on the service's async engine and its table metadata.

Two ways in: ``alembic upgrade head`` on the command line (the URL comes from the
service's settings), or ``storage.migrations.upgrade()``, which hands over a connection.
"""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

from my_service.models import load_models
from my_service.settings import get_settings
from my_service.storage.db import create_engine

load_models()
target_metadata = SQLModel.metadata


def run_on(connection: Connection) -> None:
    """Run the migrations inside a transaction on ``connection``."""
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def run_with_own_engine(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(run_on)
    finally:
        await engine.dispose()


def run_offline(url: str) -> None:
    """Emit SQL to stdout instead of running it (``alembic upgrade head --sql``)."""
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


shared_connection = context.config.attributes.get("connection")
if shared_connection is not None:
    run_on(shared_connection)
elif context.is_offline_mode():
    run_offline(get_settings().DATABASE_URL)
else:
    asyncio.run(run_with_own_engine(get_settings().DATABASE_URL))
