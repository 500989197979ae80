"""The resilience vocabulary (``x-timeout``, ``x-retry``, …): check it, and work
out every operation's effective policy.

The seven extensions are described in docs/policies.md. ``x-timeout`` and
``x-retry`` may sit on the document, a Path Item or an Operation and the
nearest level wins field by field; ``x-idempotent``, ``x-fallback`` and
``x-compensation`` belong on operations; ``x-circuit-breaker`` and
``x-retry-budget`` on the document only.

The model here is plain frozen data, independent of ``seawall_runtime``, so
the renderer can turn it into constructor calls. Every value keeps the JSON
pointer it came from (``OperationPolicy.origins``).
"""

from __future__ import annotations

import copy
import difflib
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from seawall.diagnostics import Diagnostic, Location, Severity, SpecError, join_pointer
from seawall.load import split_pointer
from seawall.resolve import follow_pointer

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
# RFC 9110 §9.2.2: methods whose effect is the same however often they are sent.
IDEMPOTENT_METHODS = frozenset({"get", "head", "options", "trace", "put", "delete"})

ANY_LEVEL = ("x-timeout", "x-retry")
OPERATION_ONLY = ("x-idempotent", "x-fallback", "x-compensation")
DOCUMENT_ONLY = ("x-circuit-breaker", "x-retry-budget")
VOCABULARY = ANY_LEVEL + OPERATION_ONLY + DOCUMENT_ONLY

JITTERS = ("full", "equal", "decorrelated", "none")
RETRY_CONDITIONS = ("connection-error", "timeout", "reset", "4XX", "5XX")
FALLBACK_CONDITIONS = ("circuit-open", "exhausted", "timeout", "deadline", "budget", "4XX", "5XX")
# The only failure after which the request certainly never reached the server.
NEVER_SENT = "connection-error"
MAX_ATTEMPTS = 10

# Defaults mirror seawall_runtime's policy classes (docs/runtime-api.md).
DEFAULT_RETRY_ON: tuple[str | int, ...] = (
    "connection-error",
    "timeout",
    "reset",
    408,
    429,
    500,
    502,
    503,
    504,
)

RetryOn = str | int
JsonValue = Any


class SpecLike(Protocol):
    """What this module needs of ``seawall.resolve.Spec``."""

    @property
    def document(self) -> Mapping[str, Any]: ...

    def locate(self, pointer: str) -> Location: ...


# ---------------------------------------------------------------- the model


@dataclass(frozen=True)
class TimeoutSpec:
    """Seconds; ``None`` means no limit of that kind."""

    connect: float | None = None
    attempt: float | None = None
    total: float | None = None


@dataclass(frozen=True)
class BackoffSpec:
    initial: float = 0.1
    multiplier: float = 2.0
    max: float = 5.0
    jitter: str = "full"


@dataclass(frozen=True)
class RetrySpec:
    attempts: int = 3
    backoff: BackoffSpec = BackoffSpec()
    on: tuple[RetryOn, ...] = DEFAULT_RETRY_ON
    retry_after: bool = True
    max_retry_after: float | None = 60.0  # the runtime's RetryPolicy default; None: no limit


@dataclass(frozen=True)
class BreakerSpec:
    failure_ratio: float = 0.5
    minimum_calls: int = 20
    window: float = 30.0
    open_for: float = 15.0
    half_open_probes: int = 1


@dataclass(frozen=True)
class BudgetSpec:
    ratio: float = 0.2
    floor: int = 10
    window: float = 10.0


@dataclass(frozen=True)
class Idempotency:
    idempotent: bool
    reason: str
    key_header: str | None = None


@dataclass(frozen=True)
class FallbackSpec:
    """Exactly one of ``value`` (when ``has_value``) or ``operation``."""

    on: tuple[RetryOn, ...]
    pointer: str
    has_value: bool = False
    value: JsonValue = None
    operation: str | None = None


@dataclass(frozen=True)
class CompensationArg:
    """One argument of the undoing call.

    ``target`` is where it goes: ``path``/``query``/``header``/``cookie`` for a
    parameter, ``body`` for a property of the JSON request body. ``expression``
    is an OpenAPI runtime expression (``$response.body#/id``), else ``value``
    is a literal.
    """

    name: str
    target: str
    expression: str | None = None
    value: JsonValue = None


@dataclass(frozen=True)
class CompensationSpec:
    operation: str
    args: tuple[CompensationArg, ...]
    pointer: str


@dataclass(frozen=True)
class OperationPolicy:
    """One operation's effective policy.

    ``origins`` maps a setting (``timeout.attempt``, ``retry.backoff.max``,
    ``retry``, ``idempotent`` …) to the JSON pointer it was taken from;
    settings missing there are the runtime's defaults.
    """

    method: str
    path: str
    operation_id: str | None
    pointer: str
    timeout: TimeoutSpec
    retry: RetrySpec | None
    idempotency: Idempotency
    fallback: FallbackSpec | None
    compensation: CompensationSpec | None
    origins: tuple[tuple[str, str], ...] = ()

    @property
    def name(self) -> str:
        return self.operation_id or f"{self.method.upper()} {self.path}"

    def origin(self, setting: str) -> str | None:
        return dict(self.origins).get(setting)


