"""Changing faults while running: the admin API and the JSON fault format."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from chaos_upstream import Upstream

from seawall.chaos import ErrorFault, FaultSet, Outage, RoutePattern, Rule, fault_set_from_json
from seawall.chaos.proxy import ChaosProxy
from seawall.diagnostics import SpecError

FULL: dict[str, Any] = {
    "seed": 42,
    "hang_limit": 5.0,
    "rules": [
        {
            "match": ["POST /orders*"],
            "errors": [{"status": 503, "rate": 0.2}],
            "retry_after": 1,
            "latency": 0.05,
            "latency_jitter": 0.02,
            "reset": 0.05,
            "hang": 0.01,
            "lost": 0.05,
            "outages": [{"start": 10.0, "end": 20.0, "kind": "reset"}],
        }
    ],
}


@pytest.fixture
def admin(upstream: tuple[Upstream, str]) -> Iterator[tuple[ChaosProxy, httpx.Client]]:
    with ChaosProxy(upstream[1], admin_prefix="/_ops") as proxy:
        with httpx.Client(base_url=proxy.url, timeout=5, trust_env=False) as http:
            yield proxy, http


def test_json_round_trip() -> None:
    faults = fault_set_from_json(FULL)
    assert faults.rules[0].match == (RoutePattern.parse("POST /orders*"),)
    assert faults.rules[0].outages == (Outage(10, 20, "reset"),)
    assert faults.to_json() == {**FULL, "rules": [{**FULL["rules"][0], "match": ["POST /orders*"]}]}


def test_json_problems_carry_pointers() -> None:
    data = {
        "seed": "x",
        "extra": 1,
        "rules": [
            {"reset": "often", "errors": [{"status": 200, "rate": 0.1}]},
            {"outages": [{"start": 5, "end": 1}], "match": [7, "nope"]},
            {"outages": [{"start": 5}, 3], "errors": ["x"]},
            "rule",
        ],
    }
    with pytest.raises(SpecError) as caught:
        fault_set_from_json(data, "faults.json")
    assert [str(d) for d in caught.value.diagnostics] == [
        "faults.json (#/extra): error: unknown field 'extra'",
        "faults.json (#/seed): error: seed must be an integer",
        "faults.json (#/rules/0/reset): error: reset must be a number",
        "faults.json (#/rules/1/match/0): error: a route pattern must be a string",
        "faults.json (#/rules/1/match/1): error: route pattern 'nope' must be "
        "'[METHOD[,METHOD…]] /path-glob'",
        "faults.json (#/rules/1/outages/0): error: outage end (1) must be after its start (5)",
        "faults.json (#/rules/2/errors/0): error: expected a JSON object",
        "faults.json (#/rules/2/outages/0): error: an outage needs 'start' and 'end' "
        "(seconds after start)",
        "faults.json (#/rules/2/outages/1): error: expected a JSON object",
        "faults.json (#/rules/3): error: expected a JSON object",
    ]


def test_put_replaces_faults_and_get_shows_them(admin: tuple[ChaosProxy, httpx.Client]) -> None:
    proxy, http = admin
    assert http.get("/x").status_code == 200
    put = http.put("/_ops/faults", json={"rules": [{"errors": [{"status": 429, "rate": 1}]}]})
    assert put.status_code == 200
    assert proxy.faults == FaultSet((Rule(errors=(ErrorFault(429, 1.0),)),))
    assert http.get("/_ops/faults").json() == put.json()
    assert http.get("/x").status_code == 429
    assert proxy.stats().received == 2  # admin requests are not counted


def test_bad_put_is_a_400_naming_the_problem_and_keeps_the_faults(
    admin: tuple[ChaosProxy, httpx.Client],
) -> None:
    proxy, http = admin
    response = http.put("/_ops/faults", json={"rules": [{"hang": 2}]})
    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            "<admin request> (#/rules/0): error: hang must be a probability between 0 and 1, got 2.0"
        ]
    }
    not_json = http.put("/_ops/faults", content=b"{nope")
    assert not_json.status_code == 400
    assert "the body is not JSON" in not_json.json()["errors"][0]
    assert proxy.faults == FaultSet()


def test_outage_now_and_clear_through_the_api(admin: tuple[ChaosProxy, httpx.Client]) -> None:
    proxy, http = admin
    started = http.post("/_ops/outage", json={"duration": 60, "kind": 500})
    assert started.status_code == 200
    assert started.json()["kind"] == 500
    assert started.json()["end"] - started.json()["start"] == 60
    assert http.get("/x").status_code == 500
    assert http.delete("/_ops/outage").status_code == 200
    assert http.get("/x").status_code == 200
    bad = http.post("/_ops/outage", json={"duration": -1})
    assert (bad.status_code, bad.json()["errors"]) == (
        400,
        ["<admin request> (#/duration): duration must be a number of seconds > 0"],
    )
    assert http.post("/_ops/outage", json={"duration": 1, "kind": "boom"}).status_code == 400


def test_stats_and_reset(admin: tuple[ChaosProxy, httpx.Client], upstream: tuple[Upstream, str]) -> None:
    proxy, http = admin
    for _ in range(3):
        http.get("/a")
    http.post("/b", content=b"x")
    assert http.get("/_ops/stats").json() == {
        "received": 4,
        "forwarded": 4,
        "answered": 4,
        "upstream_errors": 0,
        "faults": {"forward": 4},
        "requests": {"GET /a": 3, "POST /b": 1},
    }
    assert http.post("/_ops/reset").json()["received"] == 0
    assert proxy.stats().received == 0
    assert upstream[0].count("GET /a") == 3


def test_unknown_endpoints_and_methods(admin: tuple[ChaosProxy, httpx.Client]) -> None:
    _, http = admin
    assert http.get("/_ops/nothing").status_code == 404
    assert http.delete("/_ops/stats").status_code == 405
    assert http.get("/_chaos/stats").status_code == 200  # not reserved here: forwarded
