"""Package ids (requested and pushed), response codes and close codes of the WebSocket protocol.

They live in :mod:`..protocol` (the lowest layer, so the schemas and the router can use them
without importing the API); this module keeps the import path handlers use.
"""

from __future__ import annotations

from ...protocol import CloseCode, PkgID, PushID, RSPCode

__all__ = ["CloseCode", "PkgID", "PushID", "RSPCode"]
