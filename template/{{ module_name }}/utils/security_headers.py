"""The security headers of an HTTP response, from the ``SECURITY_*`` settings.

One list for every answer: the security-headers middleware adds it to the responses that pass
through it, and the 500 handler, which answers from outside every middleware, to its own. See
``docs/security.md``.
"""

from __future__ import annotations

from starlette.types import Scope

from ..settings import Settings


def docs_paths(scope: Scope) -> set[str]:
    """The paths of the app's docs pages: Swagger UI, its OAuth2 redirect and ReDoc."""
    app = scope.get("app")
    urls = (
        getattr(app, "docs_url", None),
        getattr(app, "swagger_ui_oauth2_redirect_url", None),
        getattr(app, "redoc_url", None),
    )
    root = scope.get("root_path", "")
    paths = {url for url in urls if url}
    return paths | {root + path for path in paths}


def strict_transport_security(settings: Settings, scope: Scope) -> str:
    """The HSTS value: only over HTTPS or in production (behind a proxy that ends TLS the
    service may see plain HTTP), and never with ``SECURITY_HSTS_MAX_AGE=0``."""
    if settings.SECURITY_HSTS_MAX_AGE == 0:
        return ""
    if scope.get("scheme") != "https" and settings.ENV != "production":
        return ""
    value = f"max-age={settings.SECURITY_HSTS_MAX_AGE}"
    return value + "; includeSubDomains" if settings.SECURITY_HSTS_INCLUDE_SUBDOMAINS else value


def security_headers(settings: Settings, scope: Scope) -> dict[str, str]:
    """The security headers (lowercase names) of a response to the HTTP request of ``scope``;
    none with ``SECURITY_HEADERS_ENABLED`` off, and none whose setting is empty."""
    if not settings.SECURITY_HEADERS_ENABLED:
        return {}
    docs = scope.get("path") in docs_paths(scope)
    headers = {
        "x-content-type-options": settings.SECURITY_CONTENT_TYPE_OPTIONS,
        "x-frame-options": settings.SECURITY_FRAME_OPTIONS,
        "referrer-policy": settings.SECURITY_REFERRER_POLICY,
        "permissions-policy": settings.SECURITY_PERMISSIONS_POLICY,
        "content-security-policy": settings.SECURITY_DOCS_CSP if docs else settings.SECURITY_CSP,
        "strict-transport-security": strict_transport_security(settings, scope),
    }
    return {name: value for name, value in headers.items() if value}
