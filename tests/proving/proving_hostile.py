"""A hostile HTTP server for the bad-response tests: plain ASGI, served with ``serve_in_thread``.

``GET /things/<case>`` answers in the broken way ``case`` names; every request
is counted in :attr:`HostileApp.hits` so tests can see what reached it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

THING = b'{"id": 7, "name": "widget"}'
INVALID_JSON = b'{"id": 7, "name": '
WRONG_SCHEMA = b'{"id": "seven", "name": "widget"}'
HTML = b"<html><body>502 Bad Gateway</body></html>"
CHUNK = b"x" * 65536
TRICKLE_INTERVAL = 0.1  # seconds between bytes
TRICKLE_BYTES = 100  # 10 s in all: far past any attempt timeout in the tests


class HostileApp:
    """The misbehaving application; ``redirect_to`` is where ``other-origin`` points."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        self.redirect_to = ""
        self.huge_chunks = 0  # set by the test: how many CHUNKs ``huge`` sends

    async def __call__(self, scope: Scope, receive: Any, send: Send) -> None:
        if scope["type"] != "http":
            return
        case = scope["path"].rsplit("/", 1)[-1]
        self.hits[case] += 1
        if case == "trickle":
            await self._trickle(receive, send)
        elif case == "huge":
            await self._stream(send, "application/json", [CHUNK] * self.huge_chunks)
        else:
            status, headers, body = self._answer(case)
            await _respond(send, status, headers, body)

    def _answer(self, case: str) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        json = [(b"content-type", b"application/json")]
        answers: dict[str, tuple[int, list[tuple[bytes, bytes]], bytes]] = {
            "ok": (200, json, THING),
            "invalid-json": (200, json, INVALID_JSON),
            "wrong-schema": (200, json, WRONG_SCHEMA),
            "wrong-content-type": (200, [(b"content-type", b"text/html")], HTML),
            "empty": (200, json, b""),
            "same-origin": (302, [(b"location", b"/things/ok")], b""),
            "other-origin": (302, [(b"location", f"{self.redirect_to}/things/ok".encode())], b""),
            "loop": (302, [(b"location", b"/things/loop")], b""),
        }
        return answers.get(case, (404, json, b'{"code": "not-found"}'))

    async def _trickle(self, receive: Any, send: Send) -> None:
        """One byte at a time, until done or until the client hangs up."""

        async def hung_up() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass

        watcher = asyncio.ensure_future(hung_up())
        await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
        for _ in range(TRICKLE_BYTES):
            if watcher.done():
                return
            await send({"type": "http.response.body", "body": b" ", "more_body": True})
            await asyncio.sleep(TRICKLE_INTERVAL)
        watcher.cancel()
        await send({"type": "http.response.body", "body": THING})

    async def _stream(self, send: Send, content_type: str, chunks: list[bytes]) -> None:
        headers = [(b"content-type", content_type.encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})


async def _respond(send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
