"""Database engine and the ``async_session`` factory.

``async_session`` is importable from anywhere but is bound to an engine only when the app starts
(:func:`configure`), so importing never connects. Code that uses it owns its transaction::

    async with async_session() as session, session.begin():
        book = await Book.create(session, Book(title="Dune"))
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import event, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

async_session = async_sessionmaker(class_=AsyncSession, expire_on_commit=False)

_engine: AsyncEngine | None = None


def _enable_sqlite_foreign_keys(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_engine(database_url: str) -> AsyncEngine:
    """An async engine for ``database_url`` (SQLite via aiosqlite, PostgreSQL via asyncpg)."""
    if database_url.startswith("sqlite"):
        engine = create_async_engine(database_url, connect_args={"timeout": 30})
        event.listen(engine.sync_engine, "connect", _enable_sqlite_foreign_keys)
        return engine
    return create_async_engine(database_url, pool_pre_ping=True)


def configure(database_url: str) -> AsyncEngine:
    """Create the engine for ``database_url`` and bind ``async_session`` to it."""
    global _engine
    _engine = create_engine(database_url)
    async_session.configure(bind=_engine)
    return _engine


def get_engine() -> AsyncEngine:
    """The engine the app started with."""
    if _engine is None:
        raise RuntimeError("the database is not configured: the app has not started")
    return _engine


async def dispose() -> None:
    """Close every pooled connection and unbind ``async_session``."""
    global _engine
    if _engine is not None:
        await _engine.dispose()
        _engine = None
    async_session.configure(bind=None)


async def ping(engine: AsyncEngine) -> None:
    """Run ``SELECT 1`` on a pooled connection; raise if the database does not answer."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
