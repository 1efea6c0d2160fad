"""A start-up the service refuses is reported in one line, not with a traceback.

When the app's start-up raises, Starlette reports ``lifespan.startup.failed`` to the server with
the whole traceback as its message, and uvicorn logs that message before it exits (status 3).
For the refusals the service explains itself (settings that cannot work, a database or Redis
that did not answer: :data:`EXPLAINED`), this middleware sends the error's one-line message
instead. Other errors keep their traceback.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..settings import ConfigurationError
from ..startup_checks import StartupCheckError

EXPLAINED: tuple[type[Exception], ...] = (ConfigurationError, StartupCheckError)
"""Start-up errors whose message says all an operator needs."""


class StartupFailureMiddleware:
    """Replaces the traceback of an :data:`EXPLAINED` start-up failure with its message."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "lifespan":
            await self.app(scope, receive, send)
            return
        held: list[Message] = []

        async def hold_failure(message: Message) -> None:
            # Starlette sends the failure, then raises: the error is known a moment later.
            if message["type"] == "lifespan.startup.failed":
                held.append(message)
            else:
                await send(message)

        try:
            await self.app(scope, receive, hold_failure)
        except EXPLAINED as error:
            held[:] = [{**message, "message": str(error)} for message in held]
            raise
        finally:
            for message in held:
                await send(message)
