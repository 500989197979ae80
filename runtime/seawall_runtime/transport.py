"""What the sync and async drivers share around one attempt: httpx error
translation, per-attempt timeouts, the response size limit and same-origin
redirects. No I/O happens here."""

from __future__ import annotations

from typing import Final

import httpx

from seawall_runtime.clock import Clock
from seawall_runtime.controller import Send
from seawall_runtime.errors import (
    ConnectError,
    ConnectionReset,
    PoolExhausted,
    RequestTimeout,
    ResponseTooLarge,
    SeawallError,
)
from seawall_runtime.hooks import logger, redact_headers

MAX_REDIRECTS: Final = 10
REDIRECT_STATUSES: Final = frozenset({301, 302, 303, 307, 308})
_BODY_HEADERS: Final = ("content-length", "content-type", "transfer-encoding")


def translate(
    exc: httpx.TransportError | httpx.DecodingError, label: str, *, answered: bool = False
) -> SeawallError | None:
    """The runtime's error for an httpx error; ``None`` for errors that are the
    caller's mistake (bad URL scheme), which propagate as they are.

    ``answered``: an earlier hop of this attempt (a redirect) got a response,
    so the request may have been applied even if this hop never connected.
    """
    detail = str(exc) or type(exc).__name__
    if isinstance(exc, httpx.DecodingError):
        return ConnectionReset(f"{label}: the response body could not be decoded ({detail})")
    if isinstance(
        exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ProxyError)
    ):
        if answered:
            reset = ConnectionReset(
                f"{label}: could not connect to follow a redirect; the request was "
                f"already answered ({detail})"
            )
            # Not retried as never sent; but a full pool is still not the host's fault.
            reset.blames_host = not isinstance(exc, httpx.PoolTimeout)
            return reset
        if isinstance(exc, httpx.PoolTimeout):
            return PoolExhausted(
                f"{label}: no pooled connection came free in time, nothing was sent ({detail})"
            )
        return ConnectError(f"{label}: could not connect, nothing was sent ({detail})")
    if isinstance(exc, httpx.TimeoutException):
        return RequestTimeout(f"{label}: attempt timed out ({detail})")
    if isinstance(exc, (httpx.NetworkError, httpx.RemoteProtocolError)):
        return ConnectionReset(f"{label}: connection lost after sending ({detail})")
    return None


_DEFAULT_PORTS: Final = {"http": 80, "https": 443}


def origin(url: httpx.URL) -> str:
    """scheme://host:port, the key for per-host breakers and budgets."""
    try:
        # httpx keeps the parsed parts here; the public properties (below) give
        # the same values at four times the cost, and every call asks.
        parts = url._uri_reference
        scheme, host, port = parts.scheme, parts.host, parts.port
    except AttributeError:  # an httpx that keeps its parts elsewhere
        scheme, host, port = url.scheme, url.host, url.port
    if host.startswith("xn--"):
        host = url.host  # an internationalised name, as httpx spells it (Unicode)
    return f"{scheme}://{host}:{port or _DEFAULT_PORTS.get(scheme, 0)}"


def label_for(request: httpx.Request) -> str:
    """How errors and logs name a call without an operation (no query string)."""
    return f"{request.method} {request.url.host}{request.url.path}"


def restore_timeouts(request: httpx.Request, caller_timeouts: object) -> None:
    """Put back the timeouts the request came with: attempts set their own,
    and a request sent again must not inherit the last attempt's."""
    if caller_timeouts is None:
        request.extensions.pop("timeout", None)
    else:
        request.extensions["timeout"] = caller_timeouts


def within_deadline(
    request: httpx.Request, deadline: float | None, clock: Clock, label: str
) -> httpx.Request:
    """A redirect hop with only what remains of its attempt's time."""
    if deadline is None:
        return request
    remaining = deadline - clock.now()
    if remaining <= 0:
        raise RequestTimeout(f"{label}: attempt timed out while following redirects")
    timeouts = request.extensions.get("timeout")
    if isinstance(timeouts, dict):
        request.extensions["timeout"] = {
            name: remaining if value is None or value > remaining else value
            for name, value in timeouts.items()
        }
    return request


def log_request(request: httpx.Request, label: str, sensitive: frozenset[str]) -> None:
    """Log what goes out at DEBUG (callers ask first whether DEBUG is on): no
    query string, secret header values masked."""
    url = request.url
    logger.debug(
        "%s: %s %s://%s%s headers=%s",
        label,
        request.method,
        url.scheme,
        url.netloc.decode("ascii", "replace"),
        url.path,
        redact_headers(request.headers.multi_items(), sensitive),
    )


