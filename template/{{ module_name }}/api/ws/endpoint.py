"""``/web``: the WebSocket package API.

A connection is authenticated once, then serves request frames until the client leaves, its token
expires (a fresh ``auth`` frame extends it) or it reads pushed messages too slowly. A text frame
is a JSON request, a binary frame a protobuf ``Request`` (``schemas/proto/ws.proto``); both take
the same path and each is answered in its own format. A bad frame gets an error response and the
connection keeps serving. Answers and pushed messages share one bounded send queue per socket
(:class:`PushClient`); pushed messages go out in the format chosen at connect. The protocol is
described in ``docs/websocket-api.md``, server push in ``docs/server-push.md``.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import unquote_plus
from uuid import UUID, uuid4

from fastapi import APIRouter, WebSocket, WebSocketDisconnect, status
from pydantic import ValidationError
from pydantic_core import PydanticSerializationError, from_json, to_json

from ...auth.tokens import InvalidTokenError, TokenValidator
from ...auth.user import User
from ...correlation import RequestContext, bound, current
from ...hooks import RateLimitRefusal, TrafficHooks, WSConnection, WSMessage
from ...logging import logger
from ...net import (
    DEFAULT_PORTS,
    IPNetwork,
    allowed_origins,
    bearer_token,
    client_ip,
    is_trusted,
    parse_origin,
)
from ...protocol import (
    CloseCode,
    RequestModel,
    ResponseModel,
    RSPCode,
    WireFormat,
    echoable_req_id,
)
from ...push.manager import Frame, PushClient, connection_manager, serving
from ...routing import PackageRouter, pkg_router, validation_errors
from ...schemas.proto.codec import FrameError, decode_request, encode_response
from ...settings import Settings, settings_of
from ...utils.rate_limiter import Allowance, connection_limiter, rate_limiter

router = APIRouter()

WEB_PATH = "/web"

TOO_MANY_CONNECTIONS = "Maximum concurrent connections exceeded"
MESSAGE_RATE_EXCEEDED = "Message rate limit exceeded"
HANDSHAKE_RATE_EXCEEDED = "Too many connection attempts"
LIMITER_UNAVAILABLE = "Rate limiter unavailable"
NOT_BEARER = "authentication failed: send Authorization: Bearer <token>"

QUERY_TOKEN_PARAMETER = b"Authorization"
"""The one query parameter that may carry the token (``WS_QUERY_TOKEN_ENABLED``), matched on the
raw query string: exactly this name, neither percent-encoded nor in another case."""

FORMAT_PARAMETER = "format"
"""The query parameter (and ``auth`` message field) choosing the format of pushed messages."""

PAGE_SCHEMES = {"ws": "http", "wss": "https"}
"""The scheme of a page that is same-origin with a WebSocket URL of the key's scheme."""


def behind_trusted_proxy(websocket: WebSocket, trusted_proxies: list[IPNetwork]) -> bool:
    """True when the connection's peer is one of ``TRUSTED_PROXIES``."""
    return websocket.client is not None and is_trusted(websocket.client.host, trusted_proxies)


def page_scheme(websocket: WebSocket, trusted_proxies: list[IPNetwork]) -> str:
    """``http`` or ``https``: how a same-origin page reached the service.

    Behind a trusted proxy its ``X-Forwarded-Proto`` says (the nearest proxy's value); else the
    connection's own scheme (``ws`` or ``wss``).
    """
    if behind_trusted_proxy(websocket, trusted_proxies):
        forwarded = websocket.headers.get("x-forwarded-proto", "").split(",")[-1].strip().lower()
        if forwarded in DEFAULT_PORTS:
            return forwarded
    return PAGE_SCHEMES.get(websocket.url.scheme, "http")


def origin_allowed(websocket: WebSocket, settings: Settings) -> bool:
    """Non-browser clients send no Origin; a browser's must be ``scheme://host[:port]`` and
    listed in ``ALLOWED_WS_ORIGINS`` or the service's own (same host, port and scheme)."""
    raw = websocket.headers.get("origin")
    if raw is None:
        return True
    origin = parse_origin(raw)
    if origin is None:
        return False
    if allowed_origins(tuple(settings.ALLOWED_WS_ORIGINS)).allow(origin):
        return True
    trusted: list[IPNetwork] = getattr(websocket.app.state, "trusted_proxies", [])
    own = parse_origin(f"{page_scheme(websocket, trusted)}://{websocket.headers.get('host', '')}")
    return own is not None and origin == own


