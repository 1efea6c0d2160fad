"""The package router: maps a request's ``pkg_id`` to its handler, checking roles and payload.

Register handlers in any module of the ``api.ws.handlers`` package::

    @pkg_router.register(PkgID.GET_BOOKS, json_schema=BookFilters, roles=["viewer"])
    async def get_books(request: RequestModel) -> ResponseModel: ...

``json_schema`` is a Pydantic model or a JSON Schema dict; it is compiled once, here, and every
request's ``data`` is checked against it before the handler runs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema
from pydantic import BaseModel, ValidationError

from .auth.user import User
from .logging import logger
from .models.base import ModelError
from .protocol import PkgID, RequestModel, ResponseModel, RSPCode
from .schemas.errors import error_items
from .storage import db

Handler = Callable[[RequestModel], Awaitable[ResponseModel]]
PayloadCheck = Callable[[dict[str, Any]], list[dict[str, Any]]]
JsonSchema = type[BaseModel] | Mapping[str, Any]


def validation_errors(error: ValidationError) -> list[dict[str, Any]]:
    """Pydantic's errors as the protocol reports them: ``loc``, ``msg``, ``type``, bounded."""
    return error_items(error.errors(include_url=False, include_context=False))


def compile_schema(schema: JsonSchema) -> PayloadCheck:
    """A function listing the ways a payload breaks ``schema`` (empty when it conforms)."""
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        model = schema

        def check_model(data: dict[str, Any]) -> list[dict[str, Any]]:
            try:
                model.model_validate(data)
            except ValidationError as error:
                return validation_errors(error)
            return []

        return check_model

    schema_dict = dict(schema)
    validator_class = jsonschema.validators.validator_for(schema_dict)
    validator_class.check_schema(schema_dict)  # a broken schema fails here, not per message
    validator = validator_class(schema_dict)

    def check_dict(data: dict[str, Any]) -> list[dict[str, Any]]:
        return error_items(
            {"loc": list(e.absolute_path), "msg": e.message, "type": str(e.validator)}
            for e in validator.iter_errors(data)
        )

    return check_dict


def package_name(pkg_id: int, handler: Handler) -> str:
    """The name ``pkg_id`` goes by in listings and records: its ``PkgID`` member's, else the
    handler's in capitals."""
    try:
        return PkgID(pkg_id).name
    except ValueError:
        return handler.__name__.upper()


@dataclass(frozen=True)
class PackageRoute:
    """One registered handler with what it requires."""

    pkg_id: int
    name: str
    """The ``PkgID`` member's name, else the handler's name in capitals (``GET_BOOKS``)."""
    handler: Handler
    roles: frozenset[str]
    check_payload: PayloadCheck | None
    json_schema: JsonSchema | None = None
    """What ``data`` must match, as registered (the AsyncAPI document describes it)."""


class PackageRouter:
    """Registry of WebSocket handlers by ``pkg_id``."""

    def __init__(self) -> None:
        self._routes: dict[int, PackageRoute] = {}

    @property
    def routes(self) -> Mapping[int, PackageRoute]:
        """Registered routes by ``pkg_id``."""
        return self._routes

    def register(
        self,
        pkg_id: int,
        *,
        json_schema: JsonSchema | None = None,
        roles: Iterable[str] = (),
    ) -> Callable[[Handler], Handler]:
        """Decorator: ``handler`` answers ``pkg_id`` for users holding every role in ``roles``."""

        def decorator(handler: Handler) -> Handler:
            if pkg_id in self._routes:
                existing = self._routes[pkg_id].handler
                raise ValueError(
                    f"pkg_id {pkg_id} already has a handler: {existing.__module__}."
                    f"{existing.__qualname__}"
                )
            self._routes[pkg_id] = PackageRoute(
                pkg_id=pkg_id,
                name=package_name(pkg_id, handler),
                handler=handler,
                roles=frozenset(roles),
                check_payload=compile_schema(json_schema) if json_schema is not None else None,
                json_schema=json_schema,
            )
            return handler

        return decorator

    async def handle(self, request: RequestModel, user: User) -> ResponseModel:
        """Answer ``request`` for ``user``; never raises, every failure is an error response."""
        route = self._routes.get(request.pkg_id)
        if route is None:
            return ResponseModel.err_msg(
                request.pkg_id, request.req_id, f"no handler for pkg_id {request.pkg_id}"
            )
        if not user.has_roles(route.roles):
            missing = ", ".join(sorted(route.roles - user.roles))
            return ResponseModel.err_msg(
                request.pkg_id,
                request.req_id,
                f"missing role(s): {missing}",
                status_code=RSPCode.PERMISSION_DENIED,
            )
        if route.check_payload is not None:
            errors = route.check_payload(request.data)
            if errors:
                return ResponseModel.err_msg(
                    request.pkg_id,
                    request.req_id,
                    "data does not match the schema",
                    status_code=RSPCode.INVALID_DATA,
                    errors=errors,
                )
        try:
            return await route.handler(request)
        except ModelError as error:  # e.g. a filter on a column the model does not have
            return ResponseModel.err_msg(
                request.pkg_id, request.req_id, str(error), status_code=RSPCode.INVALID_DATA
            )
        except Exception as error:
            if db.outage.detected(error):  # logged once per outage, not per message
                return ResponseModel.err_msg(
                    request.pkg_id,
                    request.req_id,
                    "database unavailable",
                    status_code=RSPCode.UNAVAILABLE,
                )
            logger.exception("handler for pkg_id %s failed", request.pkg_id)
            return ResponseModel.err_msg(request.pkg_id, request.req_id, "internal error")


pkg_router = PackageRouter()
"""The router every handler registers with."""
