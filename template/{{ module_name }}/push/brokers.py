"""How pushed messages travel between the service's instances, and where topic history is kept.

:class:`RedisBroker` (``REDIS_URL`` set): every publish goes through one Redis Pub/Sub channel
that each instance listens on; a topic's message is first appended to the topic's Redis Stream,
bounded to ``PUSH_HISTORY_SIZE`` entries, in the same script that publishes it.
:class:`MemoryBroker` does the same inside one process, so a service without Redis pushes to its
own sockets.

Offsets are the message's time on the broker in microseconds (milliseconds * 1000, plus one
for each further message within a millisecond): they only grow, also across a Redis that
restarted without its data.
"""

from __future__ import annotations

import asyncio
import json
import socket
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from redis.asyncio import Redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from ..logging import logger
from ..protocol import WireFormat
from ..schemas.proto.codec import encode_broadcast
from ..storage.redis import create_client

Kind = Literal["topic", "user", "all"]
Deliver = Callable[["Envelope"], None]
Resync = Callable[[], Awaitable[None]]

BROKER_ERRORS = (RedisError, OSError, TimeoutError)
RECONNECT_FIRST_DELAY = 0.1
RECONNECT_MAX_DELAY = 5.0

KEEPALIVE = {
    option: value
    for option, value in (
        (getattr(socket, "TCP_KEEPIDLE", None), 10),
        (getattr(socket, "TCP_KEEPINTVL", None), 5),
        (getattr(socket, "TCP_KEEPCNT", None), 3),
    )
    if option is not None
}
"""TCP keepalive of the listener's connection: a Redis that vanished without closing it (a lost
host, a dropped NAT mapping) is noticed within about 25 s, not the system's two hours."""


class PushUnavailableError(RuntimeError):
    """The broker cannot be reached: the message was not published."""


def unavailable(error: Exception) -> PushUnavailableError:
    return PushUnavailableError(f"push backend unavailable: {type(error).__name__}")


@dataclass(frozen=True)
class Envelope:
    """One pushed message on its way: to a topic, one user or everyone (``all``)."""

    kind: Kind
    target: str | None
    """The topic or the user id; ``None`` for ``all``."""
    message: str
    """The message as JSON (``BroadcastDataModel``): ``{"pkg_id", "req_id", "data"}``."""
    offset: int | None = None
    """The topic message's place in its history; ``None`` without history."""

    def frame(self) -> str:
        """The frame sockets receive: the message plus ``topic`` and ``offset`` when set."""
        if self.kind != "topic":
            return self.message
        body = self.message[:-1].rstrip()  # a JSON object without its closing brace
        separator = "" if body.endswith("{") else ","  # an empty object takes no comma
        extra = f'{separator}"topic":{json.dumps(self.target)}'
        if self.offset is not None:
            extra += f',"offset":{self.offset}'
        return body + extra + "}"

    def frame_in(self, wire_format: WireFormat) -> str | bytes:
        """The frame a socket that chose ``wire_format`` receives: :meth:`frame`, or for
        protobuf a ``Broadcast`` (the JSON text when the message has no ``Broadcast`` shape)."""
        if wire_format is WireFormat.PROTOBUF:
            topic = self.target if self.kind == "topic" else None
            binary = encode_broadcast(self.message, topic, self.offset)
            if binary is not None:
                return binary
        return self.frame()

    def wire(self) -> str:
        """The envelope as published on the channel (see :meth:`from_wire`)."""
        offset = "-" if self.offset is None else str(self.offset)
        return f"{self.header()}\n{offset}\n{self.message}"

    def header(self) -> str:
        return f"{self.kind}\n{json.dumps(self.target)}"

    @classmethod
    def from_wire(cls, data: bytes | str) -> Envelope:
        """Read an envelope published by :meth:`wire` (or by the publish script)."""
        text = data.decode() if isinstance(data, bytes) else data
        kind, target, offset, message = text.split("\n", 3)
        if kind not in ("topic", "user", "all"):
            raise ValueError(f"unknown envelope kind {kind!r}")
        return cls(
            kind=kind,  # type: ignore[arg-type]  # checked just above
            target=json.loads(target),
            message=message,
            offset=None if offset == "-" else int(offset),
        )


