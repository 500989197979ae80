"""What faults to inject: rules, each matching some requests, and a seed.

The same structure comes from the command line (``seawall.chaos.cli``) and
from JSON (the admin API's ``PUT /_chaos/faults``). Constructors validate and
raise ``ValueError`` naming the field; :func:`fault_set_from_json` turns those
into :class:`~seawall.diagnostics.Diagnostic` values with a JSON pointer.
"""

from __future__ import annotations

import fnmatch
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from seawall.diagnostics import Diagnostic, Location, SpecError, join_pointer

#: What an outage window does to every request in it. An ``int`` is a status.
OutageKind = int | Literal["reset", "hang", "refuse"]
OUTAGE_ACTIONS = ("reset", "hang", "refuse")


def _check_rate(name: str, value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{name} must be a probability between 0 and 1, got {value!r}")


def _check_seconds(name: str, value: float) -> None:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a number of seconds >= 0, got {value!r}")


def _check_status(value: int) -> None:
    if not 400 <= value <= 599:
        raise ValueError(f"status must be an HTTP error status (400-599), got {value!r}")


@dataclass(frozen=True)
class RoutePattern:
    """``"POST /orders*"``, ``"GET,HEAD /pets/*"`` or just ``"/pets/*"`` (any method).

    The path part is a shell-style glob (``fnmatch``) over the request path
    without its query string; ``*`` also matches ``/``.
    """

    methods: frozenset[str]  # empty: any method
    path_glob: str

    @classmethod
    def parse(cls, text: str) -> RoutePattern:
        method_part, _, path_part = text.strip().rpartition(" ")
        if not path_part.startswith("/"):
            raise ValueError(
                f"route pattern {text!r} must be '[METHOD[,METHOD…]] /path-glob'"
            )
        methods = frozenset(m.strip().upper() for m in method_part.split(",") if m.strip())
        if any(not m.isalpha() for m in methods - {"*"}):
            raise ValueError(f"route pattern {text!r} has a bad method list")
        return cls(methods=methods - {"*"}, path_glob=path_part)

    def matches(self, method: str, path: str) -> bool:
        """Whether a request with this method and path falls under the pattern."""
        if self.methods and method.upper() not in self.methods:
            return False
        return fnmatch.fnmatchcase(path, self.path_glob)

    def __str__(self) -> str:
        methods = ",".join(sorted(self.methods))
        return f"{methods} {self.path_glob}" if methods else self.path_glob


@dataclass(frozen=True)
class ErrorFault:
    """Answer ``status`` instead of forwarding, for a share ``rate`` of requests."""

    status: int
    rate: float

    def __post_init__(self) -> None:
        _check_status(self.status)
        _check_rate("rate", self.rate)


@dataclass(frozen=True)
class Outage:
    """From ``start`` to ``end`` seconds after the proxy started, every request fails."""

    start: float
    end: float
    kind: OutageKind = 503

    def __post_init__(self) -> None:
        _check_seconds("start", self.start)
        _check_seconds("end", self.end)
        if self.end <= self.start:
            raise ValueError(f"outage end ({self.end}) must be after its start ({self.start})")
        if isinstance(self.kind, int):
            _check_status(self.kind)
        elif self.kind not in OUTAGE_ACTIONS:
            raise ValueError(
                f"outage kind must be a status or one of {', '.join(OUTAGE_ACTIONS)}, "
                f"got {self.kind!r}"
            )

    def covers(self, elapsed: float) -> bool:
        """Whether ``elapsed`` seconds after start falls in the window (end excluded)."""
        return self.start <= elapsed < self.end


@dataclass(frozen=True)
class Rule:
    """Faults for requests matching any of ``match`` (all requests when empty).

    Rates are independent shares of matching requests and must add up to at
    most 1: one uniform draw per request picks at most one of them. Latency
    (``latency`` plus a uniform extra up to ``latency_jitter``) is added before
    whatever else happens to the request.
    """

    match: tuple[RoutePattern, ...] = ()
    errors: tuple[ErrorFault, ...] = ()
    retry_after: int | None = None
    latency: float = 0.0
    latency_jitter: float = 0.0
    reset: float = 0.0
    hang: float = 0.0
    lost: float = 0.0
    outages: tuple[Outage, ...] = ()

    def __post_init__(self) -> None:
        if self.retry_after is not None and self.retry_after < 0:
            raise ValueError(f"retry_after must be >= 0 seconds, got {self.retry_after!r}")
        _check_seconds("latency", self.latency)
        _check_seconds("latency_jitter", self.latency_jitter)
        for name in ("reset", "hang", "lost"):
            _check_rate(name, getattr(self, name))
        total = sum(e.rate for e in self.errors) + self.reset + self.hang + self.lost
        if total > 1.0 + 1e-9:
            raise ValueError(f"the fault rates add up to {total:g}, more than 1")
        if self.match and any(o.kind == "refuse" for o in self.outages):
            raise ValueError(
                "a 'refuse' outage closes the listening socket for every request, "
                "so it cannot be limited to matching routes"
            )

    def matches(self, method: str, path: str) -> bool:
        """Whether the rule applies to this request."""
        return not self.match or any(p.matches(method, path) for p in self.match)


@dataclass(frozen=True)
class FaultSet:
    """Everything the proxy injects: the first rule matching a request applies.

    ``hang_limit`` bounds a hung response: after that many seconds (or when the
    client gives up, whichever is first) the connection is reset.
    """

    rules: tuple[Rule, ...] = ()
    seed: int | None = None
    hang_limit: float = 30.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.hang_limit) and self.hang_limit > 0):
            raise ValueError(f"hang_limit must be > 0 seconds, got {self.hang_limit!r}")

    def rule_for(self, method: str, path: str) -> Rule | None:
        """The first rule that matches, or None."""
        return next((r for r in self.rules if r.matches(method, path)), None)

    def to_json(self) -> dict[str, object]:
        """The JSON form that :func:`fault_set_from_json` reads back."""
        return {
            "seed": self.seed,
            "hang_limit": self.hang_limit,
            "rules": [_rule_to_json(r) for r in self.rules],
        }