def start_attempt(
    request: httpx.Request,
    action: Send,
    caller_timeouts: object,
    http: httpx.Client | httpx.AsyncClient,
    clock: Clock,
) -> float | None:
    """Give the attempt ``action`` its timeouts and return when it must be
    over, on ``clock`` (its redirects and every body it reads included).

    The policy's timeouts are clamped by the controller; without one, the
    request keeps ``caller_timeouts`` (``request.extensions["timeout"]`` as it
    came, never changed), else the HTTP client's.
    """
    timeout, connect = action.timeout, action.connect_timeout
    if timeout is not None:
        # Nothing is left to the client's defaults (the controller never sets
        # a connect timeout above the attempt's).
        request.extensions["timeout"] = {
            "connect": timeout if connect is None else connect,
            "read": timeout,
            "write": timeout,
            "pool": timeout,
        }
        return clock.now() + timeout
    base = caller_timeouts if isinstance(caller_timeouts, dict) else http.timeout.as_dict()
    request.extensions["timeout"] = (
        {**base, "connect": connect} if connect is not None else dict(base)
    )
    return None


class BodyReader:
    """Collects a streamed body, enforcing the size limit and the attempt timeout.

    httpx's read timeout bounds each read, not the whole body; checking the
    clock between chunks bounds a body that trickles in.
    """

    __slots__ = ("_response", "_limit", "_deadline", "_clock", "_label", "_chunks", "_size")

    def __init__(
        self,
        response: httpx.Response,
        limit: int | None,
        deadline: float | None,
        clock: Clock,
        label: str,
    ) -> None:
        self._response = response
        self._limit = limit
        self._deadline = deadline
        self._clock = clock
        self._label = label
        self._chunks: list[bytes] = []
        self._size = 0

    def read_already(self) -> bool:
        """Whether httpx stored the whole body when it made the response (an
        in-memory response, as mock transports give): then there is nothing
        to stream, and the limit and the deadline are checked on what is there.
        ``False`` (stream it) for anything else, including a stream that
        something else consumed: the stream path then fails and closes it."""
        response = self._response
        if not response.is_stream_consumed:  # the usual case, asked first: no exception
            return False
        try:
            size = len(response.content)
        except httpx.ResponseNotRead:
            return False
        if self._limit is not None and size > self._limit:
            raise self._too_large(size)
        if size:  # as the stream path does for each chunk that arrives
            self._check_deadline()
        return True

    def feed(self, chunk: bytes) -> None:
        self._size += len(chunk)
        if self._limit is not None:
            if self._size > self._limit:
                raise self._too_large(self._size)
            if len(self._chunks) == 1:
                self._check_declared_length(self._limit)
        self._check_deadline()
        self._chunks.append(chunk)

    def _check_deadline(self) -> None:
        if self._deadline is not None and self._clock.now() > self._deadline:
            raise RequestTimeout(f"{self._label}: attempt timed out while reading the body")

    def _check_declared_length(self, limit: int) -> None:
        """Refuse a body whose Content-Length is past the limit before reading on.

        Asked at the second chunk: a body that came in one read is already in
        memory (and the running count covers it), so most responses never pay
        for the header lookup.
        """
        declared = self._response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise self._too_large(int(declared))

    def finish(self, response: httpx.Response) -> None:
        """Hand the collected body to the response, as ``response.read()`` would."""
        response._content = b"".join(self._chunks)  # httpx's read() sets the same attribute

    def _too_large(self, size: int) -> ResponseTooLarge:
        return ResponseTooLarge(
            f"{self._label}: response body of {size}+ bytes exceeds the limit of {self._limit}"
        )


def same_origin_redirect(request: httpx.Request, response: httpx.Response) -> httpx.Request | None:
    """The request to follow a redirect with, or ``None`` to return the response.

    Only redirects to the same origin (scheme, host and port) are followed,
    so credentials never travel to another host. 303 (and 301/302 after a
    POST) turn into a GET without a body, as browsers and RFC 9110 do.
    """
    if response.status_code not in REDIRECT_STATUSES:
        return None
    location = response.headers.get("location")
    if not location:
        return None
    try:
        target = request.url.join(location)
    except httpx.InvalidURL:
        return None
    if origin(target) != origin(request.url):
        return None
    method = request.method
    to_get = (response.status_code == 303 and method != "HEAD") or (
        response.status_code in (301, 302) and method == "POST"
    )
    headers = httpx.Headers(request.headers)
    if to_get:
        method = "GET"
        for name in _BODY_HEADERS:
            headers.pop(name, None)
        content = None
    else:
        try:
            content = request.content
        except httpx.RequestNotRead:
            return None  # a streamed body cannot be sent twice
        # The body goes again as bytes, framed by a Content-Length (httpx adds
        # one if absent): a streamed body's Transfer-Encoding must not come
        # along, as a request may not carry both (RFC 9112 §6.2).
        headers.pop("transfer-encoding", None)
    headers.pop("host", None)
    return httpx.Request(
        method, target, headers=headers, content=content, extensions=dict(request.extensions)
    )
