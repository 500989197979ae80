"""Starting the services as subprocesses (`python -m seawall.examples.serve`) and stopping them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from seawall.examples.processes import (
    ServiceStartError,
    start_service,
    start_services,
    stop_process,
)
from seawall.examples.server import bind_loopback


def test_start_services_runs_all_three_and_stops_them(tmp_path: Path) -> None:
    with start_services(tmp_path, stock=3) as services:
        assert set(services) == {"orders", "inventory", "payments"}
        assert all(s.url.startswith("http://127.0.0.1:") for s in services.values())
        level = httpx.get(f"{services['inventory'].url}/items/KB-001/stock").json()
        assert level["onHand"] == 3
        assert httpx.get(f"{services['orders'].url}/orders").json() == {"orders": []}
        assert httpx.get(f"{services['payments'].url}/charges").json() == {"charges": []}
        processes = [s.process for s in services.values()]
    assert all(process.poll() is not None for process in processes)
    assert (tmp_path / "orders.db").is_file()


def test_services_are_stopped_when_the_body_fails(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        with start_services(tmp_path, names=("payments",)) as services:
            process = services["payments"].process
            raise RuntimeError("boom")
    assert process.poll() is not None


def test_a_taken_port_is_reported_with_the_log(tmp_path: Path) -> None:
    taken = bind_loopback()
    taken.listen()
    try:
        with pytest.raises(ServiceStartError, match="cannot listen on 127.0.0.1"):
            start_service("orders", tmp_path, port=taken.getsockname()[1])
    finally:
        taken.close()


def test_serve_prints_a_ready_line_and_stops_on_sigterm(tmp_path: Path) -> None:
    service = start_service("payments", tmp_path)
    try:
        assert httpx.get(f"{service.url}/charges").status_code == 200
    finally:
        stop_process(service.process)
    # uvicorn shuts down gracefully, then re-raises the signal: not killed (-9).
    assert service.process.returncode == -signal.SIGTERM


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["shipping", "--db", "x.db"], "invalid choice: 'shipping'"),
        (["orders"], "--db"),
        (["orders", "--db", "x.db", "--port", "70000"], "--port must be 0..65535"),
        (["inventory", "--db", "x.db", "--stock", "-1"], "--stock must be >= 0"),
    ],
)
def test_serve_rejects_bad_arguments_clearly(
    tmp_path: Path, arguments: list[str], message: str
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "seawall.examples.serve", *arguments],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=30,
    )
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_reports_an_unusable_database_path(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "seawall.examples.serve",
            "orders",
            "--db",
            str(tmp_path / "file" / "x.db"),
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 1
    assert "cannot open database" in result.stderr
    assert "Traceback" not in result.stderr


PARENT = """
import sys, time
from pathlib import Path
from seawall.examples.processes import start_service
service = start_service("payments", Path(sys.argv[1]))
print(service.process.pid, flush=True)
time.sleep(600)
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads process states from /proc (Linux)")
def test_a_service_stops_when_its_parent_is_killed(tmp_path: Path) -> None:
    """Even SIGKILL, which leaves the parent no chance to stop its children."""
    parent = subprocess.Popen(
        [sys.executable, "-c", PARENT, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.kill()
    parent.wait()
    parent.stdout.close()
    deadline = time.monotonic() + 15
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    alive = _alive(child)
    if alive:
        os.kill(child, signal.SIGKILL)
    assert not alive, "the service outlived its killed parent"


def _alive(pid: int) -> bool:
    """Whether ``pid`` still runs (a zombie, reaped by nobody here, counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
