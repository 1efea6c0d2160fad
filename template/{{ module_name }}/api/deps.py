"""Dependencies of request handlers: the app's settings and a database session.

``SettingsDep`` is the settings the app started with, the same object ``app_settings`` reads
(start-up installs it). ``SessionDep`` is a session of ``async_session``; the route owns its
transaction (``await session.commit()`` to keep what it wrote) and the session is closed, rolling
back anything uncommitted, when the request ends. A database error is not handled here: it reaches
the app's error handlers (503 while the database is unreachable, else 500).

Tests replace a dependency with ``app.dependency_overrides[get_session] = other``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends
from sqlmodel.ext.asyncio.session import AsyncSession
from starlette.requests import HTTPConnection

from ..settings import Settings, settings_of
from ..storage.db import async_session


async def get_app_settings(connection: HTTPConnection) -> Settings:
    """The settings of the app serving this request or WebSocket (``async``, as every
    dependency that does not block: FastAPI runs a plain ``def`` one in a worker thread)."""
    return settings_of(connection.app)


async def get_session() -> AsyncIterator[AsyncSession]:
    """A session for one request, closed (uncommitted work rolled back) when it ends."""
    async with async_session() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
"""The app's settings: ``async def route(settings: SettingsDep) -> ...``."""

SessionDep = Annotated[AsyncSession, Depends(get_session)]
"""A database session: ``async def route(session: SessionDep) -> ...``."""
