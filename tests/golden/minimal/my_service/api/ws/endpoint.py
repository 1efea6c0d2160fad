"""``/web``: the WebSocket package API.

A connection is authenticated once, then serves request frames until the client leaves. A bad
frame gets an error response and the connection keeps serving; the protocol is described in
``docs/websocket-api.md``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import urlsplit
from uuid import UUID, uuid4

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from pydantic import ValidationError

from my_service.api.ws.connections import ConnectionManager
from my_service.api.ws.constants import CloseCode, RSPCode
from my_service.auth.tokens import InvalidTokenError, TokenValidator
from my_service.auth.user import User
from my_service.logging import logger
from my_service.routing import PackageRouter, pkg_router
from my_service.schemas.request import RequestModel
from my_service.schemas.response import ResponseModel
from my_service.settings import Settings
from my_service.utils.rate_limiter import (
    connection_limiter,
    rate_limiter,
)

router = APIRouter()

TOO_MANY_CONNECTIONS = "Maximum concurrent connections exceeded"
MESSAGE_RATE_EXCEEDED = "Message rate limit exceeded"
LIMITER_UNAVAILABLE = "Rate limiter unavailable"


def origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    """Non-browser clients send no Origin; browsers must come from an allowed origin."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    allowed = settings.ALLOWED_WS_ORIGINS
    if "*" in allowed or origin in allowed:
        return True
    return urlsplit(origin).netloc == websocket.headers.get("host")


def close_reason(text: str) -> str:
    """``text`` cut to the 123 bytes a close frame's reason may hold."""
    return text.encode()[:123].decode(errors="ignore")


