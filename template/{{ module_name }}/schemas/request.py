"""The request frame of the WebSocket package API (defined in :mod:`..protocol`)."""

from __future__ import annotations

from ..protocol import RequestModel

__all__ = ["RequestModel"]
