"""OpenTelemetry spans and metrics, when ``opentelemetry-api`` is installed.

The runtime never requires it: :func:`telemetry_hooks` returns ``None`` when
the package is absent, or when no SDK tracer or meter provider is set yet, and
clients then carry no telemetry code at all (so set up the SDK before making
clients). Otherwise each attempt becomes a client span (ended with its status
or error) and counters record attempts, retries, breaker transitions, spent
budgets and fallbacks.
"""

from __future__ import annotations

import contextvars
import importlib.util
from typing import Any

from seawall_runtime.hooks import (
    AttemptEnded,
    AttemptStarted,
    BreakerStateChanged,
    BudgetSpent,
    FallbackUsed,
    Hooks,
    RetryScheduled,
    call_hook,
)

_AVAILABLE: bool | None = None
# The span of the attempt in flight: a call's start and end hooks run in the
# same thread or task, so a context variable keeps concurrent calls apart.
_current_span: contextvars.ContextVar[Any] = contextvars.ContextVar("seawall_attempt_span")


def otel_available() -> bool:
    """Whether opentelemetry-api can be imported (checked once)."""
    global _AVAILABLE
    if _AVAILABLE is None:
        _AVAILABLE = importlib.util.find_spec("opentelemetry") is not None
    return _AVAILABLE


def _configured(provider: object) -> bool:
    """Whether an SDK provider is set: until then the API hands out proxies."""
    return "Proxy" not in type(provider).__name__


class _Telemetry:
    def __init__(self, *, spans: bool, measure: bool) -> None:
        from opentelemetry import metrics, trace

        self._trace = trace
        self._spans = spans
        self._measure = measure
        self._tracer = trace.get_tracer("seawall_runtime")
        meter = metrics.get_meter("seawall_runtime")
        self._attempts = meter.create_counter("seawall.attempts", description="HTTP attempts")
        self._duration = meter.create_histogram("seawall.attempt.duration", unit="s")
        self._retries = meter.create_counter("seawall.retries", description="Retries scheduled")
        self._breaker = meter.create_counter("seawall.breaker.transitions")
        self._budget = meter.create_counter("seawall.budget.exhausted")
        self._fallbacks = meter.create_counter("seawall.fallbacks")

    def attempt_started(self, event: AttemptStarted) -> None:
        span = self._tracer.start_span(
            event.operation,
            kind=self._trace.SpanKind.CLIENT,
            attributes={"seawall.operation": event.operation, "seawall.attempt": event.attempt},
        )
        _current_span.set(span)

    def attempt_ended(self, event: AttemptEnded) -> None:
        if self._measure:
            outcome = str(event.status) if event.status is not None else "error"
            attributes = {"seawall.operation": event.operation, "seawall.outcome": outcome}
            self._attempts.add(1, attributes)
            self._duration.record(event.duration, attributes)
        span = _current_span.get(None)
        if span is None:
            return
        if event.status is not None:
            span.set_attribute("http.response.status_code", event.status)
        if event.error is not None or (event.status or 0) >= 500:
            span.set_status(self._trace.Status(self._trace.StatusCode.ERROR, event.error))
        span.end()
        _current_span.set(None)

    def retry(self, event: RetryScheduled) -> None:
        self._retries.add(1, {"seawall.operation": event.operation})

    def breaker(self, event: BreakerStateChanged) -> None:
        self._breaker.add(1, {"seawall.breaker": event.key, "seawall.state": event.new})

    def budget(self, event: BudgetSpent) -> None:
        self._budget.add(1, {"seawall.operation": event.operation})

    def fallback(self, event: FallbackUsed) -> None:
        self._fallbacks.add(
            1, {"seawall.operation": event.operation, "seawall.reason": event.reason}
        )


def telemetry_hooks() -> Hooks | None:
    """Hooks that report to OpenTelemetry, or ``None`` when it is not installed
    or no SDK provider is set."""
    if not otel_available():
        return None
    from opentelemetry import metrics, trace

    spans = _configured(trace.get_tracer_provider())
    measure = _configured(metrics.get_meter_provider())
    if not (spans or measure):
        return None
    sink = _Telemetry(spans=spans, measure=measure)
    return Hooks(
        on_attempt_start=sink.attempt_started if spans else None,
        on_attempt_end=sink.attempt_ended,
        on_retry=sink.retry if measure else None,
        on_breaker_change=sink.breaker if measure else None,
        on_budget_exhausted=sink.budget if measure else None,
        on_fallback=sink.fallback if measure else None,
    )


def combine_hooks(*all_hooks: Hooks | None) -> Hooks:
    """One Hooks that calls each given one in turn (each guarded by call_hook)."""
    present = [hooks for hooks in all_hooks if hooks is not None]
    if len(present) == 1:
        return present[0]

    def fan_out(name: str) -> Any:
        targets = [getattr(hooks, name) for hooks in present if getattr(hooks, name) is not None]
        if not targets:
            return None

        def call_each(event: object) -> None:
            for target in targets:
                call_hook(target, event)

        return call_each

    return Hooks(**{name: fan_out(name) for name in Hooks.__dataclass_fields__})
