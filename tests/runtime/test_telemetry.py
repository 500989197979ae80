"""OpenTelemetry spans and metrics (when the SDK is installed) and hook fan-out."""

from __future__ import annotations

import httpx
import pytest

from seawall_runtime import Backoff, FakeClock, Hooks, Policy, ResilientClient, RetryPolicy
from seawall_runtime.telemetry import combine_hooks


def call_answered_by(*statuses: int) -> None:
    """One GET through a client whose server answers these statuses in turn."""
    answers = iter(statuses)
    client = ResilientClient(
        "http://api.test",
        transport=httpx.MockTransport(lambda request: httpx.Response(next(answers))),
        policy=Policy(retry=RetryPolicy(backoff=Backoff(initial=0.01))),
        clock=FakeClock(),
    )
    client.request("GET", "/pets")


def test_each_attempt_is_a_client_span() -> None:
    sdk_trace = pytest.importorskip(
        "opentelemetry.sdk.trace", reason="opentelemetry-sdk (an optional extra) is not installed"
    )
    from opentelemetry import trace
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    # The global provider can be set only once per process: reuse an SDK one.
    provider = trace.get_tracer_provider()
    if not isinstance(provider, sdk_trace.TracerProvider):
        provider = sdk_trace.TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    call_answered_by(503, 200)
    spans = exporter.get_finished_spans()
    attributes = [dict(span.attributes or {}) for span in spans]
    assert [a["http.response.status_code"] for a in attributes] == [503, 200]
    assert [a["seawall.attempt"] for a in attributes] == [1, 2]
    assert spans[0].kind == trace.SpanKind.CLIENT
    assert not spans[0].status.is_ok and spans[1].status.is_unset


def test_combined_hooks_call_every_target() -> None:
    seen: list[str] = []
    first = Hooks(on_retry=lambda event: seen.append("first"))
    second = Hooks(on_retry=lambda event: seen.append("second"), on_fallback=lambda event: None)
    combined = combine_hooks(first, None, second)
    assert combined.on_retry is not None and combined.on_attempt_end is None
    combined.on_retry(object())  # type: ignore[arg-type]
    assert seen == ["first", "second"]
    assert combine_hooks(first, None) is first


def test_without_opentelemetry_clients_carry_only_their_own_hooks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from seawall_runtime import telemetry

    monkeypatch.setattr(telemetry, "_AVAILABLE", False)
    mine = Hooks(on_retry=lambda event: None)
    assert ResilientClient(hooks=mine)._core.hooks is mine
    assert ResilientClient()._core.hooks == Hooks()


def test_attempts_and_retries_are_counted() -> None:
    sdk_metrics = pytest.importorskip(
        "opentelemetry.sdk.metrics", reason="opentelemetry-sdk (an optional extra) is not installed"
    )
    from opentelemetry import metrics
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader

    reader = InMemoryMetricReader()
    if isinstance(metrics.get_meter_provider(), sdk_metrics.MeterProvider):
        pytest.skip("a meter provider without our reader was already set in this process")
    metrics.set_meter_provider(sdk_metrics.MeterProvider(metric_readers=[reader]))
    call_answered_by(503, 503, 200)
    data = reader.get_metrics_data()
    assert data is not None
    sums = {
        metric.name: sum(point.value for point in metric.data.data_points)  # type: ignore[union-attr,misc]
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name in ("seawall.attempts", "seawall.retries")
    }
    assert sums == {"seawall.attempts": 3, "seawall.retries": 2}


def test_no_hooks_until_an_sdk_provider_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("opentelemetry.trace", reason="opentelemetry-api is not installed")
    from opentelemetry import metrics, trace
    from opentelemetry.metrics._internal import _ProxyMeterProvider

    from seawall_runtime.telemetry import telemetry_hooks

    monkeypatch.setattr(trace, "get_tracer_provider", trace.ProxyTracerProvider)
    monkeypatch.setattr(metrics, "get_meter_provider", _ProxyMeterProvider)
    assert telemetry_hooks() is None
