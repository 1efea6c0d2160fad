"""WebSocket round trips per second: the full /web stack against a bare Starlette echo endpoint.

Both endpoints run on the same uvicorn server in the same run, so the ratio cancels out the machine:

    python benchmarks/ws_roundtrip.py --messages 5000

The full stack does what every real request does: token checked once at connect, then per frame
JSON parsing and validation, routing, role check and serialization of the response (``PING``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import sys
import tempfile
import time
import uuid
from pathlib import Path

import uvicorn
from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket
from websockets.asyncio.client import connect

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from my_service.api.ws.constants import PkgID
from my_service.auth.dev_issuer import DevIssuer
from my_service.factory import create_app
from my_service.settings import Settings


async def echo(websocket: WebSocket) -> None:
    """The baseline: accept, then send every text frame straight back."""
    await websocket.accept()
    async for message in websocket.iter_text():
        await websocket.send_text(message)


async def round_trips(url: str, frames: list[str], headers: dict[str, str]) -> float:
    """Send each frame and wait for its answer, one at a time; returns round trips per second."""
    async with connect(url, additional_headers=headers) as ws:
        await ws.send(frames[0])  # warm up the connection and the code paths
        await ws.recv()
        started = time.perf_counter()
        for message in frames:
            await ws.send(message)
            await ws.recv()
        return len(frames) / (time.perf_counter() - started)


async def run(messages: int, rounds: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="ws-bench-"))
    settings = Settings(
        _env_file=None,
        DATABASE_URL=f"sqlite+aiosqlite:///{folder / 'bench.db'}",
        AUTH_DEV_KEYS_DIR=folder / "keys",
        LOG_LEVEL="WARNING",
        WS_MESSAGE_RATE_LIMIT=10**9,  # checked on every frame, as in production, never reached
    )
    app = create_app(settings)
    app.router.routes.append(WebSocketRoute("/bench-echo", echo))
    token = DevIssuer.load_or_create(folder / "keys").issue("bench", ["editor"])

    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if serving.done():
            serving.result()  # start-up failed: show why
        await asyncio.sleep(0.01)

    ping = json.dumps({"pkg_id": int(PkgID.PING), "req_id": str(uuid.uuid4()), "data": {}})
    frames = [ping] * messages
    headers = {"Authorization": f"Bearer {token}"}
    full_rates, echo_rates = [], []
    try:
        for _ in range(rounds):  # interleaved, so drift in machine load hits both alike
            echo_rates.append(await round_trips(f"ws://127.0.0.1:{port}/bench-echo", frames, {}))
            full_rates.append(await round_trips(f"ws://127.0.0.1:{port}/web", frames, headers))
    finally:
        server.should_exit = True
        await serving

    full, baseline = max(full_rates), max(echo_rates)
    print(f"bare Starlette echo : {baseline:10.0f} round trips/s (best of {rounds})")
    print(f"full /web stack     : {full:10.0f} round trips/s (best of {rounds})")
    print(f"ratio               : {full / baseline:10.1%} of the echo baseline (target: >= 50%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=3000, help="round trips per measurement")
    parser.add_argument("--rounds", type=int, default=3, help="measurements per endpoint")
    args = parser.parse_args()
    asyncio.run(run(args.messages, args.rounds))


if __name__ == "__main__":
    main()
