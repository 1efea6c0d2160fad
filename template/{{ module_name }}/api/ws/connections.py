"""Every open WebSocket of every user, for sending to one user or to everyone."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from fastapi import WebSocket


class ConnectionManager:
    """Tracks each user's open sockets (a user may have several: tabs, devices)."""

    def __init__(self) -> None:
        self._sockets: dict[str, set[WebSocket]] = {}

    def connect(self, user_id: str, websocket: WebSocket) -> None:
        """Start tracking ``websocket`` as one of ``user_id``'s connections."""
        self._sockets.setdefault(user_id, set()).add(websocket)

    def disconnect(self, user_id: str, websocket: WebSocket) -> None:
        """Stop tracking ``websocket``; unknown sockets are ignored."""
        sockets = self._sockets.get(user_id)
        if sockets is None:
            return
        sockets.discard(websocket)
        if not sockets:
            del self._sockets[user_id]

    def sockets_of(self, user_id: str) -> frozenset[WebSocket]:
        """The open sockets of ``user_id``."""
        return frozenset(self._sockets.get(user_id, ()))

    @property
    def connection_count(self) -> int:
        """Open sockets, all users together."""
        return sum(len(sockets) for sockets in self._sockets.values())

    @property
    def user_count(self) -> int:
        """Users with at least one open socket."""
        return len(self._sockets)

    async def send_to_user(self, user_id: str, message: str) -> int:
        """Send ``message`` to every socket of ``user_id``; returns how many received it."""
        return await self._send(self.sockets_of(user_id), message)

    async def broadcast(self, message: str) -> int:
        """Send ``message`` to every open socket; returns how many received it."""
        everyone = [socket for sockets in self._sockets.values() for socket in sockets]
        return await self._send(everyone, message)

    async def _send(self, sockets: Iterable[WebSocket], message: str) -> int:
        targets = list(sockets)
        results = await asyncio.gather(
            *(socket.send_text(message) for socket in targets), return_exceptions=True
        )
        # A socket that failed is closing; its endpoint removes it when the disconnect arrives.
        return sum(1 for result in results if not isinstance(result, BaseException))
