"""OpenAPI runtime expressions, evaluated against a step's request and response.

Supported (OpenAPI 3.x "Runtime Expressions"): ``$statusCode``,
``$request.path.NAME``, ``$request.query.NAME``, ``$request.header.NAME``,
``$request.body`` and ``$request.body#/json/pointer``, ``$response.header.NAME``,
``$response.body`` and ``$response.body#/json/pointer``. ``$url`` and ``$method``
are not available to compensations and are rejected.

Expressions are only ever looked up, never executed: evaluation is a walk over
JSON data.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from urllib.parse import unquote

from seawall_runtime.saga.model import Arguments, JSONLike, StepResult


class ExpressionError(ValueError):
    """An expression is malformed or names something the request/response lacks."""

    def __init__(self, expression: str, reason: str) -> None:
        super().__init__(f"runtime expression {expression!r}: {reason}")
        self.expression = expression
        self.reason = reason


@dataclass(frozen=True)
class Expression:
    """A parsed expression: where to look (``source``) and what to look up."""

    text: str
    source: str  # "statusCode" | "request.path" | … | "response.body"
    name: str = ""  # parameter/header name, or the body's JSON pointer

    @property
    def needs_response(self) -> bool:
        return self.source == "statusCode" or self.source.startswith("response.")


_TOKEN = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 header token
_EMBEDDED = re.compile(r"\{(\$[^{}]*)\}")


def parse(text: str) -> Expression:
    """Parse one expression, e.g. ``$response.body#/id``. Raises :class:`ExpressionError`."""
    if text == "$statusCode":
        return Expression(text, "statusCode")
    for side in ("request", "response"):
        prefix = f"${side}."
        if not text.startswith(prefix):
            continue
        rest = text[len(prefix) :]
        if rest == "body" or rest.startswith("body#"):
            pointer = unquote(rest[len("body#") :]) if rest.startswith("body#") else ""
            if pointer and not pointer.startswith("/"):
                raise ExpressionError(text, "a body JSON pointer must start with '/'")
            return Expression(text, f"{side}.body", pointer)
        kind, _, name = rest.partition(".")
        allowed = ("path", "query", "header") if side == "request" else ("header",)
        if kind not in allowed:
            wanted = ", ".join(f"{k}.NAME" for k in allowed)
            raise ExpressionError(text, f"after ${side}. expected body, {wanted}")
        if not name:
            raise ExpressionError(text, f"${side}.{kind} needs a name")
        if kind == "header" and not _TOKEN.match(name):
            raise ExpressionError(text, "a header name must be an HTTP token")
        return Expression(text, f"{side}.{kind}", name)
    if text in ("$url", "$method"):
        raise ExpressionError(text, "not available to compensations")
    raise ExpressionError(
        text, "unknown expression (expected $statusCode, $request.…, $response.…)"
    )


def _is_array(value: object) -> bool:
    return isinstance(value, Sequence) and not isinstance(value, (str, bytes))


def resolve_pointer(document: JSONLike, pointer: str, *, expression: str) -> JSONLike:
    """Follow an RFC 6901 JSON pointer through ``document``."""
    value = document
    if pointer == "":
        return value
    for raw in pointer[1:].split("/"):
        token = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(value, Mapping):
            if token not in value:
                raise ExpressionError(expression, f"no member {token!r} at this point")
            value = value[token]
        elif _is_array(value):
            assert isinstance(value, Sequence)
            if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
                raise ExpressionError(expression, f"{token!r} is not an array index")
            if int(token) >= len(value):
                raise ExpressionError(expression, f"index {token} is past the end of the array")
            value = value[int(token)]
        else:
            raise ExpressionError(expression, f"cannot look up {token!r} in a scalar value")
    return value


@dataclass(frozen=True)
class Context:
    """What expressions are evaluated against: the step's arguments and its answer."""

    arguments: Arguments
    result: StepResult | None = None