def handshake_token(websocket: WebSocket, settings: Settings) -> str | None:
    """The bearer token sent with the handshake, if any."""
    header = websocket.headers.get("authorization")
    if header is None and settings.WS_QUERY_TOKEN_ENABLED:
        header = websocket.query_params.get("Authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if token and scheme.lower() == "bearer":
        return token.strip()
    return header.strip()


async def first_message_token(websocket: WebSocket, wait: float) -> str | None:
    """The token of a ``{"type": "auth", "token": "..."}`` first message, within ``wait`` s."""
    try:
        async with asyncio.timeout(wait):
            message = await websocket.receive_text()
        payload = json.loads(message)
    except (TimeoutError, ValueError, KeyError):
        return None
    if isinstance(payload, dict) and payload.get("type") == "auth":
        token = payload.get("token")
        if isinstance(token, str) and token:
            return token
    return None


async def authenticate(
    websocket: WebSocket, validator: TokenValidator, settings: Settings
) -> User | None:
    """The connection's user, or ``None`` after closing it with a close code that says why."""
    token = handshake_token(websocket, settings)
    by_message = token is None
    if by_message:
        token = await first_message_token(websocket, settings.WS_AUTH_TIMEOUT)
    if token is None:
        await websocket.close(CloseCode.AUTHENTICATION_FAILED, "authentication required")
        return None
    try:
        user = await validator.validate(token)
    except InvalidTokenError as error:
        reason = f"authentication failed: {error}"
        await websocket.close(CloseCode.AUTHENTICATION_FAILED, close_reason(reason))
        return None
    if by_message:
        await websocket.send_text(json.dumps({"type": "auth", "status": "ok", "user": user.id}))
    return user


def parse_error(frame: str | None, reason: str, max_bytes: int) -> ResponseModel:
    """An INVALID_DATA response for a frame that is not a valid request, echoing what it can."""
    payload: Any = None
    if frame is not None and len(frame) <= max_bytes:
        try:
            payload = json.loads(frame)
        except ValueError:
            reason = "frame is not valid JSON"
    pkg_id: int | None = None
    req_id: UUID | None = None
    errors: list[dict[str, Any]] | None = None
    if isinstance(payload, dict):
        raw_pkg_id = payload.get("pkg_id")
        if isinstance(raw_pkg_id, int) and not isinstance(raw_pkg_id, bool):
            pkg_id = raw_pkg_id
        try:
            req_id = UUID(str(payload.get("req_id")))
        except ValueError:
            req_id = None
        try:
            RequestModel.model_validate(payload)
        except ValidationError as error:
            errors = [
                {"loc": list(e["loc"]), "msg": e["msg"], "type": e["type"]}
                for e in error.errors(include_url=False, include_context=False)
            ]
    elif payload is not None:
        reason = "frame must be a JSON object"
    return ResponseModel.err_msg(
        pkg_id, req_id, reason, status_code=RSPCode.INVALID_DATA, errors=errors
    )


async def answer(frame: str, user: User, router: PackageRouter, max_bytes: int) -> ResponseModel:
    """The response to one text frame."""
    if len(frame) > max_bytes // 4 and len(frame.encode()) > max_bytes:
        return parse_error(None, f"frame larger than {max_bytes} bytes", max_bytes)
    try:
        request = RequestModel.model_validate_json(frame)
    except ValidationError:
        return parse_error(frame, "frame is not a valid request", max_bytes)
    return await router.handle(request, user)


async def serve(websocket: WebSocket, user: User, settings: Settings) -> None:
    """Answer frames until the client disconnects or exceeds the message rate."""
    max_bytes = settings.WS_MAX_MESSAGE_BYTES
    limit_key = f"ws_msg:user:{user.id}"
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        if settings.RATE_LIMIT_ENABLED:
            result = await rate_limiter.check(limit_key, settings.WS_MESSAGE_RATE_LIMIT, 60)
            if not result.allowed:
                await close_for_limit(websocket, result.backend_failed, MESSAGE_RATE_EXCEEDED)
                return
        frame = message.get("text")
        if frame is None:
            response = parse_error(None, "binary frames are not supported", max_bytes)
        else:
            response = await answer(frame, user, pkg_router, max_bytes)
        await websocket.send_text(response.model_dump_json())


async def close_for_limit(websocket: WebSocket, backend_failed: bool, reason: str) -> None:
    """Close 1008 with ``reason``, or 1013 when the limiter itself is down (fail mode closed)."""
    if backend_failed:
        await websocket.close(status.WS_1013_TRY_AGAIN_LATER, LIMITER_UNAVAILABLE)
    else:
        await websocket.close(status.WS_1008_POLICY_VIOLATION, reason)


async def keep_counted(user_id: str, connection_id: str) -> None:
    """Heartbeat: refresh the connection's entry so it keeps counting while it is open."""
    while True:
        await asyncio.sleep(connection_limiter.heartbeat_seconds)
        await connection_limiter.refresh_connection(user_id, connection_id)


@router.websocket("/web")
async def web(websocket: WebSocket) -> None:
    """Authenticate, register the connection, then serve request frames."""
    settings: Settings = websocket.app.state.settings
    connections: ConnectionManager = websocket.app.state.connections
    await websocket.accept()
    if not origin_allowed(websocket, settings):
        await websocket.close(CloseCode.ORIGIN_NOT_ALLOWED, "origin not allowed")
        return
    try:
        user = await authenticate(websocket, websocket.app.state.token_validator, settings)
    except WebSocketDisconnect:
        return
    if user is None:
        return
    connection_id = uuid4().hex
    limited = settings.RATE_LIMIT_ENABLED
    if limited and not await connection_limiter.add_connection(user.id, connection_id):
        backend_failed = connection_limiter.health.failing
        await close_for_limit(websocket, backend_failed, TOO_MANY_CONNECTIONS)
        return
    heartbeat = asyncio.create_task(keep_counted(user.id, connection_id)) if limited else None
    connections.connect(user.id, websocket)
    try:
        await serve(websocket, user, settings)
    except WebSocketDisconnect:
        pass
    finally:
        if heartbeat is not None:
            heartbeat.cancel()
            await connection_limiter.remove_connection(user.id, connection_id)
        connections.disconnect(user.id, websocket)
        logger.debug("websocket of %s closed", user.id)
