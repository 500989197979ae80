"""The per-call value objects (seawall_runtime._value): immutable results
and plain action messages, equal by value."""

from __future__ import annotations

import inspect
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


def field_names(value: object) -> list[str]:
    """The fields are the constructor's parameters, each readable by name."""
    return list(inspect.signature(type(value)).parameters)


@pytest.mark.parametrize(("value", "by_keyword", "defaults"), SAMPLES)
def test_fields_equality_and_hash(
    value: object, by_keyword: object, defaults: dict[str, object]
) -> None:
    fields = {name: getattr(value, name) for name in field_names(value)}
    copy = type(value)(**fields)
    assert copy == value and hash(copy) == hash(value)
    assert repr(copy) == repr(value)
    assert (
        repr(value)
        == type(value).__name__
        + "("
        + ", ".join(f"{name}={field!r}" for name, field in fields.items())
        + ")"
    )
    if by_keyword is not None:
        assert by_keyword == value
    for name, default in defaults.items():
        assert fields[name] == default


def test_values_differ_by_any_field_and_by_type() -> None:
    assert Attempt(1, 503, None, 0.25, 0.5) != Attempt(1, 503, None, 0.25, 0.75)
    assert Attempt(1, 503, None, 0.25) != Attempt(2, 503, None, 0.25)
    assert Outcome(None, 1, True, None, ()) != Outcome(None, 1, True, None, (), "budget")
    assert FIRST != (1, 503, None, 0.25, 0.5)  # not a tuple, though made from one
    assert Sleep(1.0) != Send(1, 1.0, None)


@pytest.mark.parametrize(("value", "by_keyword", "defaults"), SAMPLES)
def test_values_stay_frozen(value: object, by_keyword: object, defaults: object) -> None:
    for name in field_names(value):
        with pytest.raises(AttributeError):
            setattr(value, name, 99)
        with pytest.raises(AttributeError):
            delattr(value, name)
    with pytest.raises(AttributeError):
        value.extra = 1  # type: ignore[attr-defined]  # slotted: no new attributes either


def test_pickle_round_trip() -> None:
    assert pickle.loads(pickle.dumps(FIRST)) == FIRST
    later = Attempt(1, 503, None, 0.25)
    outcome = Outcome(None, {"cached": True}, True, "k", (FIRST, later))
    assert pickle.loads(pickle.dumps(outcome)) == outcome
    assert outcome.status is None and Outcome(RESPONSE, None, False, None, ()).status == 200


def test_actions_are_plain_messages_equal_by_value() -> None:
    outcome = Outcome(None, 1, True, None, ())
    assert Send(attempt=1, timeout=5.0, connect_timeout=2.0) == Send(1, 5.0, 2.0)
    assert Send(1, 5.0, 2.0) != Send(2, 5.0, 2.0)
    assert Sleep(0.5) == Sleep(seconds=0.5) and Finish(outcome) == Finish(outcome=outcome)
    error = RequestTimeout("slow")
    assert Fail(error).error is error and Fail(error) == Fail(error)
    assert repr(Send(1, None, None)) == "Send(attempt=1, timeout=None, connect_timeout=None)"
    assert not hasattr(Send(1, None, None), "__dict__")  # slotted: one small object per attempt
