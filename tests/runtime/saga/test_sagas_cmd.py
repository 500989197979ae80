"""``seawall sagas list|recover`` on real log files."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from saga_ledger import run_ledger_worker

from seawall.sagas_cmd import main
from seawall_runtime.saga import SqliteSagaLog

INVOKERS_MODULE = textwrap.dedent("""
    from pathlib import Path
    from saga_ledger import Ledger

    def invokers():
        return Ledger(Path(__file__).parent / "ledger.db").invokers()

    not_invokers = {"orders": 1}

    def failing():
        raise LookupError("the environment variable ORDERS_URL is not set")
    """)


@pytest.fixture
def crashed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A log left behind by a SIGKILLed orchestrator, and an importable invokers module."""
    log = tmp_path / "sagas.db"
    run_ledger_worker(log, tmp_path / "ledger.db", seed=3)
    (tmp_path / "cli_invokers.py").write_text(INVOKERS_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    return log


def test_list_then_recover_then_list(crashed: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        main(
            [
                "list",
                "--log",
                str(crashed),
                "--state",
                "running",
                "--state",
                "compensating",
                "--steps",
            ]
        )
        == 0
    )
    before = capsys.readouterr().out
    unfinished = [line.split()[0] for line in before.splitlines() if line.startswith("3-")]
    assert unfinished, before
    assert "    0. orders.create:" in before

    assert main(["recover", "--log", str(crashed), "--invokers", "cli_invokers:invokers"]) == 0
    out = capsys.readouterr().out
    assert f"{unfinished[-1]}: compensated (recovered:" in out
    assert f"recovered {len(unfinished)} saga(s)" in out

    assert main(["list", "--log", str(crashed), "--json"]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {row["state"] for row in rows} <= {"completed", "compensated"}
    assert all(len(row["steps"]) >= 1 for row in rows)
    assert main(["list", "--log", str(crashed), "--state", "running"]) == 0
    assert capsys.readouterr().out.strip() == "no sagas"


def test_needs_attention_exits_1_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    log = tmp_path / "sagas.db"
    run_ledger_worker(log, tmp_path / "ledger.db", seed=3)
    (tmp_path / "down_invokers.py").write_text(textwrap.dedent("""
        from pathlib import Path
        from saga_ledger import Ledger
        invokers = Ledger(Path(__file__).parent / "ledger.db").invokers(lambda service, op: "refuse")
        """))
    monkeypatch.syspath_prepend(str(tmp_path))
    code = main(["recover", "--log", str(log), "--invokers", "down_invokers:invokers", "--json"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1
    assert rows and all(row["outcome"] == "NeedsAttention" for row in rows)
    assert "kept failing" in rows[0]["detail"]["reason"]
    assert SqliteSagaLog(log).sagas({"needs_attention"})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("cli_invokers", "expected MODULE:NAME"),
        ("no_such_module_here:x", "cannot import 'no_such_module_here'"),
        ("cli_invokers:missing", "has no 'missing'"),
        ("cli_invokers:not_invokers", "expected a mapping of service name to invoker"),
        ("cli_invokers:failing", "failing() failed: LookupError: the environment variable"),
    ],
)
def test_bad_invokers_are_usage_errors(
    crashed: Path, capsys: pytest.CaptureFixture[str], spec: str, message: str
) -> None:
    assert main(["recover", "--log", str(crashed), "--invokers", spec]) == 2
    assert message in capsys.readouterr().err


def test_unreadable_or_missing_logs_are_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope.db"
    assert main(["list", "--log", str(missing)]) == 2
    assert f"saga log {missing}: no such file" in capsys.readouterr().err
    assert not missing.exists()
    garbage = tmp_path / "garbage.db"
    garbage.write_text("hello")
    assert main(["list", "--log", str(garbage)]) == 2
    assert "not an SQLite database" in capsys.readouterr().err
    assert garbage.read_text() == "hello"
