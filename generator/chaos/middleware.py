"""ASGI middleware that carries out the planner's decisions in front of an app.

Resetting a connection needs the server's help. Our own server
(:mod:`seawall.chaos.server`) offers it as the ``seawall.chaos.abort`` scope
extension; under uvicorn the middleware reaches the connection's transport
through the ``receive`` callable's owner (uvicorn's request cycle), a
best-effort fallback. Elsewhere a reset becomes :class:`ResetUnsupported`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import anyio

from seawall.chaos.admin import AdminApi
from seawall.chaos.asgi import (
    ABORT_EXTENSION,
    CHAOS_HEADER,
    ASGIApp,
    Message,
    Receive,
    Scope,
    Send,
    send_json,
)
from seawall.chaos.planner import Plan
from seawall.chaos.server import reset_transport
from seawall.chaos.state import ChaosState

class ResetUnsupported(RuntimeError):
    """The server running the middleware gives no way to reset a connection."""


def _abort_for(scope: Scope, receive: Receive) -> Callable[[], None]:
    extension = scope.get("extensions", {}).get(ABORT_EXTENSION, {})
    abort = extension.get("abort")
    if callable(abort):
        return abort  # type: ignore[no-any-return]
    transport = getattr(getattr(receive, "__self__", None), "transport", None)
    if isinstance(transport, asyncio.BaseTransport):
        return lambda: reset_transport(transport)
    raise ResetUnsupported(
        "this ASGI server offers no way to reset a connection; "
        "run the app behind `seawall chaos` or uvicorn"
    )


async def _discard(message: Message) -> None:
    """A ``send`` that drops the response: the client will never see it."""


class ChaosMiddleware:
    """Applies a :class:`ChaosState`'s plans to every HTTP request for ``app``.

    Requests under ``admin_prefix`` go to the admin API instead and are not
    counted. Lifespan and websocket scopes pass through untouched.
    """

    def __init__(self, app: ASGIApp, state: ChaosState, admin_prefix: str = "/_chaos") -> None:
        self.app = app
        self.state = state
        self.admin = AdminApi(state, admin_prefix)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.admin.handles(scope["path"]):
            await self.admin(scope, receive, send)
            return
        plan = self.state.plan(scope["method"], scope["path"])
        if plan.delay > 0:
            await anyio.sleep(plan.delay)
        await self._carry_out(plan, scope, receive, send)

    async def _carry_out(self, plan: Plan, scope: Scope, receive: Receive, send: Send) -> None:
        if plan.action == "forward":
            await self.app(scope, receive, send)
        elif plan.action == "error":
            await self._send_error(send, plan)
        elif plan.action == "hang":
            # Hold the request until the client gives up or the limit passes.
            with anyio.move_on_after(plan.hang_limit):
                while (await receive())["type"] != "http.disconnect":
                    pass
            _abort_for(scope, receive)()
        elif plan.action == "lost":
            # The upstream does the work; its answer goes nowhere.
            await self.app(scope, receive, _discard)
            _abort_for(scope, receive)()
        else:  # reset, or refuse on a connection opened before the listener closed
            _abort_for(scope, receive)()

    @staticmethod
    async def _send_error(send: Send, plan: Plan) -> None:
        assert plan.status is not None  # error plans always carry a status
        headers = [(CHAOS_HEADER, b"error")]
        if plan.retry_after is not None:
            headers.append((b"retry-after", str(plan.retry_after).encode()))
        body = {"error": "injected by seawall chaos", "status": plan.status}
        await send_json(send, plan.status, body, headers)
