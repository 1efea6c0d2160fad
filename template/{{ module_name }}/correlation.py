"""Request ids, and the context that every log line written while handling a request carries.

Every HTTP request, WebSocket connection and WebSocket frame gets an id: the one a trusted client
or proxy sent in ``X-Request-ID`` (or ``X-Correlation-ID``) when it is well-formed, else a new
one. The request-id middleware binds a :class:`RequestContext` for the request; the logger adds
its fields to each record, error bodies and the traffic hooks carry its id. The context lives in a
:class:`~contextvars.ContextVar`, so each asyncio task (each request, each connection) sees only
its own, however many run at once.

The bottom of the package: it imports nothing of it, so every layer can read the context.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

REQUEST_ID_HEADER = "X-Request-ID"
CORRELATION_ID_HEADER = "X-Correlation-ID"
INCOMING_HEADERS = (REQUEST_ID_HEADER.lower().encode(), CORRELATION_ID_HEADER.lower().encode())
"""Request headers an incoming id is read from, in order of preference."""

MAX_LENGTH = 128
# Letters, digits and the punctuation ids are made of (UUIDs, ULIDs, trace ids, base64): nothing
# that could forge a log line, a header or a JSON document.
_WELL_FORMED = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+/=@-]*")


def well_formed(value: str) -> bool:
    """Whether ``value`` may be taken as a request id (at most 128 safe characters)."""
    return len(value) <= MAX_LENGTH and _WELL_FORMED.fullmatch(value) is not None


def new_request_id() -> str:
    """A new id: a random UUID's 32 hex digits, never shortened."""
    return uuid.uuid4().hex


@dataclass(slots=True)
class RequestContext:
    """What is known about the request (or WebSocket frame) being handled.

    Filled in as handling goes on: the middleware sets the id and the method, routing the route,
    authentication the user, the WebSocket endpoint the package id, the response its status.
    """

    request_id: str
    method: str | None = None
    route: str | None = None
    """The route template (``/books/{book_id}``); by default the one routing recorded in
    ``scope``."""
    user_id: str | None = None
    """The authenticated user's id; by default the one authentication recorded in ``scope``."""
    pkg_id: int | None = None
    status: int | None = None
    scope: Mapping[str, Any] | None = field(default=None, repr=False)
    """The ASGI scope of the request, where routing records the route it matched and
    authentication the user (``state["user"]``)."""
    started: float = field(default_factory=time.perf_counter)

    def duration_ms(self) -> float:
        """Milliseconds since the request arrived."""
        return round((time.perf_counter() - self.started) * 1000, 3)

    def log_fields(self) -> dict[str, Any]:
        """The fields a log line carries: those known so far, and the time taken."""
        fields: dict[str, Any] = {"request_id": self.request_id}
        route, user_id = self.route, self.user_id
        if self.scope is not None:  # what routing and authentication recorded in the scope
            if route is None:
                route = getattr(self.scope.get("route"), "path", None)
            if user_id is None:
                user_id = getattr(self.scope.get("state", {}).get("user"), "id", None)
        known: dict[str, Any] = {"method": self.method, "route": route, "user_id": user_id}
        known.update(pkg_id=self.pkg_id, status=self.status)
        fields.update({name: value for name, value in known.items() if value is not None})
        fields["duration_ms"] = self.duration_ms()
        return fields


_current: ContextVar[RequestContext | None] = ContextVar("request_context", default=None)


def current() -> RequestContext | None:
    """The context of the request this task is handling, ``None`` outside requests."""
    return _current.get()


def current_request_id() -> str | None:
    """The id of the request this task is handling, ``None`` outside requests."""
    context = _current.get()
    return context.request_id if context is not None else None


def bind(context: RequestContext | None) -> None:
    """Make ``context`` this task's until the task ends or binds another one."""
    _current.set(context)


@contextmanager
def bound(context: RequestContext) -> Iterator[RequestContext]:
    """``context`` is this task's inside the ``with`` block, the previous one after it."""
    token = _current.set(context)
    try:
        yield context
    finally:
        _current.reset(token)
