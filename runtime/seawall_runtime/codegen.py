"""Client support for seawall-generated code.

Generated clients describe each operation once, as an :class:`Endpoint`
(its runtime :class:`~seawall_runtime.Operation`, parameters, body and
documented responses), and their methods call :meth:`Endpoint.call` or
:meth:`Endpoint.acall`. Everything protocol-shaped lives here so generated
modules stay short: parameter serialization (OpenAPI ``style``/``explode``),
body encoding, and response parsing into models or typed errors.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Concatenate, Generic, Literal, ParamSpec, TypedDict, TypeVar, cast
from urllib.parse import quote

import httpx
from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError
from pydantic_core import to_jsonable_python

# Re-exported (``as``): generated constructors use it as their default.
from seawall_runtime.client import DEFAULT_MAX_RESPONSE_BYTES as DEFAULT_MAX_RESPONSE_BYTES
from seawall_runtime.errors import ApiError, ResponseValidationError
from seawall_runtime.operation import Operation
from seawall_runtime.outcome import Attempt, Outcome, StopReason
from seawall_runtime.policies import MISSING, FallbackPolicy, Policy, RetryPolicy, TimeoutPolicy

if TYPE_CHECKING:
    from typing_extensions import Unpack

    from seawall_runtime import AsyncResilientClient, ResilientClient
    from seawall_runtime.saga import (
        Arguments,
        AsyncOperationInvoker,
        AsyncSaga,
        JSONLike,
        OperationInvoker,
        RetrySchedule,
        Saga,
        StepResult,
    )

T = TypeVar("T")

Location = Literal["path", "query", "header", "cookie"]
BodyKind = Literal["json", "form", "multipart", "binary", "text"]
ReplyKind = Literal["json", "binary", "text", "empty"]


@dataclass(frozen=True, slots=True)
class ApiResponse(Generic[T]):
    """A parsed answer with what came with it.

    ``status`` is ``None`` and ``headers`` empty when a fallback answered.
    ``stop_reason`` is the call's :attr:`Outcome.stop_reason` (why its retries
    stopped), ``None`` when not known (a saga step's result); its default,
    like Outcome's, keeps hand-made answers short.
    """

    value: T
    status: int | None
    headers: httpx.Headers
    idempotency_key: str | None
    from_fallback: bool
    attempts: tuple[Attempt, ...]
    stop_reason: StopReason | None = "answered"


class Model(BaseModel):
    """Base of generated models.

    Fields whose Python name differs from the wire name carry it as their
    validation and serialization alias; either name is accepted on input.
    Unknown properties are kept (``extra="allow"``) so a newer server does not
    break an older client. Validators are built on first use (``defer_build``):
    importing a module of a thousand models stays fast, and forward references
    need no ``model_rebuild()``.
    """

    model_config = ConfigDict(populate_by_name=True, extra="allow", defer_build=True)


class CallOptions(TypedDict, total=False):
    """Per-call overrides every generated method accepts as keyword arguments."""

    timeout: TimeoutPolicy
    retry: RetryPolicy  # RetryPolicy(attempts=1) turns retries off for the call
    fallback: FallbackPolicy
    idempotency_key: str


ClientT = TypeVar("ClientT", "ResilientClient", "AsyncResilientClient")


@dataclass(frozen=True, slots=True)
class Session(Generic[ClientT]):
    """What a generated client passes to its endpoints.

    The runtime client, the client's policy, the credentials, and every
    endpoint of the API by operationId (for fallback operations and sagas).
    """

    http: ClientT
    policy: Policy
    credentials: Credentials
    endpoints: Mapping[str, Endpoint[Any]] = field(default_factory=dict)
    invoker: OperationInvoker | AsyncOperationInvoker | None = None  # the generated client, for saga steps


SagaT = TypeVar("SagaT", "Saga", "AsyncSaga")


@dataclass(frozen=True, slots=True)
class SagaStep(Generic[SagaT]):
    """A typed call as a saga step with step options.

    ``client.confirm_order(order.id, body, saga=SagaStep(saga, final=True))``;
    a bare ``saga=saga`` is ``SagaStep(saga)``.
    """

    saga: SagaT
    final: bool = False
    retry: RetrySchedule | None = None


@dataclass(frozen=True, slots=True)
class Delegated:
    """A fallback's answer that says: call the endpoint's fallback operation instead.

    The runtime's fallback factory is synchronous, so it cannot make the call
    itself in an async client; the endpoint makes it, sync or async.
    """

    cause: BaseException | httpx.Response


def delegate_to_operation(cause: BaseException | httpx.Response) -> Delegated:
    """The ``FallbackPolicy.factory`` of an ``x-fallback: {operation: …}``."""
    return Delegated(cause)


# --- parameters --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Param:
    """How one operation parameter goes on the wire."""

    argument: str  # the generated method's keyword argument
    name: str  # the name on the wire
    location: Location
    style: str
    explode: bool
    allow_reserved: bool = False


def _plain(value: object) -> Any:
    """Models, enums, dates… → JSON data (wire names for model fields)."""
    return to_jsonable_python(value, by_alias=True)


def _text(value: object) -> str:
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return ""
    return str(value)


def _flatten(value: Any, explode: bool) -> list[str]:
    """A list or object as the items a delimited style joins."""
    if isinstance(value, list):
        return [_text(item) for item in value]
    if isinstance(value, dict):
        if explode:
            return [f"{key}={_text(item)}" for key, item in value.items()]
        return [_text(part) for pair in value.items() for part in pair]
    return [_text(value)]


def path_segment(value: str) -> str:
    """Percent-encode a value so it stays inside one path segment.

    ``/``, ``?`` and ``#`` are encoded, and so are the dot segments ``.`` and
    ``..`` that URL normalization would otherwise resolve.
    """
    encoded = quote(value, safe="")
    return encoded.replace(".", "%2E") if encoded in (".", "..") else encoded


def _path_value(param: Param, value: Any) -> str:
    """A path parameter in its style (simple, label or matrix), encoded."""
    explode = param.explode
    encoded_items = [path_segment(item) for item in _flatten(value, explode)]
    if isinstance(value, dict) and explode:  # keep the `=` of key=value pairs readable
        encoded_items = [item.replace("%3D", "=", 1) for item in encoded_items]
    if param.style == "label":
        return "." + ("." if explode else ",").join(encoded_items)
    if param.style == "matrix":
        name = path_segment(param.name)
        if isinstance(value, list) and explode:
            return "".join(f";{name}={item}" for item in encoded_items)
        if isinstance(value, dict) and explode:
            return "".join(f";{item}" for item in encoded_items)
        return f";{name}=" + ",".join(encoded_items)
    return ",".join(encoded_items)


def _query_pairs(param: Param, value: Any) -> list[tuple[str, str]]:
    """Query (or cookie) name/value pairs for form, delimited and deepObject styles."""
    if param.style == "deepObject" and isinstance(value, dict):
        return [(f"{param.name}[{key}]", _text(item)) for key, item in value.items()]
    if isinstance(value, list):
        if param.style == "spaceDelimited":
            return [(param.name, " ".join(_flatten(value, False)))]
        if param.style == "pipeDelimited":
            return [(param.name, "|".join(_flatten(value, False)))]
        if param.explode:
            return [(param.name, _text(item)) for item in value]
    if isinstance(value, dict) and param.explode:
        return [(str(key), _text(item)) for key, item in value.items()]
    if isinstance(value, (dict, list)):
        return [(param.name, ",".join(_flatten(value, False)))]
    return [(param.name, _text(value))]


@dataclass
class _RequestParts:
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)


def _serialize(template: str, params: Sequence[Param], args: Mapping[str, object]) -> _RequestParts:
    parts = _RequestParts(path=template)
    for param in params:
        raw = args.get(param.argument)
        if raw is None:
            continue  # an optional parameter left out
        value = _plain(raw)
        if param.location == "path":
            parts.path = parts.path.replace("{" + param.name + "}", _path_value(param, value))
        elif param.location == "query":
            parts.query += _query_pairs(param, value)
        elif param.location == "header":
            parts.headers[param.name] = ",".join(_flatten(value, param.explode))
        else:
            parts.cookies += [f"{name}={quote(text, safe='')}" for name, text in _query_pairs(param, value)]
    return parts


@dataclass(frozen=True, slots=True)
class Deferred:
    """An annotation a function returns, evaluated when first needed.

    Endpoints of big APIs wrap the models they name (``Deferred(lambda:
    models.Pet)``), so loading a client does not import every model module.
    """

    resolve: Callable[[], object]


# --- bodies ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Body:
    """The request body an operation takes."""

    kind: BodyKind
    media_type: str
    annotation: object  # the body argument's type (for a TypeAdapter), or Deferred


def _form_value(value: Any) -> str:
    return json.dumps(value) if isinstance(value, (dict, list)) else _text(value)


def _form_fields(data: Any) -> dict[str, str | list[str]]:
    """Form fields from an object: lists repeat the field, objects become JSON."""
    fields: dict[str, str | list[str]] = {}
    for key, value in (data or {}).items():
        if isinstance(value, list):
            fields[key] = [_form_value(item) for item in value]
        elif value is not None:
            fields[key] = _form_value(value)
    return fields


def _multipart(data: Any) -> dict[str, Any]:
    """Multipart parts: bytes as files (named after their field), the rest as fields."""
    files: list[tuple[str, tuple[str, bytes]]] = []
    fields: dict[str, str | list[str]] = {}
    for key, value in (data or {}).items():
        if value is None:
            continue
        if isinstance(value, (bytes, bytearray)):
            files.append((key, (key, bytes(value))))
        elif isinstance(value, list) and value and all(isinstance(v, (bytes, bytearray)) for v in value):
            files += [(key, (key, bytes(item))) for item in value]
        else:
            fields.update(_form_fields({key: _plain(value)}))
    return {"files": files or None, "data": fields or None}


# --- responses -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Reply:
    """A documented response: what its body parses into, and the error it raises."""

    kind: ReplyKind
    annotation: object = None  # the type the body parses into, or Deferred
    error: type[ApiError] | None = None


def _media_type(response: httpx.Response) -> str:
    """The response's media type, lower case, without parameters ("" when missing)."""
    header: str = response.headers.get("content-type", "")
    return header.split(";", 1)[0].strip().lower()


def _is_json_media(media: str) -> bool:
    return media == "application/json" or media.endswith("+json")


def _is_json(response: httpx.Response) -> bool:
    return _is_json_media(_media_type(response))


def _field_path(location: Iterable[int | str]) -> str:
    return ".".join(str(part) for part in location) or "(body)"


class Endpoint(Generic[T]):
    """One operation as generated code describes it; ``T`` is its success type."""

    def __init__(
        self,
        operation: Operation,
        *,
        params: Sequence[Param] = (),
        body: Body | None = None,
        replies: Mapping[str, Reply],
        unexpected: type[ApiError] = ApiError,
        accept: str | None = None,
        fallback_operation: str | None = None,
    ) -> None:
        self.operation = operation
        self.fallback_operation = fallback_operation  # operationId called when the fallback delegates
        self.accept = accept  # the media types the replies are parsed from
        self.params = tuple(params)
        self.body = body
        self.replies = dict(replies)
        self.unexpected = unexpected
        self._success = next((r for s, r in self.replies.items() if s.startswith("2")), Reply("empty"))
        self._adapters: dict[int, TypeAdapter[Any]] = {}

    def _adapter(self, annotation: object) -> TypeAdapter[Any]:
        """One TypeAdapter per annotation, made on first use and kept."""
        adapter = self._adapters.get(id(annotation))
        if adapter is None:
            target = annotation.resolve() if isinstance(annotation, Deferred) else annotation
            adapter = self._adapters[id(annotation)] = TypeAdapter(cast(Any, target))
        return adapter

    # --- requests

    def build_request(
        self,
        http: ResilientClient | AsyncResilientClient,
        args: Mapping[str, object],
        body: object = None,
        credentials: Credentials | None = None,
    ) -> httpx.Request:
        """The request for these arguments, with the credentials applied."""
        encoded = self._encode(body) if self.body is not None and body is not None else {}
        return self._request(http, args, encoded, credentials)

    def request_from_arguments(
        self, http: ResilientClient | AsyncResilientClient, arguments: Arguments, credentials: Credentials
    ) -> httpx.Request:
        """The request for saga arguments (``{"path": {...}, "body": <JSON>, …}``, spec names)."""
        args: dict[str, object] = {}
        for param in self.params:
            section = arguments.get(param.location)
            if isinstance(section, Mapping) and param.name in section:
                args[param.argument] = section[param.name]
        body = arguments.get("body")
        encoded = self._encode_data(body) if self.body is not None and body is not None else {}
        return self._request(http, args, encoded, credentials)

    def arguments(self, args: Mapping[str, object], body: object = None) -> dict[str, JSONLike]:
        """The saga arguments of a typed call: what :meth:`request_from_arguments` reads back."""
        arguments: dict[str, JSONLike] = {}
        for param in self.params:
            value = args.get(param.argument)
            if value is None:
                continue
            if param.location == "cookie":
                raise ValueError(f"{self.operation.name}: cookie parameters cannot be saga arguments")
            section = arguments.setdefault(param.location, {})
            cast("dict[str, JSONLike]", section)[param.name] = _plain(value)
        if self.body is not None and body is not None:
            if self.body.kind not in ("json", "form", "text"):
                raise ValueError(f"{self.operation.name}: a {self.body.kind} body cannot be a saga argument")
            adapter = self._adapter(self.body.annotation)
            arguments["body"] = adapter.dump_python(body, mode="json", by_alias=True, exclude_unset=True)
        return arguments

    def _request(
        self,
        http: ResilientClient | AsyncResilientClient,
        args: Mapping[str, object],
        encoded: dict[str, Any],
        credentials: Credentials | None,
    ) -> httpx.Request:
        parts = _serialize(self.operation.path, self.params, args)
        if self.body is not None and encoded and self.body.kind not in ("multipart", "form"):
            parts.headers["Content-Type"] = self.body.media_type
        if parts.cookies:
            parts.headers["Cookie"] = "; ".join(parts.cookies)
        if self.accept is not None:
            parts.headers.setdefault("Accept", self.accept)
        request = http.build_request(
            self.operation.method, parts.path, params=parts.query or None, headers=parts.headers or None, **encoded
        )
        if credentials is not None:
            credentials.apply(request)
        return request

    def _encode_data(self, body: object) -> dict[str, Any]:
        """A body given as JSON data (saga arguments), encoded as the operation sends it."""
        assert self.body is not None
        if self.body.kind == "json":
            return {"content": json.dumps(body, separators=(",", ":")).encode()}
        if self.body.kind == "form":
            return {"data": _form_fields(body)}
        if self.body.kind == "text":
            return {"content": _text(body).encode()}
        raise ValueError(f"{self.operation.name}: a {self.body.kind} body cannot be a saga argument")

    def _encode(self, body: object) -> dict[str, Any]:
        assert self.body is not None
        kind = self.body.kind
        if kind == "json":
            return {"content": self._adapter(self.body.annotation).dump_json(body, by_alias=True, exclude_unset=True)}
        if kind == "form":
            data = self._adapter(self.body.annotation).dump_python(body, mode="json", by_alias=True, exclude_unset=True)
            return {"data": _form_fields(data)}
        if kind == "multipart":  # python mode keeps file contents as bytes
            return _multipart(self._adapter(self.body.annotation).dump_python(body, by_alias=True, exclude_unset=True))
        if kind == "text":
            return {"content": str(body).encode()}
        return {"content": body}

    # --- calls

    def _call_policy(self, client_policy: Policy, options: CallOptions) -> Policy | None:
        """The operation's (or client's) policy with the per-call overrides, if any."""
        if not ("timeout" in options or "retry" in options or "fallback" in options):
            return None
        base = self.operation.policy or client_policy
        return base.merged(
            timeout=options.get("timeout", MISSING),
            retry=options.get("retry", MISSING),
            fallback=options.get("fallback", MISSING),
        )

    def call(
        self,
        session: Session[ResilientClient],
        args: Mapping[str, object],
        body: object = None,
        saga: Saga | SagaStep[Saga] | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[T]:
        """Send one call through the resilient client (or as a saga step) and parse its answer."""
        if saga is not None:
            step_saga, step_args, step_options = self._step(session, saga, args, body, options)
            return self.parse_step(step_saga.step(*step_args, **step_options))
        request, send_options = self._send(session, args, body, options)
        outcome = session.http.send(request, **send_options)
        if isinstance(outcome.fallback_value, Delegated):
            return self._delegated(outcome, self._fallback_endpoint(session).call(session, args, body))
        return self.parse(outcome)

    async def acall(
        self,
        session: Session[AsyncResilientClient],
        args: Mapping[str, object],
        body: object = None,
        saga: AsyncSaga | SagaStep[AsyncSaga] | None = None,
        **options: Unpack[CallOptions],
    ) -> ApiResponse[T]:
        """:meth:`call` for the async client."""
        if saga is not None:
            step_saga, step_args, step_options = self._step(session, saga, args, body, options)
            return self.parse_step(await step_saga.step(*step_args, **step_options))
        request, send_options = self._send(session, args, body, options)
        outcome = await session.http.send(request, **send_options)
        if isinstance(outcome.fallback_value, Delegated):
            return self._delegated(outcome, await self._fallback_endpoint(session).acall(session, args, body))
        return self.parse(outcome)

    def _send(
        self, session: Session[Any], args: Mapping[str, object], body: object, options: CallOptions
    ) -> tuple[httpx.Request, dict[str, Any]]:
        """The request of a plain call, and the keyword arguments of the client's ``send``."""
        request = self.build_request(session.http, args, body, session.credentials)
        return request, {
            "operation": self.operation,
            "policy": self._call_policy(session.policy, options),
            "idempotency_key": options.get("idempotency_key"),
        }

    def _step(
        self,
        session: Session[Any],
        saga: Any,
        args: Mapping[str, object],
        body: object,
        options: CallOptions,
    ) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
        """A call made as a saga step: the saga, and the arguments of its ``step``."""
        policy = self._step_policy(session.policy, options)  # refuses bad options before anything
        step = saga if isinstance(saga, SagaStep) else SagaStep(saga)
        arguments = (session.invoker, self.operation.name, self.arguments(args, body))
        return step.saga, arguments, {"policy": policy, "retry": step.retry, "final": step.final}

    # --- saga steps

    def _step_policy(self, client_policy: Policy, options: CallOptions) -> Policy | None:
        """The per-call overrides of a saga step: the saga owns keys and forbids fallbacks."""
        if "idempotency_key" in options or "fallback" in options:
            raise TypeError(
                f"{self.operation.name}: a saga step takes no idempotency_key= or fallback= "
                "(the saga sends its own logged key, and a fallback is not an answer)"
            )
        return self._call_policy(client_policy, options)

    def _invocation(
        self, session: Session[Any], arguments: Arguments, idempotency_key: str, policy: Policy | None
    ) -> tuple[httpx.Request, dict[str, Any]]:
        """The request of an invocation by a saga, and the keyword arguments of ``send``.

        Never a fallback; the saga's key is sent only in a key header the operation declares.
        """
        request = self.request_from_arguments(session.http, arguments, session.credentials)
        return request, {
            "operation": self.operation,
            "policy": (policy or self.operation.policy or session.policy).merged(fallback=None),
            "idempotency_key": idempotency_key if self.operation.idempotency_key_header else None,
        }

    def invoke(
        self, session: Session[ResilientClient], arguments: Arguments, *, idempotency_key: str, policy: Policy | None = None
    ) -> StepResult:
        """The saga invoker protocol's ``invoke`` for this operation (see docs/sagas.md)."""
        request, send_options = self._invocation(session, arguments, idempotency_key, policy)
        return _step_result(session.http.send(request, **send_options))

    async def ainvoke(
        self,
        session: Session[AsyncResilientClient],
        arguments: Arguments,
        *,
        idempotency_key: str,
        policy: Policy | None = None,
    ) -> StepResult:
        """:meth:`invoke` for the async client."""
        request, send_options = self._invocation(session, arguments, idempotency_key, policy)
        return _step_result(await session.http.send(request, **send_options))

    def parse_step(self, result: StepResult) -> ApiResponse[T]:
        """A saga step's result as the typed answer the method returns."""
        headers = {k: v for k, v in result.headers.items() if k.lower() not in _ENCODING_HEADERS}
        if result.body is None:
            response = httpx.Response(result.status, headers=headers)
        else:
            headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
            response = httpx.Response(result.status, headers=headers, json=result.body)
        # A StepResult does not say why the saga's attempts stopped: no stop reason.
        return self._answer(Outcome(response, None, False, None, ()), stop_reason=None)

    # --- fallback operations

    def _fallback_endpoint(self, session: Session[Any]) -> Endpoint[T]:
        """The endpoint a delegating fallback calls, with the same arguments and its own policy."""
        if self.fallback_operation is None or self.fallback_operation not in session.endpoints:
            raise LookupError(f"{self.operation.name}: no fallback operation {self.fallback_operation!r}")
        return cast("Endpoint[T]", session.endpoints[self.fallback_operation])

    @staticmethod
    def _delegated(outcome: Outcome, answer: ApiResponse[T]) -> ApiResponse[T]:
        """The fallback operation's answer, marked as a fallback, with every attempt of both calls."""
        return ApiResponse(
            answer.value,
            answer.status,
            answer.headers,
            outcome.idempotency_key,
            True,
            outcome.attempts + answer.attempts,
            outcome.stop_reason,
        )

    # --- answers

    def parse(self, outcome: Outcome) -> ApiResponse[T]:
        """The typed value of an answer; error statuses raise their ApiError."""
        return self._answer(outcome, stop_reason=outcome.stop_reason)

    def _answer(self, outcome: Outcome, *, stop_reason: StopReason | None) -> ApiResponse[T]:
        """:meth:`parse`, with the stop reason the answer (or its ApiError) carries."""
        response = outcome.response
        if outcome.from_fallback or response is None:
            value = self._fallback_value(outcome)
            return ApiResponse(
                value, None, httpx.Headers(), outcome.idempotency_key, True, outcome.attempts, stop_reason
            )
        status = response.status_code
        reply = self._reply_for(status)
        if reply is None or reply.error is not None:
            error: type[ApiError] = self.unexpected
            body = _raw_body(response)
            if reply is not None and reply.error is not None:
                error, body = reply.error, self._error_body(reply, response, outcome)
            raise error(
                f"{self.operation.name} answered HTTP {status}",
                status=status,
                headers=response.headers,
                body=body,
                content=response.content,
                attempts=outcome.attempts,
                idempotency_key=outcome.idempotency_key,
                stop_reason=stop_reason,
            )
        parsed = cast(T, self._body(reply, response, outcome))
        return ApiResponse(
            parsed, status, response.headers, outcome.idempotency_key, False, outcome.attempts, stop_reason
        )

    def _fallback_value(self, outcome: Outcome) -> T:
        """A fallback's value as the success type: JSON data from the spec becomes models."""
        value = outcome.fallback_value
        if self._success.kind != "json" or value is None:
            return cast(T, value)
        try:
            return cast(T, self._adapter(self._success.annotation).validate_python(value))
        except ValidationError as invalid:
            raise self._invalid("the fallback value", invalid, outcome) from None

    def _reply_for(self, status: int) -> Reply | None:
        """Exact status, then its range (``4XX``), then ``default``.

        An undocumented 2xx parses like the documented success; any other
        undocumented status is the generic :class:`ApiError`.
        """
        for key in (str(status), f"{status // 100}XX", "default"):
            if key in self.replies:
                return self.replies[key]
        return self._success if 200 <= status < 300 else None

    def _error_body(self, reply: Reply, response: httpx.Response, outcome: Outcome) -> object:
        """A documented error's body, typed when it matches its schema.

        A body that does not match must not hide the status: the typed error is
        still raised, carrying the raw data (its ``.content`` keeps the bytes).
        """
        try:
            return self._body(reply, response, outcome)
        except ResponseValidationError:
            return _raw_body(response)

    def _body(self, reply: Reply, response: httpx.Response, outcome: Outcome) -> object:
        if reply.kind == "empty":
            return None
        if reply.kind == "binary":
            return response.content
        if reply.kind == "text":
            return response.text
        media = _media_type(response)
        if response.content and media and not _is_json_media(media):
            raise ResponseValidationError(
                f"{self.operation.name}: HTTP {response.status_code} response is {media[:100]!r}, not JSON",
                status=response.status_code,
                content=response.content,
                attempts=outcome.attempts,
                idempotency_key=outcome.idempotency_key,
            )
        adapter = self._adapter(reply.annotation)
        try:
            if not response.content:
                return adapter.validate_python(None)
            return adapter.validate_json(response.content)
        except ValidationError as invalid:
            raise self._invalid(f"HTTP {response.status_code} response", invalid, outcome, response) from None

    def _invalid(
        self, what: str, invalid: ValidationError, outcome: Outcome, response: httpx.Response | None = None
    ) -> ResponseValidationError:
        """The error for data that does not match the schema: names the field, never the value."""
        first = invalid.errors(include_url=False, include_input=False)[0]
        return ResponseValidationError(
            f"{self.operation.name}: {what} does not match its schema at {_field_path(first['loc'])}: {first['msg']}",
            status=response.status_code if response is not None else None,
            content=response.content if response is not None else b"",
            attempts=outcome.attempts,
            idempotency_key=outcome.idempotency_key,
        )


# The body a StepResult holds is decoded JSON: these no longer describe it.
_ENCODING_HEADERS = frozenset({"content-length", "content-encoding", "transfer-encoding"})


def _step_result(outcome: Outcome) -> StepResult:
    """An invocation's answer for the saga: status, headers, JSON body or None, attempts."""
    from seawall_runtime.saga.model import StepResult  # only clients taking part in sagas load the saga package

    response = outcome.response
    if response is None:  # invoke never configures a fallback
        raise RuntimeError("a saga invocation was answered by a fallback")
    body: Any = None
    if response.content and _is_json(response):
        try:
            body = response.json()
        except ValueError:
            body = None
    return StepResult(response.status_code, body, dict(response.headers), len(outcome.attempts))


def _raw_body(response: httpx.Response) -> object:
    """An undocumented response's body: JSON data when it is JSON, else text."""
    if _is_json(response):
        try:
            return response.json()
        except ValueError:
            pass
    return response.text


# --- the value-only twin of each `_detailed` method ------------------------------------

SelfT = TypeVar("SelfT")
P = ParamSpec("P")


def _rename(plain: Callable[..., Any], detailed: Callable[..., Any]) -> None:
    functools.update_wrapper(plain, detailed)
    plain.__name__ = detailed.__name__.removesuffix("_detailed")
    plain.__qualname__ = detailed.__qualname__.removesuffix("_detailed")


def returning_value(
    detailed: Callable[Concatenate[SelfT, P], ApiResponse[T]],
) -> Callable[Concatenate[SelfT, P], T]:
    """The method ``name`` from ``name_detailed``: same arguments, only the value.

    Type checkers see the detailed method's exact signature with ``T`` as the
    return type; ``help()`` and IDEs follow ``__wrapped__`` to it.
    """

    def plain(self: SelfT, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return detailed(self, *args, **kwargs).value

    _rename(plain, detailed)
    return plain


def returning_value_async(
    detailed: Callable[Concatenate[SelfT, P], Awaitable[ApiResponse[T]]],
) -> Callable[Concatenate[SelfT, P], Awaitable[T]]:
    """:func:`returning_value` for coroutine methods."""

    async def plain(self: SelfT, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return (await detailed(self, *args, **kwargs)).value

    _rename(plain, detailed)
    return plain


# --- discriminated unions -------------------------------------------------------


def discriminator(property_name: str, mapping: Mapping[str, str]) -> Callable[[Any], str | None]:
    """A pydantic ``Discriminator`` callable: the variant tag for raw data or a model.

    ``mapping`` sends the discriminator's wire value to the variant's tag
    (its model name); validating needs no Literal field on the variants.
    """

    def tag(data: Any) -> str | None:
        if isinstance(data, dict):
            value = data.get(property_name)
        else:
            return type(data).__name__ if type(data).__name__ in mapping.values() else None
        return mapping.get(str(value)) if value is not None else None

    return tag


# --- credentials ---------------------------------------------------------------------


class Credentials:
    """The API's credentials, added to each request as it is built.

    Applied by the generated code rather than as ``httpx.Auth`` so that they
    work with an ``httpx.Client`` the caller passes in too.
    """

    def __init__(
        self,
        *,
        headers: Iterable[tuple[str, str | None]] = (),
        query: Iterable[tuple[str, str | None]] = (),
        cookies: Iterable[tuple[str, str | None]] = (),
        basic: tuple[str, str] | None = None,
    ) -> None:
        self._headers = [(name, value) for name, value in headers if value is not None]
        self._query = [(name, value) for name, value in query if value is not None]
        self._cookies = [(name, value) for name, value in cookies if value is not None]
        self._basic = _basic_header(*basic) if basic is not None else None

    @property
    def header_names(self) -> tuple[str, ...]:
        """Headers that carry secrets (for redaction in logs and hooks)."""
        return tuple(name for name, _ in self._headers)

    def apply(self, request: httpx.Request) -> None:
        """Add the credentials to ``request``."""
        if self._basic is not None:
            request.headers["Authorization"] = self._basic
        for name, value in self._headers:
            request.headers[name] = value
        if self._query:
            request.url = request.url.copy_merge_params(dict(self._query))
        if self._cookies:
            pairs = [request.headers["Cookie"]] if "Cookie" in request.headers else []
            pairs += [f"{name}={quote(value, safe='')}" for name, value in self._cookies]
            request.headers["Cookie"] = "; ".join(pairs)


def _basic_header(username: str, password: str) -> str:
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def bearer(token: str | None) -> str | None:
    """The Authorization header value for a bearer token (``None`` stays ``None``)."""
    return None if token is None else f"Bearer {token}"
