"""The per-call value objects keep dataclass semantics although they are
built through their slots (seawall_runtime._slots); the controller's actions
are plain messages."""

from __future__ import annotations

import dataclasses
import pickle

import httpx
import pytest

from seawall_runtime import Attempt, Fail, Finish, Outcome, RequestTimeout, Send, Sleep

RESPONSE = httpx.Response(200)
FIRST = Attempt(1, 503, None, 0.25, 0.5)
SAMPLES: list[tuple[object, object, dict[str, object]]] = [
    (FIRST, Attempt(number=1, status=503, error=None, duration=0.25, retry_delay=0.5), {}),
    (Attempt(2, None, "ConnectError: x", 0.1), None, {"retry_delay": None}),
    (
        Outcome(RESPONSE, None, False, "k", (FIRST,), "attempts"),
        Outcome(
            response=RESPONSE,
            fallback_value=None,
            from_fallback=False,
            idempotency_key="k",
            attempts=(FIRST,),
            stop_reason="attempts",
        ),
        {},
    ),
    (Outcome(None, "cached", True, None, ()), None, {"stop_reason": "answered"}),
]


@pytest.mark.parametrize(("value", "by_keyword", "defaults"), SAMPLES)
def test_fields_equality_and_hash(
    value: object, by_keyword: object, defaults: dict[str, object]
) -> None:
    fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}  # type: ignore[arg-type]
    copy = type(value)(**fields)
    assert copy == value and hash(copy) == hash(value)
    assert repr(copy) == repr(value) and repr(value).startswith(type(value).__name__ + "(")
    if by_keyword is not None:
        assert by_keyword == value
    for name, default in defaults.items():
        assert fields[name] == default


@pytest.mark.parametrize(("value", "by_keyword", "defaults"), SAMPLES)
def test_values_stay_frozen(value: object, by_keyword: object, defaults: object) -> None:
    first = dataclasses.fields(value)[0].name  # type: ignore[arg-type]
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(value, first, 99)
    with pytest.raises(dataclasses.FrozenInstanceError):
        delattr(value, first)


def test_replace_and_pickle_round_trip() -> None:
    later = dataclasses.replace(FIRST, retry_delay=None)
    assert later == Attempt(1, 503, None, 0.25) and later != FIRST
    assert pickle.loads(pickle.dumps(FIRST)) == FIRST
    outcome = Outcome(None, {"cached": True}, True, "k", (FIRST, later))
    assert pickle.loads(pickle.dumps(outcome)) == outcome
    assert outcome.status is None and Outcome(RESPONSE, None, False, None, ()).status == 200


def test_actions_are_plain_messages_equal_by_value() -> None:
    outcome = Outcome(None, 1, True, None, ())
    assert Send(attempt=1, timeout=5.0, connect_timeout=2.0) == Send(1, 5.0, 2.0)
    assert Send(1, 5.0, 2.0) != Send(2, 5.0, 2.0)
    assert Sleep(0.5) == Sleep(seconds=0.5) and Finish(outcome) == Finish(outcome=outcome)
    error = RequestTimeout("slow")
    assert Fail(error).error is error
    assert repr(Send(1, None, None)) == "Send(attempt=1, timeout=None, connect_timeout=None)"
    assert not hasattr(Send(1, None, None), "__dict__")  # slotted: one small object per attempt
