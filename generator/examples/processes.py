"""Start the example services as subprocesses, and stop every one of them again.

    with start_services(Path("run")) as services:
        services["orders"].url   # http://127.0.0.1:PORT

Each service runs ``python -m seawall.examples.serve`` in its own session (so
a Ctrl-C in the terminal reaches only this process, which then stops the
children in order) and logs to ``<directory>/<name>.log``. Its standard input
is a pipe from this process: should this process be killed outright, the
pipe closes and the service stops (``--exit-with-parent``).
"""

from __future__ import annotations

import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from seawall.examples.apps import SERVICE_NAMES, ServiceName
from seawall.examples.serve import READY_MARK

START_TIMEOUT = 20.0
STOP_TIMEOUT = 5.0


class ServiceStartError(RuntimeError):
    """A service process did not come up; the message includes its log's tail."""


@dataclass(frozen=True)
class ServiceProcess:
    """One running service."""

    name: ServiceName
    url: str
    db_path: Path
    log_path: Path
    process: subprocess.Popen[str]


def _read_ready_line(stream: IO[str], lines: queue.Queue[str]) -> None:
    for line in stream:
        lines.put(line)
    lines.put("")  # end of output: the process exited


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def start_service(
    name: ServiceName, directory: Path, *, port: int = 0, stock: int | None = None
) -> ServiceProcess:
    """Start one service (database ``directory/<name>.db``) and wait until it is ready."""
    directory.mkdir(parents=True, exist_ok=True)
    db_path = directory / f"{name}.db"
    log_path = directory / f"{name}.log"
    command = [sys.executable, "-m", "seawall.examples.serve", name, "--port", str(port)]
    command += ["--db", str(db_path), "--exit-with-parent"]
    if stock is not None:
        command += ["--stock", str(stock)]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command,
            stdout=subprocess.PIPE,
            stderr=log,
            stdin=subprocess.PIPE,  # held open while this process lives
            text=True,
            start_new_session=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    assert process.stdout is not None
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=_read_ready_line, args=(process.stdout, lines), daemon=True).start()
    try:
        line = lines.get(timeout=START_TIMEOUT)
    except queue.Empty:
        line = ""
    except BaseException:  # Ctrl-C while waiting: do not leave the child behind
        stop_process(process)
        raise
    if READY_MARK not in line:
        stop_process(process)
        tail = _log_tail(log_path)
        raise ServiceStartError(f"{name} service did not start; log {log_path}:\n{tail}")
    url = line.rsplit(" ", 1)[-1].strip()
    return ServiceProcess(name, url, db_path, log_path, process)


def stop_process(process: subprocess.Popen[str]) -> None:
    """Ask a process to stop (SIGTERM), and kill it if it does not within a few seconds."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdin, process.stdout):
        if stream is not None:
            stream.close()


@contextmanager
def start_services(
    directory: Path,
    *,
    names: tuple[ServiceName, ...] = SERVICE_NAMES,
    ports: Mapping[ServiceName, int] | None = None,
    stock: int | None = None,
) -> Iterator[dict[ServiceName, ServiceProcess]]:
    """Start the named services; stop all that were started on exit, also on Ctrl-C or error."""
    started: dict[ServiceName, ServiceProcess] = {}
    try:
        for name in names:
            port = (ports or {}).get(name, 0)
            started[name] = start_service(
                name, directory, port=port, stock=stock if name == "inventory" else None
            )
        yield started
    finally:
        for service in reversed(list(started.values())):
            stop_process(service.process)
