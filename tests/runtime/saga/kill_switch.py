"""Crash workers' kill switch: SIGKILL this process at the n-th event, and a log that counts as events.

:func:`run_until_killed` is the test side: it runs a worker script and checks it died by SIGKILL.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
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


HERE = Path(__file__).resolve().parent
RUNTIME = HERE.parents[2] / "runtime"


def run_until_killed(script: str, *arguments: object, timeout: float = 240) -> None:
    """Run the worker ``script`` (in this folder) and check that its kill switch fired."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(HERE), str(RUNTIME)]))
    worker = subprocess.run(
        [sys.executable, str(HERE / script), *map(str, arguments)],
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
    )
    assert worker.returncode == -signal.SIGKILL, worker.stderr
