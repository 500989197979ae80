"""Sync and async drivers: run a :class:`CallController` over httpx.

Everything that decides lives in the controller; each driver's loop only
sends, sleeps, returns or raises as it is told.
"""

from __future__ import annotations

import random as random_module
import ssl
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final, Generic, TypeVar

import httpx

from seawall_runtime.breaker import CircuitBreaker
from seawall_runtime.budget import RetryBudget
from seawall_runtime.clock import Clock, SystemClock
from seawall_runtime.controller import CallController, Finish, Send, Sleep
from seawall_runtime.errors import SeawallError
from seawall_runtime.hooks import BreakerStateChanged, Hooks, call_hook, logger
from seawall_runtime.keyed import PerKey
from seawall_runtime.operation import (
    DEFAULT_IDEMPOTENCY_HEADER,
    Operation,
    is_idempotent_method,
    new_idempotency_key,
)
from seawall_runtime.outcome import Outcome
from seawall_runtime.policies import BreakerPolicy, BudgetPolicy, Policy
from seawall_runtime.telemetry import combine_hooks, telemetry_hooks
from seawall_runtime.transport import (
    MAX_REDIRECTS,
    BodyReader,
    label_for,
    log_request,
    origin,
    restore_timeouts,
    same_origin_redirect,
    start_attempt,
    translate,
    within_deadline,
)

DEFAULT_MAX_RESPONSE_BYTES: Final = 64 * 1024 * 1024
DEFAULT_BREAKER: Final = BreakerPolicy()
DEFAULT_BUDGET: Final = BudgetPolicy()
DEFAULT_POLICY: Final = Policy()


class _Core:
    """Configuration and shared state (breakers, budgets) of one client."""

    def __init__(
        self,
        *,
        policy: Policy | None,
        breaker: BreakerPolicy | None,
        budget: BudgetPolicy | None,
        max_response_bytes: int | None,
        hooks: Hooks | None,
        clock: Clock | None,
        rng: random_module.Random | None,
        sensitive_headers: Iterable[str],
    ) -> None:
        if max_response_bytes is not None and max_response_bytes < 1:
            raise ValueError(f"max_response_bytes must be positive (got {max_response_bytes!r})")
        self.policy = policy or DEFAULT_POLICY
        self.breaker_policy = breaker
        self.max_response_bytes = max_response_bytes
        self.hooks = combine_hooks(hooks, telemetry_hooks())
        self.clock: Clock = clock or SystemClock()
        self.rng = rng or random_module.Random()
        self.sensitive_headers = frozenset(name.lower() for name in sensitive_headers)
        self.breakers: PerKey[CircuitBreaker] | None = None
        if breaker is not None:
            self.breakers = PerKey(
                lambda key: CircuitBreaker(breaker, self.clock, key, self._breaker_changed)
            )
        self.budgets: PerKey[RetryBudget] | None = None
        if budget is not None:
            self.budgets = PerKey(lambda _key: RetryBudget(budget, self.clock))

    def _breaker_changed(self, key: str, old: str, new: str) -> None:
        logger.info("seawall circuit %s: %s -> %s", key, old, new)
        call_hook(self.hooks.on_breaker_change, BreakerStateChanged(key, old, new))

    def controller(
        self,
        request: httpx.Request,
        operation: Operation | None,
        policy: Policy | None,
        idempotency_key: str | None,
    ) -> CallController:
        """A controller for one call; sets the idempotency key header on ``request``."""
        header = operation.idempotency_key_header if operation is not None else None
        if header is None and idempotency_key is not None:
            header = DEFAULT_IDEMPOTENCY_HEADER
        if header is not None:
            if not idempotency_key:
                # ``in`` first: httpx's ``get`` of an absent header raises and catches KeyError.
                present = request.headers[header] if header in request.headers else None
                idempotency_key = present or new_idempotency_key()
            request.headers[header] = idempotency_key
        has_key = idempotency_key is not None
        if operation is not None:
            idempotent = operation.is_idempotent(has_key)
            label = operation.name
            effective = policy or operation.policy or self.policy
        else:
            idempotent = has_key or is_idempotent_method(request.method)
            label = label_for(request)
            effective = policy or self.policy
        host = origin(request.url)
        breaker = None
        if self.breakers is not None and self.breaker_policy is not None:
            per_op = self.breaker_policy.per_operation and operation is not None
            breaker = self.breakers.get(f"{host} {label}" if per_op else host)
        # Positional: keyword arguments cost about a third of the construction.
        return CallController(
            label,
            idempotent,
            effective,
            self.clock,
            self.rng,
            self.hooks,
            breaker,
            self.budgets.get(host) if self.budgets is not None else None,
            host,
            idempotency_key,
        )


