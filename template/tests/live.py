"""Run an ASGI app under a real uvicorn server on a free loopback port, inside the test loop."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import uvicorn

START_SECONDS = 30.0
"""How long start-up (the app's lifespan included) may take."""
GRACE_SECONDS = 5.0
"""How long open connections may take to finish once the server stops."""
STOP_SECONDS = 30.0
"""How long the whole shutdown may take, the app's lifespan shutdown included."""


class PromptServer(uvicorn.Server):
    """A uvicorn server whose main loop ends as soon as ``stop()`` is called.

    uvicorn's own loop looks at ``should_exit`` every 0.1 s (and refreshes its Date header); a
    test server that starts and stops for every test would spend most of its life waiting there.
    """

    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.stopping = asyncio.Event()

    def stop(self) -> None:
        self.should_exit = True
        self.stopping.set()

    async def main_loop(self) -> None:
        while not self.should_exit:
            try:
                await asyncio.wait_for(self.stopping.wait(), 1.0)
            except TimeoutError:
                if await self.on_tick(0):  # refreshes the Date header; True: time to exit
                    return


@asynccontextmanager
async def serve(
    app: Any, *, lifespan: Literal["on", "off"] = "on", **options: Any
) -> AsyncIterator[str]:
    """Serve ``app`` until the block ends; yields its base URL (``http://127.0.0.1:<port>``).

    ``options`` go to ``uvicorn.Config`` (e.g. ``cli.server_options(settings)``).
    """
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    # A client that never closes its socket must not hold the test up: after the grace period
    # uvicorn cancels the connections still open.
    settings = {"log_level": "warning", "timeout_graceful_shutdown": GRACE_SECONDS, **options}
    server = PromptServer(uvicorn.Config(app, lifespan=lifespan, **settings))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        deadline = time.monotonic() + START_SECONDS
        while not server.started:
            if task.done():
                task.result()  # start-up failed: raise its error here
                raise RuntimeError("server stopped during start-up")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start within {START_SECONDS} s")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        try:
            await asyncio.wait_for(asyncio.shield(task), STOP_SECONDS)
        except TimeoutError:
            server.force_exit = True  # skips what is left of the shutdown, lifespan included
            await asyncio.wait_for(task, GRACE_SECONDS)
        finally:
            sock.close()
