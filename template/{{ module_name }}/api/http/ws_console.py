"""``GET /ws-console``: a page for trying the WebSocket API in a browser, as ``/docs`` is for HTTP.

On in dev and staging, off in production (``WS_CONSOLE_ENABLED``; off: 404). The page reads
``/asyncapi.json``, connects to ``/web`` with a pasted token and sends frames as JSON or protobuf
(``docs/websocket-api.md``). It and its script and style are files of this package
(``console/``): nothing comes from another origin, so it works offline. Its
Content-Security-Policy lets it load files from, and connect to, its own origin only.
"""

from __future__ import annotations

from importlib.resources import files

from fastapi import APIRouter, FastAPI, HTTPException, Response, status
from fastapi.responses import HTMLResponse

from ...settings import Settings
from ..deps import SettingsDep

CONSOLE_PATH = "/ws-console"
CONSOLE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
"""The page's own policy: the service's default (``SECURITY_CSP``) forbids every script and style;
this one allows the console's files, and requests to the service's own origin (``ws:`` and
``wss:`` to the same host included)."""
ASSETS = {
    "console.js": "text/javascript; charset=utf-8",
    "console.css": "text/css; charset=utf-8",
}
DOCS_LINK = (
    "\n\nTry the WebSocket API (`/web`) in the browser: "
    f"[WebSocket console]({CONSOLE_PATH.lstrip('/')})."
)
"""Added to the description on ``/docs`` while the console is on (a link relative to the page)."""

router = APIRouter(tags=["ws-console"], include_in_schema=False)


def read_asset(name: str) -> bytes:
    """A file of the console (``api/http/console/``), from the installed package."""
    return (files(__package__) / "console" / name).read_bytes()


def check_enabled(settings: Settings) -> None:
    """404 while ``WS_CONSOLE_ENABLED`` (or its default for the ``ENV``) keeps the console off."""
    if not settings.ws_console_enabled:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Not Found")


def link_from_docs(app: FastAPI, settings: Settings) -> None:
    """Let the OpenAPI description (shown on ``/docs``) link to the console while it is on."""
    if settings.ws_console_enabled and DOCS_LINK not in app.description:
        app.description += DOCS_LINK  # kept: whatever else set the description
        app.openapi_schema = None


@router.get(CONSOLE_PATH, response_class=HTMLResponse)
async def console_page(settings: SettingsDep) -> Response:
    """The console page."""
    check_enabled(settings)
    headers = {"Content-Security-Policy": CONSOLE_CSP, "Cache-Control": "no-cache"}
    return HTMLResponse(read_asset("index.html"), headers=headers)


@router.get(CONSOLE_PATH + "/{name}")
async def console_asset(name: str, settings: SettingsDep) -> Response:
    """The console's script and style sheet."""
    check_enabled(settings)
    if name not in ASSETS:
        raise HTTPException(status_code=status.HTTP_404_NOT_FOUND, detail="Not Found")
    headers = {"Cache-Control": "no-cache"}
    return Response(read_asset(name), media_type=ASSETS[name], headers=headers)
