"""Security headers on every HTTP response: ``X-Content-Type-Options``, ``X-Frame-Options``,
``Referrer-Policy``, ``Permissions-Policy``, ``Content-Security-Policy`` and, over HTTPS or in
production, ``Strict-Transport-Security`` (the ``SECURITY_*`` settings, ``docs/security.md``).

It wraps every middleware that can answer by itself, so refusals (413, 429, 503) and CORS
preflight answers carry the headers too. A header the app already set on a response is kept.
WebSocket handshakes get none.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..settings import settings_of
from ..utils.security_headers import security_headers


class SecurityHeadersMiddleware:
    """Pure ASGI middleware adding the security headers to each HTTP response that lacks them."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = security_headers(settings_of(scope["app"]), scope)
        if not wanted:
            await self.app(scope, receive, send)
            return
        extra = [(name.encode(), value.encode()) for name, value in wanted.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                headers.extend(header for header in extra if header[0] not in present)
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
