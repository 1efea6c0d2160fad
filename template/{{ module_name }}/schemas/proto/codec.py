"""Binary frames: protobuf ``Request`` in, ``Response`` and ``Broadcast`` out (``ws.proto``).

A binary request is read into the same :class:`RequestModel` a JSON frame gives, so both go
through one path (limits, roles, schema validation, handler); payloads travel as JSON text, read
and written by the same parser and serializer as JSON frames.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from google.protobuf.message import DecodeError
from google.protobuf.unknown_fields import UnknownFieldSet
from pydantic import ValidationError
from pydantic_core import from_json, to_json

from ...protocol import NIL_UUID, RequestModel, ResponseModel, echoable_req_id
from ..errors import error_items
from . import ws_pb2

PAGINATION_KEYS = frozenset({"page", "per_page", "total", "pages"})
"""A response's ``meta`` with exactly these keys (integers) travels as ``Metadata``."""
INT64 = range(-(2**63), 2**63)


class FrameError(ValueError):
    """A binary frame that holds no valid request, with what could be read of it."""

    def __init__(
        self,
        reason: str,
        pkg_id: int | None = None,
        req_id: UUID | None = None,
        errors: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.pkg_id = pkg_id
        """The frame's ``pkg_id`` when it could be read, for the error response to echo."""
        self.req_id = req_id
        """The frame's ``req_id`` when it is a valid UUID."""
        self.errors = errors
        """The request's validation errors, as the protocol reports them (``loc``, ``msg``)."""


def decode_request(frame: bytes) -> RequestModel:
    """Read a binary frame as a ``Request``; :class:`FrameError` when it is not a valid one.

    Refused: bytes that are no protobuf message, fields a ``Request`` does not have (another
    message), a ``req_id`` that is no UUID, a ``data_json`` that is not a JSON object.
    """
    message = ws_pb2.Request()
    try:
        message.ParseFromString(frame)
    except DecodeError as error:
        raise FrameError(f"frame is not a protobuf Request: {error}") from None
    if len(UnknownFieldSet(message)):  # what it holds means something else: nothing is echoed
        raise FrameError("frame is not a protobuf Request: it has fields of another message")
    pkg_id = message.pkg_id
    req_id = echoable_req_id(message.req_id)
    try:
        data = from_json(message.data_json) if message.data_json else {}
    # Parsed as strictly as a JSON frame (depth, range); lone surrogates: TypeError.
    except (ValueError, TypeError) as error:
        raise FrameError(f"data_json is not valid JSON: {error}", pkg_id, req_id) from None
    if not isinstance(data, dict):
        raise FrameError("data_json must be a JSON object", pkg_id, req_id)
    fields = {"pkg_id": pkg_id, "req_id": message.req_id, "data": data}
    try:
        return RequestModel.model_validate({**fields, "method": message.method or None})
    except ValidationError as error:
        errors = error_items(error.errors(include_url=False, include_context=False))
        raise FrameError("frame is not a valid request", pkg_id, req_id, errors) from None


def json_text(value: Any) -> str:
    """``value`` as JSON text, ``""`` for ``None`` (as ``ResponseModel`` serializes it)."""
    return "" if value is None else to_json(value).decode()


def encode_response(response: ResponseModel) -> bytes:
    """``response`` as a protobuf ``Response``.

    Raises ``PydanticSerializationError`` when its ``data`` or ``meta`` cannot be serialized,
    ``ValueError`` when a number does not fit its field.
    """
    # Serialized as a JSON frame would be, then split into the message's fields.
    dumped = from_json(response.model_dump_json(include={"data", "meta"}))
    message = ws_pb2.Response(
        req_id="" if response.req_id is None else str(response.req_id),
        status_code=int(response.status_code),
        data_json=json_text(dumped["data"]),
        request_id=response.request_id or "",
    )
    if response.pkg_id is not None:
        message.pkg_id = fitting(response.pkg_id, INT64)
    meta = dumped["meta"]
    if is_pagination(meta):
        message.meta.CopyFrom(ws_pb2.Metadata(**meta))
    elif meta is not None:
        message.meta_json = json_text(meta)
    return message.SerializeToString()


def fitting(number: int, bounds: range) -> int:
    if number not in bounds:
        raise ValueError(f"{number} does not fit a protobuf field")
    return number


def is_pagination(meta: Any) -> bool:
    """True for ``{"page", "per_page", "total", "pages"}`` with integers that fit ``int64``."""
    return (
        isinstance(meta, dict)
        and meta.keys() == PAGINATION_KEYS
        and all(type(value) is int and value in INT64 for value in meta.values())
    )


BROADCAST_KEYS = frozenset({"pkg_id", "req_id", "data"})


def encode_broadcast(message: str, topic: str | None, offset: int | None) -> bytes | None:
    """A pushed message (JSON text) as a protobuf ``Broadcast``, with the ``topic`` it was
    published to and its ``offset``.

    ``None`` when the message is not a ``BroadcastDataModel`` a ``Broadcast`` can carry (text of
    another shape, a ``pkg_id`` beyond ``int64``): such a message is sent as its JSON text.
    """
    try:
        pushed = from_json(message)
    except (ValueError, TypeError):
        return None
    if not isinstance(pushed, dict) or not pushed.keys() <= BROADCAST_KEYS:
        return None
    pkg_id, req_id = pushed.get("pkg_id"), pushed.get("req_id", str(NIL_UUID))
    if type(pkg_id) is not int or pkg_id not in INT64 or not isinstance(req_id, str):
        return None
    if offset is not None and offset not in INT64:
        return None
    broadcast = ws_pb2.Broadcast(
        pkg_id=pkg_id,
        req_id=req_id,
        data_json=json_text(pushed.get("data")),
        topic=topic or "",
        offset=offset or 0,
    )
    return broadcast.SerializeToString()
