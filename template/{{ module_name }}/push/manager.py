"""This instance's sockets, and pushing to them and to every other instance's.

``connection_manager`` is importable anywhere. In the app it is started with the app (it listens
to the broker, keeps presence) and the WebSocket endpoint registers each socket with it; in a
script or a worker it configures itself from the settings on first use and only publishes::

    await connection_manager.publish("orders:42", BroadcastDataModel(pkg_id=301, data=order))

Every call returns once the broker took the message; no caller waits for a slow client. Each socket
has a bounded send queue: a client that lets it overflow is closed (1013) and counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections import Counter, deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from starlette.websockets import WebSocket

from ..auth.user import User
from ..logging import logger
from ..protocol import BroadcastDataModel, WireFormat
from ..settings import Settings, get_settings
from .brokers import Broker, Envelope, History, MemoryBroker, PushUnavailableError, RedisBroker
from .topics import valid_topic

SEND_QUEUE_OVERFLOW = "send queue overflow: reading too slowly"
TOKEN_EXPIRED = "token expired"
MISSED_MESSAGES = "missed messages no longer kept: reconnect, subscribe with since"
CLOSE_TIMEOUT = 15.0  # longer than the server's own close handshake timeout (10 s)

Message = BroadcastDataModel | str
"""What is pushed: a ``BroadcastDataModel``, or text sent exactly as given."""

Frame = str | bytes
"""What a socket is sent: a text frame (JSON) or a binary one (protobuf)."""


def message_text(message: Message) -> str:
    return message if isinstance(message, str) else message.model_dump_json()


def object_text(text: str) -> str:
    """``text`` without surrounding whitespace when it is a JSON object, else ``ValueError``: a
    topic's frame adds ``topic`` and ``offset`` to the object."""
    try:
        parsed = json.loads(text)
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ValueError("a text message to a topic must be a JSON object")
    return text.strip()


@dataclass
class Subscription:
    """One socket's subscription to one topic."""

    last: int | None = None
    """The newest offset delivered (``None``: none yet); older or equal ones are skipped."""
    pending: list[Envelope] | None = field(default_factory=list)
    """Live messages held back until the SUBSCRIBE answer and the missed ones have gone out."""
    replay: list[Envelope] = field(default_factory=list)


