"""The default saga log: one SQLite file (standard library), WAL mode, synchronous writes.

Every state change is one ``BEGIN IMMEDIATE`` … ``COMMIT`` transaction with
``synchronous=FULL``, so once :meth:`SqliteSagaLog.write` returns the record
survives a crash of the process or the machine. Many threads (sharing the
process's connection under a lock) and many processes may share one file;
SQLite's locking serialises the writers. An existing file that is not a readable saga log is reported with
:class:`SagaLogError` naming it, and is never deleted, truncated or recreated.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from seawall_runtime.saga.log import saga_state, step_from_json, step_to_json
from seawall_runtime.saga.model import SagaLogError, SagaRecord, StepRecord

SCHEMA_VERSION = 1
APPLICATION = "seawall-saga-log"
_SQLITE_MAGIC = b"SQLite format 3\x00"
_BUSY_TIMEOUT_SECONDS = 30.0

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE sagas (
    saga_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    state TEXT NOT NULL,
    owner TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    detail TEXT NOT NULL
);
CREATE INDEX sagas_by_state ON sagas (state, created_at);
CREATE TABLE steps (
    saga_id TEXT NOT NULL REFERENCES sagas (saga_id),
    idx INTEGER NOT NULL,
    data TEXT NOT NULL,
    PRIMARY KEY (saga_id, idx)
);
"""


