"""The resilience vocabulary: every check reports message and place; inheritance works field by field."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from seawall.diagnostics import Diagnostic, SpecError
from seawall.load import load_document
from seawall.policies import (
    DEFAULT_RETRY_ON,
    BackoffSpec,
    BreakerSpec,
    BudgetSpec,
    PolicySet,
    extract_policies,
)
from seawall.resolve import resolve

SHOP = Path(__file__).parent / "fixtures" / "policies" / "shop.yaml"


def annotated(**annotations: str) -> str:
    """The shop spec with YAML inserted at its ``# @name`` markers (at the marker's indentation)."""
    lines = []
    for line in SHOP.read_text().splitlines():
        marker = line.strip()
        name = marker[3:] if marker.startswith("# @") else None
        if name in annotations:
            indent = line[: len(line) - len(line.lstrip())]
            lines += [indent + part for part in textwrap.dedent(annotations[name]).strip().splitlines()]
        else:
            lines.append(line)
    return "\n".join(lines) + "\n"


def write(tmp_path: Path, text: str, name: str = "api.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def policies_of(path: Path) -> tuple[PolicySet, list[Diagnostic]]:
    return extract_policies(resolve(load_document(path)))


def policies(tmp_path: Path, **annotations: str) -> PolicySet:
    policy_set, warnings = policies_of(write(tmp_path, annotated(**annotations)))
    assert warnings == []
    return policy_set


def problems(tmp_path: Path, **annotations: str) -> tuple[list[Diagnostic], str]:
    text = annotated(**annotations)
    with pytest.raises(SpecError) as caught:
        policies_of(write(tmp_path, text))
    return caught.value.diagnostics, text


def line_of(text: str, snippet: str, after: str = "") -> int:
    """1-based number of the first line containing ``snippet`` (after the line containing ``after``)."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines) if i >= start and snippet in line) + 1


def only_problem(tmp_path: Path, **annotations: str) -> tuple[Diagnostic, str]:
    found, text = problems(tmp_path, **annotations)
    assert len(found) == 1, [str(d) for d in found]
    assert found[0].severity == "error"
    return found[0], text


# ---------------------------------------------------------------- inheritance


def test_nothing_annotated_gives_runtime_defaults_and_method_idempotency(tmp_path: Path) -> None:
    policy_set = policies(tmp_path)
    assert policy_set.breaker == BreakerSpec() and policy_set.breaker_pointer is None
    assert policy_set.budget == BudgetSpec() and policy_set.budget_pointer is None
    get = policy_set.get("listOrders")
    assert get.retry is not None and get.retry.on == DEFAULT_RETRY_ON
    assert get.idempotency.idempotent and get.idempotency.reason == "GET is idempotent by RFC 9110"
    assert get.origins == ()
    post = policy_set.get("createOrder")
    assert not post.idempotency.idempotent
    assert post.idempotency.reason == "POST is not idempotent by RFC 9110"
    # Not idempotent: only the failure where the request was never sent is retried.
    assert post.retry is not None and post.retry.on == ("connection-error",)


def test_operation_retry_overrides_only_the_fields_it_sets(tmp_path: Path) -> None:
    policy_set = policies(
        tmp_path,
        root="""
        x-retry:
          attempts: 3
          backoff: {initial: 0.2, multiplier: 3, max: 4, jitter: equal}
          on: [connection-error, timeout, 503]
          retry-after: false
        """,
        getOrder="x-retry: {attempts: 5}",
    )
    retry = policy_set.get("getOrder").retry
    assert retry is not None
    assert retry.attempts == 5
    assert retry.backoff == BackoffSpec(initial=0.2, multiplier=3, max=4, jitter="equal")
    assert retry.on == ("connection-error", "timeout", 503)
    assert retry.retry_after is False
    op = policy_set.get("getOrder")
    assert op.origin("retry.attempts") == "/paths/~1orders~1{orderId}/get/x-retry/attempts"
    assert op.origin("retry.backoff.jitter") == "/x-retry/backoff/jitter"
    assert policy_set.get("listOrders").retry == retry.__class__(
        attempts=3, backoff=retry.backoff, on=retry.on, retry_after=False
    )


def test_timeouts_merge_across_document_path_item_and_operation(tmp_path: Path) -> None:
    policy_set = policies(
        tmp_path,
        root="x-timeout: {connect: 1, attempt: 2.5, total: 10}",
        orders="x-timeout: 1.5",
        createOrder="x-timeout: {total: 4}",
    )
    listing = policy_set.get("listOrders")
    assert (listing.timeout.connect, listing.timeout.attempt, listing.timeout.total) == (1, 1.5, 10)
    assert listing.origin("timeout.attempt") == "/paths/~1orders/x-timeout"
    assert listing.origin("timeout.connect") == "/x-timeout/connect"
    create = policy_set.get("createOrder")
    assert (create.timeout.connect, create.timeout.attempt, create.timeout.total) == (1, 1.5, 4)
    assert create.origin("timeout.total") == "/paths/~1orders/post/x-timeout/total"
    other = policy_set.get("getOrder")
    assert (other.timeout.connect, other.timeout.attempt, other.timeout.total) == (1, 2.5, 10)


def test_retry_false_turns_retries_off_until_a_nearer_object(tmp_path: Path) -> None:
    policy_set = policies(
        tmp_path,
        root="x-retry: {attempts: 4, backoff: {max: 2}}",
        orders="x-retry: false",
        createOrder="""
        x-idempotent: true
        x-retry: {on: [timeout]}
        """,
    )
    listing = policy_set.get("listOrders")
    assert listing.retry is None
    assert listing.origin("retry") == "/paths/~1orders/x-retry"
    create = policy_set.get("createOrder").retry
    assert create is not None
    # Turned back on, keeping the document's fields.
    assert (create.attempts, create.backoff.max, create.on) == (4, 2, ("timeout",))
    assert policy_set.get("getOrder").retry is not None


def test_inherited_retry_applies_to_non_idempotent_operations_only_before_sending(tmp_path: Path) -> None:
    policy_set = policies(
        tmp_path,
        root="x-retry: {attempts: 4, on: [connection-error, timeout, 503]}",
        createOrder="x-idempotent: {key: Idempotency-Key}",
    )
    cancel = policy_set.get("cancelOrder").retry
    assert cancel is not None and cancel.on == ("connection-error",) and cancel.attempts == 4
    create = policy_set.get("createOrder")
    assert create.retry is not None and create.retry.on == ("connection-error", "timeout", 503)
    assert create.idempotency.key_header == "Idempotency-Key"
    assert create.idempotency.reason == "idempotency key header Idempotency-Key"


def test_inherited_retry_without_connection_error_leaves_a_post_without_retries(tmp_path: Path) -> None:
    policy_set = policies(tmp_path, root="x-retry: {on: [503]}")
    assert policy_set.get("cancelOrder").retry is None
    assert policy_set.get("getOrder").retry is not None


def test_x_idempotent_reasons(tmp_path: Path) -> None:
    policy_set = policies(tmp_path, cancelOrder="x-idempotent: true", replaceOrder="x-idempotent: false")
    cancel = policy_set.get("cancelOrder").idempotency
    assert cancel.idempotent
    assert cancel.reason == "x-idempotent: true at #/paths/~1orders~1{orderId}~1cancel/post/x-idempotent"
    replace = policy_set.get("replaceOrder").idempotency
    assert not replace.idempotent and replace.reason.startswith("x-idempotent: false")


def test_document_level_breaker_and_budget_fill_in_defaults(tmp_path: Path) -> None:
    policy_set = policies(
        tmp_path,
        root="""
        x-circuit-breaker: {failure-ratio: 0.25, open-for: 30}
        x-retry-budget: {ratio: 0.1, floor: 0, window: 5}
        """,
    )
    assert policy_set.breaker == BreakerSpec(failure_ratio=0.25, open_for=30)
    assert policy_set.breaker_pointer == "/x-circuit-breaker"
    assert policy_set.budget == BudgetSpec(ratio=0.1, floor=0, window=5)


def test_fallback_value_that_matches_the_schema_nullable_included(tmp_path: Path) -> None:
    policy_set = policies(
        tmp_path,
        listOrders="""
        x-fallback:
          on: [circuit-open, exhausted, 503]
          value: {items: [{id: cached, status: open, total: null}], next: null}
        """,
    )
    fallback = policy_set.get("listOrders").fallback
    assert fallback is not None and fallback.has_value
    assert fallback.on == ("circuit-open", "exhausted", 503)
    assert fallback.value == {"items": [{"id": "cached", "status": "open", "total": None}], "next": None}


def test_fallback_operation_with_the_same_response(tmp_path: Path) -> None:
    policy_set = policies(tmp_path, getOrder="x-fallback: {on: [circuit-open], operation: getReplicaOrder}")
    fallback = policy_set.get("getOrder").fallback
    assert fallback is not None and fallback.operation == "getReplicaOrder" and not fallback.has_value


def test_compensation_args_go_to_parameters_and_body_properties(tmp_path: Path) -> None:
    policy_set = policies(
        tmp_path,
        createOrder="""
        x-idempotent: {key: Idempotency-Key}
        x-compensation:
          operation: cancelOrder
          args:
            orderId: $response.body#/id
            X-Request-Id: $response.header.location
            reason: saga-rollback
            note: $request.body#/lines
        """,
    )
    compensation = policy_set.get("createOrder").compensation
    assert compensation is not None and compensation.operation == "cancelOrder"
    targets = {arg.name: (arg.target, arg.expression, arg.value) for arg in compensation.args}
    assert targets == {
        "orderId": ("path", "$response.body#/id", None),
        "X-Request-Id": ("header", "$response.header.location", None),
        "reason": ("body", None, "saga-rollback"),
        "note": ("body", "$request.body#/lines", None),
    }


def test_the_example_specs_are_accepted() -> None:
    specs = sorted((Path(__file__).parents[2] / "specs").glob("*.yaml"))
    if not specs:
        pytest.skip("specs/ has no example specs in this checkout")
    for spec in specs:
        policy_set, warnings = policies_of(spec)
        assert policy_set.operations and warnings == [], spec


# ---------------------------------------------------------------- bad annotations


def test_wrong_type_is_located(tmp_path: Path) -> None:
    problem, text = only_problem(tmp_path, getOrder="x-timeout: fast")
    assert problem.message == "x-timeout must be a number of seconds or an object, got a string"
    assert problem.location.pointer == "/paths/~1orders~1{orderId}/get/x-timeout"
    assert problem.location.line == line_of(text, "x-timeout: fast")
    assert problem.location.column == 7
    assert problem.location.file.endswith("api.yaml")


def test_unknown_field_suggests_the_right_one(tmp_path: Path) -> None:
    problem, text = only_problem(tmp_path, root="x-retry:\n  attempt: 3")
    assert problem.message == "unknown field 'attempt' in x-retry; did you mean 'attempts'?"
    assert problem.location.pointer == "/x-retry/attempt"
    assert problem.location.line == line_of(text, "attempt: 3")


def test_negative_time(tmp_path: Path) -> None:
    problem, text = only_problem(tmp_path, root="x-timeout: {connect: -1}")
    assert problem.message == "x-timeout.connect must be more than 0 seconds, got -1"
    assert problem.location.pointer == "/x-timeout/connect"
    assert problem.location.line == line_of(text, "x-timeout: {connect: -1}")


@pytest.mark.parametrize("attempts", [0, 11])
def test_attempts_out_of_range(tmp_path: Path, attempts: int) -> None:
    problem, text = only_problem(tmp_path, listOrders=f"x-retry: {{attempts: {attempts}}}")
    assert problem.message == f"x-retry.attempts must be between 1 and 10, got {attempts}"
    assert problem.location.pointer == "/paths/~1orders/get/x-retry/attempts"
    assert problem.location.line == line_of(text, f"attempts: {attempts}")


def test_attempt_timeout_larger_than_the_inherited_total(tmp_path: Path) -> None:
    problem, text = only_problem(tmp_path, root="x-timeout: {total: 3}", getOrder="x-timeout: 5")
    assert problem.message == "x-timeout.attempt (5 s) is larger than the total (3 s, at #/x-timeout/total)"
    assert problem.location.pointer == "/paths/~1orders~1{orderId}/get/x-timeout"
    assert problem.location.line == line_of(text, "x-timeout: 5")


def test_max_retry_after_is_inherited_and_checked(tmp_path: Path) -> None:
    policy_set = policies(tmp_path, root="x-retry: {max-retry-after: 300}", getOrder="x-retry: {attempts: 5}")
    retry = policy_set.get("getOrder").retry
    assert retry is not None and (retry.attempts, retry.max_retry_after) == (5, 300.0)
    assert policy_set.get("getOrder").origin("retry.max-retry-after") == "/x-retry/max-retry-after"
    unlimited = policies(tmp_path, root="x-retry: {max-retry-after: false}").get("getOrder").retry
    assert unlimited is not None and unlimited.max_retry_after is None
    problem, text = only_problem(tmp_path, listOrders="x-retry: {max-retry-after: 0}")
    assert problem.message == "x-retry.max-retry-after must be more than 0 seconds, got 0"
    assert problem.location.pointer == "/paths/~1orders/get/x-retry/max-retry-after"
    assert problem.location.line == line_of(text, "max-retry-after: 0")


def test_backoff_max_below_initial(tmp_path: Path) -> None:
    problem, text = only_problem(tmp_path, root="x-retry: {backoff: {initial: 2, max: 1}}")
    assert problem.message == "x-retry.backoff.max (1 s) is smaller than backoff.initial (2 s)"
    assert problem.location.pointer == "/x-retry/backoff/max"


def test_unknown_jitter_and_retry_condition(tmp_path: Path) -> None:
    found, text = problems(
        tmp_path, root="x-retry: {backoff: {jitter: ful}, on: [timeout, 200, conection-error]}"
    )
    messages = {d.location.pointer: d.message for d in found}
    assert messages == {
        "/x-retry/backoff/jitter": "x-retry.backoff.jitter must be one of full, equal, decorrelated, none, "
        "got 'ful'; did you mean 'full'?",
        "/x-retry/on/1": "x-retry.on: status 200 is not an error status (400-599)",
        "/x-retry/on/2": "x-retry.on: 'conection-error' is not one of connection-error, timeout, reset, 4XX, "
        "5XX or a status code 400-599; did you mean 'connection-error'?",
    }


def test_document_only_extension_on_an_operation(tmp_path: Path) -> None:
    problem, text = only_problem(tmp_path, getOrder="x-circuit-breaker: {window: 10}")
    assert problem.message == "x-circuit-breaker is allowed on the document root only, not on an operation"
    assert problem.location.pointer == "/paths/~1orders~1{orderId}/get/x-circuit-breaker"
    assert problem.location.line == line_of(text, "x-circuit-breaker")


def test_operation_only_extension_on_a_path_item(tmp_path: Path) -> None:
    problem, text = only_problem(tmp_path, orders="x-idempotent: true")
    assert problem.message == "x-idempotent is allowed on operations only, not on a Path Item"
    assert problem.location.pointer == "/paths/~1orders/x-idempotent"
    assert problem.location.line == line_of(text, "x-idempotent: true")


def test_breaker_out_of_range_values(tmp_path: Path) -> None:
    found, _ = problems(tmp_path, root="x-circuit-breaker: {failure-ratio: 1.5, minimum-calls: 0, window: 0}")
    assert {d.location.pointer: d.message for d in found} == {
        "/x-circuit-breaker/failure-ratio": "x-circuit-breaker.failure-ratio must be from more than 0 to 1, got 1.5",
        "/x-circuit-breaker/minimum-calls": "x-circuit-breaker.minimum-calls must be at least 1, got 0",
        "/x-circuit-breaker/window": "x-circuit-breaker.window must be more than 0 seconds, got 0",
    }


def test_compensation_operation_that_does_not_exist(tmp_path: Path) -> None:
    problem, text = only_problem(
        tmp_path, createOrder="x-compensation: {operation: canselOrder, args: {orderId: $response.body#/id}}"
    )
    assert problem.message == (
        "x-compensation.operation: no operation has operationId 'canselOrder'; did you mean 'cancelOrder'?"
    )
    assert problem.location.pointer == "/paths/~1orders/post/x-compensation/operation"
    assert problem.location.line == line_of(text, "canselOrder")


def test_compensation_missing_a_required_parameter(tmp_path: Path) -> None:
    problem, text = only_problem(
        tmp_path,
        createOrder="""
        x-compensation:
          operation: cancelOrder
          args: {reason: rollback}
        """,
    )
    assert problem.message == "x-compensation.args misses required path parameter 'orderId' of cancelOrder"
    assert problem.location.pointer == "/paths/~1orders/post/x-compensation/args"
    assert problem.location.line == line_of(text, "args: {reason: rollback}")


def test_compensation_missing_a_required_body_property(tmp_path: Path) -> None:
    problem, _ = only_problem(
        tmp_path, createOrder="x-compensation: {operation: cancelOrder, args: {orderId: $response.body#/id}}"
    )
    assert problem.message == "x-compensation.args misses required body property 'reason' of cancelOrder"


def test_compensation_argument_the_operation_does_not_take(tmp_path: Path) -> None:
    problem, text = only_problem(
        tmp_path,
        createOrder="""
        x-compensation:
          operation: cancelOrder
          args:
            orderId: $response.body#/id
            reason: rollback
            reasn: typo
        """,
    )
    assert problem.message == (
        "x-compensation.args: cancelOrder has no parameter or body property 'reasn'; did you mean 'reason'?"
    )
    assert problem.location.pointer == "/paths/~1orders/post/x-compensation/args/reasn"
    assert problem.location.line == line_of(text, "reasn: typo")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        (
            "$response.body#/idd",
            "$response.body#/idd: the success response schema "
            "(#/paths/~1orders/post/responses/201/content/application~1json/schema) has no field /idd",
        ),
        (
            "$response.body#/lines/0/price",
            "$response.body#/lines/0/price: the success response schema "
            "(#/paths/~1orders/post/responses/201/content/application~1json/schema) has no field /lines/0/price",
        ),
        (
            "$request.body#/customer",
            "$request.body#/customer: the request body schema "
            "(#/paths/~1orders/post/requestBody/content/application~1json/schema) has no field /customer",
        ),
        ("$request.path.orderId", "$request.path.orderId: createOrder has no path parameter 'orderId'"),
        ("$request.query.page", "$request.query.page: createOrder has no query parameter 'page'"),
        ("$request.header.X-Trace", "$request.header.X-Trace: createOrder has no header parameter 'X-Trace'"),
        (
            "$response.header.Etag",
            "$response.header.Etag: the success response of createOrder declares no header 'Etag'",
        ),
    ],
)
def test_runtime_expression_that_points_nowhere(tmp_path: Path, expression: str, message: str) -> None:
    problem, text = only_problem(
        tmp_path,
        createOrder=f"""
        x-compensation:
          operation: cancelOrder
          args: {{orderId: "{expression}", reason: rollback}}
        """,
    )
    assert problem.message == message
    assert problem.location.pointer == "/paths/~1orders/post/x-compensation/args/orderId"
    assert problem.location.line == line_of(text, "args: {orderId")


def test_garbled_runtime_expression(tmp_path: Path) -> None:
    problem, _ = only_problem(
        tmp_path,
        createOrder='x-compensation: {operation: cancelOrder, args: {orderId: "$respons.body", reason: r}}',
    )
    assert problem.message.startswith("'$respons.body' is not a runtime expression seawall understands")


def test_fallback_value_that_does_not_match_the_response_schema(tmp_path: Path) -> None:
    problem, text = only_problem(
        tmp_path, getOrder="x-fallback: {on: [exhausted], value: {id: 7, status: open}}"
    )
    assert problem.message == (
        "x-fallback.value does not match the success response schema "
        "(#/paths/~1orders~1{orderId}/get/responses/200/content/application~1json/schema): "
        "value['id']: 7 is not of type 'string'"
    )
    assert problem.location.pointer == "/paths/~1orders~1{orderId}/get/x-fallback/value"
    assert problem.location.line == line_of(text, "x-fallback: {on: [exhausted]")


def test_fallback_value_null_where_not_nullable(tmp_path: Path) -> None:
    problem, _ = only_problem(tmp_path, listOrders="x-fallback: {on: [exhausted], value: {items: null}}")
    assert problem.message.endswith("value['items']: None is not of type 'array'")


def test_fallback_operation_that_does_not_exist(tmp_path: Path) -> None:
    problem, _ = only_problem(tmp_path, getOrder="x-fallback: {on: [exhausted], operation: getReplica}")
    assert problem.message == (
        "x-fallback.operation: no operation has operationId 'getReplica'; did you mean 'getReplicaOrder'?"
    )
    assert problem.location.pointer == "/paths/~1orders~1{orderId}/get/x-fallback/operation"


def test_fallback_operation_with_an_incompatible_response(tmp_path: Path) -> None:
    problem, _ = only_problem(tmp_path, getOrder="x-fallback: {on: [exhausted], operation: countOrders}")
    assert problem.message == (
        "x-fallback.operation countOrders answers with "
        "#/paths/~1order-count/get/responses/200/content/application~1json/schema, which is not compatible "
        "with the success response of getOrder "
        "(#/paths/~1orders~1{orderId}/get/responses/200/content/application~1json/schema)"
    )


def test_fallback_needs_exactly_one_of_value_and_operation(tmp_path: Path) -> None:
    problem, _ = only_problem(tmp_path, getOrder="x-fallback: {on: [exhausted]}")
    assert problem.message == (
        "x-fallback needs exactly one of 'value' (a literal) or 'operation' (an operationId)"
    )


def test_retrying_a_non_idempotent_operation_on_a_timeout_says_how_to_fix_it(tmp_path: Path) -> None:
    problem, text = only_problem(tmp_path, cancelOrder="x-retry: {on: [connection-error, timeout, 5XX]}")
    assert problem.message == (
        "POST /orders/{orderId}/cancel is not idempotent, but x-retry.on lists timeout, 5XX, which may "
        "repeat its side effect; mark the operation `x-idempotent: true` (or `x-idempotent: {key: "
        "Idempotency-Key}`) if repeating it is safe, or retry only on connection-error"
    )
    assert problem.location.pointer == "/paths/~1orders~1{orderId}~1cancel/post/x-retry/on"
    assert problem.location.line == line_of(text, "x-retry: {on: [connection-error, timeout")


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    found, text = problems(
        tmp_path,
        root="x-retry: {attempts: 0}",
        orders="x-fallback: {on: [exhausted], value: []}",
        getOrder="x-timeout: -2",
        createOrder="x-compensation: {operation: nope}",
    )
    # In the order they appear in the file.
    assert [(d.location.pointer, d.location.line) for d in found] == [
        ("/x-retry/attempts", line_of(text, "attempts: 0")),
        ("/paths/~1orders/x-fallback", line_of(text, "x-fallback")),
        ("/paths/~1orders/post/x-compensation/operation", line_of(text, "operation: nope")),
        ("/paths/~1orders~1{orderId}/get/x-timeout", line_of(text, "x-timeout: -2")),
    ]


def test_lookalike_extension_is_a_warning(tmp_path: Path) -> None:
    _, warnings = policies_of(write(tmp_path, annotated(getOrder="x-retries: {attempts: 2}")))
    assert [(w.severity, w.message, w.location.pointer) for w in warnings] == [
        (
            "warning",
            "unknown extension x-retries; did you mean 'x-retry'?",
            "/paths/~1orders~1{orderId}/get/x-retries",
        )
    ]


def test_problems_in_a_json_spec_carry_line_and_column(tmp_path: Path) -> None:
    spec = {
        "openapi": "3.0.3",
        "info": {"title": "t", "version": "1"},
        "x-retry-budget": {"ratio": "a lot"},
        "paths": {},
    }
    path = write(tmp_path, json.dumps(spec, indent=2), "api.json")
    with pytest.raises(SpecError) as caught:
        policies_of(path)
    [problem] = caught.value.diagnostics
    assert problem.message == "x-retry-budget.ratio must be a number, got a string"
    assert problem.location.pointer == "/x-retry-budget/ratio"
    assert problem.location.line == line_of(path.read_text(), '"ratio"')
    assert problem.location.column == 5


# ---------------------------------------------------------------- the JSON Schema for editors


def extension_schema() -> dict[str, object]:
    from importlib.resources import files

    text = files("seawall.schemas").joinpath("policy-extensions.schema.json").read_text()
    schema: dict[str, object] = json.loads(text)
    return schema


def schema_errors(document: object) -> list[str]:
    import jsonschema

    validator = jsonschema.Draft202012Validator(extension_schema())
    return [error.json_path for error in validator.iter_errors(document)]


GOOD = {
    "root": """
        x-timeout: {connect: 1, attempt: 2.5, total: 10}
        x-retry:
          attempts: 4
          backoff: {initial: 0.1, multiplier: 2, max: 5, jitter: decorrelated}
          on: [connection-error, timeout, reset, 429, 503, 5XX]
          retry-after: true
          max-retry-after: 120
        x-circuit-breaker: {failure-ratio: 0.5, minimum-calls: 20, window: 30, open-for: 15, half-open-probes: 1}
        x-retry-budget: {ratio: 0.2, floor: 10, window: 10}
    """,
    "orders": "x-timeout: 2",
    "listOrders": "x-fallback: {on: [circuit-open, exhausted, budget, 503], value: {items: []}}",
    "getOrder": "x-fallback: {on: [5XX, deadline], operation: getReplicaOrder}",
    "replaceOrder": "x-retry: false",
    "createOrder": """
        x-idempotent: {key: Idempotency-Key}
        x-compensation:
          operation: cancelOrder
          args: {orderId: $response.body#/id, reason: saga-rollback}
    """,
    "cancelOrder": "x-idempotent: true",
}


def test_the_schema_is_valid_and_ships_in_the_package() -> None:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(extension_schema())


def test_the_schema_accepts_good_annotations(tmp_path: Path) -> None:
    path = write(tmp_path, annotated(**GOOD))
    policies_of(path)  # the generator accepts them too
    assert schema_errors(load_document(path).data) == []
    for spec in sorted((Path(__file__).parents[2] / "specs").glob("*.yaml")):
        assert schema_errors(load_document(spec).data) == [], spec


@pytest.mark.parametrize(
    ("annotations", "where"),
    [
        ({"root": "x-timeout: fast"}, "$['x-timeout']"),
        ({"root": "x-timeout: {connect: -1}"}, "$['x-timeout']"),
        ({"root": "x-retry: {attempt: 3}"}, "$['x-retry']"),
        ({"listOrders": "x-retry: {attempts: 0}"}, "$.paths['/orders'].get['x-retry']"),
        ({"listOrders": "x-retry: {attempts: 11}"}, "$.paths['/orders'].get['x-retry']"),
        ({"root": "x-retry: {backoff: {jitter: ful}}"}, "$['x-retry']"),
        ({"root": "x-retry: {on: [200]}"}, "$['x-retry']"),
        # Misplaced extensions are reported on the object that holds them.
        ({"getOrder": "x-circuit-breaker: {window: 10}"}, "$.paths['/orders/{orderId}'].get"),
        ({"orders": "x-idempotent: true"}, "$.paths['/orders']"),
        ({"root": "x-fallback: {on: [exhausted], value: 1}"}, "$"),
        ({"getOrder": "x-fallback: {on: [exhausted]}"}, "$.paths['/orders/{orderId}'].get['x-fallback']"),
        (
            {"getOrder": "x-fallback: {on: [exhausted], value: {}, operation: getReplicaOrder}"},
            "$.paths['/orders/{orderId}'].get['x-fallback']",
        ),
        ({"createOrder": "x-idempotent: {key: 'two words'}"}, "$.paths['/orders'].post['x-idempotent']"),
        ({"createOrder": "x-compensation: {args: {}}"}, "$.paths['/orders'].post['x-compensation']"),
        ({"root": "x-retry-budget: {ratio: 2}"}, "$['x-retry-budget'].ratio"),
    ],
)
def test_the_schema_rejects_bad_annotations(tmp_path: Path, annotations: dict[str, str], where: str) -> None:
    errors = schema_errors(load_document(write(tmp_path, annotated(**annotations))).data)
    assert errors and all(path.startswith(where) for path in errors), errors
    # The generator rejects every one of them as well.
    with pytest.raises(SpecError):
        policies_of(tmp_path / "api.yaml")


def test_generator_defaults_match_the_runtimes() -> None:
    """Rendered policies leave out fields equal to the generator's defaults, so
    those defaults must be the runtime's, or generated clients change silently."""
    import dataclasses

    import seawall_runtime
    from seawall_runtime import policies as runtime_policies

    from seawall import policies as ours

    pairs = [
        (ours.BackoffSpec(), seawall_runtime.Backoff()),
        (ours.BreakerSpec(), seawall_runtime.BreakerPolicy()),
        (ours.BudgetSpec(), seawall_runtime.BudgetPolicy()),
    ]
    for spec, policy in pairs:
        for field in dataclasses.fields(spec):
            assert getattr(spec, field.name) == getattr(policy, field.name), field.name
    retry, runtime_retry = ours.RetrySpec(), seawall_runtime.RetryPolicy()
    assert retry.attempts == runtime_retry.attempts
    assert retry.retry_after == runtime_retry.retry_after
    assert retry.max_retry_after == runtime_retry.max_retry_after
    assert set(retry.on) == set(runtime_retry.on) == set(runtime_policies.DEFAULT_RETRY_ON)
    assert ours.MAX_ATTEMPTS == runtime_policies.MAX_ATTEMPTS


REFERENCED_PATH_ITEM = """\
openapi: 3.1.0
info: {title: Things, version: 1.0.0}
paths:
  /things:
    $ref: '#/components/pathItems/Things'
components:
  pathItems:
    Things:
      x-timeout: {attempt: 2}
      get:
        operationId: listThings
        x-retry: {attempts: 5}
        responses:
          '200': {description: ok}
      post:
        operationId: addThing
        x-retyr: {attempts: 2}
        responses:
          '201': {description: created}
"""


def test_annotations_in_a_referenced_path_item_apply_to_its_path(tmp_path: Path) -> None:
    policy_set, diagnostics = policies_of(write(tmp_path, REFERENCED_PATH_ITEM))
    listing = policy_set.get("listThings")
    assert (listing.method.upper(), listing.path) == ("GET", "/things")
    assert listing.retry is not None and listing.retry.attempts == 5
    assert listing.timeout.attempt == 2
    assert listing.origin("timeout.attempt") == "/components/pathItems/Things/x-timeout/attempt"
    # Problems are reported where the item is written.
    (problem,) = diagnostics
    assert problem.location.pointer == "/components/pathItems/Things/post/x-retyr"