def _rule_to_json(rule: Rule) -> dict[str, object]:
    return {
        "match": [str(p) for p in rule.match],
        "errors": [{"status": e.status, "rate": e.rate} for e in rule.errors],
        "retry_after": rule.retry_after,
        "latency": rule.latency,
        "latency_jitter": rule.latency_jitter,
        "reset": rule.reset,
        "hang": rule.hang,
        "lost": rule.lost,
        "outages": [{"start": o.start, "end": o.end, "kind": o.kind} for o in rule.outages],
    }


class _Reader:
    """Reads a JSON document into fault objects, collecting problems with pointers."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[Diagnostic] = []

    def problem(self, pointer: str, message: str) -> None:
        self.problems.append(Diagnostic(message, Location(self.source, pointer)))

    def obj(self, value: object, pointer: str, keys: frozenset[str]) -> Mapping[str, object]:
        if not isinstance(value, Mapping):
            self.problem(pointer, "expected a JSON object")
            return {}
        for unknown in sorted(set(value) - keys):
            self.problem(join_pointer(pointer, unknown), f"unknown field {unknown!r}")
        return value

    def array(self, value: object, pointer: str) -> list[object]:
        if not isinstance(value, list):
            self.problem(pointer, "expected a JSON array")
            return []
        return value

    def build(self, pointer: str, factory: Callable[..., object], **kwargs: object) -> object | None:
        try:
            return factory(**kwargs)
        except (ValueError, TypeError) as err:
            self.problem(pointer, str(err))
            return None


_RULE_KEYS = frozenset(
    ["match", "errors", "retry_after", "latency", "latency_jitter", "reset", "hang", "lost", "outages"]
)


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers(reader: _Reader, data: Mapping[str, object], pointer: str, keys: list[str]) -> bool:
    """Report every present key in ``keys`` whose value is not a number."""
    ok = True
    for key in keys:
        if key in data and not _is_number(data[key]):
            reader.problem(join_pointer(pointer, key), f"{key} must be a number")
            ok = False
    return ok


def _read_outage(reader: _Reader, value: object, pointer: str) -> Outage | None:
    data = reader.obj(value, pointer, frozenset(["start", "end", "kind"]))
    if not isinstance(value, Mapping):
        return None
    if not {"start", "end"} <= set(data):
        reader.problem(pointer, "an outage needs 'start' and 'end' (seconds after start)")
        return None
    if not _numbers(reader, data, pointer, ["start", "end"]):
        return None
    kind = data.get("kind", 503)
    if isinstance(kind, str) and kind.isdigit():
        kind = int(kind)
    if isinstance(kind, bool) or not isinstance(kind, (int, str)):
        reader.problem(join_pointer(pointer, "kind"), "kind must be a status or a name")
        return None
    outage = reader.build(pointer, Outage, start=data.get("start"), end=data.get("end"), kind=kind)
    return outage if isinstance(outage, Outage) else None


def _read_rule(reader: _Reader, value: object, pointer: str) -> Rule | None:
    data = reader.obj(value, pointer, _RULE_KEYS)
    numeric = ["latency", "latency_jitter", "reset", "hang", "lost"]
    if not _numbers(reader, data, pointer, numeric):
        return None
    patterns: list[RoutePattern] = []
    for i, text in enumerate(reader.array(data.get("match", []), join_pointer(pointer, "match"))):
        here = join_pointer(pointer, "match", i)
        if not isinstance(text, str):
            reader.problem(here, "a route pattern must be a string")
            continue
        pattern = reader.build(here, RoutePattern.parse, text=text)
        if isinstance(pattern, RoutePattern):
            patterns.append(pattern)
    errors: list[ErrorFault] = []
    for i, item in enumerate(reader.array(data.get("errors", []), join_pointer(pointer, "errors"))):
        here = join_pointer(pointer, "errors", i)
        fields = reader.obj(item, here, frozenset(["status", "rate"]))
        if not isinstance(item, Mapping):
            continue
        status, rate = fields.get("status"), fields.get("rate")
        if not isinstance(status, int) or isinstance(status, bool) or not _is_number(rate):
            reader.problem(here, "an error needs an integer 'status' and a number 'rate'")
            continue
        error = reader.build(here, ErrorFault, status=status, rate=float(rate))  # type: ignore[arg-type]
        if isinstance(error, ErrorFault):
            errors.append(error)
    outages: list[Outage] = []
    for i, item in enumerate(reader.array(data.get("outages", []), join_pointer(pointer, "outages"))):
        outage = _read_outage(reader, item, join_pointer(pointer, "outages", i))
        if outage is not None:
            outages.append(outage)
    retry_after = data.get("retry_after")
    if retry_after is not None and (not isinstance(retry_after, int) or isinstance(retry_after, bool)):
        reader.problem(join_pointer(pointer, "retry_after"), "retry_after must be whole seconds")
        return None
    rule = reader.build(
        pointer,
        Rule,
        match=tuple(patterns),
        errors=tuple(errors),
        retry_after=retry_after,
        outages=tuple(outages),
        **{key: float(data[key]) for key in numeric if key in data},  # type: ignore[arg-type]
    )
    return rule if isinstance(rule, Rule) else None


def fault_set_from_json(data: object, source: str = "<fault set>") -> FaultSet:
    """Read a fault set from parsed JSON; raises ``SpecError`` listing every problem."""
    reader = _Reader(source)
    top = reader.obj(data, "", frozenset(["seed", "hang_limit", "rules"]))
    seed = top.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        reader.problem("/seed", "seed must be an integer")
        seed = None
    _numbers(reader, top, "", ["hang_limit"])
    rules = [
        _read_rule(reader, item, join_pointer("/rules", i))
        for i, item in enumerate(reader.array(top.get("rules", []), "/rules"))
    ]
    if reader.problems:
        raise SpecError(reader.problems)
    hang_limit = top.get("hang_limit", FaultSet.hang_limit)
    fault_set = reader.build(
        "", FaultSet, rules=tuple(r for r in rules if r), seed=seed, hang_limit=hang_limit
    )
    if not isinstance(fault_set, FaultSet) or reader.problems:
        raise SpecError(reader.problems)
    return fault_set


__all__ = [
    "ErrorFault",
    "FaultSet",
    "Outage",
    "OutageKind",
    "RoutePattern",
    "Rule",
    "fault_set_from_json",
]
