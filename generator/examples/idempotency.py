"""Idempotency-Key handling as the IETF httpapi idempotency-key draft describes.

The stored response for a key is written in the same transaction as the side
effect it records, so a crash cannot keep one without the other. Which keys
are being processed right now is kept in memory: a service is one process
with one event loop, and a key that was in flight when the process died left
nothing behind (its transaction rolled back), so the next request runs anew.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from seawall.examples.asgi import HttpError, Request, Response, error_response
from seawall.examples.db import Database, utc_now

HEADER = "idempotency-key"
MAX_KEY_LENGTH = 255
REPLAYED_HEADER = "Idempotent-Replayed"
# Headers worth replaying: the rest (date, server, length) belong to the new exchange.
_REPLAYED_HEADERS = frozenset({"location"})

SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    key TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL,
    status INTEGER NOT NULL,
    headers TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
"""

Effect = Callable[[sqlite3.Connection], Response]


async def _no_pause(operation: str) -> None:
    """The default hook: go straight on."""


@dataclass(frozen=True)
class Hooks:
    """Test hooks. ``before_effect`` is awaited after a request has claimed its
    idempotency key and before its transaction starts, with the operation's name."""

    before_effect: Callable[[str], Awaitable[None]] = _no_pause


def run_effect(connection: sqlite3.Connection, effect: Effect) -> Response:
    """Run ``effect``; an :class:`HttpError` it raises undoes its writes and becomes the answer."""
    connection.execute("SAVEPOINT effect")
    try:
        response = effect(connection)
    except HttpError as error:
        connection.execute("ROLLBACK TO effect")
        response = error.response
    connection.execute("RELEASE effect")
    return response


def fingerprint(request: Request) -> str:
    """A digest of what makes two requests "the same": method, path and JSON body.

    The body is compared after parsing so that formatting and key order do
    not matter; a body that is not JSON is compared byte for byte.
    """
    try:
        canonical = json.dumps(json.loads(request.body), sort_keys=True, separators=(",", ":"))
        body = canonical.encode()
    except (ValueError, UnicodeDecodeError):
        body = request.body
    digest = hashlib.sha256()
    for part in (request.method.encode(), request.path.encode(), body):
        digest.update(len(part).to_bytes(8, "big"))
        digest.update(part)
    return digest.hexdigest()


class IdempotentWrites:
    """Runs a service's side effects at most once per Idempotency-Key."""

    def __init__(self, database: Database, hooks: Hooks) -> None:
        self._database = database
        self._hooks = hooks
        self._in_flight: set[str] = set()

    async def run(self, request: Request, operation: str, effect: Effect) -> Response:
        """Run ``effect`` in a write transaction, guarded by the request's key if it has one."""
        key = request.headers.get(HEADER)
        if key is None:
            await self._hooks.before_effect(operation)
            return await self._database.write(lambda connection: run_effect(connection, effect))
        _check_key(key)
        if key in self._in_flight:
            return error_response(
                409,
                "idempotency-key-in-flight",
                "a request with this Idempotency-Key is still being processed; retry later",
            )
        digest = fingerprint(request)
        self._in_flight.add(key)
        try:
            await self._hooks.before_effect(operation)
            return await self._database.write(
                lambda connection: _once(connection, key, digest, effect)
            )
        finally:
            self._in_flight.discard(key)


def _check_key(key: str) -> None:
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isprintable() or not key.isascii():
        raise HttpError(
            422,
            "invalid-idempotency-key",
            f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable ASCII characters",
        )


def _once(connection: sqlite3.Connection, key: str, digest: str, effect: Effect) -> Response:
    row = connection.execute(
        "SELECT fingerprint, status, headers, body FROM idempotency_keys WHERE key = ?", (key,)
    ).fetchone()
    if row is not None:
        if row["fingerprint"] != digest:
            return error_response(
                422,
                "idempotency-key-reused",
                "this Idempotency-Key was used for a different request",
            )
        headers = tuple((name, value) for name, value in json.loads(row["headers"]))
        return Response(
            row["status"], json.loads(row["body"]), headers + ((REPLAYED_HEADER, "true"),)
        )
    response = run_effect(connection, effect)
    stored_headers = [[n, v] for n, v in response.headers if n.lower() in _REPLAYED_HEADERS]
    connection.execute(
        "INSERT INTO idempotency_keys (key, fingerprint, status, headers, body, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?)",
        (
            key,
            digest,
            response.status,
            json.dumps(stored_headers),
            json.dumps(response.body),
            utc_now(),
        ),
    )
    return response
