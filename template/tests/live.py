"""Run an ASGI app under a real uvicorn server on a free loopback port, inside the test loop."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, Literal

import uvicorn


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
    config = uvicorn.Config(app, lifespan=lifespan, **{"log_level": "warning", **options})
    server = PromptServer(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        while not server.started:
            if task.done():
                task.result()  # start-up failed: raise its error here
                raise RuntimeError("server stopped during start-up")
            await asyncio.sleep(0.01)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        await task
        sock.close()
