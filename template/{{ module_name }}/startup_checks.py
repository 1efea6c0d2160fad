"""Start-up checks: the app accepts traffic only once its database (and Redis) answer.

With ``STARTUP_CHECKS`` on (by default in production only), the app's start-up calls
:func:`run_startup_checks`: ``SELECT 1`` through the app's engine and, when ``REDIS_URL`` is set,
``PING`` through the app's Redis client. What does not answer is tried again, with a pause that
doubles from :data:`FIRST_PAUSE` up to :data:`MAX_PAUSE` seconds and one warning per failed
attempt, until ``STARTUP_TIMEOUT`` seconds have passed. Then :class:`StartupCheckError` names, in
one line, what did not answer and why. A stop signal (SIGTERM, SIGINT) ends the wait too, between
two attempts. Messages show URLs without their passwords.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from types import FrameType
from urllib.parse import urlsplit, urlunsplit

from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy import URL
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from .logging import logger
from .settings import Settings
from .storage import db

FIRST_PAUSE = 0.25
"""Seconds between the first and the second attempt; each later pause doubles."""

MAX_PAUSE = 5.0
"""The longest pause between two attempts, in seconds."""

SHORTEST_ATTEMPT = 0.1
"""Seconds an attempt gets even when the deadline is (nearly) over."""

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Signals that end the wait: the process is being stopped."""

# What a dependency that does not answer raises (TimeoutError and ConnectionError are OSErrors).
# Anything else is a bug and goes up as it is.
NOT_ANSWERING = (OSError, SQLAlchemyError, RedisError)


class StartupCheckError(RuntimeError):
    """A dependency did not answer within ``STARTUP_TIMEOUT`` seconds; the message is one line."""


@dataclass(frozen=True)
class Dependency:
    """A server the app needs before it accepts traffic."""

    name: str
    """How messages call it, e.g. ``the database at postgresql+asyncpg://app@db:5432/app``."""
    probe: Callable[[], Awaitable[object]]
    """Fails (raises) while the server does not answer."""
    secret: str | None = None
    """Its password, masked should an error message quote it."""

    async def problem(self, within: float) -> str | None:
        """``None`` when the probe succeeds within ``within`` seconds, else why not (one line)."""
        try:
            async with asyncio.timeout(within):
                await self.probe()
        except NOT_ANSWERING as error:
            found = reason(error)
            return found.replace(self.secret, "***") if self.secret else found
        return None


def reason(error: BaseException) -> str:
    """One line saying why a server did not answer: ``connection refused``, ``timed out``, or
    the first line of the message of the error's root cause (the driver's own error)."""
    chain = [error]
    while len(chain) < 10 and (earlier := chain[-1].__cause__ or chain[-1].__context__):
        chain.append(earlier)
    if any(isinstance(cause, ConnectionRefusedError) for cause in chain):
        return "connection refused"
    if any(isinstance(cause, TimeoutError) for cause in chain):
        return "timed out"
    root = error
    for _ in range(10):
        if root.__cause__ is None:
            break
        root = root.__cause__
    lines = str(root).strip().splitlines()
    return lines[0] if lines else type(root).__name__


def database_location(url: URL) -> str:
    """``url`` (an engine's) without its password."""
    public = URL.create(
        url.drivername,
        username=url.username,
        host=url.host,
        port=url.port,
        database=url.database,
        query=url.query,
    )
    return public.render_as_string(hide_password=False)


def redis_location(url: str) -> str:
    """``url`` (a Redis URL) without its password and query (which may hold one too)."""
    parts = urlsplit(url)
    userinfo, at, host = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    netloc = f"{user}@{host}" if at and user else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def dependencies_of(
    settings: Settings, engine: AsyncEngine, redis: Redis | None
) -> list[Dependency]:
    """The database behind ``engine`` and, when there is one, the Redis behind ``redis``."""

    async def select_one() -> None:
        await db.ping(engine)

    found = [
        Dependency(
            f"the database at {database_location(engine.url)}",
            select_one,
            engine.url.password or None,
        )
    ]
    if redis is not None and settings.REDIS_URL is not None:

        async def ping() -> None:
            await redis.ping()

        location = redis_location(settings.REDIS_URL)
        password = urlsplit(settings.REDIS_URL).password
        found.append(Dependency(f"Redis at {location}", ping, password))
    return found


