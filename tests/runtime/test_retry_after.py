"""Retry-After values (RFC 9110 §10.2.3): every form read, nothing raised."""

from __future__ import annotations

import random

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall_runtime import Backoff, FakeClock, Policy, ResilientClient, RetryPolicy
from seawall_runtime.retry_after import MAX_RETRY_AFTER, parse_retry_after

from runtime_script import Script

NOW = 784_111_777.0  # Sun, 06 Nov 1994 08:49:37 GMT, the RFC's example date
IMF_FIXDATE = "Sun, 06 Nov 1994 08:50:07 GMT"  # 30 s after NOW
RFC_850 = "Sunday, 06-Nov-94 08:50:07 GMT"
ASCTIME = "Sun Nov  6 08:50:07 1994"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (IMF_FIXDATE, 30.0),
        (RFC_850, 30.0),
        (ASCTIME, 30.0),  # no zone: HTTP-dates are GMT
        ("Sun, 06 Nov 1994 08:50:07 -0000", 30.0),  # "unknown zone" is GMT too
        ("Sun, 06 Nov 1994 08:49:00 GMT", 0.0),  # in the past
        ("Sun Nov  6 08:00:00 1994", 0.0),
        ("Tue, 08 Nov 1994 08:49:37 GMT", MAX_RETRY_AFTER),  # two days ahead
        ("Sun, 06 Nov 99999 08:50:07 GMT", None),  # year out of range
    ],
)
def test_http_dates_in_all_three_forms(value: str, expected: float | None) -> None:
    assert parse_retry_after(value, wall_now=NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        ("0", 0.0),
        (" 120 ", 120.0),
        ("\t7\t", 7.0),
        ("86400", MAX_RETRY_AFTER),
        ("86401", MAX_RETRY_AFTER),
        ("9999999999", MAX_RETRY_AFTER),
        ("9" * 5000, MAX_RETRY_AFTER),  # past Python's int-string limit
        ("0" * 5000 + "7", 7.0),  # leading zeros are not magnitude
        ("-5", None),
        ("+5", None),
        ("1.5", None),
        ("1e3", None),
        ("1 2", None),
        ("²", None),  # a latin-1 byte 0xB2: isdigit() but not int()
        ("٣", None),  # Arabic-Indic three
        ("１２０", None),  # full-width digits
        ("soon", None),
        ("", None),
        ("   ", None),
        (None, None),
    ],
)
def test_delay_seconds_are_ascii_digits_only(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, wall_now=NOW) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120, 120", 120.0),
        ("120,60", 120.0),  # the first element counts
        (f"{IMF_FIXDATE}, {IMF_FIXDATE}", 30.0),  # a date's own comma is kept
        (f"{RFC_850}, 5", 30.0),
        (f"{ASCTIME}, 5", 30.0),
        (f"5, {IMF_FIXDATE}", 5.0),
        ("soon, 120", None),  # a bad first element is not skipped over
        ("Sun, 120", None),
        (",120", None),
    ],
)
def test_repeated_headers_use_the_first_element(value: str, expected: float | None) -> None:
    assert parse_retry_after(value, wall_now=NOW) == expected


date_parts = st.sampled_from(
    [
        "Sun",
        "Sunday",
        ",",
        " ",
        "06",
        "6",
        "Nov",
        "-Nov-",
        "94",
        "1994",
        "99999",
        "08:50:07",
        "99:99:99",
        "GMT",
        "-0000",
        "+9999",
        "-2400",
        "²",
        "9" * 40,
        "-",
        ":",
    ]
)
header_values = st.text() | st.lists(date_parts, max_size=12).map("".join)


@settings(max_examples=400, deadline=None, derandomize=True)  # repeatable in CI
@given(header_values, st.floats(0, 4e9))
def test_never_raises_and_stays_in_range(value: str, wall_now: float) -> None:
    delay = parse_retry_after(value, wall_now)
    assert delay is None or (isinstance(delay, float) and 0.0 <= delay <= MAX_RETRY_AFTER)


def answering(
    first: httpx.Response, clock: FakeClock, max_retry_after: float | None = 60.0
) -> tuple[ResilientClient, Script]:
    script = Script([first, 200], clock)
    backoff = Backoff(initial=0.5, jitter="none")
    client = ResilientClient(
        "http://api.test",
        transport=script.transport,
        policy=Policy(retry=RetryPolicy(backoff=backoff, max_retry_after=max_retry_after)),
        clock=clock,
        random=random.Random(1),
        breaker=None,
        budget=None,
    )
    return client, script


def test_a_non_ascii_digit_hint_is_ignored_by_the_client(clock: FakeClock) -> None:
    # httpx decodes the latin-1 byte 0xB2 as "²", which once escaped as ValueError.
    client, _ = answering(httpx.Response(503, headers=[(b"Retry-After", b"\xb2")]), clock)
    assert client.request("GET", "/r").status == 200
    assert clock.sleeps == [0.5]  # the policy's own backoff


def test_a_huge_hint_is_capped_not_raised_by_the_client(clock: FakeClock) -> None:
    first = httpx.Response(503, headers=[(b"Retry-After", b"9" * 5000)])
    client, script = answering(first, clock, max_retry_after=None)
    assert client.request("GET", "/r").status == 200
    assert clock.sleeps == [MAX_RETRY_AFTER] and len(script.requests) == 2


def test_a_huge_hint_past_the_policys_limit_stops_at_once(clock: FakeClock) -> None:
    first = httpx.Response(503, headers=[(b"Retry-After", b"9" * 5000)])
    client, script = answering(first, clock)
    outcome = client.request("GET", "/r")
    assert (outcome.status, outcome.stop_reason) == (503, "retry-after")
    assert clock.sleeps == [] and len(script.requests) == 1