class PushClient:
    """One socket's side of server push: its send queue, its subscriptions, its token's expiry,
    and the format its pushed messages go out in."""

    def __init__(
        self,
        manager: ConnectionManager,
        websocket: WebSocket,
        user: User,
        connection_id: str,
        queue_size: int,
        wire_format: WireFormat = WireFormat.JSON,
    ) -> None:
        self.manager = manager
        self.websocket = websocket
        self.user = user
        self.id = connection_id
        self.format = wire_format
        """How pushed messages are encoded for this socket (chosen at connect)."""
        self.subscriptions: dict[str, Subscription] = {}
        self.closing = False
        self._queue: asyncio.Queue[Frame] = asyncio.Queue(queue_size)
        self._sending = asyncio.Lock()
        """Held while a frame goes out: by the writer task, or by an answer sent inline."""
        self._in_hand = False
        """True while the writer holds a frame it took from the queue and has not sent yet."""
        self._writer = asyncio.create_task(self._write())
        self._expiry: asyncio.TimerHandle | None = None
        self._closer: asyncio.Task[None] | None = None

    async def _write(self) -> None:
        try:
            while True:
                frame = await self._queue.get()
                self._in_hand = True
                async with self._sending:
                    self._in_hand = False
                    await self._send_frame(frame)
        except asyncio.CancelledError:
            raise
        except Exception:  # the socket is gone; the endpoint notices the disconnect
            self._gone()

    async def _send_frame(self, frame: Frame) -> None:
        if isinstance(frame, bytes):
            await self.websocket.send_bytes(frame)
        else:
            await self.websocket.send_text(frame)

    def _gone(self) -> None:
        self.closing = True
        self._discard_queued()  # an answer waiting for room must not wait forever

    async def send(self, frame: Frame) -> None:
        """Send an answer to the client's own request after what is queued before it: at once
        when nothing is (no hop through the writer task), else queued (waits while the queue is
        full)."""
        if self.closing:
            return
        if self._queue.empty() and not self._in_hand and not self._sending.locked():
            async with self._sending:
                try:
                    await self._send_frame(frame)
                except Exception:  # the socket is gone; the endpoint notices the disconnect
                    self._gone()
            return
        await self._queue.put(frame)

    def push(self, frame: Frame) -> None:
        """Queue a pushed frame without waiting; a full queue closes the socket (1013)."""
        if self.closing:
            return
        try:
            self._queue.put_nowait(frame)
        except asyncio.QueueFull:
            self.overflow()

    def overflow(self) -> None:
        """The client fell too far behind: close it (1013) and count it."""
        if self.closing:
            return
        self.manager.overflow_closes += 1
        reason = SEND_QUEUE_OVERFLOW
        logger.warning("closing websocket %s of %s: %s", self.id, self.user.id, reason)
        self.close(1013, reason)

    def deliver(self, envelope: Envelope, frame: Frame) -> None:
        """Queue ``frame`` (``envelope`` in this socket's format) unless this socket has it
        already (topic offsets) or waits for its missed messages first."""
        if envelope.kind == "topic":
            subscription = self.subscriptions.get(envelope.target or "")
            if subscription is None:
                return
            if subscription.pending is not None:  # held until its backlog is sent
                if len(subscription.pending) >= self._queue.maxsize:
                    self.overflow()
                    return
                subscription.pending.append(envelope)
                return
            if not self._advance(subscription, envelope):
                return
        self.push(frame)

    @staticmethod
    def _advance(subscription: Subscription, envelope: Envelope) -> bool:
        if envelope.offset is None:
            return True
        if subscription.last is not None and envelope.offset <= subscription.last:
            return False
        subscription.last = envelope.offset
        return True

    async def subscribe(self, topic: str, since: int | None) -> History:
        """Subscribe to ``topic``; with ``since``, the kept messages after it are sent right after
        the answer (:meth:`flush`), then live ones, each once and in order."""
        subscription = Subscription()
        self.subscriptions[topic] = subscription
        self.manager.subscribed(self, topic)
        try:
            history = await self.manager.history(topic, since)
        except PushUnavailableError:
            self.unsubscribe(topic)
            raise
        subscription.replay = history.entries
        subscription.last = history.latest if since is None else since
        self.manager.noted(topic, history.latest)
        return history

    def unsubscribe(self, topic: str) -> bool:
        """Stop receiving ``topic``; False when not subscribed."""
        if self.subscriptions.pop(topic, None) is None:
            return False
        self.manager.unsubscribed(self, topic)
        return True

    @property
    def holding(self) -> bool:
        """True while a new subscription holds messages back for :meth:`flush`."""
        return any(subscription.pending is not None for subscription in self.subscriptions.values())

    async def flush(self) -> None:
        """Send what new subscriptions held back: missed messages first, then live ones.

        Like answers, they wait for room in the queue (a long history does not overflow it); live
        messages arriving meanwhile are held until the backlog is sent.
        """
        for subscription in list(self.subscriptions.values()):
            if subscription.pending is None:
                continue
            backlog = deque(subscription.replay)
            subscription.replay = []
            while backlog or subscription.pending:
                if not backlog:
                    backlog.extend(subscription.pending)
                    subscription.pending.clear()
                envelope = backlog.popleft()
                if self._advance(subscription, envelope):
                    await self.send(envelope.frame_in(self.format))
                if self.closing:
                    return
            subscription.pending = None

    def expire_at(self, deadline: float | None) -> None:
        """Close the socket (4401 ``token expired``) at ``deadline`` (epoch seconds)."""
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        if deadline is None:
            return
        loop = asyncio.get_running_loop()
        delay = max(0.0, deadline - time.time())
        self._expiry = loop.call_at(loop.time() + delay, self.close, 4401, TOKEN_EXPIRED)

    def close(self, code: int, reason: str) -> None:
        """Close the socket from the server side, without waiting (the writer stops at once)."""
        if self.closing:
            return
        self.closing = True
        self._writer.cancel()
        self._discard_queued()  # wakes an answer waiting for room; nothing more is sent
        self._closer = asyncio.create_task(self._close(code, reason))

    async def _close(self, code: int, reason: str) -> None:
        try:
            async with asyncio.timeout(CLOSE_TIMEOUT):
                await self.websocket.close(code, reason)
        except Exception:  # already closed, or a client that no longer reads
            return

    async def wait_closed(self) -> None:
        """Wait until a close the server started (:meth:`close`) went out, or gave up."""
        if self._closer is not None:
            await self._closer

    def stop(self) -> None:
        """The socket is gone: stop the writer and the expiry timer."""
        self.closing = True
        self._writer.cancel()
        self._discard_queued()
        self.expire_at(None)

    def _discard_queued(self) -> None:
        while not self._queue.empty():
            self._queue.get_nowait()

    def presence_entry(self) -> str:
        return json.dumps({"user": self.user.id, "topics": sorted(self.subscriptions)})


