"""`seawall policies` output: the aligned table and the stable JSON."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from seawall.load import load_document
from seawall.policies import PolicySet, extract_policies
from seawall.policy_report import render_json, render_table
from seawall.resolve import resolve

SHOP = Path(__file__).parent / "fixtures" / "policies" / "shop.yaml"

ANNOTATIONS = {
    "# @root": """
        x-timeout: {connect: 1, attempt: 2.5, total: 10}
        x-retry: {attempts: 4, on: [connection-error, timeout, 503]}
        x-circuit-breaker: {failure-ratio: 0.25}
    """,
    "# @createOrder": """
        x-idempotent: {key: Idempotency-Key}
        x-compensation:
          operation: cancelOrder
          args: {orderId: $response.body#/id, reason: rollback}
    """,
    "# @listOrders": """
        x-fallback: {on: [circuit-open, exhausted], value: {items: []}}
    """,
    "# @getOrder": """
        x-fallback: {on: [503], operation: getReplicaOrder}
        x-retry: {max-retry-after: 300}
    """,
    "# @replaceOrder": """
        x-retry: {max-retry-after: false}
    """,
    "# @cancelOrder": """
        x-retry: false
    """,
}


@pytest.fixture(scope="module")
def policy_set(tmp_path_factory: pytest.TempPathFactory) -> PolicySet:
    lines = []
    for line in SHOP.read_text().splitlines():
        indent = line[: len(line) - len(line.lstrip())]
        block = ANNOTATIONS.get(line.strip())
        lines += [indent + part for part in textwrap.dedent(block).strip().splitlines()] if block else [line]
    path = tmp_path_factory.mktemp("report") / "api.yaml"
    path.write_text("\n".join(lines) + "\n")
    result, warnings = extract_policies(resolve(load_document(path)))
    assert warnings == []
    return result


def cells(table: str) -> dict[str, dict[str, str]]:
    """The table's rows by operation, cut at the header's column starts."""
    lines = table.splitlines()
    header_index = next(i for i, line in enumerate(lines) if line.startswith("OPERATION"))
    header = lines[header_index]
    names = header.split()
    starts = [header.index(name) for name in names]
    rows = {}
    for line in lines[header_index + 1 :]:
        # Aligned: every column starts where its header does, after a gap of spaces.
        for start in starts[1:]:
            assert line[start - 2 : start] == "  " and line[start] != " ", (line, start)
        bounds = zip(starts, starts[1:] + [len(line)])
        row = {name: line[a:b].strip() for name, (a, b) in zip(names, bounds)}
        rows[row["OPERATION"]] = row
    return rows


def test_table_has_document_settings_then_one_aligned_row_per_operation(policy_set: PolicySet) -> None:
    table = render_table(policy_set)
    first, second = table.splitlines()[:2]
    assert first == (
        "circuit breaker: failure-ratio 0.25, minimum-calls 20, window 30, open-for 15, half-open-probes 1"
        "  (from #/x-circuit-breaker)"
    )
    assert second == "retry budget:    ratio 0.2, floor 10, window 10  (runtime defaults)"
    rows = cells(table)
    assert list(rows) == [
        "listOrders", "createOrder", "getOrder", "replaceOrder", "cancelOrder", "getReplicaOrder", "countOrders",
    ]  # fmt: skip
    assert rows["createOrder"] == {
        "OPERATION": "createOrder",
        "METHOD": "POST",
        "PATH": "/orders",
        "IDEMPOTENT": "yes (idempotency key header Idempotency-Key)",
        "TIMEOUT": "connect 1s, attempt 2.5s, total 10s",
        "RETRY": "4 attempts on connection-error,timeout,503; backoff 0.1s x2 up to 5s, full jitter",
        "FALLBACK": "-",
        "COMPENSATION": 'cancelOrder(orderId=$response.body#/id, reason="rollback")',
    }
    assert rows["listOrders"]["FALLBACK"] == 'value {"items":[]} on circuit-open,exhausted'
    assert rows["getOrder"]["FALLBACK"] == "operation getReplicaOrder on 503"
    assert rows["getOrder"]["RETRY"].endswith("full jitter, Retry-After up to 300s")
    assert rows["cancelOrder"]["RETRY"] == "off"
    assert rows["cancelOrder"]["IDEMPOTENT"] == "no (POST is not idempotent by RFC 9110)"
    assert rows["replaceOrder"]["IDEMPOTENT"] == "yes (PUT is idempotent by RFC 9110)"
    assert rows["replaceOrder"]["RETRY"].endswith(", any Retry-After (up to a day)")


def test_table_of_a_spec_without_operations(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n")
    table = render_table(extract_policies(resolve(load_document(path)))[0])
    assert table.splitlines()[-1] == "(no operations)"
    assert "(runtime defaults)" in table.splitlines()[0]


def test_json_has_a_stable_key_order_and_every_setting(policy_set: PolicySet) -> None:
    text = render_json(policy_set)
    assert text == render_json(policy_set)
    report = json.loads(text)
    assert list(report) == ["circuit-breaker", "retry-budget", "operations"]
    assert report["circuit-breaker"] == {
        "failure-ratio": 0.25,
        "minimum-calls": 20,
        "window": 30.0,
        "open-for": 15.0,
        "half-open-probes": 1,
        "source": "#/x-circuit-breaker",
    }
    assert report["retry-budget"]["source"] is None
    create = report["operations"][1]
    assert list(create) == [
        "operation-id", "method", "path", "pointer", "idempotent", "timeout", "retry", "fallback",
        "compensation", "sources",
    ]  # fmt: skip
    assert create["idempotent"] == {
        "value": True,
        "reason": "idempotency key header Idempotency-Key",
        "key-header": "Idempotency-Key",
    }
    assert create["retry"] == {
        "attempts": 4,
        "backoff": {"initial": 0.1, "multiplier": 2.0, "max": 5.0, "jitter": "full"},
        "on": ["connection-error", "timeout", 503],
        "retry-after": True,
        "max-retry-after": 60.0,
    }
    assert create["compensation"] == {
        "operation": "cancelOrder",
        "args": {
            "orderId": {"target": "path", "expression": "$response.body#/id"},
            "reason": {"target": "body", "value": "rollback"},
        },
    }
    assert create["sources"]["retry.attempts"] == "#/x-retry/attempts"
    assert create["sources"]["idempotent"] == "#/paths/~1orders/post/x-idempotent"
    listing = report["operations"][0]
    assert listing["fallback"] == {"on": ["circuit-open", "exhausted"], "value": {"items": []}}
    cancel = next(op for op in report["operations"] if op["operation-id"] == "cancelOrder")
    assert cancel["retry"] is None
    assert cancel["sources"]["retry"] == "#/paths/~1orders~1{orderId}~1cancel/post/x-retry"
