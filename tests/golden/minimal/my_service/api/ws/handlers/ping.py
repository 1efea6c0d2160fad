"""``PING``: answers with the server's time; any authenticated user may call it."""

from __future__ import annotations

from datetime import UTC, datetime

from my_service.api.ws.constants import PkgID
from my_service.routing import pkg_router
from my_service.schemas.request import RequestModel
from my_service.schemas.response import ResponseModel


@pkg_router.register(PkgID.PING)
async def ping(request: RequestModel) -> ResponseModel:
    """Reply ``{"pong": true, "server_time": <ISO 8601>}``."""
    return ResponseModel.ok_msg(
        request.pkg_id,
        request.req_id,
        data={"pong": True, "server_time": datetime.now(UTC)},
    )
