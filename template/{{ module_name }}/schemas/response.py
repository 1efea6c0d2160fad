"""The response frame of the WebSocket package API (defined in :mod:`..protocol`)."""

from __future__ import annotations

from ..protocol import ResponseModel

__all__ = ["ResponseModel"]