@dataclass(frozen=True)
class Presence:
    """Users with open sockets (or subscribed to ``topic``), on every instance."""

    topic: str | None
    users: dict[str, int]
    """User id -> open sockets (subscribed to ``topic`` when given)."""


current_push_client: ContextVar[PushClient | None] = ContextVar("current_push_client", default=None)
"""The push side of the socket whose frame is being answered (set by the WebSocket endpoint)."""


@contextmanager
def serving(client: PushClient) -> Iterator[None]:
    """Make ``client`` the current one while its connection is served."""
    token = current_push_client.set(client)
    try:
        yield
    finally:
        current_push_client.reset(token)


class ConnectionManager:
    """This instance's push clients, the broker that links the instances, and presence."""

    def __init__(self) -> None:
        self._clients: dict[str, PushClient] = {}
        self._by_user: dict[str, set[PushClient]] = {}
        self._by_topic: dict[str, set[PushClient]] = {}
        self._topic_offsets: dict[str, int] = {}
        self._broker: Broker | None = None
        self._settings: Settings | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._presence_changed: asyncio.Event | None = None
        self.instance = uuid.uuid4().hex
        self.overflow_closes = 0
        """Sockets closed because their send queue overflowed."""

    # Configuration and lifecycle.

    def configure(self, settings: Settings) -> None:
        """Use ``settings``: Redis when ``REDIS_URL`` is set, else this process only."""
        self._settings = settings
        if settings.REDIS_URL:
            self._broker = RedisBroker(
                settings.REDIS_URL,
                history_size=settings.PUSH_HISTORY_SIZE,
                history_seconds=settings.PUSH_HISTORY_TTL,
                timeout=settings.PUSH_TIMEOUT,
            )
        else:
            self._broker = MemoryBroker(settings.PUSH_HISTORY_SIZE)

    @property
    def broker(self) -> Broker:
        """The broker, configured from the settings on first use."""
        if self._broker is None:
            self.configure(get_settings())
        assert self._broker is not None
        return self._broker

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            self.configure(get_settings())
        assert self._settings is not None
        return self._settings

    async def start(self, settings: Settings) -> None:
        """Listen to the broker and keep this instance's presence (the app's start-up)."""
        await self.stop()
        self.configure(settings)
        self._presence_changed = asyncio.Event()
        self._tasks = [
            asyncio.create_task(self.broker.run(self._deliver, self._resync)),
            asyncio.create_task(self._keep_presence()),
        ]

    async def stop(self) -> None:
        """Stop listening, forget this instance's presence and close the broker."""
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        broker, self._broker = self._broker, None
        if broker is not None:
            if tasks:
                with contextlib.suppress(PushUnavailableError):  # else it expires with its TTL
                    await broker.drop_presence(self.instance)
            await broker.close()
        self._settings = None

    release = stop

    @property
    def listening(self) -> bool:
        """True while published messages reach this instance."""
        return self._broker is not None and self._broker.listening

    # Sockets.

    def connect(
        self,
        websocket: WebSocket,
        user: User,
        connection_id: str,
        wire_format: WireFormat = WireFormat.JSON,
    ) -> PushClient:
        """Register an authenticated socket; it receives pushes (in ``wire_format``) from now
        on."""
        queue_size = self.settings.PUSH_SEND_QUEUE_SIZE
        client = PushClient(self, websocket, user, connection_id, queue_size, wire_format)
        self._clients[connection_id] = client
        self._by_user.setdefault(user.id, set()).add(client)
        self._presence_dirty()
        return client

    def disconnect(self, client: PushClient) -> None:
        """Forget a socket that closed."""
        client.stop()
        self._clients.pop(client.id, None)
        for topic in list(client.subscriptions):
            self.unsubscribed(client, topic)
        sockets = self._by_user.get(client.user.id)
        if sockets is not None:
            sockets.discard(client)
            if not sockets:
                del self._by_user[client.user.id]
        self._presence_dirty()

    def subscribed(self, client: PushClient, topic: str) -> None:
        self._by_topic.setdefault(topic, set()).add(client)
        self._presence_dirty()

    def noted(self, topic: str, offset: int) -> None:
        """``topic`` had reached ``offset`` when a socket here subscribed: after a reconnect,
        what came later is fetched from its history."""
        if topic in self._by_topic:  # sockets subscribed earlier may still lack what follows
            self._topic_offsets.setdefault(topic, offset)

    def unsubscribed(self, client: PushClient, topic: str) -> None:
        clients = self._by_topic.get(topic)
        if clients is not None:
            clients.discard(client)
            if not clients:
                del self._by_topic[topic]
                self._topic_offsets.pop(topic, None)
        self._presence_dirty()

    def sockets_of(self, user_id: str) -> frozenset[WebSocket]:
        """This instance's open sockets of ``user_id``."""
        return frozenset(client.websocket for client in self._by_user.get(user_id, ()))

    @property
    def connection_count(self) -> int:
        """Open sockets on this instance, all users together."""
        return len(self._clients)

    @property
    def user_count(self) -> int:
        """Users with at least one open socket on this instance."""
        return len(self._by_user)

    # Pushing.

    async def broadcast(self, message: Message) -> None:
        """Push ``message`` to every socket of every instance."""
        await self.broker.publish(Envelope("all", None, message_text(message)))

    async def send_to_user(self, user_id: str, message: Message) -> None:
        """Push ``message`` to every socket of ``user_id``, on every instance."""
        await self.broker.publish(Envelope("user", user_id, message_text(message)))

    async def publish(self, topic: str, message: Message) -> int | None:
        """Push ``message`` to every socket subscribed to ``topic``; returns its offset (``None``
        when history is off). Raises ``ValueError`` for a malformed topic name or a text message
        that is not a JSON object, :class:`PushUnavailableError` when the broker cannot be
        reached."""
        if not valid_topic(topic):
            raise ValueError(f"not a topic name: {topic!r}")
        text = object_text(message) if isinstance(message, str) else message_text(message)
        return await self.broker.publish(Envelope("topic", topic, text))

    async def history(self, topic: str, since: int | None) -> History:
        """The kept messages of ``topic`` after ``since``."""
        return await self.broker.history(topic, since)

    async def presence(self, topic: str | None = None) -> Presence:
        """Who is connected (subscribed to ``topic``), on every live instance."""
        users: Counter[str] = Counter()
        for entries in await self._presence_entries():
            for entry in entries.values():
                record = json.loads(entry)
                if topic is None or topic in record["topics"]:
                    users[record["user"]] += 1
        return Presence(topic, dict(sorted(users.items())))

    async def _presence_entries(self) -> list[Mapping[str, str]]:
        stored = {} if isinstance(self.broker, MemoryBroker) else await self.broker.read_presence()
        # This instance's stored entries may lag behind by a moment: use the live ones.
        stored[self.instance] = self._own_presence()
        return list(stored.values())

    def _own_presence(self) -> dict[str, str]:
        return {client.id: client.presence_entry() for client in self._clients.values()}

    # Receiving from the broker.

    def _deliver(self, envelope: Envelope) -> None:
        if envelope.kind == "all":
            targets: Any = self._clients.values()
        elif envelope.kind == "user":
            targets = self._by_user.get(envelope.target or "", ())
        else:
            targets = self._by_topic.get(envelope.target or "", ())
            if envelope.offset is not None and envelope.target in self._by_topic:
                self._topic_offsets[envelope.target] = envelope.offset
        if not targets:
            return
        frames: dict[WireFormat, Frame] = {}  # encoded once per format, not once per socket
        for client in list(targets):
            frame = frames.get(client.format)
            if frame is None:
                frame = frames[client.format] = envelope.frame_in(client.format)
            client.deliver(envelope, frame)

    async def _resync(self) -> None:
        """After the listener (re)connects: deliver what subscribed topics got meanwhile."""
        for topic, last in list(self._topic_offsets.items()):
            history = await self.broker.history(topic, last)  # failing: the listener retries
            if history.lost:
                for client in list(self._by_topic.get(topic, ())):
                    client.close(1013, MISSED_MESSAGES)
            for envelope in history.entries:
                self._deliver(envelope)

    def _presence_dirty(self) -> None:
        if self._presence_changed is not None:
            self._presence_changed.set()

    async def _keep_presence(self) -> None:
        changed = self._presence_changed
        assert changed is not None
        ttl = self.settings.PUSH_PRESENCE_TTL
        while True:
            changed.clear()
            # During an outage the listener logs it; the next beat writes presence again.
            with contextlib.suppress(PushUnavailableError):
                await self.broker.write_presence(self.instance, self._own_presence(), ttl)
            try:
                async with asyncio.timeout(ttl / 3):
                    await changed.wait()
            except TimeoutError:
                continue
            await asyncio.sleep(0.05)  # one write for a burst of changes


connection_manager = ConnectionManager()
"""Every socket of this instance; pushes reach every instance's."""
