"""A small HTTP/1.1 server for ASGI apps that controls its own sockets.

Why not uvicorn: fault injection has to reset a connection (a TCP RST, no
response at all) and to stop accepting connections for a while, then accept
again on the same port. uvicorn keeps its transports and listening sockets in
internals; owning the asyncio server (and using h11 for the protocol) makes
both an ordinary, tested operation here. Connection resets are offered to the
app as the scope extension ``seawall.chaos.abort``.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct
from urllib.parse import unquote

import h11

from seawall.chaos.asgi import ABORT_EXTENSION, ASGIApp, Message, Scope

log = logging.getLogger("seawall.chaos")

_READ_SIZE = 65536
_DRAIN_LIMIT = 1 << 20
_REUSE_PORT = hasattr(socket, "SO_REUSEPORT")


def reset_transport(transport: asyncio.BaseTransport) -> None:
    """Close a TCP connection with a reset: SO_LINGER 0 turns close into RST."""
    sock = transport.get_extra_info("socket")
    if sock is not None:
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:  # already closed by the peer: nothing left to reset
            pass
    if isinstance(transport, asyncio.Transport):
        transport.abort()
    else:
        transport.close()


class _Connection:
    """One client connection: reads requests with h11 and runs the app for each."""

    def __init__(self, app: ASGIApp, reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
        self.app = app
        self.reader = reader
        self.writer = writer
        self.h11 = h11.Connection(h11.SERVER)
        self.aborted = False
        self.peer_closed = False

    def reset(self) -> None:
        """Drop the connection with a TCP reset; later writes are ignored."""
        if not self.aborted:
            self.aborted = True
            reset_transport(self.writer.transport)

    async def read_event(self) -> h11.Event | type[h11.PAUSED]:
        """The next h11 event, reading from the socket as needed."""
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event  # type: ignore[return-value]
            self.h11.receive_data(await self._read())

    async def wait_for_disconnect(self) -> None:
        """Block until the client closes the connection (bytes read meanwhile are kept)."""
        while not self.peer_closed:
            data = await self._read()
            if data:
                self.h11.receive_data(data)

    async def _read(self) -> bytes:
        if self.peer_closed or self.aborted:
            return b""
        try:
            data = await self.reader.read(_READ_SIZE)
        except OSError:
            data = b""
        self.peer_closed = not data
        return data

    async def _drain_request_body(self) -> None:
        """Read what the app left of the request body, so the connection can be reused.

        Closing a socket with unread input sends a reset, which would look like
        an injected fault. Bodies over the limit are not worth it: close instead.
        """
        left = _DRAIN_LIMIT
        while not self.aborted and left > 0 and self.h11.their_state is h11.SEND_BODY:
            event = await self.read_event()
            if isinstance(event, h11.Data):
                left -= len(event.data)
            elif not isinstance(event, h11.EndOfMessage):
                return

    def write(self, event: h11.Event) -> None:
        """Encode and write an h11 event (ignored once the connection is reset)."""
        data = self.h11.send(event)
        if data and not self.aborted:
            self.writer.write(data)

    async def serve(self) -> None:
        """Answer requests until the connection cannot be kept alive."""
        try:
            while not self.aborted:
                event = await self.read_event()
                if not isinstance(event, h11.Request):
                    return
                await _Exchange(self, event).run()
                await self._drain_request_body()
                if self.aborted or not (
                    self.h11.our_state is h11.DONE and self.h11.their_state is h11.DONE
                ):
                    return
                self.h11.start_next_cycle()
        except h11.RemoteProtocolError as err:
            if self.h11.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                self.write(h11.Response(status_code=err.error_status_hint, headers=[]))
                self.write(h11.EndOfMessage())
        except OSError:
            self.reset()
        finally:
            if not self.aborted:
                self.writer.close()


class _Exchange:
    """One request/response: the ASGI ``receive``/``send`` pair over a connection."""

    def __init__(self, connection: _Connection, request: h11.Request) -> None:
        self.connection = connection
        self.request = request
        self.body_done = False
        self.started = False
        self.complete = False

    def scope(self) -> Scope:
        writer = self.connection.writer
        target = bytes(self.request.target)
        raw_path, _, query = target.partition(b"?")
        return {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": self.request.http_version.decode(),
            "method": self.request.method.decode(),
            "scheme": "http",
            "path": unquote(raw_path.decode("latin-1")),
            "raw_path": raw_path,
            "query_string": query,
            "root_path": "",
            "headers": [(name.lower(), value) for name, value in self.request.headers],
            "client": writer.get_extra_info("peername"),
            "server": writer.get_extra_info("sockname"),
            "extensions": {ABORT_EXTENSION: {"abort": self.connection.reset}},
        }

    async def receive(self) -> Message:
        if self.body_done or self.complete:
            if not self.complete:
                await self.connection.wait_for_disconnect()
            return {"type": "http.disconnect"}
        try:
            event = await self.connection.read_event()
        except h11.RemoteProtocolError:
            event = h11.ConnectionClosed()
        if isinstance(event, h11.Data):
            return {"type": "http.request", "body": bytes(event.data), "more_body": True}
        if isinstance(event, h11.EndOfMessage):
            self.body_done = True
            return {"type": "http.request", "body": b"", "more_body": False}
        self.body_done = True
        self.connection.peer_closed = True
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        if kind == "http.response.start" and not self.started:
            self.started = True
            headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", [])]
            self.connection.write(h11.Response(status_code=message["status"], headers=headers))
        elif kind == "http.response.body" and self.started and not self.complete:
            body = bytes(message.get("body", b""))
            if body:
                self.connection.write(h11.Data(data=body))
            if not message.get("more_body", False):
                self.complete = True
                self.connection.write(h11.EndOfMessage())
        else:
            raise RuntimeError(f"unexpected ASGI message {kind!r} at this point")
        if not self.connection.aborted:
            await self.connection.writer.drain()

    async def run(self) -> None:
        try:
            await self.connection.app(self.scope(), self.receive, self.send)
        except Exception:
            log.exception("the ASGI app failed on %s", self.request.method.decode())
        if self.connection.aborted:
            return
        if not self.started:
            await self.send({"type": "http.response.start", "status": 500, "headers": []})
            await self.send({"type": "http.response.body", "body": b""})
        elif not self.complete:  # the response cannot be finished: don't pretend it was
            self.connection.reset()


class HttpServer:
    """Serves an ASGI app on ``host:port``; can stop and resume listening on that port.

    While the listener is closed the port stays reserved: a bound, never
    listening "holder" socket shares it through SO_REUSEPORT, so connections
    are refused, yet no other socket (say, a client's ephemeral port) can take
    the port and make listening again fail. Without SO_REUSEPORT (Windows) the
    port is simply bound again, which can fail if it was taken meanwhile.
    """

    def __init__(self, app: ASGIApp, host: str = "127.0.0.1", port: int = 0) -> None:
        self.app = app
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._holders: list[socket.socket] = []
        self._connections: dict[asyncio.Task[None], _Connection] = {}

    @property
    def listening(self) -> bool:
        """Whether new connections are accepted."""
        return self._server is not None

    async def start(self) -> None:
        """Bind and listen; ``port`` 0 picks a free port, stored in ``self.port``."""
        await self.resume_listening()
        assert self._server is not None  # resume_listening either listens or raises
        if _REUSE_PORT:
            for listener in self._server.sockets:
                holder = socket.socket(listener.family, socket.SOCK_STREAM)
                holder.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
                holder.bind(listener.getsockname())
                self._holders.append(holder)

    async def stop_listening(self) -> None:
        """Close the listening socket: new connections are refused, open ones stay."""
        if self._server is not None:
            self._server.close()
            self._server = None

    async def resume_listening(self) -> None:
        """Listen again on the same port."""
        if self._server is None:
            self._server = await asyncio.start_server(
                self._on_connection, self.host, self.port, reuse_address=True, reuse_port=_REUSE_PORT
            )
            self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        """Stop listening, release the port and reset every open connection."""
        await self.stop_listening()
        for holder in self._holders:
            holder.close()
        self._holders.clear()
        for connection in self._connections.values():
            connection.reset()
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _on_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        task = asyncio.current_task()
        assert task is not None  # a connection callback always runs in a task
        connection = _Connection(self.app, reader, writer)
        self._connections[task] = connection
        try:
            await connection.serve()
        except asyncio.CancelledError:
            # Only close() cancels handlers. Swallowed because asyncio's stream
            # callback reports a cancelled handler task as an unhandled error.
            pass
        finally:
            del self._connections[task]