def close_reason(text: str) -> str:
    """``text`` cut to the 123 bytes a close frame's reason may hold."""
    return text.encode()[:123].decode(errors="ignore")


def query_token(query_string: bytes) -> str | None:
    """The decoded value of the first ``Authorization=`` parameter of a raw query string."""
    for pair in query_string.split(b"&"):
        name, _, value = pair.partition(b"=")
        if name == QUERY_TOKEN_PARAMETER:
            return unquote_plus(value.decode("latin-1"))
    return None


def handshake_credentials(websocket: WebSocket, settings: Settings) -> str | None:
    """The ``Authorization`` value sent with the handshake (header, or query when enabled)."""
    header = websocket.headers.get("authorization")
    if header is None and settings.WS_QUERY_TOKEN_ENABLED:
        header = query_token(websocket.scope.get("query_string", b""))
    return header


@dataclass(frozen=True)
class AuthMessage:
    """A readable ``{"type": "auth", "token": "...", "format": "..."?}`` message."""

    token: str
    format: Any = None
    """The ``format`` field as sent (``None`` when absent); checked by :func:`wire_format`."""


def read_auth_message(message: str) -> AuthMessage | None:
    """The token (and format) of an ``auth`` message; ``None`` for anything else."""
    try:
        payload = from_json(message)
    # Not JSON, nested too deep, a number out of range, a lone surrogate (TypeError: raw text)...
    except (ValueError, TypeError):
        return None
    if isinstance(payload, dict) and payload.get("type") == "auth":
        token = payload.get("token")
        if isinstance(token, str) and token:
            return AuthMessage(token, payload.get(FORMAT_PARAMETER))
    return None


def is_auth_frame(message: str, max_bytes: int) -> bool:
    """True for a JSON object of type ``auth`` within ``max_bytes``, with a token or not: it
    gets an ``auth`` reply, never a response."""
    if larger_than(message, max_bytes):
        return False
    try:
        payload = from_json(message)
    except (ValueError, TypeError):
        return False
    return isinstance(payload, dict) and payload.get("type") == "auth"


def first_message_token(message: str) -> str | None:
    """The token of a ``{"type": "auth", "token": "..."}`` message; ``None`` for anything else."""
    auth = read_auth_message(message)
    return auth.token if auth is not None else None


def wire_format(value: Any) -> WireFormat | None:
    """The format ``value`` names (``json`` or ``protobuf``), ``None`` for anything else."""
    if not isinstance(value, str):
        return None
    try:
        return WireFormat(value)
    except ValueError:
        return None


async def refuse_format(websocket: WebSocket, value: Any) -> None:
    """Close the socket (4415): ``value`` names no format."""
    shown = value if isinstance(value, str) else type(value).__name__
    reason = close_reason(f"unsupported format {shown!r}: use json or protobuf")
    await websocket.close(CloseCode.UNSUPPORTED_FORMAT, reason)


async def receive_auth_message(websocket: WebSocket, wait: float) -> str | bytes | None:
    """The first message (text or binary) if it arrives within ``wait`` seconds, else ``None``."""
    try:
        async with asyncio.timeout(wait):
            message = await websocket.receive()
    except TimeoutError:
        return None
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", status.WS_1000_NORMAL_CLOSURE))
    content: str | bytes | None = message.get("text")
    return content if content is not None else message.get("bytes")


def larger_than(content: str | bytes, max_bytes: int) -> bool:
    """True when ``content`` takes more than ``max_bytes`` bytes (text: in UTF-8, encoded only
    when its length leaves a doubt)."""
    if isinstance(content, bytes):
        return len(content) > max_bytes
    return len(content) > max_bytes // 4 and len(content.encode(errors="surrogatepass")) > max_bytes


@dataclass(frozen=True)
class Authenticated:
    """Who opened the connection, and the format they chose for pushed messages."""

    user: User
    format: WireFormat