@dataclass(frozen=True)
class History:
    """What a subscriber missed: the kept messages after its ``since``, oldest first."""

    entries: list[Envelope]
    latest: int
    """The topic's latest offset (0 when nothing was published yet)."""
    gap: bool
    """True when messages after ``since`` may no longer be kept: the subscriber should reload."""
    lost: bool = False
    """True when messages after ``since`` were certainly dropped (beyond the size bound)."""


def dropped(since: int, trimmed: int | None) -> bool:
    """Whether messages after ``since`` were dropped for the size bound."""
    return trimmed is not None and since < trimmed


def missed_something(since: int, start: int | None, trimmed: int | None, latest: int) -> bool:
    """Whether a subscriber that has seen up to ``since`` missed messages no longer kept.

    ``start`` is the first offset of the kept history's life (it begins again when the broker
    loses its data), ``trimmed`` the newest offset dropped for the size bound. ``since`` 0 means
    "from the beginning".
    """
    if since == 0:
        return trimmed is not None
    if since > latest or start is None or since < start:
        return True  # from another life of the history (or not an offset ever given out)
    return trimmed is not None and since < trimmed


class Broker(ABC):
    """Carries envelopes to every instance (``run`` delivers them) and keeps topic history."""

    backend: str

    def __init__(self, history_size: int) -> None:
        self.history_size = history_size
        self.listening = False
        """True while this instance receives what is published."""
        self.reconnects = 0
        """Times the listener lost the broker and connected again."""

    @property
    def keeps_history(self) -> bool:
        return self.history_size > 0

    @abstractmethod
    async def publish(self, envelope: Envelope) -> int | None:
        """Publish ``envelope`` (without offset); returns the topic offset it was given."""

    @abstractmethod
    async def history(self, topic: str, since: int | None) -> History:
        """The kept messages of ``topic`` after ``since`` (none when ``since`` is ``None``)."""

    @abstractmethod
    async def run(self, deliver: Deliver, resync: Resync) -> None:
        """Deliver every envelope published from now on, until cancelled.

        ``resync`` is awaited each time the listener (re)connects, before further deliveries:
        it fetches what was published while the listener was away.
        """

    @abstractmethod
    async def write_presence(self, instance: str, entries: Mapping[str, str], ttl: float) -> None:
        """Store this instance's connections (id -> JSON) for ``ttl`` seconds."""

    @abstractmethod
    async def read_presence(self) -> dict[str, Mapping[str, str]]:
        """The stored connections of every live instance, by instance."""

    @abstractmethod
    async def drop_presence(self, instance: str) -> None:
        """Forget this instance's connections (at shutdown)."""

    async def close(self) -> None:  # noqa: B027  # a broker without connections has none to close
        """Release the broker's connections."""


@dataclass
class _TopicLog:
    entries: deque[Envelope]
    latest: int = 0
    start: int | None = None
    trimmed: int | None = None


