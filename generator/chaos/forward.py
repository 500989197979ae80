"""The reverse-proxy ASGI app: forwards each request to the upstream with httpx.

Bodies stream both ways; end-to-end headers are kept, hop-by-hop ones (and
those the Connection header names) are dropped; Host becomes the upstream's.
The upstream's answer is passed on byte for byte (``aiter_raw``: no
decompression). Forwarded/answered/failed requests are counted in the state.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from urllib.parse import quote

import httpx

from seawall.chaos.asgi import CHAOS_HEADER, Receive, Scope, Send, send_json
from seawall.chaos.state import ChaosState

Headers = list[tuple[bytes, bytes]]

HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)


def end_to_end(headers: Iterable[tuple[bytes, bytes]]) -> Headers:
    """The headers without hop-by-hop ones, including those listed in Connection."""
    pairs = [(name.lower(), value) for name, value in headers]
    named = {
        token.strip().lower()
        for name, value in pairs
        if name == b"connection"
        for token in value.split(b",")
    }
    return [(name, value) for name, value in pairs if name not in HOP_BY_HOP | named]


async def _request_body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionAbortedError("the client went away while sending the body")
        body = message.get("body", b"")
        if body:
            yield body
        if not message.get("more_body", False):
            return


class ForwardingApp:
    """Sends every HTTP request to ``upstream`` (a base URL) through ``client``."""

    def __init__(self, upstream: str, client: httpx.AsyncClient, state: ChaosState) -> None:
        self.upstream = upstream.rstrip("/")
        self.client = client
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return  # no lifespan or websocket support: nothing to set up
        raw_path = scope.get("raw_path") or quote(scope["path"]).encode()
        url = self.upstream + raw_path.decode("latin-1")
        if scope["query_string"]:
            url += "?" + scope["query_string"].decode("latin-1")
        headers = [(k, v) for k, v in end_to_end(scope["headers"]) if k != b"host"]
        has_body = any(k in (b"content-length", b"transfer-encoding") for k, _ in scope["headers"])
        request = self.client.build_request(
            scope["method"], url, headers=headers, content=_request_body(receive) if has_body else None
        )
        self.state.count("forwarded")
        try:
            response = await self.client.send(request, stream=True)
        except (httpx.HTTPError, ConnectionAbortedError) as err:
            self.state.count("upstream_errors")
            # The error's type says what failed; its text could echo the URL's userinfo.
            body = {"error": "upstream unreachable", "reason": type(err).__name__}
            await send_json(send, 502, body, [(CHAOS_HEADER, b"upstream-error")])
            return
        self.state.count("answered")
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": end_to_end(response.headers.raw),
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()
