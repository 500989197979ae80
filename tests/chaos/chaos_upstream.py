"""A tiny upstream ASGI app for the chaos tests; they serve it with ``serve_in_thread``."""

from __future__ import annotations

import threading
from collections import Counter

from seawall.chaos.asgi import Receive, Scope, Send, send_json
from seawall.examples.server import read_body


class Upstream:
    """Counts requests per ``"METHOD /path"`` and echoes what it got as JSON."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = await read_body(receive)
        with self.lock:
            self.seen[f"{scope['method']} {scope['path']}"] += 1
        echo = {
            "method": scope["method"],
            "path": scope["path"],
            "query": scope["query_string"].decode(),
            "headers": {k.decode(): v.decode() for k, v in scope["headers"]},
            "body": body.decode(),
        }
        await send_json(send, 201 if scope["method"] == "POST" else 200, echo, [(b"x-up", b"1")])

    def count(self, key: str) -> int:
        with self.lock:
            return self.seen[key]