def _http_options(
    http: object,
    base_url: str,
    transport: object,
    headers: object,
    auth: object,
    verify: object,
) -> None:
    """Refuse settings that would be silently ignored next to a ready httpx client."""
    if http is None:
        return
    given = [
        name
        for name, value, default in (
            ("base_url", base_url, ""),
            ("transport", transport, None),
            ("headers", headers, None),
            ("auth", auth, None),
            ("verify", verify, True),
        )
        if value != default
    ]
    if given:
        raise ValueError(
            f"pass {', '.join(given)} to the httpx client given as http=, not to the runtime"
        )


HttpT = TypeVar("HttpT", httpx.Client, httpx.AsyncClient)
TransportT = TypeVar("TransportT", httpx.BaseTransport, httpx.AsyncBaseTransport)


class _ClientBase(Generic[HttpT, TransportT]):
    """Construction shared by the sync and async clients."""

    _http_class: Callable[..., HttpT]  # httpx.Client or httpx.AsyncClient

    def __init__(
        self,
        base_url: str = "",
        *,
        http: HttpT | None = None,
        transport: TransportT | None = None,
        policy: Policy | None = None,
        breaker: BreakerPolicy | None = DEFAULT_BREAKER,
        budget: BudgetPolicy | None = DEFAULT_BUDGET,
        headers: Mapping[str, str] | None = None,
        auth: httpx.Auth | None = None,
        verify: bool | ssl.SSLContext = True,
        max_response_bytes: int | None = DEFAULT_MAX_RESPONSE_BYTES,
        hooks: Hooks | None = None,
        clock: Clock | None = None,
        random: random_module.Random | None = None,
        sensitive_headers: Iterable[str] = (),
    ) -> None:
        _http_options(http, base_url, transport, headers, auth, verify)
        self._core = _Core(
            policy=policy,
            breaker=breaker,
            budget=budget,
            max_response_bytes=max_response_bytes,
            hooks=hooks,
            clock=clock,
            rng=random,
            sensitive_headers=sensitive_headers,
        )
        self._owns_http = http is None
        self.http: HttpT = http or self._http_class(
            base_url=base_url, transport=transport, headers=headers, auth=auth, verify=verify
        )

    def build_request(self, method: str, url: str, **kwargs: Any) -> httpx.Request:
        """An ``httpx.Request`` built by the wrapped client (base URL, headers)."""
        return self.http.build_request(method, url, **kwargs)

    @property
    def circuit_breakers(self) -> dict[str, CircuitBreaker]:
        """The breakers made so far, by key (origin, or origin and operation)."""
        breakers = self._core.breakers
        return dict(breakers.items()) if breakers is not None else {}

    @property
    def retry_budgets(self) -> dict[str, RetryBudget]:
        """The retry budgets made so far, by origin."""
        budgets = self._core.budgets
        return dict(budgets.items()) if budgets is not None else {}