@dataclass(frozen=True)
class PolicySet:
    breaker: BreakerSpec
    budget: BudgetSpec
    operations: tuple[OperationPolicy, ...]
    breaker_pointer: str | None = None
    budget_pointer: str | None = None

    def get(self, operation_id: str) -> OperationPolicy:
        for operation in self.operations:
            if operation.operation_id == operation_id:
                return operation
        raise KeyError(operation_id)


def extract_policies(spec: SpecLike) -> tuple[PolicySet, list[Diagnostic]]:
    """Check every annotation of ``spec`` and compute the effective policies.

    Returns the policies and the warnings; raises ``SpecError`` carrying every
    problem when there is at least one error.
    """
    checker = _Checker(spec)
    policy_set = checker.run()
    # In reading order: file by file, top to bottom.
    diagnostics = sorted(
        checker.diagnostics,
        key=lambda d: (d.location.file, d.location.line or 0, d.location.column or 0),
    )
    if any(d.severity == "error" for d in diagnostics):
        raise SpecError(diagnostics)
    return policy_set, diagnostics


# ------------------------------------------------------- document helpers


def _at_pointer(document: Any, pointer: str) -> Any:
    """The node at a JSON pointer, or ``None`` when there is none."""
    try:
        return follow_pointer(document, pointer)
    except (KeyError, ValueError):
        return None


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _suggest(word: str, choices: Sequence[str]) -> str:
    close = difflib.get_close_matches(word, choices, n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number" if _is_number(value) else repr(value)
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, Mapping):
        return "an object"
    return type(value).__name__


@dataclass(frozen=True)
class _Operation:
    method: str
    path: str
    pointer: str
    node: Mapping[str, Any]
    path_item: Mapping[str, Any]
    path_pointer: str

    @property
    def operation_id(self) -> str | None:
        value = self.node.get("operationId")
        return value if isinstance(value, str) else None

    @property
    def label(self) -> str:
        return self.operation_id or f"{self.method.upper()} {self.path}"


@dataclass(frozen=True)
class _Body:
    """A success response's or request's JSON body (``schema`` may be absent)."""

    schema: Any
    schema_pointer: str
    required: bool = False


# A merged setting: name → (value, pointer it came from).
_Fields = dict[str, tuple[Any, str]]
_DISABLED = "disabled"


