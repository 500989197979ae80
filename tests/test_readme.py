"""The README stays true: its client example runs against the real order service,
and the commands it documents exist."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from seawall.cli import main as seawall_main
from seawall.examples.testing import running_service

REPO = Path(__file__).resolve().parents[1]
README = (REPO / "README.md").read_text()


def test_client_example_runs_against_the_order_service(tmp_path: Path) -> None:
    example = re.search(r"```python\n(.*?)```", README, re.S)
    assert example, "README has no python example"
    assert seawall_main(["generate", str(REPO / "specs/orders.yaml"), "--out", str(tmp_path / "orders")]) == 0
    with running_service("orders", tmp_path / "orders.db") as url:
        code = example.group(1).replace("http://127.0.0.1:8001", url)
        completed = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True, text=True, timeout=120,
            env={"PYTHONPATH": f"{tmp_path / 'orders'}:{REPO / 'runtime'}", "PATH": ""},
        )
    assert completed.returncode == 0, completed.stderr[-4000:]
    # get_order_detailed printed a live 200 answer; list_orders printed the order.
    assert completed.stdout.splitlines()[0].startswith("200 ")
    assert "customer_id='c-1'" in completed.stdout


def test_documented_commands_exist() -> None:
    for command in ("generate", "policies", "chaos", "sagas", "demo"):
        assert f"seawall {command}" in README
    assert "./dev demo" in README and "./dev test" in README
    assert "exec ./dev test" in (REPO / ".ci" / "run").read_text()
