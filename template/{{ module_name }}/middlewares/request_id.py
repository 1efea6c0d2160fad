"""Request ids: every HTTP request and WebSocket connection gets one (see :mod:`..correlation`).

The id is the ``X-Request-ID`` (else ``X-Correlation-ID``) the client sent, when the client is
trusted (``TRUSTED_PROXIES``, ``REQUEST_ID_TRUSTED_CLIENTS``) and the value well-formed; a new
one otherwise. It is echoed in the response's ``X-Request-ID`` header (and in
``X-Correlation-ID`` when the request used that name; for WebSockets, in the handshake's
response), kept in ``request.state.request_id``, and bound as the request's context, which log
lines, error bodies and the traffic listeners read.
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..correlation import (
    CORRELATION_ID_HEADER,
    INCOMING_HEADERS,
    REQUEST_ID_HEADER,
    RequestContext,
    bind,
    current,
    new_request_id,
    well_formed,
)
from ..net import IPNetwork, is_trusted, peer_address


def incoming_request_id(scope: Scope, trusted: list[IPNetwork]) -> tuple[str | None, bytes]:
    """The id the client sent and the header it came in; ``None`` when there is none, the
    client is not trusted or the value is not well-formed."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in INCOMING_HEADERS and name not in found:
            found[name] = value
    for name in INCOMING_HEADERS:
        if name in found:
            if not is_trusted(peer_address(scope), trusted):
                return None, name
            value = found[name].decode("latin-1")
            return (value if well_formed(value) else None), name
    return None, INCOMING_HEADERS[0]


class RequestIdMiddleware:
    """Pure ASGI middleware giving each HTTP request and WebSocket connection its id.

    Added last in the factory, so it is the outermost: everything inside, including the answers
    of the other middlewares (413, 429), runs with the id bound.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        trusted: list[IPNetwork] = getattr(scope["app"].state, "request_id_trusted", [])
        sent, header = incoming_request_id(scope, trusted)
        request_id = sent or new_request_id()
        names = [REQUEST_ID_HEADER]
        if header == INCOMING_HEADERS[1]:
            names.append(CORRELATION_ID_HEADER)
        context = RequestContext(request_id, method=scope.get("method", "WEBSOCKET"), scope=scope)
        scope.setdefault("state", {})["request_id"] = request_id

        async def send_with_id(message: Message) -> None:
            if message["type"] in ("http.response.start", "websocket.accept"):
                message.setdefault("headers", [])
                headers = MutableHeaders(scope=message)
                for name in names:
                    headers[name] = request_id
                if message["type"] == "http.response.start":
                    context.status = message["status"]
            await send(message)

        previous = current()
        bind(context)
        # Left bound when the app raises: the server's 500 answer and its traceback come after
        # this middleware, in the same task (which ends with the request), and carry the id.
        await self.app(scope, receive, send_with_id)
        bind(previous)