async def authenticate(
    websocket: WebSocket, validator: TokenValidator, settings: Settings, chosen: WireFormat
) -> Authenticated | None:
    """The connection's user and format (``chosen`` at the handshake, unless the ``auth``
    message names one), or ``None`` after closing it with a close code that says why."""
    credentials = handshake_credentials(websocket, settings)
    by_message = credentials is None
    if credentials is not None:
        token = bearer_token(credentials)
        if token is None:
            await websocket.close(CloseCode.AUTHENTICATION_FAILED, NOT_BEARER)
            return None
    else:
        message = await receive_auth_message(websocket, settings.WS_AUTH_TIMEOUT)
        limit = settings.WS_AUTH_MESSAGE_MAX_BYTES
        if message is not None and larger_than(message, limit):
            reason = f"authentication message larger than {limit} bytes"
            await websocket.close(status.WS_1009_MESSAGE_TOO_BIG, reason)
            return None
        auth = read_auth_message(message) if isinstance(message, str) else None
        token = auth.token if auth is not None else None
        if auth is not None and auth.format is not None:
            named = wire_format(auth.format)
            if named is None:
                await refuse_format(websocket, auth.format)
                return None
            chosen = named
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
        acknowledgement = {"type": "auth", "status": "ok", "user": user.id}
        await websocket.send_text(to_json(acknowledgement).decode())
    return Authenticated(user, chosen)


def token_deadline(user: User, settings: Settings) -> float | None:
    """When the user's token stops being accepted (its ``exp`` plus the leeway), if it says."""
    expires = user.claims.get("exp")
    if isinstance(expires, bool) or not isinstance(expires, int | float):
        return None
    return float(expires) + settings.AUTH_LEEWAY_SECONDS


def auth_reply(**fields: Any) -> str:
    return to_json({"type": "auth", **fields}).decode()


async def reauthenticate(
    client: PushClient, token: str, validator: TokenValidator, settings: Settings
) -> None:
    """An ``auth`` frame on an open socket: a valid token of the same user moves the socket's
    expiry to the new token's; anything else is refused and changes nothing."""
    try:
        user = await validator.validate(token)
    except InvalidTokenError as error:
        await client.send(auth_reply(status="error", reason=f"authentication failed: {error}"))
        return
    if user.id != client.user.id:
        await client.send(auth_reply(status="error", reason="the token is another user's"))
        return
    if user.roles != client.user.roles:  # a socket keeps the roles it was opened with
        await client.send(auth_reply(status="error", reason="the roles changed: reconnect"))
        return
    client.expire_at(token_deadline(user, settings))
    await client.send(auth_reply(status="ok", user=user.id))


def parse_error(frame: str | None, reason: str, max_bytes: int) -> ResponseModel:
    """An INVALID_DATA response for a frame that is not a valid request, echoing what it can."""
    payload: Any = None
    if frame is not None and not larger_than(frame, max_bytes):
        try:
            payload = from_json(frame)
        # Parsed as strictly as the request itself (depth, range); raw lone surrogates: TypeError.
        except (ValueError, TypeError) as error:
            reason = f"frame is not valid JSON: {error}"
    pkg_id: int | None = None
    req_id: UUID | None = None
    errors: list[dict[str, Any]] | None = None
    if isinstance(payload, dict):
        raw_pkg_id = payload.get("pkg_id")
        if isinstance(raw_pkg_id, int) and not isinstance(raw_pkg_id, bool):
            pkg_id = raw_pkg_id
        req_id = echoable_req_id(payload.get("req_id"))
        try:
            RequestModel.model_validate(payload)
        except ValidationError as error:
            errors = validation_errors(error)
    elif payload is not None:
        reason = "frame must be a JSON object"
    return ResponseModel.err_msg(
        pkg_id, req_id, reason, status_code=RSPCode.INVALID_DATA, errors=errors
    )


@dataclass(frozen=True)
class Exchange:
    """One frame's request (``None`` when the frame held no valid request), its response and the
    response as sent: JSON text, or protobuf bytes when the request came as a binary frame."""

    request: RequestModel | None
    response: ResponseModel
    frame: Frame


def encoded(response: ResponseModel, binary: bool) -> Frame:
    return encode_response(response) if binary else response.model_dump_json()


def exchange(
    request: RequestModel | None, response: ResponseModel, context: RequestContext, binary: bool
) -> Exchange:
    """Pair ``response`` (given the frame's request id) with its frame (protobuf when
    ``binary``, else JSON); one that cannot be serialized becomes an internal error."""
    response.request_id = context.request_id
    context.pkg_id = response.pkg_id
    try:
        return Exchange(request, response, encoded(response, binary))
    except (PydanticSerializationError, ValueError):
        logger.exception("response to pkg_id %s cannot be serialized", response.pkg_id)
        failed = ResponseModel.err_msg(response.pkg_id, response.req_id, "internal error")
        failed.request_id = context.request_id
        try:
            return Exchange(request, failed, encoded(failed, binary))
        except ValueError:  # a pkg_id beyond what a protobuf Response holds
            failed.pkg_id = None
            return Exchange(request, failed, encoded(failed, binary))