def evaluate(expression: Expression, context: Context) -> JSONLike:
    """The value an expression names. Raises :class:`ExpressionError` if it is absent."""
    text = expression.text
    if expression.needs_response and context.result is None:
        raise ExpressionError(text, "the response is not known")
    if expression.source == "statusCode":
        assert context.result is not None
        return context.result.status
    if expression.source == "response.header":
        assert context.result is not None
        header = context.result.header(expression.name)
        if header is None:
            raise ExpressionError(text, f"the response has no {expression.name!r} header")
        return header
    if expression.source == "response.body":
        assert context.result is not None
        return resolve_pointer(context.result.body, expression.name, expression=text)
    if expression.source == "request.body":
        if "body" not in context.arguments:
            raise ExpressionError(text, "the request had no body")
        return resolve_pointer(context.arguments["body"], expression.name, expression=text)
    section = expression.source.removeprefix("request.")
    values = context.arguments.get(section)
    if isinstance(values, Mapping):
        # Header names are case-insensitive; path and query names are not.
        names = (
            [expression.name]
            if section != "header"
            else [key for key in values if key.lower() == expression.name.lower()]
        )
        for name in names:
            if name in values:
                found: JSONLike = values[name]
                return found
    raise ExpressionError(text, f"the request had no {section} parameter {expression.name!r}")


def _expressions_in(text: str) -> Iterator[str]:
    """The expressions a template string holds (none for a literal)."""
    if text.startswith("$$"):
        return
    if text.startswith("$"):
        yield text
        return
    for match in _EMBEDDED.finditer(text):
        yield match.group(1)


def _render_string(text: str, context: Context) -> JSONLike:
    if text.startswith("$$"):
        return text[1:]
    if text.startswith("$"):
        return evaluate(parse(text), context)

    def substitute(match: re.Match[str]) -> str:
        value = evaluate(parse(match.group(1)), context)
        if isinstance(value, Mapping) or _is_array(value):
            raise ExpressionError(
                match.group(1), "an object or array cannot be embedded in a string"
            )
        if isinstance(value, bool):
            return "true" if value else "false"
        return "" if value is None else str(value)

    return _EMBEDDED.sub(substitute, text)


def render(template: JSONLike, context: Context) -> JSONLike:
    """Evaluate every expression in a JSON template; literals are copied as they are."""
    if isinstance(template, str):
        return _render_string(template, context)
    if isinstance(template, Mapping):
        return {key: render(value, context) for key, value in template.items()}
    if isinstance(template, Sequence):
        return [render(item, context) for item in template]
    return template


def _walk_strings(template: JSONLike, pointer: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(template, str):
        yield pointer, template
    elif isinstance(template, Mapping):
        for key, value in template.items():
            token = key.replace("~", "~0").replace("/", "~1")
            yield from _walk_strings(value, f"{pointer}/{token}")
    elif isinstance(template, Sequence):
        for index, item in enumerate(template):
            yield from _walk_strings(item, f"{pointer}/{index}")


def check_template(template: JSONLike) -> list[tuple[str, str]]:
    """Problems in a template as ``(JSON pointer into the template, message)`` pairs.

    The generator calls this on ``x-compensation`` arguments so that a bad
    expression is reported against the spec, not discovered during a rollback.
    """
    problems: list[tuple[str, str]] = []
    for pointer, text in _walk_strings(template):
        for expression in _expressions_in(text):
            try:
                parse(expression)
            except ExpressionError as error:
                problems.append((pointer, str(error)))
    return problems


def needs_response(template: JSONLike) -> bool:
    """Whether evaluating the template needs the forward step's response."""
    return any(
        parse(expression).needs_response
        for _, text in _walk_strings(template)
        for expression in _expressions_in(text)
    )


def sectioned_template(
    args: Arguments, parameter_locations: Mapping[str, str]
) -> dict[str, JSONLike]:
    """``x-compensation.args`` (flat, by name) in the canonical arguments shape.

    A name that is a parameter of the compensating operation goes to that
    parameter's section (``parameter_locations`` maps name → "path", "query" or
    "header"); every other name becomes a property of the JSON request body.
    """
    template: dict[str, dict[str, JSONLike]] = {}
    for name, value in args.items():
        section = parameter_locations.get(name, "body")
        if section not in ("path", "query", "header", "body"):
            raise ValueError(f"parameter {name!r}: arguments cannot go in {section!r}")
        template.setdefault(section, {})[name] = value
    return dict(template)
