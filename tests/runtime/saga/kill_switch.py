"""Crash workers' kill switch: SIGKILL this process at the n-th event, and a log that counts as events."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from seawall_runtime.saga import SagaRecord, SqliteSagaLog, StepRecord


class KillSwitch:
    """Counts events; the ``kill_at``-th one kills the process with SIGKILL (no cleanup at all)."""

    def __init__(self, kill_at: int) -> None:
        self.kill_at = kill_at
        self.events = 0

    def tick(self) -> None:
        self.events += 1
        if self.events >= self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)


class KillableLog(SqliteSagaLog):
    """A SQLite saga log whose every write (inside a saga, optionally) is an event."""

    def __init__(
        self, path: str | Path, switch: KillSwitch, *, only_inside_sagas: bool = False
    ) -> None:
        super().__init__(path)
        self.switch = switch
        self.only_inside_sagas = only_inside_sagas

    def write(self, saga: SagaRecord | None = None, step: StepRecord | None = None) -> None:
        super().write(saga, step)
        inside = step is not None or (
            saga is not None and saga.state in ("running", "compensating")
        )
        if inside or not self.only_inside_sagas:
            self.switch.tick()
