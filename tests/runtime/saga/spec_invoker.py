"""An invoker built from an example spec at test time: a stand-in for a generated client.

It reads operationIds, paths, ``x-idempotent`` and ``x-compensation`` from
``specs/<service>.yaml`` and calls the real service through the runtime's
:class:`ResilientClient`, over a transport that can inject faults.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import yaml

from seawall_runtime import FakeClock, Operation, ResilientClient
from seawall_runtime.saga import Arguments, CompensationSpec, OperationRef, StepResult
from seawall_runtime.saga.expressions import resolve_pointer, sectioned_template

SPECS = Path(__file__).resolve().parents[3] / "specs"
METHODS = ("get", "put", "post", "delete", "patch")


class FaultyTransport(httpx.BaseTransport):
    """Loopback HTTP that sometimes refuses, loses the answer after the effect, or says 503."""

    def __init__(self, rate: float, seed: int, tick: Callable[[], None] = lambda: None) -> None:
        self.inner = httpx.HTTPTransport()
        self.tick = tick  # called just before a request leaves and just after its answer arrives
        self.rate = rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.injected = {"refused": 0, "lost": 0, "unavailable": 0}
        self._forced = threading.local()

    def lose_next(self) -> None:
        """Lose the answer to this thread's next request, after the service applied it."""
        self._forced.lose = True

    def _roll(self) -> str | None:
        if getattr(self._forced, "lose", False):
            self._forced.lose = False
            return "lost"
        with self.lock:
            roll = self.rng.random()
            fault = None
            if roll < self.rate:
                fault = "refused"
            elif roll < 2 * self.rate:
                fault = "lost"
            elif roll < 3 * self.rate:
                fault = "unavailable"
            if fault:
                self.injected[fault] += 1
            return fault

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        fault = self._roll()
        if fault == "refused":
            raise httpx.ConnectError("injected: connection refused", request=request)
        if fault == "unavailable":
            return httpx.Response(503, json={"code": "unavailable", "message": "injected"})
        self.tick()
        response = self.inner.handle_request(request)
        response.read()
        self.tick()
        if fault == "lost":
            response.close()
            raise httpx.ReadTimeout("injected: the response was lost", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


def _resolve(document: Any, node: Any) -> Any:
    """Follow local ``$ref``s (the example specs have no others)."""
    while "$ref" in node:
        node = resolve_pointer(document, node["$ref"].removeprefix("#"), expression=node["$ref"])
    return node


class SpecInvoker:
    """One example service's operations, described from its spec, called by name."""

    def __init__(self, service: str, base_url: str, transport: httpx.BaseTransport) -> None:
        self.service = service
        document = yaml.safe_load((SPECS / f"{service}.yaml").read_text())
        self.operations: dict[str, tuple[Operation, OperationRef]] = {}
        locations: dict[str, dict[str, str]] = {}
        raw: dict[str, Mapping[str, Any]] = {}
        for path, item in document["paths"].items():
            for method in METHODS:
                if method not in item:
                    continue
                spec = item[method]
                parameters = [
                    _resolve(document, p)
                    for p in item.get("parameters", []) + spec.get("parameters", [])
                ]
                locations[spec["operationId"]] = {p["name"]: p["in"] for p in parameters}
                raw[spec["operationId"]] = {"method": method.upper(), "path": path, **spec}
        for name, spec in raw.items():
            marker = spec.get("x-idempotent")
            key_header = marker.get("key") if isinstance(marker, dict) else None
            idempotent = bool(marker) or spec["method"] in ("GET", "PUT", "DELETE")
            compensation = None
            if "x-compensation" in spec:
                undo = spec["x-compensation"]
                template = sectioned_template(undo.get("args", {}), locations[undo["operation"]])
                compensation = CompensationSpec(undo["operation"], template)
            self.operations[name] = (
                Operation(name, spec["method"], spec["path"], idempotent, key_header),
                OperationRef(name, idempotent, compensation),
            )
        self.client = ResilientClient(
            base_url, transport=transport, clock=FakeClock(), breaker=None, budget=None
        )

    def operation(self, name: str) -> OperationRef:
        return self.operations[name][1]

    def invoke(
        self, operation: str, arguments: Arguments, *, idempotency_key: str, policy: Any = None
    ) -> StepResult:
        described, _ = self.operations[operation]
        path_values = arguments.get("path") or {}
        assert isinstance(path_values, dict)
        url = described.path
        for name, value in path_values.items():
            url = url.replace("{" + name + "}", quote(str(value), safe=""))
        outcome = self.client.request(
            described.method,
            url,
            operation=described,
            policy=policy,
            idempotency_key=idempotency_key,
            params=arguments.get("query") or None,
            headers=arguments.get("header") or None,
            json=arguments.get("body"),
        )
        response = outcome.response
        assert response is not None  # no fallbacks here
        body = response.json() if response.content else None
        return StepResult(response.status_code, body, dict(response.headers), len(outcome.attempts))

    def close(self) -> None:
        self.client.close()