def read_request(frame: str, max_bytes: int) -> RequestModel | ResponseModel:
    """A text frame's request, or the INVALID_DATA response it gets."""
    try:
        return RequestModel.model_validate_json(frame)
    except ValidationError:
        return parse_error(frame, "frame is not a valid request", max_bytes)


def read_binary_request(frame: bytes) -> RequestModel | ResponseModel:
    """A binary frame's request, or the INVALID_DATA response it gets (echoing what it can)."""
    try:
        return decode_request(frame)
    except FrameError as error:
        return ResponseModel.err_msg(
            error.pkg_id,
            error.req_id,
            error.reason,
            status_code=RSPCode.INVALID_DATA,
            errors=error.errors,
        )


async def answer(
    frame: Frame, user: User, router: PackageRouter, max_bytes: int, context: RequestContext
) -> Exchange:
    """Read one frame (text: JSON, binary: protobuf) and answer it in the same format, within
    the frame's ``context``; never raises."""
    binary = isinstance(frame, bytes)
    if larger_than(frame, max_bytes):
        refusal = parse_error(None, f"frame larger than {max_bytes} bytes", max_bytes)
        return exchange(None, refusal, context, binary)
    if isinstance(frame, bytes):
        read = read_binary_request(frame)
    else:
        read = read_request(frame, max_bytes)
    if isinstance(read, ResponseModel):
        return exchange(None, read, context, binary)
    context.pkg_id = read.pkg_id
    return exchange(read, await router.handle(read, user), context, binary)


def package_name(router: PackageRouter, pkg_id: int | None) -> str | None:
    """The registered name of ``pkg_id`` (``routing.package_name``), ``None`` when unregistered."""
    route = router.routes.get(pkg_id) if pkg_id is not None else None
    return route.name if route is not None else None


async def serve(
    websocket: WebSocket, connection: WSConnection, client: PushClient, settings: Settings
) -> None:
    """Answer frames until the client disconnects or exceeds the message rate."""
    allowance = rate_limiter.allowance(
        f"ws_msg:user:{connection.user.id}",
        settings.WS_MESSAGE_RATE_LIMIT,
        60,
        max_lease=settings.WS_MESSAGE_LEASE_SIZE,
    )
    try:
        await answer_frames(websocket, connection, client, settings, allowance)
    finally:
        await allowance.release()  # frames leased and not sent go back to the user's count


async def answer_frames(
    websocket: WebSocket,
    connection: WSConnection,
    client: PushClient,
    settings: Settings,
    allowance: Allowance,
) -> None:
    """The frame loop of :func:`serve`: every frame counts against ``allowance``."""
    hooks: TrafficHooks = websocket.app.state.traffic_hooks
    validator: TokenValidator = websocket.app.state.token_validator
    max_bytes = settings.WS_MAX_MESSAGE_BYTES
    frames = 0
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect" or client.closing:
            return  # nothing more is answered once the server closes (token expiry, overflow)
        clock = time.perf_counter()
        if settings.RATE_LIMIT_ENABLED and not allowance.take():  # a new lease is needed
            result = await allowance.check()
            if not result.allowed:
                await close_for_limit(websocket, result.backend_failed, MESSAGE_RATE_EXCEEDED)
                return
        text = message.get("text")
        if text is not None and '"auth"' in text and is_auth_frame(text, max_bytes):
            token = first_message_token(text)
            if token is None:
                await client.send(auth_reply(status="error", reason="no token in the message"))
            else:
                await reauthenticate(client, token, validator, settings)
            continue
        frame: Frame = text if text is not None else message.get("bytes") or b""
        frames += 1
        context = frame_context(connection, frames)
        with bound(context):
            answered = await answer(frame, connection.user, pkg_router, max_bytes, context)
            await client.send(answered.frame)
            if client.holding:
                await client.flush()  # what a SUBSCRIBE held back goes out after its answer
            if not hooks:  # no listener: no event to build
                continue
            seconds = time.perf_counter() - clock
            handled = WSMessage(
                request=answered.request,
                response=answered.response,
                package=package_name(pkg_router, answered.response.pkg_id),
                received_at=datetime.now(UTC) - timedelta(seconds=seconds),
                seconds=seconds,
            )
            hooks.ws_message(connection, handled)  # listeners log with the frame's id