@contextmanager
def stop_requests() -> Iterator[asyncio.Event]:
    """An event set when the process is asked to stop (SIGINT, SIGTERM) during the block.

    The handlers already installed (the server's, which stops once start-up is over) still run.
    Outside the main thread, where no signal arrives, the event is never set.
    """
    stopped = asyncio.Event()
    previous = {
        number: handler
        for number in STOP_SIGNALS
        if (handler := signal.getsignal(number)) is not None  # None: not installed by Python
    }
    in_main_thread = threading.current_thread() is threading.main_thread()
    if not in_main_thread or len(previous) < len(STOP_SIGNALS):
        yield stopped  # a handler Python cannot restore is left alone
        return
    loop = asyncio.get_running_loop()

    def note(number: int, frame: FrameType | None) -> None:
        loop.call_soon_threadsafe(stopped.set)
        handler = previous[signal.Signals(number)]
        if callable(handler):
            handler(number, frame)
        elif handler == signal.SIG_DFL:  # what would have happened: the process ends
            signal.signal(number, signal.SIG_DFL)
            signal.raise_signal(number)

    for number in STOP_SIGNALS:
        signal.signal(number, note)
    try:
        yield stopped
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


async def wait_for(dependencies: list[Dependency], seconds: float) -> None:
    """Return once every dependency has answered (each is probed until it does); raise
    :class:`StartupCheckError` when some have not after ``seconds``, or when the process is
    asked to stop meanwhile (the stop is noticed between attempts)."""
    deadline = time.monotonic() + seconds
    waiting = list(dependencies)
    pause = FIRST_PAUSE
    attempt = 0
    with stop_requests() as stopped:
        while True:
            attempt += 1
            problems = await attempt_all(waiting, deadline, attempt)
            waiting = [dependency for dependency in waiting if dependency.name in problems]
            if not waiting:
                if attempt > 1:
                    logger.info("start-up checks passed at attempt %d", attempt)
                return
            left = deadline - time.monotonic()
            if left <= 0:
                raise StartupCheckError(
                    "cannot start: "
                    + "; ".join(
                        f"{name} did not answer within {seconds:g} s: {problem}"
                        for name, problem in problems.items()
                    )
                )
            with suppress(TimeoutError):
                async with asyncio.timeout(min(pause, left)):
                    await stopped.wait()
            if stopped.is_set():
                names = ", ".join(problems)
                raise StartupCheckError(f"cannot start: stopped while waiting for {names}")
            pause = min(pause * 2, MAX_PAUSE)


async def attempt_all(
    dependencies: list[Dependency], deadline: float, attempt: int
) -> dict[str, str]:
    """Probe each dependency once (until ``deadline``, at least :data:`SHORTEST_ATTEMPT`); what
    did not answer, by name, with why not. Each failure is logged as a warning."""
    problems: dict[str, str] = {}
    for dependency in dependencies:
        within = max(deadline - time.monotonic(), SHORTEST_ATTEMPT)
        problem = await dependency.problem(within)
        if problem is not None:
            problems[dependency.name] = problem
            logger.warning(
                "start-up check, attempt %d: %s did not answer: %s",
                attempt,
                dependency.name,
                problem,
            )
    return problems


async def run_startup_checks(settings: Settings, engine: AsyncEngine, redis: Redis | None) -> None:
    """Wait for the app's database and Redis when ``settings`` ask for start-up checks."""
    if settings.runs_startup_checks:
        await wait_for(dependencies_of(settings, engine, redis), settings.STARTUP_TIMEOUT)