class _Checker:
    """Walks the document once, collecting diagnostics and policies."""

    def __init__(self, spec: SpecLike) -> None:
        self.spec = spec
        self.document = spec.document
        self.diagnostics: list[Diagnostic] = []
        self._seen: set[tuple[str, str]] = set()
        self._validation_root: dict[str, Any] | None = None
        self.operations = list(self._operations())
        self.by_id = {op.operation_id: op for op in self.operations if op.operation_id}

    # -- reporting

    def where(self, pointer: str) -> Location:
        location = self.spec.locate(pointer)
        parent = pointer
        while location.line is None and parent:
            parent = parent.rsplit("/", 1)[0]
            location = self.spec.locate(parent)
        return Location(location.file, pointer, location.line, location.column)

    def report(self, pointer: str, message: str, severity: Severity = "error") -> None:
        if (pointer, message) in self._seen:
            return
        self._seen.add((pointer, message))
        self.diagnostics.append(Diagnostic(message, self.where(pointer), severity))

    # -- walking

    def _path_items(self) -> Iterator[tuple[str, Mapping[str, Any], str]]:
        """(path, Path Item, its pointer) for each path; a ``$ref``'d item is followed
        (annotations are read, and reported, where the item is written)."""
        paths = self.document.get("paths")
        for path, item in paths.items() if isinstance(paths, Mapping) else ():
            pointer = join_pointer("/paths", str(path))
            ref = item.get("$ref") if isinstance(item, Mapping) else None
            if isinstance(ref, str) and ref.startswith("#"):
                item, pointer = _at_pointer(self.document, ref[1:]), ref[1:]
            if isinstance(item, Mapping):
                yield str(path), item, pointer

    def _operations(self) -> Iterator[_Operation]:
        for path, item, path_pointer in self._path_items():
            for method in HTTP_METHODS:
                node = item.get(method)
                if isinstance(node, Mapping):
                    pointer = join_pointer(path_pointer, method)
                    yield _Operation(method, path, pointer, node, item, path_pointer)

    def run(self) -> PolicySet:
        self._check_placement()
        breaker, breaker_pointer = self._document_settings("x-circuit-breaker", BreakerSpec, _BREAKER_FIELDS)
        budget, budget_pointer = self._document_settings("x-retry-budget", BudgetSpec, _BUDGET_FIELDS)
        doc_timeout = self._timeout_fields(self.document, "")
        doc_retry = self._retry_fields(self.document, "")
        item_levels: dict[str, tuple[_Fields, _Fields | str]] = {}
        policies = []
        for op in self.operations:
            if op.path_pointer not in item_levels:
                item_levels[op.path_pointer] = (
                    self._timeout_fields(op.path_item, op.path_pointer),
                    self._retry_fields(op.path_item, op.path_pointer),
                )
            item_timeout, item_retry = item_levels[op.path_pointer]
            policies.append(self._operation_policy(op, [doc_timeout, item_timeout], [doc_retry, item_retry]))
        return PolicySet(
            breaker=breaker,
            budget=budget,
            operations=tuple(policies),
            breaker_pointer=breaker_pointer,
            budget_pointer=budget_pointer,
        )

    def _check_placement(self) -> None:
        levels: list[tuple[Mapping[str, Any], str, str, tuple[str, ...]]] = [
            (self.document, "", "the document root", ANY_LEVEL + DOCUMENT_ONLY)
        ]
        for _, item, pointer in self._path_items():
            levels.append((item, pointer, "a Path Item", ANY_LEVEL))
        levels += [
            (op.node, op.pointer, "an operation", ANY_LEVEL + OPERATION_ONLY) for op in self.operations
        ]
        for node, pointer, level, allowed in levels:
            for key in node:
                if not isinstance(key, str) or not key.startswith("x-") or key in allowed:
                    continue
                key_pointer = join_pointer(pointer, key)
                if key in DOCUMENT_ONLY:
                    self.report(key_pointer, f"{key} is allowed on the document root only, not on {level}")
                elif key in OPERATION_ONLY:
                    self.report(key_pointer, f"{key} is allowed on operations only, not on {level}")
                else:
                    self._check_lookalike(key, key_pointer)

    def _check_lookalike(self, key: str, pointer: str) -> None:
        close = difflib.get_close_matches(key, VOCABULARY, n=1, cutoff=0.75)
        if close:
            self.report(pointer, f"unknown extension {key}; did you mean '{close[0]}'?", "warning")

    # -- shared field checks

    def _object(self, value: Any, pointer: str, what: str, allowed: Sequence[str]) -> bool:
        """Check ``value`` is an object with known keys only; report what is wrong."""
        if not isinstance(value, Mapping):
            self.report(pointer, f"{what} must be an object, got {_type_name(value)}")
            return False
        for key in value:
            if key not in allowed:
                self.report(
                    join_pointer(pointer, str(key)),
                    f"unknown field '{key}' in {what}{_suggest(str(key), allowed)}",
                )
        return True

    def _seconds(self, value: Any, pointer: str, what: str) -> float | None:
        if not _is_number(value):
            self.report(pointer, f"{what} must be a number of seconds, got {_type_name(value)}")
            return None
        if value <= 0:
            self.report(pointer, f"{what} must be more than 0 seconds, got {value}")
            return None
        return float(value)

    def _integer(self, value: Any, pointer: str, what: str, low: int, high: int | None = None) -> int | None:
        if not isinstance(value, int) or isinstance(value, bool):
            self.report(pointer, f"{what} must be a whole number, got {_type_name(value)}")
            return None
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.report(pointer, f"{what} must be {bounds}, got {value}")
            return None
        return value

    def _ratio(self, value: Any, pointer: str, what: str, *, allow_zero: bool) -> float | None:
        if not _is_number(value):
            self.report(pointer, f"{what} must be a number, got {_type_name(value)}")
            return None
        if value > 1 or value < 0 or (value == 0 and not allow_zero):
            low = "0" if allow_zero else "more than 0"
            self.report(pointer, f"{what} must be from {low} to 1, got {value}")
            return None
        return float(value)

    def _conditions(
        self, value: Any, pointer: str, what: str, names: Sequence[str]
    ) -> tuple[RetryOn, ...] | None:
        if not isinstance(value, list) or not value:
            self.report(pointer, f"{what} must be a non-empty list, got {_type_name(value)}")
            return None
        found: list[RetryOn] = []
        for index, item in enumerate(value):
            item_pointer = join_pointer(pointer, index)
            if isinstance(item, int) and not isinstance(item, bool):
                if 400 <= item <= 599:
                    found.append(item)
                else:
                    self.report(item_pointer, f"{what}: status {item} is not an error status (400-599)")
            elif isinstance(item, str) and item in names:
                found.append(item)
            else:
                shown = repr(item) if isinstance(item, str) else _type_name(item)
                hint = _suggest(item, names) if isinstance(item, str) else ""
                self.report(
                    item_pointer,
                    f"{what}: {shown} is not one of {', '.join(names)} or a status code 400-599{hint}",
                )
        return tuple(dict.fromkeys(found)) if len(found) == len(value) else None

    # -- document-level settings

    def _document_settings(
        self, key: str, cls: type[Any], fields: Mapping[str, tuple[str, str]]
    ) -> tuple[Any, str | None]:
        value = self.document.get(key)
        pointer = join_pointer("", key)
        if key not in self.document or not self._object(value, pointer, key, list(fields)):
            return cls(), None
        assert isinstance(value, Mapping)  # checked by _object
        settings = {}
        for name, raw in value.items():
            if name not in fields:
                continue
            attribute, kind = fields[name]
            what = f"{key}.{name}"
            item_pointer = join_pointer(pointer, name)
            checked: float | int | None
            if kind == "seconds":
                checked = self._seconds(raw, item_pointer, what)
            elif kind == "ratio":
                checked = self._ratio(raw, item_pointer, what, allow_zero=key == "x-retry-budget")
            else:
                checked = self._integer(raw, item_pointer, what, 0 if kind == "count0" else 1)
            if checked is not None:
                settings[attribute] = checked
        return cls(**settings), pointer

    # -- x-timeout

    def _timeout_fields(self, node: Mapping[str, Any], base: str) -> _Fields:
        if "x-timeout" not in node:
            return {}
        value = node["x-timeout"]
        pointer = join_pointer(base, "x-timeout")
        if _is_number(value):
            seconds = self._seconds(value, pointer, "x-timeout")
            return {"attempt": (seconds, pointer)} if seconds is not None else {}
        if not isinstance(value, Mapping):
            self.report(
                pointer, f"x-timeout must be a number of seconds or an object, got {_type_name(value)}"
            )
            return {}
        self._object(value, pointer, "x-timeout", _TIMEOUT_FIELDS)
        fields: _Fields = {}
        for name in _TIMEOUT_FIELDS:
            if name in value:
                item_pointer = join_pointer(pointer, name)
                seconds = self._seconds(value[name], item_pointer, f"x-timeout.{name}")
                if seconds is not None:
                    fields[name] = (seconds, item_pointer)
        self._check_timeout_order(fields)
        return fields

    def _merge_timeout(self, levels: Sequence[_Fields]) -> tuple[TimeoutSpec, _Fields]:
        merged: _Fields = {}
        for level in levels:
            merged.update(level)
        self._check_timeout_order(merged)
        return TimeoutSpec(**{name: value for name, (value, _) in merged.items()}), merged

    def _check_timeout_order(self, fields: _Fields) -> None:
        total = fields.get("total")
        for name in ("attempt", "connect"):
            part = fields.get(name)
            if total is not None and part is not None and part[0] > total[0]:
                self.report(
                    part[1],
                    f"x-timeout.{name} ({part[0]:g} s) is larger than the total "
                    f"({total[0]:g} s, at #{total[1]})",
                )

    # -- x-retry

    def _retry_fields(self, node: Mapping[str, Any], base: str) -> _Fields | str:
        """The fields an ``x-retry`` sets (dotted names), or ``_DISABLED`` for ``false``."""
        if "x-retry" not in node:
            return {}
        value = node["x-retry"]
        pointer = join_pointer(base, "x-retry")
        if value is False:
            return _DISABLED
        if not isinstance(value, Mapping):
            self.report(pointer, f"x-retry must be an object or false, got {_type_name(value)}")
            return {}
        self._object(
            value, pointer, "x-retry", ("attempts", "backoff", "on", "retry-after", "max-retry-after")
        )
        fields: _Fields = {}

        def keep(name: str, checked: Any, item_pointer: str) -> None:
            if checked is not None:
                fields[name] = (checked, item_pointer)

        if "attempts" in value:
            item_pointer = join_pointer(pointer, "attempts")
            keep(
                "attempts",
                self._integer(value["attempts"], item_pointer, "x-retry.attempts", 1, MAX_ATTEMPTS),
                item_pointer,
            )
        if "on" in value:
            item_pointer = join_pointer(pointer, "on")
            keep(
                "on",
                self._conditions(value["on"], item_pointer, "x-retry.on", RETRY_CONDITIONS),
                item_pointer,
            )
        if "retry-after" in value:
            item_pointer = join_pointer(pointer, "retry-after")
            if isinstance(value["retry-after"], bool):
                keep("retry-after", value["retry-after"], item_pointer)
            else:
                self.report(
                    item_pointer,
                    f"x-retry.retry-after must be true or false, got {_type_name(value['retry-after'])}",
                )
        if "max-retry-after" in value:
            item_pointer = join_pointer(pointer, "max-retry-after")
            if value["max-retry-after"] is False:  # no limit of the policy's own
                fields["max-retry-after"] = (None, item_pointer)
            else:
                keep(
                    "max-retry-after",
                    self._seconds(value["max-retry-after"], item_pointer, "x-retry.max-retry-after"),
                    item_pointer,
                )
        if "backoff" in value:
            fields.update(self._backoff_fields(value["backoff"], join_pointer(pointer, "backoff")))
        return fields

    def _backoff_fields(self, value: Any, pointer: str) -> _Fields:
        if not self._object(value, pointer, "x-retry.backoff", _BACKOFF_FIELDS):
            return {}
        fields: _Fields = {}
        for name in _BACKOFF_FIELDS:
            if name not in value:
                continue
            item_pointer = join_pointer(pointer, name)
            what = f"x-retry.backoff.{name}"
            raw = value[name]
            checked: Any
            if name == "jitter":
                checked = raw if raw in JITTERS else None
                if checked is None:
                    hint = _suggest(raw, JITTERS) if isinstance(raw, str) else ""
                    self.report(
                        item_pointer, f"{what} must be one of {', '.join(JITTERS)}, got {raw!r}{hint}"
                    )
            elif name == "multiplier":
                checked = float(raw) if _is_number(raw) and raw >= 1 else None
                if checked is None:
                    self.report(item_pointer, f"{what} must be a number of at least 1, got {raw!r}")
            else:
                checked = self._seconds(raw, item_pointer, what)
            if checked is not None:
                fields[f"backoff.{name}"] = (checked, item_pointer)
        if "backoff.initial" in fields and "backoff.max" in fields:
            self._check_backoff_order(fields["backoff.initial"], fields["backoff.max"])
        return fields

    def _check_backoff_order(self, initial: tuple[Any, str], maximum: tuple[Any, str]) -> None:
        if maximum[0] < initial[0]:
            self.report(
                maximum[1] or initial[1],
                f"x-retry.backoff.max ({maximum[0]:g} s) is smaller than backoff.initial ({initial[0]:g} s)",
            )

    def _merge_retry(
        self, op: _Operation, levels: Sequence[_Fields | str], idempotent: bool
    ) -> tuple[RetrySpec | None, _Fields]:
        merged: _Fields = {}
        disabled_at: str | None = None
        own_on: tuple[Any, str] | None = None
        for index, level in enumerate(levels):
            if level == _DISABLED:
                disabled_at = self._level_pointer(op, index)
                continue
            assert isinstance(level, dict)
            if level:
                disabled_at = None  # an object nearer than a `false` turns retries back on
            merged.update(level)
            if index == len(levels) - 1 and "on" in level:
                own_on = level["on"]
        if disabled_at is not None:
            return None, {"retry": (False, disabled_at)}
        initial = merged.get("backoff.initial", (BackoffSpec.initial, ""))
        maximum = merged.get("backoff.max", (BackoffSpec.max, ""))
        self._check_backoff_order(initial, maximum)
        on: tuple[RetryOn, ...] = merged["on"][0] if "on" in merged else DEFAULT_RETRY_ON
        if not idempotent:
            repeats = [c for c in on if c != NEVER_SENT]
            if own_on is not None and repeats:
                self.report(
                    own_on[1],
                    f"{op.method.upper()} {op.path} is not idempotent, but x-retry.on lists "
                    f"{', '.join(map(str, repeats))}, which may repeat its side effect; mark the "
                    "operation `x-idempotent: true` (or `x-idempotent: {key: Idempotency-Key}`) "
                    f"if repeating it is safe, or retry only on {NEVER_SENT}",
                )
            # Inherited settings apply only where the request was never sent.
            on = tuple(c for c in on if c == NEVER_SENT)
            if not on:
                return None, merged
        backoff = BackoffSpec(
            initial=initial[0],
            multiplier=merged.get("backoff.multiplier", (BackoffSpec.multiplier, ""))[0],
            max=maximum[0],
            jitter=merged.get("backoff.jitter", (BackoffSpec.jitter, ""))[0],
        )
        spec = RetrySpec(
            attempts=merged.get("attempts", (RetrySpec.attempts, ""))[0],
            backoff=backoff,
            on=on,
            retry_after=merged.get("retry-after", (RetrySpec.retry_after, ""))[0],
            max_retry_after=merged.get("max-retry-after", (RetrySpec.max_retry_after, ""))[0],
        )
        return spec, merged

    @staticmethod
    def _level_pointer(op: _Operation, index: int) -> str:
        base = ("", op.path_pointer, op.pointer)[index]
        return join_pointer(base, "x-retry")

    # -- x-idempotent

    def _idempotency(self, op: _Operation) -> tuple[Idempotency, str | None]:
        method = op.method.upper()
        by_method = op.method in IDEMPOTENT_METHODS
        if "x-idempotent" not in op.node:
            word = "is" if by_method else "is not"
            return Idempotency(by_method, f"{method} {word} idempotent by RFC 9110"), None
        value = op.node["x-idempotent"]
        pointer = join_pointer(op.pointer, "x-idempotent")
        if isinstance(value, bool):
            return Idempotency(value, f"x-idempotent: {str(value).lower()} at #{pointer}"), pointer
        if self._object(value, pointer, "x-idempotent", ("key",)):
            key = value.get("key")
            key_pointer = join_pointer(pointer, "key")
            if "key" not in value:
                self.report(pointer, "x-idempotent needs 'key': the header that carries the idempotency key")
            elif not isinstance(key, str) or not _is_header_name(key):
                self.report(key_pointer, f"x-idempotent.key must be an HTTP header name, got {key!r}")
            else:
                return Idempotency(True, f"idempotency key header {key}", key), pointer
        else:
            self.report(pointer, "x-idempotent must be true, false or {key: Header-Name}")
        return Idempotency(by_method, "x-idempotent is invalid"), pointer

    # -- one operation

    def _operation_policy(
        self, op: _Operation, timeouts: list[_Fields], retries: list[_Fields | str]
    ) -> OperationPolicy:
        origins: list[tuple[str, str]] = []
        timeout, timeout_fields = self._merge_timeout(timeouts + [self._timeout_fields(op.node, op.pointer)])
        origins += [(f"timeout.{name}", pointer) for name, (_, pointer) in timeout_fields.items()]
        idempotency, idempotent_pointer = self._idempotency(op)
        if idempotent_pointer:
            origins.append(("idempotent", idempotent_pointer))
        retry, retry_fields = self._merge_retry(
            op, retries + [self._retry_fields(op.node, op.pointer)], idempotency.idempotent
        )
        origins += [
            (f"retry.{name}" if name != "retry" else name, pointer)
            for name, (_, pointer) in retry_fields.items()
        ]
        fallback = self._fallback(op) if "x-fallback" in op.node else None
        if fallback:
            origins.append(("fallback", fallback.pointer))
        compensation = self._compensation(op) if "x-compensation" in op.node else None
        if compensation:
            origins.append(("compensation", compensation.pointer))
        return OperationPolicy(
            method=op.method.upper(),
            path=op.path,
            operation_id=op.operation_id,
            pointer=op.pointer,
            timeout=timeout,
            retry=retry,
            idempotency=idempotency,
            fallback=fallback,
            compensation=compensation,
            origins=tuple(sorted(origins)),
        )

    # -- x-fallback

    def _fallback(self, op: _Operation) -> FallbackSpec | None:
        pointer = join_pointer(op.pointer, "x-fallback")
        value = op.node["x-fallback"]
        if not self._object(value, pointer, "x-fallback", ("on", "value", "operation")):
            return None
        on = None
        if "on" not in value:
            self.report(pointer, "x-fallback needs 'on': the failures that use the fallback")
        else:
            on = self._conditions(
                value["on"], join_pointer(pointer, "on"), "x-fallback.on", FALLBACK_CONDITIONS
            )
        if ("value" in value) == ("operation" in value):
            self.report(
                pointer, "x-fallback needs exactly one of 'value' (a literal) or 'operation' (an operationId)"
            )
            return None
        if "value" in value:
            ok = self._check_fallback_value(op, value["value"], join_pointer(pointer, "value"))
            spec = FallbackSpec(on or (), pointer, has_value=True, value=value["value"])
        else:
            ok = self._check_fallback_operation(op, value["operation"], join_pointer(pointer, "operation"))
            spec = FallbackSpec(on or (), pointer, operation=value["operation"])
        return spec if ok and on else None

    def _check_fallback_value(self, op: _Operation, literal: Any, pointer: str) -> bool:
        body = self._success_body(op)
        if body is None:
            if literal is not None:
                self.report(
                    pointer, f"x-fallback.value must be null: {op.label} has no success response with a body"
                )
                return False
            return True
        if body.schema is None:
            return True
        problems = self._schema_errors(literal, body.schema_pointer)
        for problem in problems:
            self.report(
                pointer,
                f"x-fallback.value does not match the success response schema (#{body.schema_pointer}): {problem}",
            )
        return not problems

    def _check_fallback_operation(self, op: _Operation, name: Any, pointer: str) -> bool:
        target = self._operation_named(name, pointer, "x-fallback.operation")
        if target is None:
            return False
        if target is op:
            self.report(pointer, f"x-fallback.operation cannot be the operation itself ({name})")
            return False
        mine, theirs = self._success_body(op), self._success_body(target)
        if not _same_schema(self.document, mine, theirs):
            shown = [f"#{b.schema_pointer}" if b else "no body" for b in (mine, theirs)]
            self.report(
                pointer,
                f"x-fallback.operation {name} answers with {shown[1]}, which is not compatible with "
                f"the success response of {op.label} ({shown[0]})",
            )
            return False
        mine_params = {(p["name"], p["in"]) for p, _ in self._parameters(op)}
        for param, _ in self._parameters(target):
            if param.get("required") and (param["name"], param["in"]) not in mine_params:
                self.report(
                    pointer,
                    f"x-fallback.operation {name} needs {param['in']} parameter '{param['name']}', "
                    f"which {op.label} does not have",
                )
                return False
        return True

    # -- x-compensation

    def _compensation(self, op: _Operation) -> CompensationSpec | None:
        pointer = join_pointer(op.pointer, "x-compensation")
        value = op.node["x-compensation"]
        if not self._object(value, pointer, "x-compensation", ("operation", "args")):
            return None
        if "operation" not in value:
            self.report(pointer, "x-compensation needs 'operation': the operationId that undoes this call")
            return None
        target = self._operation_named(
            value["operation"], join_pointer(pointer, "operation"), "x-compensation.operation"
        )
        args = value.get("args", {})
        args_pointer = join_pointer(pointer, "args")
        if not isinstance(args, Mapping):
            self.report(args_pointer, f"x-compensation.args must be an object, got {_type_name(args)}")
            return None
        if target is None:
            return None
        checked = self._compensation_args(op, target, args, args_pointer if "args" in value else pointer)
        return CompensationSpec(target.label, checked, pointer) if checked is not None else None

    def _compensation_args(
        self, op: _Operation, target: _Operation, args: Mapping[str, Any], pointer: str
    ) -> tuple[CompensationArg, ...] | None:
        params = {p["name"]: p for p, _ in self._parameters(target)}
        body = self._request_body(target)
        body_props, body_required = _object_properties(self.document, body.schema if body else None)
        ok = True
        result = []
        for name, raw in args.items():
            arg_pointer = join_pointer(pointer, str(name))
            if name in params and params[name]["in"] == "cookie":
                # The saga's canonical arguments have no cookie section (docs/sagas.md).
                self.report(
                    arg_pointer,
                    f"x-compensation.args: '{name}' is a cookie parameter of {target.label}; "
                    "a compensation can set path, query and header parameters and body properties",
                )
                ok = False
                continue
            if name in params:
                where = str(params[name]["in"])
            elif body is not None and (body_props is None or name in body_props):
                where = "body"
            else:
                choices = list(params) + sorted(body_props or ())
                self.report(
                    arg_pointer,
                    f"x-compensation.args: {target.label} has no parameter or body property "
                    f"'{name}'{_suggest(str(name), choices)}",
                )
                ok = False
                continue
            if isinstance(raw, str) and raw.startswith("$"):
                ok = self._check_expression(op, raw, arg_pointer) and ok
                result.append(CompensationArg(str(name), where, expression=raw))
            else:
                result.append(CompensationArg(str(name), where, value=raw))
        for name, param in params.items():
            if (param.get("required") or param["in"] == "path") and name not in args:
                self.report(
                    pointer,
                    f"x-compensation.args misses required {param['in']} parameter '{name}' of {target.label}",
                )
                ok = False
        if body is not None and body.required:
            for name in sorted(body_required - set(args)):
                self.report(
                    pointer, f"x-compensation.args misses required body property '{name}' of {target.label}"
                )
                ok = False
        return tuple(result) if ok else None

    def _check_expression(self, op: _Operation, expression: str, pointer: str) -> bool:
        """Check a runtime expression names something ``op`` really has."""
        if expression in ("$url", "$method", "$statusCode"):
            return True
        source, _, fragment = expression.partition("#")
        if source in ("$response.body", "$request.body") and (not fragment or fragment.startswith("/")):
            body = self._success_body(op) if source == "$response.body" else self._request_body(op)
            what = "success response" if source == "$response.body" else "request body"
            if body is None:
                self.report(pointer, f"{expression}: {op.label} has no {what} with a JSON body")
                return False
            tokens = split_pointer(fragment)
            if _schema_has(self.document, body.schema, tokens) is False:
                self.report(
                    pointer,
                    f"{expression}: the {what} schema (#{body.schema_pointer}) has no field {fragment}",
                )
                return False
            return True
        for prefix, place in (
            ("$request.path.", "path"),
            ("$request.query.", "query"),
            ("$request.header.", "header"),
        ):
            if expression.startswith(prefix) and not fragment:
                name = expression[len(prefix) :]
                fold = place == "header"
                names = [p["name"] for p, _ in self._parameters(op) if p["in"] == place]
                if not any(n == name or (fold and n.lower() == name.lower()) for n in names):
                    self.report(
                        pointer,
                        f"{expression}: {op.label} has no {place} parameter '{name}'{_suggest(name, names)}",
                    )
                    return False
                return True
        if expression.startswith("$response.header.") and not fragment:
            name = expression[len("$response.header.") :]
            headers = self._success_response_headers(op)
            if name.lower() not in {str(h).lower() for h in headers}:
                self.report(
                    pointer, f"{expression}: the success response of {op.label} declares no header '{name}'"
                )
                return False
            return True
        self.report(
            pointer,
            f"{expression!r} is not a runtime expression seawall understands ($response.body#/…, "
            "$request.body#/…, $request.path.…, $request.query.…, $request.header.…, $response.header.…)",
        )
        return False

    # -- looking things up in the document

    def _operation_named(self, name: Any, pointer: str, what: str) -> _Operation | None:
        if not isinstance(name, str):
            self.report(pointer, f"{what} must be an operationId, got {_type_name(name)}")
            return None
        target = self.by_id.get(name)
        if target is None:
            self.report(
                pointer, f"{what}: no operation has operationId '{name}'{_suggest(name, list(self.by_id))}"
            )
        return target

    def _deref(self, node: Any, pointer: str) -> tuple[Any, str]:
        """Follow local ``$ref``s (a few hops) to the node they name."""
        for _ in range(16):
            if not (
                isinstance(node, Mapping)
                and isinstance(node.get("$ref"), str)
                and node["$ref"].startswith("#")
            ):
                break
            pointer = node["$ref"][1:]
            node = _at_pointer(self.document, pointer)
        return node, pointer

    def _parameters(self, op: _Operation) -> list[tuple[Mapping[str, Any], str]]:
        """The operation's parameters (path-level ones included, overridden by name+in)."""
        found: dict[tuple[str, str], tuple[Mapping[str, Any], str]] = {}
        for owner, base in ((op.path_item, op.path_pointer), (op.node, op.pointer)):
            listed = owner.get("parameters")
            for index, raw in enumerate(listed if isinstance(listed, list) else ()):
                param, pointer = self._deref(raw, join_pointer(base, "parameters", index))
                if (
                    isinstance(param, Mapping)
                    and isinstance(param.get("name"), str)
                    and isinstance(param.get("in"), str)
                ):
                    found[(param["name"], param["in"])] = (param, pointer)
        return list(found.values())

    def _success_response(self, op: _Operation) -> tuple[Mapping[str, Any], str] | None:
        responses = op.node.get("responses")
        if not isinstance(responses, Mapping):
            return None
        codes = sorted(str(code) for code in responses if str(code).startswith("2"))
        for code in codes:
            raw = responses.get(code, responses.get(int(code)) if code.isdigit() else None)
            response, pointer = self._deref(raw, join_pointer(op.pointer, "responses", code))
            if isinstance(response, Mapping):
                return response, pointer
        return None

    def _success_response_headers(self, op: _Operation) -> Mapping[str, Any]:
        found = self._success_response(op)
        headers = found[0].get("headers") if found else None
        return headers if isinstance(headers, Mapping) else {}

    def _success_body(self, op: _Operation) -> _Body | None:
        found = self._success_response(op)
        return self._json_body(*found) if found else None

    def _request_body(self, op: _Operation) -> _Body | None:
        body, pointer = self._deref(op.node.get("requestBody"), join_pointer(op.pointer, "requestBody"))
        if not isinstance(body, Mapping):
            return None
        json_body = self._json_body(body, pointer)
        if json_body is None:
            return None
        return _Body(json_body.schema, json_body.schema_pointer, bool(body.get("required")))

    def _json_body(self, holder: Mapping[str, Any], pointer: str) -> _Body | None:
        content = holder.get("content")
        if not isinstance(content, Mapping):
            return None
        for media_type, media in content.items():
            kind = str(media_type).split(";")[0].strip().lower()
            if kind == "application/json" or kind.endswith("+json") or kind == "*/*":
                media_pointer = join_pointer(pointer, "content", str(media_type))
                schema = media.get("schema") if isinstance(media, Mapping) else None
                return _Body(schema, join_pointer(media_pointer, "schema"))
        return None

    # -- checking a literal against a schema

    def _schema_errors(self, value: Any, schema_pointer: str) -> list[str]:
        """jsonschema's complaints about ``value`` against the schema at a pointer."""
        import jsonschema

        if self._validation_root is None:
            self._validation_root = _validation_document(self.document)
        root = dict(self._validation_root)
        # The whole document is the root resource so "#/components/…" refs resolve;
        # its own keys (openapi, paths, …) are not schema keywords and are ignored.
        root["$ref"] = "#" + schema_pointer
        validator_class = (
            jsonschema.Draft202012Validator if _is_31(self.document) else jsonschema.Draft4Validator
        )
        errors = sorted(validator_class(root).iter_errors(value), key=lambda e: list(e.absolute_path))
        return [f"{_instance_path(e.absolute_path)}: {e.message}" for e in errors[:5]]


