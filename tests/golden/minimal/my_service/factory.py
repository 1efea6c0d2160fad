"""The application factory.

``create_app()`` only wires routes and handlers. Settings are read, the database is bound (and, in
dev with SQLite, migrated) and authentication is set up when the app starts; everything is
released when it stops. What a running app holds lives on ``app.state``: ``settings``,
``authentication``, ``token_validator``, ``connections``, ``redis`` (or ``None``),
``limiter_health`` and ``trusted_proxies``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import metadata

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from redis.asyncio import Redis

from my_service import about
from my_service.api.http import discover_routers
from my_service.api.ws.connections import ConnectionManager
from my_service.api.ws.endpoint import router as ws_router
from my_service.api.ws.handlers import load_handlers
from my_service.auth.startup import build_authentication
from my_service.logging import configure_logging, logger
from my_service.middlewares.rate_limit import RateLimitMiddleware
from my_service.models import load_models
from my_service.models.base import ModelError
from my_service.settings import Settings, configure_settings
from my_service.storage import db, migrations
from my_service.storage.redis import create_client
from my_service.utils.limiter_backends import (
    MemoryBackend,
    RedisBackend,
)
from my_service.utils.rate_limiter import (
    BackendHealth,
    connection_limiter,
    rate_limiter,
)


def service_version() -> str:
    """The installed distribution's version (``0+unknown`` when running from a source tree)."""
    try:
        return metadata.version(about.DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"


def configure_limiters(app: FastAPI, settings: Settings) -> Redis | None:
    """Give the shared limiters their backend; returns the Redis client when there is one."""
    client = None
    if settings.REDIS_URL:
        client = create_client(
            settings.REDIS_URL, settings.REDIS_TIMEOUT, settings.REDIS_MAX_CONNECTIONS
        )
    backend = RedisBackend(client) if client is not None else MemoryBackend()
    health = BackendHealth()
    fail_open = settings.RATE_LIMIT_FAIL_MODE == "open"
    rate_limiter.configure(backend, fail_open=fail_open, health=health)
    connection_limiter.configure(backend, fail_open=fail_open, health=health)
    connection_limiter.set_limits(settings.WS_MAX_CONNECTIONS_PER_USER, settings.WS_CONNECTION_TTL)
    app.state.limiter_health = health
    app.state.trusted_proxies = [
        ipaddress.ip_network(proxy, strict=False) for proxy in settings.TRUSTED_PROXIES
    ]
    return client


async def model_error_handler(_request: Request, error: Exception) -> JSONResponse:
    """A filter or update the model refused is the client's error: 422 with the reason."""
    return JSONResponse(status_code=422, content={"detail": str(error)})


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service. ``settings`` defaults to the environment, read at start-up."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        active = configure_settings(settings)
        active.check()
        configure_logging(active.LOG_LEVEL)
        engine = db.configure(active.DATABASE_URL)
        authentication = build_authentication(active)
        app.state.redis = redis_client = configure_limiters(app, active)
        try:
            if active.auto_migrate:
                logger.info("applying database migrations (DB_AUTO_MIGRATE)")
                await migrations.upgrade(engine)
            app.state.settings = active
            app.state.authentication = authentication
            app.state.token_validator = authentication.validator
            app.state.connections = ConnectionManager()
            if authentication.dev_issuer is not None:
                logger.warning(
                    "no AUTH_ISSUER: accepting tokens of the built-in dev issuer "
                    "(mint one with `python -m my_service token`)"
                )
            if active.WS_QUERY_TOKEN_ENABLED:
                logger.warning("WS_QUERY_TOKEN_ENABLED: tokens in URLs can leak through proxies")
            logger.info("started with ENV=%s, database %s", active.ENV, engine.dialect.name)
            yield
        finally:
            if redis_client is not None:
                await redis_client.aclose()
            await authentication.close()
            await db.dispose()

    load_models()
    load_handlers()
    app = FastAPI(
        title=about.TITLE,
        description=about.DESCRIPTION,
        version=service_version(),
        lifespan=lifespan,
    )
    app.add_exception_handler(ModelError, model_error_handler)
    app.add_middleware(RateLimitMiddleware)
    for router in discover_routers():
        app.include_router(router)
    app.include_router(ws_router)
    return app
