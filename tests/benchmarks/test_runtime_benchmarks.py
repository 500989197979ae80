"""Smoke tests for the runtime comparison benchmarks and their driver.

The benchmarks measure time and load; these tests assert no figures, only
that each script runs with tiny settings against its loopback service and
prints every row and summary line it promises, and that run_all.py puts the
output where docs/performance.md expects it.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import _peers  # noqa: E402
import run_all  # noqa: E402


def run_quick(script: str) -> str:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--quick"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    assert "machine: " in done.stdout and "cores" in done.stdout
    return done.stdout


def table_rows(output: str) -> dict[str, list[str]]:
    """The first cell of each table row → the other cells."""
    rows = {}
    for line in output.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if line.startswith("| ") and len(cells) > 1:
            rows[cells[0]] = cells[1:]
    return rows


def test_outage_prints_requests_per_call_for_every_strategy() -> None:
    output = run_quick("outage.py")
    rows = table_rows(output)
    for name in [
        "(a) no retries",
        "(b) naive: 3 attempts, fixed wait",
        "(c) tenacity: 3 attempts, exp. + jitter",
        "(d) seawall: 3 attempts, budget",
    ]:
        calls, requests, ratio = rows[name]
        # Every logical call reaches the server at least once in a 503 outage.
        assert int(calls) > 0 and float(ratio) >= 1.0
    assert rows["(a) no retries"][2] == "1.00"  # one attempt: one request, nothing else
    assert "seawall with its budget:" in output and "naive fixed retries:" in output


def test_partial_failure_prints_goodput_and_latency() -> None:
    output = run_quick("partial_failure.py")
    rows = table_rows(output)
    assert rows["strategy"] == ["success", "p50 ms", "p99 ms", "p99.9 ms", "requests per call"]
    for name in _peers.compared():
        success, p50, p99, p999, _ = rows[name]
        assert success.endswith("%") and float(p50) <= float(p99) <= float(p999)
    assert "seawall vs tenacity:" in output


def test_recovery_prints_time_to_full_goodput_with_and_without_breaker() -> None:
    output = run_quick("recovery.py")
    rows = table_rows(output)
    for name in [
        "seawall, budget, no breaker",
        "seawall, budget + breaker",
        "tenacity + pybreaker",
    ]:
        assert float(rows[name][0]) >= 0.0
    assert "seawall's breaker: full goodput" in output


def test_runtime_overhead_prints_every_row() -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / "runtime_overhead.py"), "--calls", "20", "--rounds", "1"],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    rows = [line for line in done.stdout.splitlines() if " µs   ratio " in line]
    labels = [row.split("  bare ")[0].strip() for row in rows]
    expected = []
    for transport in ("in-process", "loopback"):
        for call in ("GET", "GET + idempotency key"):
            for mode in ("sync", "async"):
                expected.append(f"{transport}, {mode}, {call}")
                if transport == "loopback":  # timed by the wall clock, then by CPU time
                    expected.append("client CPU time only")
    assert [label for label in labels if not label.startswith("reference")] == expected
    for row in rows:
        assert float(row.rsplit("ratio ", 1)[1]) > 0, row
    assert "aims: under 10 µs extra per call in-process" in done.stdout


@pytest.mark.slow
def test_client_overhead_compares_generated_clients() -> None:
    # Installs openapi-python-client into benchmarks/.venv-peers on first use.
    output = run_quick("client_overhead.py")
    assert "### In-process transport" in output and "### Loopback uvicorn server" in output
    rows = table_rows(output)
    for name in [
        "bare httpx",
        "seawall-generated client",
        "openapi-python-client",
        "httpx + tenacity",
        "httpx + stamina",
        "httpx + pybreaker",
    ]:
        assert rows[name][0].endswith(")"), rows[name]  # "123 µs (×1.05)"
    assert "seawall-generated vs openapi-python-client:" in output


def test_run_all_replaces_only_the_marked_figures(tmp_path: Path) -> None:
    doc = tmp_path / "performance.md"
    doc.write_text(
        "# Performance\n\nProse before.\n\n"
        "<!-- results: outage.py -->\nold figures\n<!-- /results: outage.py -->\n\nProse after.\n"
    )
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "run_all.py"),
            "--quick",
            "--only",
            "outage.py",
            "--output",
            str(doc),
        ],
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert done.returncode == 0, done.stderr
    text = doc.read_text()
    assert "old figures" not in text
    assert "Prose before." in text and "Prose after." in text
    assert "requests per call" in text.split("<!-- results: outage.py -->")[1]
    assert "a quick run" in text and "machine: " in text


def test_fill_appends_a_section_for_a_script_without_markers() -> None:
    text = run_all.fill("# Performance\n", "recovery.py", "figures\n")
    assert text.endswith(
        "## recovery.py\n\n<!-- results: recovery.py -->\n```text\nfigures\n```\n"
        "<!-- /results: recovery.py -->\n"
    )
    # Filling again replaces the block instead of adding another.
    assert run_all.fill(text, "recovery.py", "new").count("results: recovery.py -->") == 2


def test_run_reports_a_missing_script_instead_of_failing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(run_all.SCRIPTS, "absent.py", ["--quick"])
    assert "not in benchmarks/ yet" in run_all.run("absent.py", quick=True)


def test_percentile_uses_the_nearest_rank() -> None:
    values = list(range(1, 101))
    assert _peers.percentile(values, 0.5) == 50
    assert _peers.percentile(values, 0.99) == 99
    assert _peers.percentile([7.0], 0.99) == 7.0


def test_table_pads_columns() -> None:
    assert _peers.table(["a", "bb"], [["xyz", "1"]]).splitlines() == [
        "| a   | bb |",
        "|-----|----|",
        "| xyz | 1  |",
    ]


def _alive(pid: int) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not yet reaped, does not count)."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


def test_run_ends_a_script_and_its_children_at_the_time_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "child.pid"
    (tmp_path / "stuck.py").write_text(
        "import subprocess, sys, time\n"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
        f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
        "time.sleep(60)\n"
    )
    monkeypatch.setattr(_peers, "BENCHMARKS", tmp_path)
    monkeypatch.setattr(run_all, "TIME_LIMIT", 2.0)
    monkeypatch.setitem(run_all.SCRIPTS, "stuck.py", [])
    assert "did not finish within 2 s" in run_all.run("stuck.py", quick=False)
    # SIGKILL is delivered asynchronously: give the grandchild a moment to die.
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def test_runtime_instructions_child_makes_its_calls_and_the_script_needs_valgrind() -> None:
    script = str(BENCHMARKS / "runtime_instructions.py")
    for variant in ("bare", "bare-keyed", "runtime", "runtime-keyed"):
        child = [sys.executable, script, "--child", variant, "--calls", "3"]
        done = subprocess.run(child, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        assert done.stdout == f"{variant}: 3 calls after 50 to warm up\n"
    with _peers.Service() as service:  # the loopback contenders call a real server
        for variant in ("bare", "runtime"):
            child = [sys.executable, script, "--child", variant, "--calls", "3"]
            child += ["--url", service.url]
            done = subprocess.run(child, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
            assert done.stdout == f"{variant}: 3 calls after 50 to warm up\n"
    with _peers.Service() as service:
        down_url = service.url
    refused = [sys.executable, script, "--child", "bare", "--calls", "3", "--url", down_url]
    # A child whose server is gone fails: the loopback rows really go to the URL.
    assert subprocess.run(refused, capture_output=True, timeout=60).returncode != 0
    without = subprocess.run(
        [sys.executable, script], capture_output=True, text=True, timeout=60, env={"PATH": ""}
    )
    assert without.returncode == 0
    assert without.stdout.strip() == "valgrind is not installed: no instruction counts"


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="valgrind is not installed")
def test_runtime_instructions_counts_a_call_under_valgrind() -> None:
    import runtime_instructions

    valgrind = shutil.which("valgrind")
    assert valgrind is not None
    few = runtime_instructions.instructions(valgrind, "runtime", 1)
    more = runtime_instructions.instructions(valgrind, "runtime", 11)
    # Ten more calls through the runtime cost at least ten bare httpx calls' worth.
    assert (more - few) / 10 > 300_000
