"""Output of ``seawall policies``: each operation's effective policy.

``render_table`` is an aligned plain-text table for terminals; ``render_json``
is the same information for tools, with a fixed key order (the vocabulary's
own hyphenated names) so that its output can be diffed.
"""

from __future__ import annotations

import json
from typing import Any

from seawall.policies import (
    BreakerSpec,
    BudgetSpec,
    CompensationSpec,
    FallbackSpec,
    OperationPolicy,
    PolicySet,
    RetrySpec,
    TimeoutSpec,
)

_COLUMNS = ("OPERATION", "METHOD", "PATH", "IDEMPOTENT", "TIMEOUT", "RETRY", "FALLBACK", "COMPENSATION")


def render_table(policy_set: PolicySet) -> str:
    """An aligned table, one row per operation, under the document-level settings."""
    lines = [
        f"circuit breaker: {_breaker_text(policy_set.breaker)}{_source(policy_set.breaker_pointer)}",
        f"retry budget:    {_budget_text(policy_set.budget)}{_source(policy_set.budget_pointer)}",
        "",
    ]
    rows = [list(_COLUMNS)] + [_row(op) for op in policy_set.operations]
    widths = [max(len(row[column]) for row in rows) for column in range(len(_COLUMNS))]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths)]
        lines.append("  ".join(cells).rstrip())
    if not policy_set.operations:
        lines.append("(no operations)")
    return "\n".join(lines) + "\n"


def render_json(policy_set: PolicySet) -> str:
    """The effective policies as JSON with a stable key order."""
    report = {
        "circuit-breaker": {**_breaker_json(policy_set.breaker), "source": _ref(policy_set.breaker_pointer)},
        "retry-budget": {**_budget_json(policy_set.budget), "source": _ref(policy_set.budget_pointer)},
        "operations": [_operation_json(op) for op in policy_set.operations],
    }
    return json.dumps(report, indent=2, ensure_ascii=False) + "\n"


# ------------------------------------------------------------ table cells


def _row(op: OperationPolicy) -> list[str]:
    idempotent = "yes" if op.idempotency.idempotent else "no"
    return [
        op.operation_id or "-",
        op.method,
        op.path,
        f"{idempotent} ({op.idempotency.reason})",
        _timeout_text(op.timeout),
        _retry_text(op.retry),
        _fallback_text(op.fallback),
        _compensation_text(op.compensation),
    ]


def _seconds(value: float) -> str:
    return f"{value:g}s"


def _timeout_text(timeout: TimeoutSpec) -> str:
    parts = [
        f"{name} {_seconds(value)}"
        for name, value in (
            ("connect", timeout.connect),
            ("attempt", timeout.attempt),
            ("total", timeout.total),
        )
        if value is not None
    ]
    return ", ".join(parts) or "none"


def _retry_text(retry: RetrySpec | None) -> str:
    if retry is None:
        return "off"
    backoff = retry.backoff
    text = (
        f"{retry.attempts} attempts on {','.join(map(str, retry.on))}; backoff "
        f"{_seconds(backoff.initial)} x{backoff.multiplier:g} up to {_seconds(backoff.max)}, {backoff.jitter} jitter"
    )
    if not retry.retry_after:
        return text + ", ignores Retry-After"
    if retry.max_retry_after is None:
        return text + ", any Retry-After (up to a day)"
    if retry.max_retry_after != RetrySpec.max_retry_after:
        return text + f", Retry-After up to {_seconds(retry.max_retry_after)}"
    return text


def _fallback_text(fallback: FallbackSpec | None) -> str:
    if fallback is None:
        return "-"
    what = f"value {_compact(fallback.value)}" if fallback.has_value else f"operation {fallback.operation}"
    return f"{what} on {','.join(map(str, fallback.on))}"


def _compensation_text(compensation: CompensationSpec | None) -> str:
    if compensation is None:
        return "-"
    args = ", ".join(
        f"{arg.name}={arg.expression if arg.expression is not None else _compact(arg.value)}"
        for arg in compensation.args
    )
    return f"{compensation.operation}({args})"


def _breaker_text(breaker: BreakerSpec) -> str:
    return ", ".join(f"{key} {value:g}" for key, value in _breaker_json(breaker).items())


def _budget_text(budget: BudgetSpec) -> str:
    return ", ".join(f"{key} {value:g}" for key, value in _budget_json(budget).items())


def _source(pointer: str | None) -> str:
    return f"  (from #{pointer})" if pointer else "  (runtime defaults)"


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


# ------------------------------------------------------------ JSON objects


def _ref(pointer: str | None) -> str | None:
    return None if pointer is None else "#" + pointer


def _breaker_json(breaker: BreakerSpec) -> dict[str, float]:
    return {
        "failure-ratio": breaker.failure_ratio,
        "minimum-calls": breaker.minimum_calls,
        "window": breaker.window,
        "open-for": breaker.open_for,
        "half-open-probes": breaker.half_open_probes,
    }


def _budget_json(budget: BudgetSpec) -> dict[str, float]:
    return {"ratio": budget.ratio, "floor": budget.floor, "window": budget.window}


def _operation_json(op: OperationPolicy) -> dict[str, Any]:
    retry: dict[str, Any] | None = None
    if op.retry is not None:
        backoff = op.retry.backoff
        retry = {
            "attempts": op.retry.attempts,
            "backoff": {
                "initial": backoff.initial,
                "multiplier": backoff.multiplier,
                "max": backoff.max,
                "jitter": backoff.jitter,
            },
            "on": list(op.retry.on),
            "retry-after": op.retry.retry_after,
            "max-retry-after": op.retry.max_retry_after,
        }
    return {
        "operation-id": op.operation_id,
        "method": op.method,
        "path": op.path,
        "pointer": "#" + op.pointer,
        "idempotent": {
            "value": op.idempotency.idempotent,
            "reason": op.idempotency.reason,
            "key-header": op.idempotency.key_header,
        },
        "timeout": {"connect": op.timeout.connect, "attempt": op.timeout.attempt, "total": op.timeout.total},
        "retry": retry,
        "fallback": _fallback_json(op.fallback),
        "compensation": _compensation_json(op.compensation),
        "sources": {setting: "#" + pointer for setting, pointer in op.origins},
    }


def _fallback_json(fallback: FallbackSpec | None) -> dict[str, Any] | None:
    if fallback is None:
        return None
    chosen: dict[str, Any] = (
        {"value": fallback.value} if fallback.has_value else {"operation": fallback.operation}
    )
    return {"on": list(fallback.on), **chosen}


def _compensation_json(compensation: CompensationSpec | None) -> dict[str, Any] | None:
    if compensation is None:
        return None
    args = {
        arg.name: (
            {"target": arg.target, "expression": arg.expression}
            if arg.expression is not None
            else {"target": arg.target, "value": arg.value}
        )
        for arg in compensation.args
    }
    return {"operation": compensation.operation, "args": args}
