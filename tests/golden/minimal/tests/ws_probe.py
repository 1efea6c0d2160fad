"""Test-only WebSocket handlers, registered on the real router at ids no app uses."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict, Field

from my_service.routing import pkg_router
from my_service.schemas.request import RequestModel
from my_service.schemas.response import ResponseModel

from tests.gadget import Gadget

FAILING = 9001
DICT_SCHEMA = 9002
MODEL_SCHEMA = 9003
NEEDS_AUDITOR = 9004
RICH_TYPES = 9005
REFUSED_BY_MODEL = 9006


class Point(BaseModel):
    model_config = ConfigDict(extra="forbid")

    x: int
    y: int = Field(ge=0)


@pkg_router.register(FAILING)
async def failing(request: RequestModel) -> ResponseModel:
    raise RuntimeError("handler bug")


@pkg_router.register(REFUSED_BY_MODEL)
async def refused_by_model(request: RequestModel) -> ResponseModel:
    Gadget.check_updates({"sku": "X-1"})
    return ResponseModel.ok_msg(request.pkg_id, request.req_id)


@pkg_router.register(
    DICT_SCHEMA,
    json_schema={
        "type": "object",
        "properties": {"count": {"type": "integer", "minimum": 1}},
        "required": ["count"],
        "additionalProperties": False,
    },
)
async def dict_schema(request: RequestModel) -> ResponseModel:
    return ResponseModel.ok_msg(request.pkg_id, request.req_id, data=request.data)


@pkg_router.register(MODEL_SCHEMA, json_schema=Point)
async def model_schema(request: RequestModel) -> ResponseModel:
    return ResponseModel.ok_msg(request.pkg_id, request.req_id, data=Point(**request.data))


@pkg_router.register(NEEDS_AUDITOR, roles=["auditor", "viewer"])
async def needs_auditor(request: RequestModel) -> ResponseModel:
    return ResponseModel.ok_msg(request.pkg_id, request.req_id, data="granted")


@pkg_router.register(RICH_TYPES)
async def rich_types(request: RequestModel) -> ResponseModel:
    data = {
        "when": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "row": Gadget(id=7, label="seven", price=70),
    }
    return ResponseModel.ok_msg(request.pkg_id, request.req_id, data=data)