class ResilientClient(_ClientBase[httpx.Client, httpx.BaseTransport]):
    """A synchronous HTTP client with retries, budget, breaker, timeouts and fallbacks.

    Wraps an ``httpx.Client`` (its own, or one passed as ``http``). ``send``
    returns an :class:`Outcome` for any response status; it raises a
    :class:`SeawallError` only when there is no answer and no fallback.
    """

    _http_class = httpx.Client

    def request(
        self,
        method: str,
        url: str,
        *,
        operation: Operation | None = None,
        policy: Policy | None = None,
        idempotency_key: str | None = None,
        **kwargs: Any,
    ) -> Outcome:
        """Build a request (httpx keyword arguments) and :meth:`send` it."""
        request = self.build_request(method, url, **kwargs)
        return self.send(
            request, operation=operation, policy=policy, idempotency_key=idempotency_key
        )

    def send(
        self,
        request: httpx.Request,
        *,
        operation: Operation | None = None,
        policy: Policy | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Send ``request`` under the policy of the call, else the operation, else the client."""
        core = self._core
        controller = core.controller(request, operation, policy, idempotency_key)
        request.read()  # buffer a streamed body so that a retry can send it again
        caller_timeouts = request.extensions.get("timeout")
        action = controller.start()
        try:
            while True:
                if isinstance(action, Send):
                    try:
                        response = self._attempt(request, action, caller_timeouts, controller)
                    except SeawallError as error:
                        action = controller.on_error(error)
                    except BaseException as exc:
                        controller.abandon(exc)
                        raise
                    else:
                        action = controller.on_response(response)
                elif isinstance(action, Sleep):
                    core.clock.sleep(action.seconds)
                    action = controller.resume()
                elif isinstance(action, Finish):
                    return action.outcome
                else:
                    raise action.error
        finally:
            restore_timeouts(request, caller_timeouts)

    def _attempt(
        self,
        request: httpx.Request,
        action: Send,
        caller_timeouts: object,
        controller: CallController,
    ) -> httpx.Response:
        label = controller.label
        core = self._core
        deadline = start_attempt(request, action, caller_timeouts, self.http, core.clock)
        if controller.logs_debug:
            log_request(request, label, core.sensitive_headers)
        answered = False  # once a hop answered, the request may have been applied
        try:
            for _ in range(MAX_REDIRECTS + 1):
                response = self.http.send(request, stream=True, follow_redirects=False)
                answered = True
                body = BodyReader(response, core.max_response_bytes, deadline, core.clock, label)
                if not body.read_already():
                    try:
                        for chunk in response.iter_bytes():
                            body.feed(chunk)
                    finally:
                        response.close()
                    body.finish(response)
                follow = same_origin_redirect(request, response)
                if follow is None:
                    break
                request = within_deadline(follow, deadline, core.clock, label)
            return response
        except (httpx.TransportError, httpx.DecodingError) as exc:
            error = translate(exc, label, answered=answered)
            if error is None:
                raise
            raise error from exc

    def close(self) -> None:
        """Close the httpx client if this object created it."""
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> ResilientClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncResilientClient(_ClientBase[httpx.AsyncClient, httpx.AsyncBaseTransport]):
    """The asynchronous twin of :class:`ResilientClient`, over ``httpx.AsyncClient``."""

    _http_class = httpx.AsyncClient

    async def request(
        self,
        method: str,
        url: str,
        *,
        operation: Operation | None = None,
        policy: Policy | None = None,
        idempotency_key: str | None = None,
        **kwargs: Any,
    ) -> Outcome:
        """Build a request (httpx keyword arguments) and :meth:`send` it."""
        request = self.build_request(method, url, **kwargs)
        return await self.send(
            request, operation=operation, policy=policy, idempotency_key=idempotency_key
        )

    async def send(
        self,
        request: httpx.Request,
        *,
        operation: Operation | None = None,
        policy: Policy | None = None,
        idempotency_key: str | None = None,
    ) -> Outcome:
        """Send ``request`` under the policy of the call, else the operation, else the client."""
        core = self._core
        controller = core.controller(request, operation, policy, idempotency_key)
        await request.aread()  # buffer a streamed body so that a retry can send it again
        caller_timeouts = request.extensions.get("timeout")
        action = controller.start()
        try:
            while True:
                if isinstance(action, Send):
                    try:
                        response = await self._attempt(request, action, caller_timeouts, controller)
                    except SeawallError as error:
                        action = controller.on_error(error)
                    except BaseException as exc:
                        controller.abandon(exc)
                        raise
                    else:
                        action = controller.on_response(response)
                elif isinstance(action, Sleep):
                    await core.clock.asleep(action.seconds)
                    action = controller.resume()
                elif isinstance(action, Finish):
                    return action.outcome
                else:
                    raise action.error
        finally:
            restore_timeouts(request, caller_timeouts)

    async def _attempt(
        self,
        request: httpx.Request,
        action: Send,
        caller_timeouts: object,
        controller: CallController,
    ) -> httpx.Response:
        label = controller.label
        core = self._core
        deadline = start_attempt(request, action, caller_timeouts, self.http, core.clock)
        if controller.logs_debug:
            log_request(request, label, core.sensitive_headers)
        answered = False  # once a hop answered, the request may have been applied
        try:
            for _ in range(MAX_REDIRECTS + 1):
                response = await self.http.send(request, stream=True, follow_redirects=False)
                answered = True
                body = BodyReader(response, core.max_response_bytes, deadline, core.clock, label)
                if not body.read_already():
                    try:
                        async for chunk in response.aiter_bytes():
                            body.feed(chunk)
                    finally:
                        await response.aclose()
                    body.finish(response)
                follow = same_origin_redirect(request, response)
                if follow is None:
                    break
                request = within_deadline(follow, deadline, core.clock, label)
            return response
        except (httpx.TransportError, httpx.DecodingError) as exc:
            error = translate(exc, label, answered=answered)
            if error is None:
                raise
            raise error from exc

    async def aclose(self) -> None:
        """Close the httpx client if this object created it."""
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> AsyncResilientClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
