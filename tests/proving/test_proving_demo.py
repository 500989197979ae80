"""``seawall demo`` as a user runs it: a subprocess, its report, its exit status, no leftovers."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from contextlib import closing
from pathlib import Path

from seawall_runtime.saga import SqliteSagaLog


def test_demo_runs_ten_orders_reports_and_leaves_no_process(tmp_path: Path) -> None:
    keep = tmp_path / "demo"
    process = subprocess.Popen(
        [sys.executable, "-m", "seawall", "demo", "--orders", "10", "--seed", "3", "--keep", str(keep)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, out + err
    assert "seawall demo: 10 orders" in out
    for label in ("requests", "retries", "budget refusals", "breaker openings", "fallbacks served"):
        assert re.search(rf"{label} \d+", out), (label, out)
    assert "charges per order at most one:  ok" in out
    assert "stock levels consistent:        ok" in out
    assert "orders without payment:         0" in out
    assert "result: all invariants hold" in out
    assert "services up behind fault injection" in err

    # Every order ran as a saga, logged in the work dir, and the report counts them as logged.
    counts = re.search(r"sagas:\s+(\d+) completed, (\d+) compensated .*, (\d+) need attention", out)
    assert counts, out
    with closing(SqliteSagaLog(keep / "sagas.db")) as log:
        states = Counter(saga.state for saga in log.sagas())
    assert sum(states.values()) == 10
    logged = (states["completed"], states["compensated"], states["needs_attention"])
    assert tuple(int(n) for n in counts.groups()) == logged, (states, out)
    assert states["compensated"] >= 1  # seed 3 declines a card: that saga is undone

    # The services wrote their databases, and none of them outlived the demo.
    assert {p.name for p in (keep / "run").glob("*.db")} == {"orders.db", "inventory.db", "payments.db"}
    leftovers = subprocess.run(
        ["pgrep", "-f", f"seawall.examples.serve .*{keep}"], capture_output=True, text=True
    )
    assert leftovers.stdout.strip() == "", leftovers.stdout


def test_demo_rejects_a_bad_order_count() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "seawall", "demo", "--orders", "0"], capture_output=True, text=True
    )
    assert done.returncode == 2
    assert "--orders must be between 1 and 10000" in done.stderr
