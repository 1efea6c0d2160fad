"""Package ids (what a request asks for) and response codes of the WebSocket protocol."""

from __future__ import annotations

from enum import IntEnum


class PkgID(IntEnum):
    """The operation a request frame asks for, in its ``pkg_id``."""

    # Built in: answers with the server time, to check a connection end to end.
    PING = 100


class RSPCode(IntEnum):
    """``status_code`` of a response frame. Codes keep their meaning; new ones may be added."""

    OK = 0
    ERROR = 1
    INVALID_DATA = 2
    PERMISSION_DENIED = 3
    NOT_FOUND = 4


class CloseCode(IntEnum):
    """WebSocket close codes the server uses when it ends a connection."""

    AUTHENTICATION_FAILED = 4401
    """No valid token at the handshake or in the first message in time."""
    ORIGIN_NOT_ALLOWED = 4403
    """The browser's ``Origin`` is not in ``ALLOWED_WS_ORIGINS`` (nor the service's own)."""
