"""OpenAPI runtime expressions against a step's request and response."""

from __future__ import annotations

import pytest

from seawall_runtime.saga import Arguments, StepResult, check_template
from seawall_runtime.saga.expressions import (
    Context,
    ExpressionError,
    needs_response,
    parse,
    render,
    sectioned_template,
)

REQUEST: Arguments = {
    "path": {"orderId": "o-1"},
    "query": {"dry": False},
    "header": {"X-Tenant": "acme"},
    "body": {"lines": [{"sku": "a/b", "qty": 2}], "meta~x": {"k": 1}},
}
RESULT = StepResult(
    201, {"id": "r-9", "items": [10, 20], "nested": {"a b": True}}, {"Location": "/r/9"}
)
CONTEXT = Context(REQUEST, RESULT)


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("$statusCode", 201),
        ("$response.body#/id", "r-9"),
        ("$response.body#/items/1", 20),
        ("$response.body#/nested/a%20b", True),
        ("$response.body", RESULT.body),
        ("$response.header.location", "/r/9"),
        ("$request.path.orderId", "o-1"),
        ("$request.query.dry", False),
        ("$request.header.x-tenant", "acme"),
        ("$request.body#/lines/0/qty", 2),
        ("$request.body#/meta~0x/k", 1),
        ("$request.body", REQUEST["body"]),
    ],
)
def test_expression_values(expression: str, value: object) -> None:
    assert render(expression, CONTEXT) == value


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("$response.body#/missing", "no member 'missing'"),
        ("$response.body#/items/5", "past the end"),
        ("$response.body#/items/01", "not an array index"),
        ("$response.body#/id/x", "scalar"),
        ("$response.header.Etag", "no 'Etag' header"),
        ("$request.path.orderid", "no path parameter 'orderid'"),
        ("$request.cookie.c", "expected body, path.NAME"),
        ("$response.query.x", "expected body, header.NAME"),
        ("$request.path.", "needs a name"),
        ("$response.body#id", "must start with '/'"),
        ("$url", "not available"),
        ("$whatever", "unknown expression"),
    ],
)
def test_bad_or_unresolvable_expressions_say_why(expression: str, reason: str) -> None:
    with pytest.raises(ExpressionError, match=reason) as raised:
        render(expression, CONTEXT)
    assert raised.value.expression == expression


def test_response_expressions_need_the_response() -> None:
    with pytest.raises(ExpressionError, match="response is not known"):
        render("$response.body#/id", Context(REQUEST))
    assert render("$request.path.orderId", Context(REQUEST)) == "o-1"


def test_templates_mix_literals_expressions_and_embedded_expressions() -> None:
    template: Arguments = {
        "path": {"orderId": "$response.body#/id"},
        "body": {
            "reason": "saga-rollback",
            "note": "undo {$response.body#/id} of {$request.path.orderId} ({$statusCode}, {$request.query.dry})",
            "price": "$$5",
            "count": 3,
            "flags": [True, None, "$response.body#/items/0"],
        },
    }
    assert render(template, CONTEXT) == {
        "path": {"orderId": "r-9"},
        "body": {
            "reason": "saga-rollback",
            "note": "undo r-9 of o-1 (201, false)",
            "price": "$5",
            "count": 3,
            "flags": [True, None, 10],
        },
    }


def test_objects_cannot_be_embedded_in_strings() -> None:
    with pytest.raises(ExpressionError, match="cannot be embedded"):
        render("x{$response.body}", CONTEXT)


def test_check_template_points_at_each_bad_expression() -> None:
    template: Arguments = {
        "path": {"a/b": "$request.cookie.c"},
        "body": ["ok", "see {$nope}", "$$literal"],
    }
    problems = check_template(template)
    assert [pointer for pointer, _ in problems] == ["/path/a~1b", "/body/1"]
    assert "$nope" in problems[1][1]
    assert check_template({"body": {"reason": "saga-rollback", "id": "$response.body#/id"}}) == []


def test_needs_response() -> None:
    assert needs_response({"path": {"id": "$response.body#/id"}})
    assert needs_response({"body": "code {$statusCode}"})
    assert not needs_response({"path": {"id": "$request.path.id"}, "body": "$$response"})


def test_parse_keeps_the_pieces() -> None:
    parsed = parse("$response.body#/a~1b")
    assert (parsed.source, parsed.name, parsed.needs_response) == ("response.body", "/a~1b", True)


def test_flat_extension_args_are_placed_by_parameter_location() -> None:
    args = {"orderId": "$response.body#/id", "reason": "saga-rollback", "If-Match": "*"}
    locations = {"orderId": "path", "If-Match": "header"}
    assert sectioned_template(args, locations) == {
        "path": {"orderId": "$response.body#/id"},
        "body": {"reason": "saga-rollback"},
        "header": {"If-Match": "*"},
    }
    with pytest.raises(ValueError, match="cookie"):
        sectioned_template({"c": 1}, {"c": "cookie"})
