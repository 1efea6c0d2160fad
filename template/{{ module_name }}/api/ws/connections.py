"""Every open WebSocket, and pushing messages to them on every instance of the service.

The objects live in :mod:`...push.manager`; this module keeps the import path::

    from <module>.api.ws.connections import connection_manager

    await connection_manager.publish("orders", BroadcastDataModel(pkg_id=301, data=order))
"""

from __future__ import annotations

from ...push.manager import ConnectionManager, Presence, PushClient, connection_manager

__all__ = ["ConnectionManager", "Presence", "PushClient", "connection_manager"]