_TIMEOUT_FIELDS = ("connect", "attempt", "total")
_BACKOFF_FIELDS = ("initial", "multiplier", "max", "jitter")
# extension field → (dataclass attribute, kind of number)
_BREAKER_FIELDS = {
    "failure-ratio": ("failure_ratio", "ratio"),
    "minimum-calls": ("minimum_calls", "count"),
    "window": ("window", "seconds"),
    "open-for": ("open_for", "seconds"),
    "half-open-probes": ("half_open_probes", "count"),
}
_BUDGET_FIELDS = {
    "ratio": ("ratio", "ratio"),
    "floor": ("floor", "count0"),
    "window": ("window", "seconds"),
}


def _is_header_name(name: str) -> bool:
    # RFC 9110 token characters.
    allowed = set("!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
    return bool(name) and set(name) <= allowed


def _is_31(document: Mapping[str, Any]) -> bool:
    return str(document.get("openapi", "")).startswith("3.1")


def _instance_path(path: Sequence[Any]) -> str:
    return "value" + "".join(f"[{p!r}]" if isinstance(p, str) else f"[{p}]" for p in path)


def _validation_document(document: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of the document whose 3.0 ``nullable`` schemas also accept null."""
    copied: dict[str, Any] = copy.deepcopy(dict(document))
    if _is_31(document):
        return copied

    def rewrite(node: Any) -> Any:
        if isinstance(node, list):
            return [rewrite(item) for item in node]
        if not isinstance(node, dict):
            return node
        node = {key: rewrite(item) for key, item in node.items()}
        if node.pop("nullable", False) is True:
            return {"anyOf": [{"type": "null"}, node]}
        return node

    rewritten: dict[str, Any] = rewrite(copied)
    return rewritten


def _resolved_schema(document: Mapping[str, Any], schema: Any) -> Any:
    for _ in range(16):
        if (
            isinstance(schema, Mapping)
            and isinstance(schema.get("$ref"), str)
            and schema["$ref"].startswith("#")
        ):
            schema = _at_pointer(document, schema["$ref"][1:])
        else:
            break
    return schema


def _same_schema(document: Mapping[str, Any], a: _Body | None, b: _Body | None) -> bool:
    """Whether two success bodies have the same shape (same $ref target or equal schemas)."""
    if a is None or b is None:
        return a is None and b is None
    return bool(_resolved_schema(document, a.schema) == _resolved_schema(document, b.schema))


def _list_at(schema: Mapping[str, Any], keyword: str) -> list[Any]:
    value = schema.get(keyword)
    return value if isinstance(value, list) else []


def _combine(results: list[bool | None]) -> bool | None:
    if any(r is True for r in results):
        return True
    if results and all(r is False for r in results):
        return False
    return None


def _schema_has(document: Mapping[str, Any], schema: Any, tokens: list[str], depth: int = 0) -> bool | None:
    """Whether a schema has the field at ``tokens``: True, False, or None (cannot tell)."""
    if not tokens:
        return True
    schema = _resolved_schema(document, schema)
    if not isinstance(schema, Mapping) or depth > 32:
        return None
    results: list[bool | None] = [
        _schema_has(document, branch, tokens, depth + 1)
        for keyword in ("allOf", "oneOf", "anyOf")
        for branch in _list_at(schema, keyword)
    ]
    head, rest = tokens[0], tokens[1:]
    properties = schema.get("properties")
    extra = schema.get("additionalProperties")
    if isinstance(properties, Mapping) and head in properties:
        results.append(_schema_has(document, properties[head], rest, depth + 1))
    elif isinstance(extra, Mapping):
        results.append(_schema_has(document, extra, rest, depth + 1))
    elif isinstance(properties, Mapping) or extra is False:
        results.append(False)
    if "items" in schema:
        results.append(_schema_has(document, schema["items"], rest, depth + 1) if head.isdigit() else False)
    return _combine(results)


def _object_properties(document: Mapping[str, Any], schema: Any) -> tuple[set[str] | None, set[str]]:
    """A body schema's property names (``None``: any name may do) and required names."""
    schema = _resolved_schema(document, schema)
    if not isinstance(schema, Mapping):
        return None, set()
    names: set[str] = set()
    required = {r for r in schema.get("required", ()) if isinstance(r, str)}
    open_ended = "properties" not in schema or isinstance(schema.get("additionalProperties"), Mapping)
    if isinstance(schema.get("properties"), Mapping):
        names |= {str(n) for n in schema["properties"]}
    for part in _list_at(schema, "allOf"):
        part_names, part_required = _object_properties(document, part)
        required |= part_required
        if part_names is None:
            continue
        names |= part_names
        open_ended = False
    if schema.get("oneOf") or schema.get("anyOf"):
        return None, required
    return (None if open_ended and not names else names), required
