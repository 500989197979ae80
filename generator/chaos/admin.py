"""The admin API under a reserved path prefix (default ``/_chaos``).

``GET /faults`` and ``PUT /faults`` read and replace the fault set (JSON, see
docs/chaos.md); ``POST /outage`` with ``{"duration": 3, "kind": 503}`` starts
an outage now; ``DELETE /outage`` ends such outages; ``GET /stats`` returns the
counters and ``POST /reset`` zeroes them. Problems come back as
``400 {"errors": [...]}`` with the JSON pointer of each.
"""

from __future__ import annotations

import json

from seawall.chaos.asgi import Receive, Scope, Send, send_json
from seawall.chaos.faults import Outage, fault_set_from_json
from seawall.chaos.state import ChaosState
from seawall.diagnostics import SpecError

_MAX_BODY = 1 << 20
_SOURCE = "<admin request>"


class _BadRequest(Exception):
    """The admin request cannot be used; the message says why."""


async def _read_json(receive: Receive) -> object:
    body = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _BadRequest("the client went away before sending the body")
        body += message.get("body", b"")
        if len(body) > _MAX_BODY:
            raise _BadRequest(f"the body is larger than {_MAX_BODY} bytes")
        if not message.get("more_body", False):
            break
    try:
        return json.loads(body or b"{}")
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise _BadRequest(f"{_SOURCE}: the body is not JSON: {err}") from None


def _outage_from_json(data: object) -> tuple[float, int | str]:
    if not isinstance(data, dict) or set(data) - {"duration", "kind"}:
        raise _BadRequest('expected {"duration": seconds, "kind": status or name}')
    duration, kind = data.get("duration"), data.get("kind", 503)
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration <= 0:
        raise _BadRequest(f"{_SOURCE} (#/duration): duration must be a number of seconds > 0")
    if isinstance(kind, bool) or not isinstance(kind, (int, str)):
        raise _BadRequest(f"{_SOURCE} (#/kind): kind must be a status or a name")
    try:
        Outage(0, float(duration), kind)  # type: ignore[arg-type]
    except ValueError as err:
        raise _BadRequest(f"{_SOURCE}: {err}") from None
    return float(duration), kind


def check_admin_prefix(prefix: str) -> str:
    """Return ``prefix`` if usable as the admin API's path prefix, else raise ValueError."""
    if not prefix.startswith("/") or prefix.endswith("/"):
        raise ValueError(f"admin prefix must start and not end with '/', got {prefix!r}")
    return prefix


class AdminApi:
    """Serves the admin endpoints for one :class:`ChaosState`."""

    def __init__(self, state: ChaosState, prefix: str = "/_chaos") -> None:
        self.state = state
        self.prefix = check_admin_prefix(prefix)

    def handles(self, path: str) -> bool:
        """Whether ``path`` is under the reserved prefix."""
        return path == self.prefix or path.startswith(self.prefix + "/")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = (scope["method"], scope["path"][len(self.prefix) :])
        try:
            status, body = await self._dispatch(endpoint, receive)
        except _BadRequest as err:
            status, body = 400, {"errors": [str(err)]}
        except SpecError as err:
            status, body = 400, {"errors": [str(d) for d in err.diagnostics]}
        await send_json(send, status, body)

    async def _dispatch(self, endpoint: tuple[str, str], receive: Receive) -> tuple[int, object]:
        state = self.state
        if endpoint == ("GET", "/faults"):
            return 200, state.faults.to_json()
        if endpoint == ("PUT", "/faults"):
            state.set_faults(fault_set_from_json(await _read_json(receive), _SOURCE))
            return 200, state.faults.to_json()
        if endpoint == ("GET", "/stats"):
            return 200, state.stats().to_json()
        if endpoint == ("POST", "/reset"):
            state.reset_stats()
            return 200, state.stats().to_json()
        if endpoint == ("POST", "/outage"):
            outage = state.outage_now(*_outage_from_json(await _read_json(receive)))  # type: ignore[arg-type]
            return 200, {"start": outage.start, "end": outage.end, "kind": outage.kind}
        if endpoint == ("DELETE", "/outage"):
            state.clear_outages()
            return 200, {}
        known = {"/faults", "/stats", "/reset", "/outage"}
        if endpoint[1] in known:
            return 405, {"errors": [f"{endpoint[0]} is not allowed on {self.prefix}{endpoint[1]}"]}
        return 404, {"errors": [f"no admin endpoint {self.prefix}{endpoint[1]}"]}
