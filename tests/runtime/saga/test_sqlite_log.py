"""The SQLite saga log: durability, concurrent writers (threads and processes), bad files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from seawall_runtime.saga import (
    CompensationSpec,
    InMemorySagaLog,
    SagaLog,
    SagaLogError,
    SagaRecord,
    SqliteSagaLog,
    StepRecord,
)

RUNTIME = Path(__file__).resolve().parents[3] / "runtime"


def saga(saga_id: str, state: str = "running", owner: str = "me", at: float = 1.0) -> SagaRecord:
    return SagaRecord(saga_id, "place-order", state, owner, at, at, {"cause": None})  # type: ignore[arg-type]


def step(saga_id: str, index: int, **changes: object) -> StepRecord:
    record = StepRecord(
        saga_id=saga_id,
        index=index,
        service="orders",
        operation="createOrder",
        arguments={"body": {"lines": [{"sku": "ü", "qty": 2}]}, "path": {}},
        idempotency_key=f"key-{index}",
        idempotent=True,
        compensation=CompensationSpec("cancelOrder", {"path": {"orderId": "$response.body#/id"}}),
    )
    return replace(record, **changes)  # type: ignore[arg-type]


@pytest.fixture(params=["sqlite", "memory"])
def any_log(request: pytest.FixtureRequest, tmp_path: Path) -> SagaLog:
    if request.param == "memory":
        return InMemorySagaLog()
    return SqliteSagaLog(tmp_path / "sagas.db")


def test_records_round_trip(any_log: SagaLog) -> None:
    any_log.write(saga("a", at=2.0))
    any_log.write(saga("b", state="completed", at=1.0), step("b", 0, state="succeeded", status=201))
    second = step(
        "a",
        1,
        state="compensation_failed",
        attempts=3,
        last_error="HTTP 503",
        compensation_arguments={"path": {"orderId": "o"}},
        compensation_key="ck",
    )
    any_log.write(step=second)
    any_log.write(step=step("a", 0))
    record, steps = any_log.load("a")
    assert record == saga("a", at=2.0)
    assert steps == [step("a", 0), second]
    assert [s.saga_id for s in any_log.sagas()] == ["b", "a"]
    assert [s.saga_id for s in any_log.sagas({"running"})] == ["a"]
    assert any_log.sagas(()) == []
    with pytest.raises(SagaLogError, match="no saga 'zzz'"):
        any_log.load("zzz")


def test_claim_changes_owner_only_from_the_expected_one(any_log: SagaLog) -> None:
    any_log.write(saga("a", owner="dead"))
    assert any_log.claim("a", "dead", "me", 5.0)
    assert not any_log.claim("a", "dead", "you", 6.0)
    record, _ = any_log.load("a")
    assert (record.owner, record.updated_at) == ("me", 5.0)
    assert not any_log.claim("nope", "x", "y", 1.0)


def test_a_reopened_log_has_everything_and_uses_wal(tmp_path: Path) -> None:
    path = tmp_path / "sagas.db"
    log = SqliteSagaLog(path)
    log.write(saga("a"), step("a", 0))
    log.close()
    again = SqliteSagaLog(path, create=False)
    assert again.load("a") == (saga("a"), [step("a", 0)])
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert again._connection().execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    again.close()


def test_threads_write_concurrently(tmp_path: Path) -> None:
    log = SqliteSagaLog(tmp_path / "sagas.db")

    def work(thread: int) -> None:
        for n in range(30):
            saga_id = f"t{thread}-{n}"
            log.write(saga(saga_id))
            log.write(step=step(saga_id, 0))
            log.write(saga(saga_id, state="completed"), step(saga_id, 0, state="succeeded"))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(log.sagas({"completed"})) == 240
    assert all(log.load(s.saga_id)[1][0].state == "succeeded" for s in log.sagas())
    log.close()


WRITER = textwrap.dedent("""
    import sys
    from seawall_runtime.saga import SagaRecord, SqliteSagaLog
    path, name = sys.argv[1], sys.argv[2]
    log = SqliteSagaLog(path)
    for n in range(40):
        log.write(SagaRecord(f"{name}-{n}", "s", "running", name, n, n, {}))
    won = sum(log.claim(f"contested-{n}", "dead", name, 1.0) for n in range(20))
    print(won)
    """)


def test_processes_write_and_claim_concurrently(tmp_path: Path) -> None:
    path = tmp_path / "sagas.db"
    log = SqliteSagaLog(path)
    for n in range(20):
        log.write(saga(f"contested-{n}", owner="dead"))
    env = {"PYTHONPATH": str(RUNTIME)}
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), f"p{i}"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for i in range(4)
    ]
    results = [worker.communicate(timeout=120) for worker in workers]
    assert [w.returncode for w in workers] == [0] * 4, [err for _, err in results]
    # Every contested saga went to exactly one process.
    assert sum(int(out) for out, _ in results) == 20
    owners = {s.owner for s in log.sagas() if s.saga_id.startswith("contested")}
    assert owners <= {"p0", "p1", "p2", "p3"}
    assert len(log.sagas()) == 20 + 4 * 40
    log.close()


def test_a_file_that_is_not_sqlite_is_reported_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "sagas.db"
    path.write_bytes(b"these are not the sagas you are looking for\n" * 100)
    before = path.read_bytes()
    with pytest.raises(SagaLogError, match=f"{path}.*not an SQLite database"):
        SqliteSagaLog(path)
    assert path.read_bytes() == before


def test_another_sqlite_database_is_not_taken_over(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE users (id INTEGER)")
    with pytest.raises(SagaLogError, match="not a seawall saga log"):
        SqliteSagaLog(path)
    with sqlite3.connect(path) as raw:
        tables = [r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    assert tables == ["users"]


def test_corrupt_pages_are_reported(tmp_path: Path) -> None:
    path = tmp_path / "sagas.db"
    log = SqliteSagaLog(path)
    for n in range(300):
        log.write(saga(f"s{n}"), step(f"s{n}", 0))
    log.close()
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(path.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    for offset in range(page_size * 2, len(data) - page_size, page_size * 3):
        data[offset : offset + 64] = b"\xff" * 64
    path.write_bytes(bytes(data))
    with pytest.raises(SagaLogError, match=str(path)) as raised:
        opened = SqliteSagaLog(path)
        opened.sagas()
        for record in opened.sagas():
            opened.load(record.saga_id)
    assert "corrupt" in str(raised.value) or "malformed" in str(raised.value)
    assert path.read_bytes() == bytes(data)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sagas.db"
    SqliteSagaLog(path).close()
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(SagaLogError, match="schema version 99 is newer"):
        SqliteSagaLog(path)


def test_a_missing_file_is_an_error_when_creation_is_off(tmp_path: Path) -> None:
    path = tmp_path / "typo.db"
    with pytest.raises(SagaLogError, match="no such file"):
        SqliteSagaLog(path, create=False)
    assert not path.exists()


def test_an_unreadable_record_names_the_saga(tmp_path: Path) -> None:
    path = tmp_path / "sagas.db"
    log = SqliteSagaLog(path)
    log.write(saga("a"), step("a", 0))
    with sqlite3.connect(path) as raw:
        raw.execute("UPDATE steps SET data = '{\"service\": 1}'")
    with pytest.raises(SagaLogError, match="step 0 of saga 'a' is unreadable"):
        log.load("a")
    log.close()
