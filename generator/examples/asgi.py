"""A tiny JSON-over-HTTP framework on plain ASGI: requests, responses, routing.

The example services need only a handful of routes with path parameters and
JSON bodies, so this is written here rather than pulling in a web framework.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

MAX_BODY_BYTES = 1 << 20
_PARAM = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Request:
    """One HTTP request as a handler sees it (header names in lower case)."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    path_params: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Response:
    """A JSON response: status, body (any JSON value) and extra headers."""

    status: int
    body: object
    headers: tuple[tuple[str, str], ...] = ()


class HttpError(Exception):
    """Raised by handlers to answer with an error document."""

    def __init__(
        self, status: int, code: str, message: str, details: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.response = error_response(status, code, message, details)


def error_response(
    status: int, code: str, message: str, details: list[dict[str, str]] | None = None
) -> Response:
    """The services' error model: ``{code, message, details?}``."""
    body: dict[str, object] = {"code": code, "message": message}
    if details:
        body["details"] = details
    return Response(status, body)


Handler = Callable[[Request], Awaitable[Response]]


@dataclass(frozen=True)
class _Route:
    method: str
    pattern: re.Pattern[str]
    handler: Handler


class Router:
    """Maps ``METHOD /path/{param}`` templates to handlers."""

    def __init__(self) -> None:
        self._routes: list[_Route] = []

    def add(self, method: str, template: str, handler: Handler) -> None:
        """Register ``handler`` for ``method`` on a path template."""
        regex = ""
        position = 0
        for match in _PARAM.finditer(template):
            regex += re.escape(template[position : match.start()])
            regex += f"(?P<{match.group(1)}>[^/]+)"
            position = match.end()
        regex += re.escape(template[position:])
        self._routes.append(_Route(method.upper(), re.compile(regex), handler))

    def resolve(self, method: str, path: str) -> tuple[Handler, dict[str, str]]:
        """The handler and path parameters for a request; raises 404 or 405."""
        path_matched = False
        for route in self._routes:
            match = route.pattern.fullmatch(path)
            if match is None:
                continue
            path_matched = True
            if route.method == method:
                return route.handler, match.groupdict()
        if path_matched:
            raise HttpError(405, "method-not-allowed", f"{method} is not allowed on {path}")
        raise HttpError(404, "not-found", f"no route for {path}")


class JsonApp:
    """An ASGI application answering every request through a :class:`Router`."""

    def __init__(self, router: Router) -> None:
        self.router = router

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        try:
            request = await _read_request(scope, receive)
        except HttpError as error:
            await _send(send, error.response)
            return
        await _send(send, await self._dispatch(request))

    async def _dispatch(self, request: Request) -> Response:
        try:
            handler, params = self.router.resolve(request.method, request.path)
            request.path_params.update(params)
            return await handler(request)
        except HttpError as error:
            return error.response
        except Exception:  # a bug must not kill the connection silently
            _log.exception("unhandled error in %s %s", request.method, request.path)
            return error_response(500, "internal-error", "internal server error")


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _read_request(scope: Scope, receive: Receive) -> Request:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise HttpError(413, "body-too-large", f"request body exceeds {MAX_BODY_BYTES} bytes")
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    query = {
        name: values[0]
        for name, values in parse_qs(scope.get("query_string", b"").decode("latin-1")).items()
    }
    headers = {
        name.decode("latin-1").lower(): value.decode("latin-1")
        for name, value in scope.get("headers", [])
    }
    return Request(
        method=scope["method"].upper(),
        path=scope["path"],
        query=query,
        headers=headers,
        body=b"".join(chunks),
    )


async def _send(send: Send, response: Response) -> None:
    payload = json.dumps(response.body, separators=(",", ":")).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    headers += [
        (name.encode("latin-1"), value.encode("latin-1")) for name, value in response.headers
    ]
    await send({"type": "http.response.start", "status": response.status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})
