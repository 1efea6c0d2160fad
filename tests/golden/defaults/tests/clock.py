"""A clock the tests move by hand."""

from __future__ import annotations


class FakeClock:
    """Callable like ``time.time``; starts at an arbitrary instant and only moves on ``advance``."""

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
