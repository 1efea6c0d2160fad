"""``GET /asyncapi.json``: the AsyncAPI 3.0 document of the WebSocket API on ``/web``.

Public like ``/openapi.json`` and served in every ``ENV`` like it: it describes the protocol,
not data. Read it in AsyncAPI Studio or generate clients from it (docs/websocket-api.md).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from ... import about
from ..deps import SettingsDep
from ..ws.asyncapi import asyncapi_document

router = APIRouter(include_in_schema=False)


@router.get("/asyncapi.json")
async def asyncapi(request: Request, settings: SettingsDep) -> dict[str, Any]:
    """The AsyncAPI document of ``/web``, built from the registered handlers (described as
    ``python -m <module> asyncapi`` describes it: the app's own description may link to pages)."""
    app = request.app
    return asyncapi_document(
        settings, title=app.title, version=app.version, description=about.DESCRIPTION
    )
