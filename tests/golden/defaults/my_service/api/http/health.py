"""``GET /health``: is the service able to serve?

200 when every dependency answers. The database is required: without it, 503. Redis (when
``REDIS_URL`` is set) only backs rate limiting: while it is down the status is ``degraded`` and
still 200 with ``RATE_LIMIT_FAIL_MODE=open`` (requests keep flowing), 503 with ``closed``.
"""

from __future__ import annotations

import asyncio
from typing import Literal

from fastapi import APIRouter, Request, Response, status
from pydantic import BaseModel
from redis.asyncio import Redis

from my_service.logging import logger
from my_service.settings import app_settings
from my_service.storage import db

router = APIRouter(tags=["health"])


class CheckResult(BaseModel):
    """State of one dependency."""

    status: Literal["ok", "unavailable"]
    backend: str
    error: str | None = None


class Health(BaseModel):
    """Overall state and one entry per dependency."""

    status: Literal["ok", "degraded", "unavailable"]
    checks: dict[str, CheckResult]


async def check_database() -> CheckResult:
    """Ping the database within ``HEALTH_CHECK_TIMEOUT`` seconds."""
    engine = db.get_engine()
    backend = engine.dialect.name
    try:
        async with asyncio.timeout(app_settings.HEALTH_CHECK_TIMEOUT):
            await db.ping(engine)
    except TimeoutError:
        return CheckResult(status="unavailable", backend=backend, error="timed out")
    except Exception as error:  # any failure means "not healthy", never a 500
        logger.warning("health check: database unavailable: %s", error)
        return CheckResult(status="unavailable", backend=backend, error=type(error).__name__)
    return CheckResult(status="ok", backend=backend)


async def check_redis(client: Redis) -> CheckResult:
    """Ping Redis within ``HEALTH_CHECK_TIMEOUT`` seconds."""
    try:
        async with asyncio.timeout(app_settings.HEALTH_CHECK_TIMEOUT):
            await client.ping()
    except Exception as error:  # any failure means "not healthy", never a 500
        return CheckResult(status="unavailable", backend="redis", error=type(error).__name__)
    return CheckResult(status="ok", backend="redis")


@router.get(
    "/health",
    response_model=Health,
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": Health}},
)
async def health(request: Request, response: Response) -> Health:
    """Report the state of the service's dependencies."""
    checks = {"database": await check_database()}
    redis_client: Redis | None = request.app.state.redis
    if redis_client is not None:
        checks["redis"] = await check_redis(redis_client)
    required = ["database"]
    if app_settings.RATE_LIMIT_FAIL_MODE == "closed":
        required.append("redis")
    if any(checks[name].status != "ok" for name in required if name in checks):
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return Health(status="unavailable", checks=checks)
    healthy = all(check.status == "ok" for check in checks.values())
    return Health(status="ok" if healthy else "degraded", checks=checks)
