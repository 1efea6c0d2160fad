"""A typed client of ``/web``: how Python code and integration tests talk to the service.

::

    async with WebSocketClient.connect("ws://127.0.0.1:8000/web", token) as client:
        response = await client.request(PkgID.PING, check=True)
        async with client.subscribe("news", since=0) as news:
            async for push in news:
                print(push.offset, push.data)

One reader task receives every frame: answers go to the request that carries their ``req_id``,
pushed messages to the subscription of their topic (others to :meth:`WebSocketClient.pushes`).
Frames are JSON text, or protobuf binary frames (``schemas/proto/ws.proto``) with
``format="protobuf"``. The protocol: ``docs/websocket-api.md``,
server push: ``docs/server-push.md``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from types import TracebackType
from typing import Any, Literal, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit
from uuid import UUID, uuid4

from google.protobuf.message import DecodeError
from pydantic import BaseModel
from pydantic_core import to_json
from websockets.asyncio.client import ClientConnection
from websockets.asyncio.client import connect as ws_connect
from websockets.exceptions import ConnectionClosed

from .protocol import NIL_UUID, BroadcastDataModel, PkgID, RequestModel, ResponseModel, RSPCode
from .schemas.proto import ws_pb2

__all__ = [
    "AuthError",
    "AuthMode",
    "ClientError",
    "ConnectionClosedError",
    "Format",
    "Push",
    "PushOverflowError",
    "PushStream",
    "RequestError",
    "Subscribed",
    "Subscription",
    "WebSocketClient",
]

log = logging.getLogger(__name__)

Format = Literal["json", "protobuf"]
"""The frames requests are sent in and pushes arrive in."""
AuthMode = Literal["header", "message"]
"""``header``: ``Authorization: Bearer`` with the handshake; ``message``: an ``auth`` first
message."""

DEFAULT_WAIT = 10.0
"""Seconds to wait for the handshake, an answer or an ``auth`` acknowledgement unless told
otherwise."""
DEFAULT_PUSH_BUFFER = 1000
"""Pushed messages a stream keeps until they are read; one more overflows it."""


class ClientError(Exception):
    """Base of the client's errors."""


class ConnectionClosedError(ClientError):
    """The connection is closed: by the server (``code`` and ``reason`` say why, e.g. 4401
    ``token expired``, 1013 ``missed messages no longer kept``) or by the client."""

    def __init__(self, code: int | None, reason: str) -> None:
        super().__init__(f"connection closed: {code} {reason}".rstrip())
        self.code = code
        self.reason = reason


class RequestError(ClientError):
    """A request answered with another status than ``OK`` (``request(..., check=True)``)."""

    def __init__(self, response: ResponseModel) -> None:
        super().__init__(
            f"{response.status_code.name} for pkg_id {response.pkg_id}: {response.data}"
        )
        self.response = response

    @property
    def status_code(self) -> RSPCode:
        return self.response.status_code


