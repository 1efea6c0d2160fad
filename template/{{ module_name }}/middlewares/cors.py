"""CORS for the HTTP API: Starlette's ``CORSMiddleware``, configured by the ``CORS_*`` settings.

The settings are known only once the app has started, so the middleware is built from them on
the first request (and again if the app is started with other settings). Without
``CORS_ALLOWED_ORIGINS`` requests pass through untouched: same-origin pages only.

It sits outside the rate limiter and the other middlewares that record or refuse requests:
preflight requests (``OPTIONS`` with ``Origin`` and ``Access-Control-Request-Method``) are
answered here, never counted against a rate limit nor recorded as failures, and refusals such
as 429 carry the CORS headers a page needs to read them. WebSocket connections are not its
business: ``/web`` checks ``ALLOWED_WS_ORIGINS``.
"""

from __future__ import annotations

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from ..settings import Settings, settings_of


def cors_for(app: ASGIApp, settings: Settings) -> ASGIApp:
    """``app`` behind Starlette's ``CORSMiddleware`` as the settings configure it; ``app`` itself
    when no origin is allowed."""
    if not settings.CORS_ALLOWED_ORIGINS:
        return app
    return CORSMiddleware(
        app,
        allow_origins=settings.CORS_ALLOWED_ORIGINS,
        allow_methods=settings.CORS_ALLOWED_METHODS,
        allow_headers=settings.CORS_ALLOWED_HEADERS,
        allow_credentials=settings.CORS_ALLOW_CREDENTIALS,
        expose_headers=settings.CORS_EXPOSED_HEADERS,
        max_age=settings.CORS_MAX_AGE,
    )


class SettingsCORSMiddleware:
    """Pure ASGI middleware: HTTP requests go to the ``CORSMiddleware`` of the app's settings."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.built_for: Settings | None = None
        self.handler: ASGIApp = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        settings = settings_of(scope["app"])
        if settings is not self.built_for:
            self.handler, self.built_for = cors_for(self.app, settings), settings
        await self.handler(scope, receive, send)
