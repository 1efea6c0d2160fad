"""Traffic hooks: the endpoints report what happens, listeners the factory registers react.

The WebSocket endpoint and the rate-limit middleware tell ``app.state.traffic_hooks`` (a
:class:`TrafficHooks`) about connections, answered frames and refusals, without knowing who
listens. The factory registers the listeners of the features the project was generated with. A
listener of your own: subclass :class:`TrafficListener`, override the events you need and call
``app.state.traffic_hooks.add(listener)`` on the app ``create_app()`` returned.

Listeners run on the event loop, inline with the traffic: keep them quick and never block (queue
slow work for a background task). An exception a listener raises is logged, once per listener
method and exception type, and otherwise ignored: a failing listener never breaks a connection or
a request, nor keeps the other listeners from hearing the event.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, ParamSpec

from .auth.user import User
from .logging import logger
from .protocol import RequestModel, ResponseModel

P = ParamSpec("P")

Channel = Literal["http", "ws"]


@dataclass(frozen=True)
class WSConnection:
    """An authenticated WebSocket connection, from its registration until it closes."""

    id: str
    user: User
    client_ip: str
    """The client's address (behind ``TRUSTED_PROXIES``: the forwarded one)."""
    request_id: str | None = None
    """The handshake's request id; each frame's is in its response's ``request_id``."""


@dataclass(frozen=True)
class WSMessage:
    """One request frame and the response sent for it."""

    request: RequestModel | None
    """``None`` when the frame held no valid request (not JSON, binary, too large, ...)."""
    response: ResponseModel
    package: str | None
    """The name of the registered package that answered (``PING``), ``None`` when no handler
    has the frame's ``pkg_id`` (or it had none readable)."""
    received_at: datetime
    """When the frame arrived (UTC)."""
    seconds: float
    """Time from the frame's arrival until its response was sent."""


@dataclass(frozen=True)
class RateLimitRefusal:
    """A request (``http``) or a WebSocket handshake, connection or frame (``ws``) refused."""

    channel: Channel
    backend_failed: bool
    """True when the limiter's backend is down (``RATE_LIMIT_FAIL_MODE=closed``), not a limit."""
    reason: str
    """What the client was told (the close reason, or the response's ``detail``)."""


class TrafficListener:
    """Base class of listeners: every event does nothing until a subclass overrides it."""

    def ws_opened(self, connection: WSConnection) -> None:
        """``connection`` is authenticated and registered."""

    def ws_message(self, connection: WSConnection, message: WSMessage) -> None:
        """A frame of ``connection`` was answered (called after the response was sent)."""

    def ws_closed(self, connection: WSConnection) -> None:
        """``connection`` ended (the client left, or the server closed it)."""

    def rate_limited(self, refusal: RateLimitRefusal) -> None:
        """The rate limiter refused traffic (HTTP: before routing and authentication)."""


class TrafficHooks:
    """The listeners of one app; each event reaches every listener, in registration order."""

    def __init__(self, listeners: Iterable[TrafficListener] = ()) -> None:
        self._listeners: list[TrafficListener] = list(listeners)
        self._reported: set[tuple[str, type[BaseException]]] = set()
        self.failures = 0
        """Listener calls that raised, since the app was created."""

    @property
    def listeners(self) -> tuple[TrafficListener, ...]:
        """The registered listeners."""
        return tuple(self._listeners)

    def add(self, listener: TrafficListener) -> None:
        """Register ``listener`` for every event from now on."""
        self._listeners.append(listener)

    def __bool__(self) -> bool:
        """True when a listener is registered: callers may skip building events otherwise."""
        return bool(self._listeners)

    def ws_opened(self, connection: WSConnection) -> None:
        for listener in self._listeners:
            self._call(listener.ws_opened, connection)

    def ws_message(self, connection: WSConnection, message: WSMessage) -> None:
        for listener in self._listeners:
            self._call(listener.ws_message, connection, message)

    def ws_closed(self, connection: WSConnection) -> None:
        for listener in self._listeners:
            self._call(listener.ws_closed, connection)

    def rate_limited(self, refusal: RateLimitRefusal) -> None:
        for listener in self._listeners:
            self._call(listener.rate_limited, refusal)

    def _call(self, method: Callable[P, None], *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            method(*args, **kwargs)
        except Exception as error:
            self.failures += 1
            name = getattr(method, "__qualname__", repr(method))
            if (name, type(error)) in self._reported:
                return
            self._reported.add((name, type(error)))
            logger.exception(
                "traffic hook %s failed (ignored; further %s from it are not logged)",
                name,
                type(error).__name__,
            )