class MemoryBroker(Broker):
    """One process: publishing delivers to this process's sockets; history lives in memory."""

    backend = "memory"

    def __init__(self, history_size: int) -> None:
        super().__init__(history_size)
        self._deliver: Deliver | None = None
        self._topics: dict[str, _TopicLog] = {}
        self._presence: dict[str, Mapping[str, str]] = {}

    def _next_offset(self, log: _TopicLog) -> int:
        return max(time.time_ns() // 1_000_000 * 1000, log.latest + 1)

    async def publish(self, envelope: Envelope) -> int | None:
        if envelope.kind == "topic" and self.keeps_history and envelope.target is not None:
            log = self._topics.setdefault(envelope.target, _TopicLog(deque()))
            offset = log.latest = self._next_offset(log)
            envelope = Envelope(envelope.kind, envelope.target, envelope.message, offset)
            if log.start is None:
                log.start = offset
            log.entries.append(envelope)
            if len(log.entries) > self.history_size:
                log.trimmed = log.entries.popleft().offset
        if self._deliver is not None:
            self._deliver(envelope)
        return envelope.offset

    async def history(self, topic: str, since: int | None) -> History:
        log = self._topics.get(topic)
        if log is None:
            log = _TopicLog(deque())
        if since is None:
            return History([], log.latest, gap=False)
        entries = [entry for entry in log.entries if (entry.offset or 0) > since]
        gap = missed_something(since, log.start, log.trimmed, log.latest)
        return History(entries, log.latest, gap, dropped(since, log.trimmed))

    async def run(self, deliver: Deliver, resync: Resync) -> None:
        self._deliver = deliver
        self.listening = True
        try:
            await asyncio.Event().wait()
        finally:
            self._deliver = None
            self.listening = False

    async def write_presence(self, instance: str, entries: Mapping[str, str], ttl: float) -> None:
        self._presence[instance] = dict(entries)

    async def read_presence(self) -> dict[str, Mapping[str, str]]:
        return dict(self._presence)

    async def drop_presence(self, instance: str) -> None:
        self._presence.pop(instance, None)


PUBLISH_SCRIPT = """
local meta = redis.call('HMGET', KEYS[2], 'latest', 'start')
local latest = tonumber(meta[1] or '0')
local now = redis.call('TIME')
local offset = (tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)) * 1000
if offset <= latest then offset = latest + 1 end
local id = string.format('%.0f', offset)
local size = tonumber(ARGV[4])
redis.call('XADD', KEYS[1], '0-' .. id, 'm', ARGV[3])
if not meta[2] then redis.call('HSET', KEYS[2], 'start', id) end
local excess = redis.call('XLEN', KEYS[1]) - size
if excess > 0 then
  local gone = redis.call('XRANGE', KEYS[1], '-', '+', 'COUNT', excess)
  redis.call('XTRIM', KEYS[1], 'MAXLEN', size)
  redis.call('HSET', KEYS[2], 'trimmed', string.sub(gone[#gone][1], 3))
end
redis.call('HSET', KEYS[2], 'latest', id)
local keep = tonumber(ARGV[5])
if keep > 0 then
  redis.call('PEXPIRE', KEYS[1], keep)
  redis.call('PEXPIRE', KEYS[2], keep)
end
redis.call('PUBLISH', ARGV[1], ARGV[2] .. '\\n' .. id .. '\\n' .. ARGV[3])
return id
"""
"""Append a topic message to its stream (trimmed to the size bound), then publish it: one step,
so the order of offsets is the order of delivery."""


FORGET_INSTANCE_SCRIPT = """
if redis.call('EXISTS', KEYS[1]) == 0 then redis.call('ZREM', KEYS[2], ARGV[1]) end
"""
"""Drop an instance from the index only if its presence entry is still absent."""


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


class RedisBroker(Broker):
    """Every instance on one Redis: Pub/Sub for delivery, a Stream per topic for history."""

    backend = "redis"

    def __init__(
        self,
        url: str,
        *,
        history_size: int,
        timeout: float,
        history_seconds: float = 0,
        prefix: str = "push",
        client: Redis | None = None,
    ) -> None:
        super().__init__(history_size)
        self.url = url
        self.timeout = timeout
        self.history_seconds = history_seconds
        """How long a topic's history outlives its last message (0: for ever)."""
        self.prefix = prefix
        self.channel = f"{prefix}:events"
        self._client = client if client is not None else create_client(url, timeout)
        self._own_client = client is None
        self._publish = self._client.register_script(PUBLISH_SCRIPT)
        self._forget = self._client.register_script(FORGET_INSTANCE_SCRIPT)
        self.outage = False

    def _stream(self, topic: str) -> str:
        return f"{self.prefix}:topic:{topic}"

    def _meta(self, topic: str) -> str:
        return f"{self.prefix}:meta:{topic}"

    def _presence(self, instance: str) -> str:
        return f"{self.prefix}:presence:{instance}"

    @property
    def _instances(self) -> str:
        return f"{self.prefix}:instances"

    async def publish(self, envelope: Envelope) -> int | None:
        try:
            if envelope.kind == "topic" and self.keeps_history and envelope.target is not None:
                keys = [self._stream(envelope.target), self._meta(envelope.target)]
                args: list[str | int] = [
                    self.channel,
                    envelope.header(),
                    envelope.message,
                    self.history_size,
                    int(self.history_seconds * 1000),
                ]
                return int(await self._publish(keys=keys, args=args))
            await self._client.publish(self.channel, envelope.wire())
        except BROKER_ERRORS as error:
            raise unavailable(error) from error
        return None

    async def history(self, topic: str, since: int | None) -> History:
        if not self.keeps_history:
            return History([], 0, gap=bool(since))
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.hmget(self._meta(topic), ["latest", "start", "trimmed"])
                if since is not None:
                    pipe.xrange(self._stream(topic), min=f"(0-{since}", max="+")
                found = await pipe.execute()
        except BROKER_ERRORS as error:
            raise unavailable(error) from error
        latest, start, trimmed = (_int(value) for value in found[0])
        if since is None:
            return History([], latest or 0, gap=False)
        entries = [
            Envelope("topic", topic, fields[b"m"].decode(), int(entry_id.split(b"-", 1)[1]))
            for entry_id, fields in found[1]
        ]
        gap = missed_something(since, start, trimmed, latest or 0)
        return History(entries, latest or 0, gap, dropped(since, trimmed))

    def _listener_client(self) -> Redis:
        # No command timeout (the listener waits for messages); no silent retries either: a
        # lost connection must reach run(), which resubscribes and fetches what it missed.
        return Redis.from_url(
            self.url,
            socket_connect_timeout=self.timeout,
            socket_keepalive=True,
            socket_keepalive_options=KEEPALIVE,
            health_check_interval=10,
            retry=Retry(NoBackoff(), 0),
        )

    async def run(self, deliver: Deliver, resync: Resync) -> None:
        delay = RECONNECT_FIRST_DELAY
        while True:
            client = self._listener_client()
            pubsub = client.pubsub()
            try:
                await pubsub.subscribe(self.channel)
                async for message in pubsub.listen():
                    if message["type"] == "subscribe":
                        await self._connected(resync)
                        delay = RECONNECT_FIRST_DELAY
                    elif message["type"] == "message":
                        self._deliver(deliver, message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as error:
                self._lost(error)
                await asyncio.sleep(delay)
                delay = min(delay * 2, RECONNECT_MAX_DELAY)
            finally:
                self.listening = False
                await _quietly(pubsub.aclose())  # type: ignore[no-untyped-call]
                await _quietly(client.aclose())

    async def _connected(self, resync: Resync) -> None:
        if self.outage:
            self.outage = False
            self.reconnects += 1
            logger.info("push listener connected to Redis again")
        await resync()
        self.listening = True

    def _lost(self, error: Exception) -> None:
        if not self.outage:
            self.outage = True
            logger.warning("push listener lost Redis, reconnecting: %s", error or type(error))

    @staticmethod
    def _deliver(deliver: Deliver, data: bytes | str) -> None:
        try:
            envelope = Envelope.from_wire(data)
        except ValueError:
            logger.warning("ignored a malformed push envelope")
            return
        deliver(envelope)

    async def write_presence(self, instance: str, entries: Mapping[str, str], ttl: float) -> None:
        key = self._presence(instance)
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.delete(key)
                if entries:
                    fields: dict[Any, Any] = dict(entries)
                    pipe.hset(key, mapping=fields)
                    pipe.pexpire(key, int(ttl * 1000))
                pipe.zadd(self._instances, {instance: 0})
                await pipe.execute()
        except BROKER_ERRORS as error:
            raise unavailable(error) from error

    async def read_presence(self) -> dict[str, Mapping[str, str]]:
        try:
            listed = cast(list[bytes], await self._client.zrange(self._instances, 0, -1))
            instances = [name.decode() for name in listed]
            async with self._client.pipeline(transaction=False) as pipe:
                for instance in instances:
                    pipe.hgetall(self._presence(instance))
                found = await pipe.execute()
            for name, entries in zip(instances, found, strict=True):
                if not entries:  # expired, unless it was written again meanwhile
                    await self._forget(keys=[self._presence(name), self._instances], args=[name])
        except BROKER_ERRORS as error:
            raise unavailable(error) from error
        return {
            instance: {key.decode(): value.decode() for key, value in entries.items()}
            for instance, entries in zip(instances, found, strict=True)
            if entries
        }

    async def drop_presence(self, instance: str) -> None:
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.delete(self._presence(instance))
                pipe.zrem(self._instances, instance)
                await pipe.execute()
        except BROKER_ERRORS as error:
            raise unavailable(error) from error

    async def close(self) -> None:
        if self._own_client:
            await self._client.aclose()


async def _quietly(closing: Awaitable[Any]) -> None:
    try:
        await closing
    except Exception:  # closing a connection that is already gone
        return
