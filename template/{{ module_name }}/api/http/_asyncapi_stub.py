"""TEMPORARY stand-in for ``GET /asyncapi.json`` (the AsyncAPI helper's branch brings the real
document): only the fields the WebSocket console reads. Delete this file when merging."""

from __future__ import annotations

import inspect
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from ...protocol import PushID
from ...routing import PackageRoute, pkg_router

router = APIRouter(include_in_schema=False)


def data_schema(route: PackageRoute) -> dict[str, Any]:
    if route.check_payload is None:
        return {}
    found = inspect.getclosurevars(route.check_payload).nonlocals
    model = found.get("model")
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model.model_json_schema()
    validator = found.get("validator")
    schema: dict[str, Any] = getattr(validator, "schema", {})
    return schema


@router.get("/asyncapi.json")
async def asyncapi_stub() -> dict[str, Any]:
    messages = {
        route.name: {
            "name": route.name,
            "summary": (inspect.getdoc(route.handler) or "").split("\n")[0],
            "x-pkg-id": route.pkg_id,
            "x-roles": sorted(route.roles),
            "payload": {"type": "object", "properties": {"data": data_schema(route)}},
        }
        for route in pkg_router.routes.values()
    }
    for push in PushID:
        messages[push.name] = {"name": push.name, "x-push-id": int(push)}
    return {"asyncapi": "3.0.0", "components": {"messages": messages}}
