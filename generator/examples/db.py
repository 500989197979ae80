"""SQLite access for the example services: one connection and transaction per request.

Connections are opened per request inside a worker thread, so many requests can
wait on SQLite at once without blocking the event loop. Writes take the write
lock up front (``BEGIN IMMEDIATE``) so that a read-check-write sequence can
never interleave with another writer; reads get a consistent snapshot.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import TypeVar

import anyio.to_thread

from seawall.examples.asgi import HttpError

T = TypeVar("T")

# Writers queue on SQLite's lock; under heavy concurrency a write may wait a while.
BUSY_TIMEOUT_MS = 30_000


def utc_now() -> str:
    """The current time as an RFC 3339 UTC timestamp with millisecond precision."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fetch_or_404(
    connection: sqlite3.Connection, table: str, value: str, *, column: str = "id"
) -> sqlite3.Row:
    """The row of ``table`` whose ``column`` is ``value``, or a 404 naming it.

    ``table`` and ``column`` come from the services' own code, never from a request.
    """
    row: sqlite3.Row | None = connection.execute(
        f"SELECT * FROM {table} WHERE {column} = ?", (value,)
    ).fetchone()
    if row is None:
        raise HttpError(404, "not-found", f"no {table.rstrip('s')} {value}")
    return row


class Database:
    """A SQLite file in WAL mode with a schema, used through short transactions."""

    def __init__(self, path: Path, schema: str) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        connection = self.connect()
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(schema)
        finally:
            connection.close()

    def connect(self) -> sqlite3.Connection:
        """A new connection in autocommit mode (transactions are explicit)."""
        connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        connection.row_factory = sqlite3.Row
        connection.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        # In WAL mode, NORMAL survives a crash of the process (commits are never
        # torn); only a power cut can lose the last commits, not split them.
        connection.execute("PRAGMA synchronous=NORMAL")
        return connection

    def run_write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in one ``BEGIN IMMEDIATE`` transaction; roll back if it raises."""
        return self._transaction("BEGIN IMMEDIATE", work)

    def run_read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run ``work`` in one read transaction (a consistent snapshot)."""
        return self._transaction("BEGIN", work)

    async def write(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """:meth:`run_write` in a worker thread."""
        return await anyio.to_thread.run_sync(self.run_write, work)

    async def read(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """:meth:`run_read` in a worker thread."""
        return await anyio.to_thread.run_sync(self.run_read, work)

    def _transaction(self, begin: str, work: Callable[[sqlite3.Connection], T]) -> T:
        connection = self.connect()
        try:
            connection.execute(begin)
            try:
                result = work(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return result
        finally:
            connection.close()
