"""Time, injected: the core reads a :class:`Clock` and never the system directly."""

from __future__ import annotations

import threading
import time
from typing import Protocol


class Clock(Protocol):
    """A monotonic clock with matching sleeps, plus wall time for HTTP dates."""

    def now(self) -> float:
        """Monotonic seconds."""

    def wall(self) -> float:
        """Seconds since the Unix epoch (to read Retry-After dates)."""

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""

    async def asleep(self, seconds: float) -> None:
        """Suspend the current task for ``seconds``."""


class SystemClock:
    """The real clock: ``time.monotonic``, ``time.time`` and real sleeps."""

    # The time functions themselves, not methods wrapping them: a call reads
    # the clock several times, and each wrapper would add a Python frame.
    now = staticmethod(time.monotonic)
    wall = staticmethod(time.time)
    sleep = staticmethod(time.sleep)

    async def asleep(self, seconds: float) -> None:
        import anyio  # httpx depends on anyio; loaded only by async callers

        await anyio.sleep(seconds)


class FakeClock:
    """A clock that only moves when told to, or when something sleeps on it.

    Sleeping returns at once and advances the time, so retry delays can be
    checked exactly (``sleeps`` lists every sleep) without waiting.
    """

    def __init__(self, start: float = 1000.0, wall_offset: float = 1_700_000_000.0) -> None:
        self._now = start
        self._wall_offset = wall_offset
        self._lock = threading.Lock()  # threads may sleep on one clock at once
        self.sleeps: list[float] = []

    def now(self) -> float:
        return self._now

    def wall(self) -> float:
        return self._wall_offset + self._now

    def advance(self, seconds: float) -> None:
        """Move time forward by ``seconds``."""
        if seconds < 0:
            raise ValueError("a clock cannot go backwards")
        with self._lock:
            self._now += seconds

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self._now += seconds

    async def asleep(self, seconds: float) -> None:
        self.sleep(seconds)
