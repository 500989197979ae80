"""A loopback HTTP/1.1 server that injects faults, for integration tests.

Each path follows a plan: a list of steps, one per request (the last one
repeats). Steps:

* ``"200"``, ``"503"``…: that status with a short body
* ``"503 retry-after=2"``: with a Retry-After header
* ``"reset"``: start a response, then reset the connection mid-body
* ``"slow=1.5"``: wait that long, then answer 200
* ``"trickle=1.5"``: answer 200 at once, but send the body slowly over that long
* ``"big=N"``: 200 with an N-byte body
* ``"redirect=URL"``: 307 to URL

It records every request (method, path, headers, body). Only 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from seawall.examples.server import LOOPBACK, bind_loopback


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


class FaultServer:
    def __init__(self) -> None:
        self.plans: dict[str, list[str]] = {}
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.port = 0

    # -- test side ---------------------------------------------------------

    def start(self) -> FaultServer:
        self._thread.start()
        self._ready.wait(5)
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def plan(self, path: str, *steps: str) -> str:
        with self._lock:
            self.plans[path] = list(steps)
        return path

    def requests_to(self, path: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path == path]

    # -- server side -------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", 0, backlog=512)
        )
        self.port = server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        server.close()
        # Handlers still waiting (a hanging step, a client that went away) end
        # here, not as "Task was destroyed but it is pending!" at exit.
        pending = asyncio.all_tasks(self._loop)
        for task in pending:
            task.cancel()
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        self._loop.close()

    def _next_step(self, path: str) -> str:
        with self._lock:
            steps = self.plans.get(path, ["200"])
            return steps.pop(0) if len(steps) > 1 else steps[0]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                name, value = line.split(":", 1)
                headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        path = target.split("?", 1)[0]
        with self._lock:
            self.seen.append(Seen(method, path, headers, body, time.monotonic()))
        step = self._next_step(path)
        try:
            await self._answer(step, writer)
        except ConnectionError:
            pass

    async def _answer(self, step: str, writer: asyncio.StreamWriter) -> None:
        extra = ""
        status, body = 200, b"ok"
        if step == "reset":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\npartial")
            await writer.drain()
            sock = writer.get_extra_info("socket")
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return
        if step.startswith("trickle="):  # the body in 10 chunks, spread over N seconds
            pause = float(step.split("=", 1)[1]) / 10
            writer.write(b"HTTP/1.1 200 X\r\nContent-Length: 10\r\nConnection: close\r\n\r\n")
            for _ in range(10):
                await writer.drain()
                await asyncio.sleep(pause)
                writer.write(b"x")
            await writer.drain()
            writer.close()
            return
        if step.startswith("slow="):
            await asyncio.sleep(float(step.split("=", 1)[1]))
        elif step.startswith("big="):
            body = b"x" * int(step.split("=", 1)[1])
        elif step.startswith("redirect="):
            status, extra = 307, f"Location: {step.split('=', 1)[1]}\r\n"
        else:
            code, *options = step.split()
            status = int(code)
            body = f"status {status}".encode()
            for option in options:
                name, value = option.split("=", 1)
                extra += f"{name}: {value}\r\n"
        head = (
            f"HTTP/1.1 {status} X\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n{extra}\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()
        writer.close()


@contextmanager
def refused_url() -> Iterator[str]:
    """A loopback URL where nothing listens: its port stays bound, not listening,
    while the block runs, so no other process can take it meanwhile."""
    with bind_loopback() as sock:
        yield f"http://{LOOPBACK}:{sock.getsockname()[1]}"