class AuthError(ClientError):
    """The server refused a token sent in an ``auth`` message (:meth:`WebSocketClient.renew`)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class PushOverflowError(ClientError):
    """A stream's buffer was full when a push arrived: pushes were lost. Subscribe again with
    ``since`` set to the offset of the last push read to get them back."""


class Push(BroadcastDataModel):
    """A pushed message; ``topic`` and ``offset`` are set when it was published to a topic."""

    topic: str | None = None
    offset: int | None = None


class Subscribed(BaseModel):
    """The answer to ``SUBSCRIBE``: the topic's latest ``offset``, how many kept messages
    (``missed``) come before live ones, and whether some after ``since`` are lost (``gap``)."""

    topic: str
    offset: int | None = None
    gap: bool = False
    missed: int = 0


class AuthReply(BaseModel):
    """``{"type": "auth", "status": "ok" | "error", "user"?, "reason"?}``."""

    status: str
    user: str | None = None
    reason: str | None = None


Incoming = ResponseModel | Push | AuthReply


class Codec(Protocol):
    """How requests become frames and frames become messages, for one wire format."""

    def encode(self, request: RequestModel) -> str | bytes: ...

    def decode(self, frame: str | bytes) -> Incoming: ...


class JsonCodec:
    """Text frames of JSON (also the ``auth`` exchange of every format)."""

    def encode(self, request: RequestModel) -> str:
        return request.model_dump_json(exclude_none=True)

    def decode(self, frame: str | bytes) -> Incoming:
        message = json.loads(frame)
        if not isinstance(message, dict):
            raise ValueError("frame is not a JSON object")
        if message.get("type") == "auth":
            return AuthReply.model_validate(message)
        if message.get("req_id") == str(NIL_UUID):
            return Push.model_validate(message)
        return ResponseModel.model_validate(message)


JSON = JsonCodec()


def json_text(text: str) -> Any:
    """``text`` parsed as JSON, ``None`` when empty (the protobuf messages' ``*_json`` fields)."""
    return json.loads(text) if text else None


class ProtobufCodec:
    """Binary frames of the ``Request``, ``Response`` and ``Broadcast`` messages of ``ws.proto``.

    A frame is read as a ``Response``; one whose ``req_id`` is the nil UUID is a ``Broadcast``
    (the two messages give their shared field numbers the same meaning).
    """

    def encode(self, request: RequestModel) -> bytes:
        message = ws_pb2.Request(
            pkg_id=request.pkg_id,
            req_id=str(request.req_id),
            method=request.method or "",
            data_json=to_json(request.data).decode() if request.data else "",
        )
        return message.SerializeToString()

    def decode(self, frame: str | bytes) -> Incoming:
        if isinstance(frame, str):
            return JSON.decode(frame)
        try:
            response = ws_pb2.Response.FromString(frame)
            pushed = response.req_id == str(NIL_UUID)
            push = ws_pb2.Broadcast.FromString(frame) if pushed else None
        except DecodeError as error:
            raise ValueError(f"not a protobuf Response: {error}") from error
        if push is not None:
            return Push(
                pkg_id=push.pkg_id,
                data=json_text(push.data_json),
                topic=push.topic or None,
                offset=push.offset or None,
            )
        meta: dict[str, Any] | None = json_text(response.meta_json)
        if response.HasField("meta"):
            page = response.meta
            meta = {"page": page.page, "per_page": page.per_page}
            meta |= {"total": page.total, "pages": page.pages}
        return ResponseModel(
            pkg_id=response.pkg_id if response.HasField("pkg_id") else None,
            req_id=UUID(response.req_id) if response.req_id else None,
            status_code=RSPCode(response.status_code),
            data=json_text(response.data_json),
            meta=meta,
            request_id=response.request_id or None,
        )


def answered_req_id(frame: str | bytes) -> UUID | None:
    """The ``req_id`` an answer frame names, read without the rest of it; ``None`` if none."""
    try:
        if isinstance(frame, bytes):
            return UUID(ws_pb2.Response.FromString(frame).req_id)
        raw = json.loads(frame).get("req_id")
        return UUID(raw) if isinstance(raw, str) else None
    except (DecodeError, ValueError, AttributeError):
        return None


def codec_for(format: Format) -> Codec:
    """The codec of ``format``."""
    return ProtobufCodec() if format == "protobuf" else JSON


def with_query(url: str, **parameters: str) -> str:
    """``url`` with ``parameters`` added to its query string."""
    parts = urlsplit(url)
    query = urlencode([*parse_qsl(parts.query), *parameters.items()])
    return urlunsplit(parts._replace(query=query))


class PushStream:
    """Pushed messages in arrival order, buffered up to a limit: ``async for push in stream``,
    or ``await stream.get(within)``. Iteration ends when the stream or the client is closed;
    it raises :class:`ConnectionClosedError` when the server closed the connection, and
    :class:`PushOverflowError` when pushes were lost (after those buffered are read)."""

    def __init__(self, limit: int) -> None:
        self._buffer: deque[Push] = deque()
        self._limit = limit
        self._arrived = asyncio.Event()
        self._end: ClientError | None = None
        self._quiet_end = False  # closed by this side: iteration just stops

    def __len__(self) -> int:
        """Pushes received and not read yet."""
        return len(self._buffer)

    def put(self, push: Push) -> None:
        """Called by the client's reader; never blocks."""
        if self._end is not None:
            return
        if len(self._buffer) >= self._limit:
            self.end(PushOverflowError(f"more than {self._limit} pushes were not read"))
            return
        self._buffer.append(push)
        self._arrived.set()

    def end(self, error: ClientError, quiet: bool = False) -> None:
        """No more pushes come; once the buffer is read, readers get ``error``."""
        if self._end is None:
            self._end, self._quiet_end = error, quiet
            self._arrived.set()

    async def get(self, within: float | None = None) -> Push:
        """The next push; raises ``TimeoutError`` when none comes ``within`` seconds."""
        async with asyncio.timeout(within):
            while not self._buffer:
                if self._end is not None:
                    raise self._end
                self._arrived.clear()
                await self._arrived.wait()
        return self._buffer.popleft()

    def __aiter__(self) -> PushStream:
        return self

    async def __anext__(self) -> Push:
        try:
            return await self.get()
        except ClientError:
            if self._quiet_end:
                raise StopAsyncIteration from None
            raise


class Subscription(PushStream):
    """The pushes of one topic, from ``async with client.subscribe(topic) as subscription``.

    Entering sends ``SUBSCRIBE`` (a refusal raises :class:`RequestError`) and keeps the answer
    in :attr:`answer`; leaving sends ``UNSUBSCRIBE`` while the connection is open.
    """

    def __init__(self, client: WebSocketClient, topic: str, since: int | None) -> None:
        super().__init__(client.push_buffer)
        self.client = client
        self.topic = topic
        self.since = since
        self.answer: Subscribed | None = None

    async def __aenter__(self) -> Subscription:
        self.client.add_subscription(self)  # before asking: the missed messages follow the answer
        try:
            response = await self.client.request(
                PkgID.SUBSCRIBE, {"topic": self.topic, "since": self.since}, check=True
            )
        except BaseException:
            self.client.remove_subscription(self)
            raise
        self.answer = Subscribed.model_validate(response.data)
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.client.remove_subscription(self)
        self.end(ConnectionClosedError(None, "unsubscribed"), quiet=True)
        if not self.client.closed:
            # Best effort: a slow or lost answer must not hide what ended the block.
            with suppress(ConnectionClosedError, TimeoutError):
                await self.client.request(PkgID.UNSUBSCRIBE, {"topic": self.topic})


class WebSocketClient:
    """A connection to ``/web`` (open it with :meth:`connect` or :meth:`open`)."""

    def __init__(
        self, connection: ClientConnection, format: Format = "json", *, push_buffer: int
    ) -> None:
        self.connection = connection
        self.format: Format = format
        self.push_buffer = push_buffer
        self.user: str | None = None
        """The user id the server acknowledged (``auth="message"`` or :meth:`renew`)."""
        self._codec = codec_for(format)
        self._pending: dict[UUID, asyncio.Future[ResponseModel]] = {}
        self._auth_replies: deque[asyncio.Future[AuthReply]] = deque()
        self._subscriptions: dict[str, Subscription] = {}
        self._streams: set[PushStream] = set()
        self._closed_error: ConnectionClosedError | None = None
        self._closing = False
        self._reader: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        url: str,
        token: str | None,
        *,
        format: Format = "json",
        auth: AuthMode = "header",
        open_timeout: float = DEFAULT_WAIT,
        push_buffer: int = DEFAULT_PUSH_BUFFER,
        **options: Any,
    ) -> WebSocketClient:
        """Connect to ``url`` (``ws://host:port/web``) as the owner of ``token``; close it with
        :meth:`close`. ``options`` go to ``websockets.asyncio.client.connect``. ``token=None``
        sends no credentials (an endpoint that needs none, or they are in ``options``).

        With ``auth="header"`` a refused token closes the connection (4401) right after the
        handshake: the first request raises :class:`ConnectionClosedError`. With
        ``auth="message"`` this waits for the server's acknowledgement and raises it at once.
        """
        headers: dict[str, str] = dict(options.pop("additional_headers", None) or {})
        if auth == "header" and token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if auth == "header" and format != "json":
            url = with_query(url, format=format)
        connection = await ws_connect(
            url, additional_headers=headers, open_timeout=open_timeout, **options
        )
        client = cls(connection, format, push_buffer=push_buffer)
        try:
            if auth == "message":
                await client.first_auth(token or "", open_timeout)
        except BaseException:
            await connection.close()
            raise
        client._reader = asyncio.create_task(client._read(), name=f"read {url}")
        return client

    @classmethod
    @asynccontextmanager
    async def connect(
        cls,
        url: str,
        token: str | None,
        *,
        format: Format = "json",
        auth: AuthMode = "header",
        open_timeout: float = DEFAULT_WAIT,
        push_buffer: int = DEFAULT_PUSH_BUFFER,
        **options: Any,
    ) -> AsyncIterator[WebSocketClient]:
        """:meth:`open` for the length of an ``async with`` block."""
        client = await cls.open(
            url,
            token,
            format=format,
            auth=auth,
            open_timeout=open_timeout,
            push_buffer=push_buffer,
            **options,
        )
        try:
            yield client
        finally:
            await client.close()

    async def first_auth(self, token: str, within: float) -> None:
        """Send the ``auth`` first message and wait for its acknowledgement (before the reader
        runs: nothing else arrives first)."""
        message = {"type": "auth", "token": token, "format": self.format}
        try:
            await self.connection.send(json.dumps(message))
            async with asyncio.timeout(within):
                frame = await self.connection.recv()
        except ConnectionClosed:
            raise self._closed_by_server() from None
        reply = JSON.decode(frame)
        if not isinstance(reply, AuthReply) or reply.status != "ok":
            raise AuthError(f"unexpected answer to auth: {frame!r}")
        self.user = reply.user

    @property
    def closed(self) -> bool:
        """True once the connection is closed (or closing)."""
        return self._closed_error is not None or self._closing

    @property
    def close_code(self) -> int | None:
        """The close code once closed (e.g. 4401, 1013), else ``None``."""
        return self.connection.close_code

    @property
    def close_reason(self) -> str | None:
        """The close reason once closed, else ``None``."""
        return self.connection.close_reason

    async def request(
        self,
        pkg_id: int,
        data: dict[str, Any] | None = None,
        *,
        method: str | None = None,
        within: float | None = DEFAULT_WAIT,
        check: bool = False,
    ) -> ResponseModel:
        """Send a request and return its answer (the response with its ``req_id``).

        ``check=True`` raises :class:`RequestError` for any status but ``OK``. Raises
        ``TimeoutError`` when no answer comes ``within`` seconds, and
        :class:`ConnectionClosedError` when the connection closes first.
        """
        self._raise_if_closed()
        request = RequestModel(pkg_id=pkg_id, req_id=uuid4(), method=method, data=data or {})
        answered: asyncio.Future[ResponseModel] = asyncio.get_running_loop().create_future()
        self._pending[request.req_id] = answered
        try:
            try:
                await self.connection.send(self._codec.encode(request))
            except ConnectionClosed:
                raise self._closed_by_server() from None
            async with asyncio.timeout(within):
                response = await answered
        finally:
            self._pending.pop(request.req_id, None)
        if check and response.status_code != RSPCode.OK:
            raise RequestError(response)
        return response

    def subscribe(self, topic: str, since: int | None = None) -> Subscription:
        """The pushes of ``topic``, as ``async with client.subscribe(topic) as pushes``.

        ``since``: the offset of the last push you handled (0: every kept one), to receive what
        was published after it first; ``None``: only from now on.
        """
        return Subscription(self, topic, since)

    @asynccontextmanager
    async def pushes(self) -> AsyncIterator[PushStream]:
        """Pushes that no subscription takes (to this user, to everyone, or to a topic not
        subscribed through :meth:`subscribe`), from now until the block ends."""
        stream = PushStream(self.push_buffer)
        self._streams.add(stream)
        if self._closed_error is not None:
            stream.end(self._closed_error, quiet=self._closing)
        try:
            yield stream
        finally:
            self._streams.discard(stream)

    async def renew(self, token: str, *, within: float | None = DEFAULT_WAIT) -> str | None:
        """Send a fresh token of the same user so the socket outlives the old one's expiry;
        returns the user id. Raises :class:`AuthError` when the server refuses it."""
        self._raise_if_closed()
        reply: asyncio.Future[AuthReply] = asyncio.get_running_loop().create_future()
        self._auth_replies.append(reply)
        try:
            await self.connection.send(json.dumps({"type": "auth", "token": token}))
        except ConnectionClosed:
            raise self._closed_by_server() from None
        async with asyncio.timeout(within):
            answer = await reply
        if answer.status != "ok":
            raise AuthError(answer.reason or "token refused")
        self.user = answer.user
        return answer.user

    async def close(self) -> None:
        """Close the connection (code 1000) and stop the reader; requests still waiting raise
        :class:`ConnectionClosedError`."""
        self._closing = True
        await self.connection.close()
        if self._reader is not None:
            await self._reader

    async def wait_closed(self) -> None:
        """Wait until the connection is closed (by either side); see :attr:`close_code`."""
        await self.connection.wait_closed()
        if self._reader is not None:
            await self._reader

    async def __aenter__(self) -> WebSocketClient:
        return self

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def add_subscription(self, subscription: Subscription) -> None:
        self._raise_if_closed()
        self._subscriptions[subscription.topic] = subscription

    def remove_subscription(self, subscription: Subscription) -> None:
        if self._subscriptions.get(subscription.topic) is subscription:
            del self._subscriptions[subscription.topic]

    def _raise_if_closed(self) -> None:
        if self._closed_error is not None:
            raise self._closed_error
        if self._closing:
            raise ConnectionClosedError(None, "closed by the client")

    def _closed_by_server(self) -> ConnectionClosedError:
        return ConnectionClosedError(self.connection.close_code, self.connection.close_reason or "")

    async def _read(self) -> None:
        """Receive every frame until the connection closes, and hand each to its reader."""
        try:
            async for frame in self.connection:
                try:
                    message = self._codec.decode(frame)
                except ValueError as error:  # pydantic's ValidationError, protobuf's too
                    log.warning("unreadable frame from the server: %.200r", frame)
                    self._fail_answer(frame, error)
                    continue
                self._dispatch(message)
        except ConnectionClosed:
            pass
        finally:
            self._finish()

    def _dispatch(self, message: Incoming) -> None:
        if isinstance(message, Push):
            target = self._subscriptions.get(message.topic) if message.topic else None
            for stream in [target] if target is not None else list(self._streams):
                stream.put(message)
        elif isinstance(message, AuthReply):
            if self._auth_replies:
                waiting = self._auth_replies.popleft()
                if not waiting.done():
                    waiting.set_result(message)
        else:
            self._answer(message)

    def _answer(self, response: ResponseModel) -> None:
        """Resolve the request ``response`` answers. The server answers a socket's frames in
        order, so an answer that could not echo a ``req_id`` belongs to the oldest request."""
        if response.req_id is not None:
            waiting = self._pending.get(response.req_id)
        else:
            waiting = next(iter(self._pending.values()), None)
        if waiting is not None and not waiting.done():
            waiting.set_result(response)

    def _fail_answer(self, frame: str | bytes, error: ValueError) -> None:
        """An answer this client cannot read (e.g. a status code newer than it) fails the
        request whose ``req_id`` it names rather than leaving it waiting."""
        req_id = answered_req_id(frame)
        waiting = self._pending.get(req_id) if req_id is not None else None
        if waiting is not None and not waiting.done():
            waiting.set_exception(ClientError(f"unreadable answer: {error}"))

    def _finish(self) -> None:
        """The connection is closed: fail what waits, end the streams."""
        if self._closing and self.connection.close_code in (1000, None):
            error = ConnectionClosedError(self.connection.close_code, "closed by the client")
        else:
            error = self._closed_by_server()
        self._closed_error = error
        for answered in self._pending.values():
            if not answered.done():
                answered.set_exception(error)
        for reply in self._auth_replies:
            if not reply.done():
                reply.set_exception(error)
        for stream in [*self._subscriptions.values(), *self._streams]:
            stream.end(error, quiet=self._closing)
