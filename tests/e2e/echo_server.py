"""A raw ASGI app implementing tests/e2e/echo.yaml: it echoes what it received."""

from __future__ import annotations

import json
import urllib.parse
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from seawall.examples.server import read_body

Scope = dict[str, Any]

_blobs: dict[str, bytes] = {}
_items: dict[str, dict[str, Any]] = {}


async def _send(send: Any, status: int, payload: Any = None, raw: bytes | None = None,
                content_type: str = "application/json") -> None:
    if raw is None:
        raw = b"" if payload is None else json.dumps(payload).encode()
    headers = [(b"content-type", content_type.encode())] if raw else []
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


def _echo(scope: Scope, body: bytes) -> dict[str, Any]:
    headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
    cookies: dict[str, str] = {}
    for part in headers.get("cookie", "").split(";"):
        if "=" in part:
            name, value = part.strip().split("=", 1)
            cookies[name] = value
    echo: dict[str, Any] = {
        "method": scope["method"],
        "path": scope["raw_path"].decode(),
        "query": scope["query_string"].decode(),
        "headers": headers,
        "cookies": cookies,
    }
    content_type = headers.get("content-type", "")
    if content_type.startswith("application/json") and body:
        echo["body"] = json.loads(body)
    elif content_type.startswith("application/x-www-form-urlencoded"):
        echo["form"] = dict(urllib.parse.parse_qsl(body.decode()))
    return echo


def _multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    message = BytesParser(policy=HTTP).parsebytes(
        f"Content-Type: {content_type}\r\n\r\n".encode() + body
    )
    parts: dict[str, tuple[str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        parts[str(name)] = (part.get_filename(), payload if isinstance(payload, bytes) else b"")
    return parts


async def app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    body = await read_body(receive)
    method, path = scope["method"], scope["path"]
    segments = path.strip("/").split("/")
    headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
    if segments[0] == "echo" and method == "GET":
        await _send(send, 200, _echo(scope, body))
    elif path == "/items" and method == "POST":
        item = json.loads(body)
        if item.get("price", 0) < 0:
            await _send(send, 422, {"title": "price must not be negative", "field": "price"})
            return
        item["id"] = f"item-{len(_items) + 1}"
        _items[item["id"]] = item
        await _send(send, 201, item)
    elif segments[0] == "items" and method == "DELETE":
        if _items.pop(segments[1], None) is None:
            await _send(send, 404, {"title": "no such item", "field": None})
        else:
            await _send(send, 204)
    elif path == "/forms" and method == "POST":
        await _send(send, 200, _echo(scope, body))
    elif path == "/uploads" and method == "POST":
        parts = _multipart(headers["content-type"], body)
        filename, content = parts["file"]
        note = parts["note"][1].decode()
        await _send(send, 200, {"filename": filename or "", "size": len(content), "note": note})
    elif segments[0] == "blobs" and method == "PUT":
        _blobs[segments[1]] = body
        await _send(send, 204)
    elif segments[0] == "blobs" and method == "GET":
        await _send(send, 200, raw=_blobs.get(segments[1], b""),
                    content_type="application/octet-stream")
    elif path == "/secure":
        await _send(send, 200, _echo(scope, body))
    elif path == "/teapot":
        await _send(send, 418, raw=b"I'm a teapot", content_type="text/plain")
    else:
        await _send(send, 404, {"title": f"no route for {method} {path}"})