class SqliteSagaLog:
    """A :class:`~seawall_runtime.saga.log.SagaLog` in one SQLite file.

    ``create=False`` refuses to make a new file (the command line uses it, so a
    typo in a path is an error rather than a fresh, empty log).
    ``check=True`` runs SQLite's ``quick_check`` on open to catch corruption early.
    """

    def __init__(
        self, path: str | os.PathLike[str], *, create: bool = True, check: bool = True
    ) -> None:
        self.path = Path(path)
        # One connection per process, shared by its threads under a lock:
        # SQLite serialises writers anyway, and nothing leaks per thread.
        self._lock = threading.RLock()
        self._held: tuple[int, sqlite3.Connection] | None = None
        try:
            self._open(create=create, check=check)
        except SagaLogError:
            self.close()
            raise

    # -- opening ----------------------------------------------------------------

    def _fail(self, problem: str) -> SagaLogError:
        return SagaLogError(f"saga log {self.path}: {problem}")

    def _open(self, *, create: bool, check: bool) -> None:
        exists = self.path.exists()
        if not exists and not create:
            raise self._fail("no such file")
        if exists:
            self._check_header()
        with self._guard():
            with self._transaction() as connection:
                # Inside the write lock, so two processes creating one file agree.
                tables = {
                    row[0]
                    for row in connection.execute(
                        "SELECT name FROM sqlite_master WHERE type = 'table'"
                    )
                }
                if not tables:
                    for statement in filter(str.strip, _SCHEMA.split(";")):
                        connection.execute(statement)
                    connection.execute("INSERT INTO meta VALUES ('application', ?)", (APPLICATION,))
                    connection.execute(
                        "INSERT INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),)
                    )
                elif "meta" not in tables:
                    raise self._fail(
                        "an SQLite database, but not a seawall saga log (no meta table)"
                    )
            self._check_meta(connection)
            if check:
                problems = [row[0] for row in connection.execute("PRAGMA quick_check")]
                if problems != ["ok"]:
                    raise self._fail("corrupt: " + "; ".join(problems[:5]))

    def _check_header(self) -> None:
        try:
            with self.path.open("rb") as file:
                header = file.read(len(_SQLITE_MAGIC))
        except OSError as error:
            raise self._fail(f"cannot be read ({error.strerror or error})") from None
        if header and header != _SQLITE_MAGIC:
            raise self._fail("not an SQLite database (wrong file header); it was left untouched")

    def _check_meta(self, connection: sqlite3.Connection) -> None:
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        if meta.get("application") != APPLICATION:
            raise self._fail("an SQLite database, but not a seawall saga log")
        version = meta.get("schema_version", "")
        if not version.isdigit():
            raise self._fail(f"unreadable schema version {version!r}")
        if int(version) > SCHEMA_VERSION:
            raise self._fail(
                f"schema version {version} is newer than this seawall-runtime understands"
                f" ({SCHEMA_VERSION}); upgrade seawall-runtime"
            )

    def _connection(self) -> sqlite3.Connection:
        """This process's connection (call with the lock held); a forked child opens its own."""
        if self._held is not None and self._held[0] == os.getpid():
            return self._held[1]
        connection = sqlite3.connect(
            self.path, timeout=_BUSY_TIMEOUT_SECONDS, isolation_level=None, check_same_thread=False
        )
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA foreign_keys = ON")
        self._held = (os.getpid(), connection)
        return connection

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """Hold the lock; turn SQLite's errors into :class:`SagaLogError` naming the file."""
        with self._lock:
            try:
                yield
            except sqlite3.Error as error:
                raise self._fail(str(error)) from error

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        connection = self._connection()
        connection.execute("BEGIN IMMEDIATE")
        try:
            yield connection
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    # -- the SagaLog protocol ---------------------------------------------------

    def write(self, saga: SagaRecord | None = None, step: StepRecord | None = None) -> None:
        with self._guard(), self._transaction() as connection:
            if saga is not None:
                connection.execute(
                    "INSERT OR REPLACE INTO sagas VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        saga.saga_id,
                        saga.name,
                        saga.state,
                        saga.owner,
                        saga.created_at,
                        saga.updated_at,
                        json.dumps(dict(saga.detail)),
                    ),
                )
            if step is not None:
                connection.execute(
                    "INSERT OR REPLACE INTO steps VALUES (?, ?, ?)",
                    (step.saga_id, step.index, json.dumps(step_to_json(step))),
                )

    def load(self, saga_id: str) -> tuple[SagaRecord, list[StepRecord]]:
        with self._guard():
            connection = self._connection()
            row = connection.execute("SELECT * FROM sagas WHERE saga_id = ?", (saga_id,)).fetchone()
            if row is None:
                raise self._fail(f"no saga {saga_id!r}")
            rows = connection.execute(
                "SELECT idx, data FROM steps WHERE saga_id = ? ORDER BY idx", (saga_id,)
            ).fetchall()
        return self._saga(row), [self._step(saga_id, idx, data) for idx, data in rows]

    def sagas(self, states: Collection[str] | None = None) -> list[SagaRecord]:
        query = "SELECT * FROM sagas"
        parameters: tuple[str, ...] = ()
        if states is not None:
            parameters = tuple(states)
            query += (
                f" WHERE state IN ({', '.join('?' for _ in parameters)})"
                if parameters
                else " WHERE 0"
            )
        with self._guard():
            rows = (
                self._connection()
                .execute(query + " ORDER BY created_at, saga_id", parameters)
                .fetchall()
            )
        return [self._saga(row) for row in rows]

    def claim(self, saga_id: str, expected_owner: str, new_owner: str, now: float) -> bool:
        with self._guard(), self._transaction() as connection:
            changed = connection.execute(
                "UPDATE sagas SET owner = ?, updated_at = ? WHERE saga_id = ? AND owner = ?",
                (new_owner, now, saga_id, expected_owner),
            ).rowcount
        return changed == 1

    def close(self) -> None:
        with self._lock:
            held, self._held = self._held, None
        if held is not None and held[0] == os.getpid():
            held[1].close()

    # -- decoding ---------------------------------------------------------------

    def _saga(self, row: tuple[Any, ...]) -> SagaRecord:
        saga_id, name, state, owner, created_at, updated_at, detail = row
        try:
            return SagaRecord(
                saga_id, name, saga_state(state), owner, created_at, updated_at, json.loads(detail)
            )
        except (ValueError, TypeError) as error:
            raise self._fail(f"saga {saga_id!r} has an unreadable record ({error})") from None

    def _step(self, saga_id: str, index: int, data: str) -> StepRecord:
        try:
            return step_from_json(saga_id, index, json.loads(data))
        except (ValueError, TypeError, KeyError) as error:
            raise self._fail(
                f"step {index} of saga {saga_id!r} is unreadable ({error!r})"
            ) from None
