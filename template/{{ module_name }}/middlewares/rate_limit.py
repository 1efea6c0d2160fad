"""HTTP rate limiting, applied before routing and before authentication.

The key is the authenticated user (``user:<sub>``) when the request carries a valid bearer token,
else the client IP (``ip:<address>``), so floods of invalid tokens are limited like anonymous
traffic. The token is checked once here and the result handed to the auth dependencies.
Paths in ``RATE_LIMIT_PATH_LIMITS`` (``/health`` by default) have a budget of their own per client
address instead, applied even to paths that are otherwise excluded.

Every limited response carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and
``X-RateLimit-Reset`` (seconds until the limit is fully available again); a refused request gets
429 with ``Retry-After`` (or 503 when the limiter is down and ``RATE_LIMIT_FAIL_MODE=closed``).
"""

from __future__ import annotations

import json
import math
from dataclasses import replace

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..auth.tokens import InvalidTokenError, TokenValidator
from ..hooks import RateLimitRefusal, TrafficHooks
from ..net import IPNetwork, client_ip, header_bearer_token
from ..schemas.errors import error_content
from ..settings import settings_of
from ..utils.rate_limiter import RateLimitResult, rate_limiter


def rate_limit_headers(result: RateLimitResult) -> list[tuple[bytes, bytes]]:
    """The X-RateLimit-* headers, or none while the backend failed (no true values to give)."""
    if result.backend_failed:
        return [(b"retry-after", b"1")] if not result.allowed else []
    headers = [
        (b"x-ratelimit-limit", str(result.limit).encode()),
        (b"x-ratelimit-remaining", str(result.remaining).encode()),
        (b"x-ratelimit-reset", str(math.ceil(result.reset_after)).encode()),
    ]
    if not result.allowed:
        headers.append((b"retry-after", str(max(1, math.ceil(result.retry_after))).encode()))
    return headers


class RateLimitMiddleware:
    """Pure ASGI middleware: one limiter check per HTTP request outside the excluded paths."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope["app"].state
        settings = settings_of(scope["app"])
        path = scope["path"]
        if not settings.RATE_LIMIT_ENABLED:
            await self.app(scope, receive, send)
            return
        path_limit = settings.RATE_LIMIT_PATH_LIMITS.get(path)
        if path_limit is not None:
            # A budget per client address for this path alone, whatever the token; when the
            # limiter is down these paths are always served (/health must report the outage).
            key = f"path:{path}:ip:{client_ip(scope, state.trusted_proxies)}"
            result = await rate_limiter.check(key, path_limit, 60)
            if result.backend_failed:
                result = replace(result, allowed=True)
        elif path in settings.RATE_LIMIT_EXCLUDED_PATHS:
            await self.app(scope, receive, send)
            return
        else:
            key = await self.key_for(scope, state.token_validator, state.trusted_proxies)
            result = await rate_limiter.check(
                key, settings.RATE_LIMIT_PER_MINUTE, 60, settings.RATE_LIMIT_BURST or None
            )
        headers = rate_limit_headers(result)
        if not result.allowed:
            await self.refuse(result, headers, send, state.traffic_hooks)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def key_for(
        self, scope: Scope, validator: TokenValidator, proxies: list[IPNetwork]
    ) -> str:
        """``user:<sub>`` for a valid token, else ``ip:<address>``; records the token check."""
        token = header_bearer_token(scope)
        if token is not None:
            request_state = scope.setdefault("state", {})
            try:
                user = await validator.validate(token)
            except InvalidTokenError as error:
                request_state["auth_error"] = error
            else:
                request_state["user"] = user
                return f"user:{user.id}"
        return f"ip:{client_ip(scope, proxies)}"

    async def refuse(
        self,
        result: RateLimitResult,
        headers: list[tuple[bytes, bytes]],
        send: Send,
        hooks: TrafficHooks,
    ) -> None:
        """Answer 429 (over the limit) or 503 (the limiter is down), telling the hooks first."""
        if result.backend_failed:
            status, detail, retry_after = 503, "rate limiter unavailable", 1
        else:
            status, detail = 429, "rate limit exceeded"
            retry_after = max(1, math.ceil(result.retry_after))
        hooks.rate_limited(RateLimitRefusal("http", result.backend_failed, detail))
        body = json.dumps(error_content(detail, retry_after=retry_after)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    *headers,
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
