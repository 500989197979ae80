"""A tiny upstream ASGI app and a uvicorn runner for it, on loopback."""

from __future__ import annotations

import socket
import threading
from collections import Counter

import uvicorn

from seawall.chaos.asgi import ASGIApp, Receive, Scope, Send, send_json


class Upstream:
    """Counts requests per ``"METHOD /path"`` and echoes what it got as JSON."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.lock = threading.Lock()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
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


class UvicornThread:
    """Serves an ASGI app with uvicorn in a thread, on a socket bound beforehand."""

    def __init__(self, app: ASGIApp) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        config = uvicorn.Config(app, lifespan="off", log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]})

    def __enter__(self) -> UvicornThread:
        self.thread.start()
        for _ in range(500):  # bounded: at most ~5 s
            if self.server.started:
                return self
            self.thread.join(0.01)
        raise RuntimeError("uvicorn did not start")

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(10)
        self.sock.close()
