"""The service's objects in a script, a worker or a one-off job: no app needed.

``async_session``, ``rate_limiter``, ``connection_limiter``, ``connection_manager``,
``app_settings`` and ``logger`` configure themselves from the settings (environment and ``.env``)
on first use, so a script can just use them. What they opened (pooled database connections, the
Redis clients of the limiters and of server push) is released by :func:`release`, or by running
the script's work inside :func:`runtime`::

    async def main() -> None:
        async with runtime():
            async with async_session() as session, session.begin():
                await Book.create(session, Book(title="Dune"))

    asyncio.run(main())

Inside an app, ``create_app(settings)`` configures them at start-up and releases them at shutdown;
never call these from a request handler.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from .logging import configure_logging
from .push.manager import connection_manager
from .settings import Settings, configure_settings, get_settings
from .storage import db
from .utils import rate_limiter


def configure(settings: Settings | None = None) -> Settings:
    """Configure every module object from ``settings`` (default: the environment and ``.env``).

    Nothing connects yet: the database and Redis are reached by the first query or check.
    """
    active = configure_settings(settings) if settings is not None else get_settings()
    configure_logging(active.LOG_LEVEL, log_format=active.log_format)
    db.configure_from_settings()
    rate_limiter.configure_from_settings()
    connection_manager.configure(active)
    return active


async def release() -> None:
    """Close the pooled database connections and the Redis clients of the limiters and of
    server push. Objects used afterwards configure themselves again.
    """
    await connection_manager.release()
    await rate_limiter.release()
    await db.dispose()


@asynccontextmanager
async def runtime(settings: Settings | None = None) -> AsyncIterator[Settings]:
    """:func:`configure`, run the block, then :func:`release` (also when the block raises)."""
    active = configure(settings)
    try:
        yield active
    finally:
        await release()
