"""The response frame of the WebSocket package API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel

from my_service.api.ws.constants import RSPCode


class ResponseModel(BaseModel):
    """``{"pkg_id", "req_id", "status_code", "meta", "data"}``.

    ``pkg_id`` and ``req_id`` echo the request; they are ``null`` only when the request was too
    malformed to read them. ``data`` may hold models, datetimes and UUIDs: they serialize to JSON.
    """

    pkg_id: int | None
    req_id: UUID | None
    status_code: RSPCode = RSPCode.OK
    meta: dict[str, Any] | None = None
    data: Any = None

    @classmethod
    def ok_msg(
        cls,
        pkg_id: int,
        req_id: UUID,
        data: Any = None,
        meta: dict[str, Any] | None = None,
    ) -> ResponseModel:
        """A successful response carrying ``data`` (and ``meta``, e.g. pagination)."""
        return cls(pkg_id=pkg_id, req_id=req_id, status_code=RSPCode.OK, data=data, meta=meta)

    @classmethod
    def err_msg(
        cls,
        pkg_id: int | None,
        req_id: UUID | None,
        msg: str,
        status_code: RSPCode = RSPCode.ERROR,
        errors: list[dict[str, Any]] | None = None,
    ) -> ResponseModel:
        """A failed response: ``data`` is ``{"msg": msg}``, plus ``errors`` when there are any."""
        data: dict[str, Any] = {"msg": msg}
        if errors is not None:
            data["errors"] = errors
        return cls(pkg_id=pkg_id, req_id=req_id, status_code=status_code, data=data)
