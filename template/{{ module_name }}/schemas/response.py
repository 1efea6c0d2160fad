"""The response frame of the WebSocket package API, and the message the server pushes (both
defined in :mod:`..protocol`)."""

from __future__ import annotations

from ..protocol import NIL_UUID, BroadcastDataModel, ResponseModel

__all__ = ["NIL_UUID", "BroadcastDataModel", "ResponseModel"]