def frame_context(connection: WSConnection, number: int) -> RequestContext:
    """The context of the connection's ``number``-th frame; its id is the connection's id, a dot
    and the number."""
    return RequestContext(
        f"{connection.request_id or connection.id}.{number}",
        method="WEBSOCKET",
        route=WEB_PATH,
        user_id=connection.user.id,
    )


async def close_for_limit(websocket: WebSocket, backend_failed: bool, reason: str) -> None:
    """Close 1008 with ``reason``, or 1013 when the limiter itself is down (fail mode closed)."""
    hooks: TrafficHooks = websocket.app.state.traffic_hooks
    if backend_failed:
        code, reason = status.WS_1013_TRY_AGAIN_LATER, LIMITER_UNAVAILABLE
    else:
        code = status.WS_1008_POLICY_VIOLATION
    hooks.rate_limited(RateLimitRefusal("ws", backend_failed, reason))
    await websocket.close(code, reason)


async def handshake_allowed(websocket: WebSocket, settings: Settings) -> bool:
    """Count this handshake against its client IP; past the limit, close and return False."""
    address = client_ip(websocket.scope, websocket.app.state.trusted_proxies)
    limit = settings.WS_HANDSHAKE_RATE_LIMIT
    result = await rate_limiter.check(f"ws_handshake:ip:{address}", limit, 60)
    if result.allowed:
        return True
    await close_for_limit(websocket, result.backend_failed, HANDSHAKE_RATE_EXCEEDED)
    return False


async def keep_counted(user_id: str, connection_id: str) -> None:
    """Heartbeat: refresh the connection's entry so it keeps counting while it is open."""
    while True:
        await asyncio.sleep(connection_limiter.heartbeat_seconds)
        await connection_limiter.refresh_connection(user_id, connection_id)


@router.websocket(WEB_PATH)
async def web(websocket: WebSocket) -> None:
    """Authenticate, register the connection, then serve request frames."""
    state = websocket.app.state
    settings = settings_of(websocket.app)
    hooks: TrafficHooks = state.traffic_hooks
    await websocket.accept()
    if settings.RATE_LIMIT_ENABLED and not await handshake_allowed(websocket, settings):
        return
    if not origin_allowed(websocket, settings):
        await websocket.close(CloseCode.ORIGIN_NOT_ALLOWED, "origin not allowed")
        return
    asked = websocket.query_params.get(FORMAT_PARAMETER, WireFormat.JSON.value)
    chosen = wire_format(asked)
    if chosen is None:
        await refuse_format(websocket, asked)
        return
    try:
        authenticated = await authenticate(websocket, state.token_validator, settings, chosen)
    except WebSocketDisconnect:
        return
    if authenticated is None:
        return
    user = authenticated.user
    connection_id = uuid4().hex
    limited = settings.RATE_LIMIT_ENABLED
    if limited and not await connection_limiter.add_connection(user.id, connection_id):
        backend_failed = connection_limiter.health.failing
        await close_for_limit(websocket, backend_failed, TOO_MANY_CONNECTIONS)
        return
    heartbeat = asyncio.create_task(keep_counted(user.id, connection_id)) if limited else None
    address = client_ip(websocket.scope, state.trusted_proxies)
    handshake = current()
    if handshake is not None:
        handshake.user_id, handshake.route = user.id, WEB_PATH
    request_id = handshake.request_id if handshake is not None else None
    connection = WSConnection(connection_id, user, address, request_id)
    client = connection_manager.connect(websocket, user, connection_id, authenticated.format)
    try:
        client.expire_at(token_deadline(user, settings))
        hooks.ws_opened(connection)
        with serving(client):
            await serve(websocket, connection, client, settings)
    except WebSocketDisconnect:
        pass
    finally:
        connection_manager.disconnect(client)
        await client.wait_closed()  # the close code the server chose goes out before the end
        if heartbeat is not None:
            heartbeat.cancel()
            await connection_limiter.remove_connection(user.id, connection_id)
        hooks.ws_closed(connection)
        logger.debug("websocket of %s closed", user.id)
