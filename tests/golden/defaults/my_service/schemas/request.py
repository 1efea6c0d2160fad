"""The request frame of the WebSocket package API."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from pydantic import BaseModel, Field, StrictInt


class RequestModel(BaseModel):
    """``{"pkg_id": int, "req_id": "<uuid>", "method": str?, "data": object?}``."""

    pkg_id: StrictInt
    req_id: UUID
    method: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)
