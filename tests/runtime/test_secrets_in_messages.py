"""Secrets stay out of what a failed call leaves behind: error messages and
reprs, the attempt history, hook events and the DEBUG log.

The request carries credentials in its URL (user info and a query token), an
Authorization header and an API key header; each scenario fails a different
way, through the sync and the async driver.
"""

from __future__ import annotations

import base64
import logging
from typing import Any

import anyio
import httpx
import pytest

from seawall_runtime import (
    AsyncResilientClient,
    AttemptEnded,
    BreakerPolicy,
    CircuitOpen,
    FakeClock,
    Hooks,
    Outcome,
    Policy,
    ResilientClient,
    RetriesExhausted,
    RetryPolicy,
    SeawallError,
)

URL = "http://user:s3cret@api.test/x?token=abc"
AUTHORIZATION = "Bearer authz-VALUE-42"
API_KEY = "apikey-VALUE-77"
SECRETS = (
    "s3cret",
    "abc",
    AUTHORIZATION,
    "authz-VALUE-42",
    API_KEY,
    base64.b64encode(b"user:s3cret").decode(),  # Basic credentials httpx makes from the URL
)

# How the host answers in each scenario, and what the call must end with.
SCENARIOS: dict[str, tuple[int | Exception, type[Exception] | None]] = {
    "refused": (httpx.ConnectError("[Errno 111] Connection refused"), RetriesExhausted),
    "timeout": (httpx.ReadTimeout("The read operation timed out"), RetriesExhausted),
    "503 after retries": (503, None),
    "circuit open": (503, CircuitOpen),
}


def call(mode: str, scenario: str, ended: list[AttemptEnded]) -> Outcome | SeawallError:
    """One GET of URL that the host answers as ``scenario`` says."""
    answer, _ = SCENARIOS[scenario]

    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return httpx.Response(answer, content=b"busy")

    # The breaker trips at the first failure in the circuit scenario only.
    minimum_calls = 1 if scenario == "circuit open" else 100
    options: dict[str, Any] = {
        "transport": httpx.MockTransport(handler),
        "policy": Policy(retry=RetryPolicy(attempts=3)),
        "breaker": BreakerPolicy(minimum_calls=minimum_calls),
        "clock": FakeClock(),
        "headers": {"Authorization": AUTHORIZATION, "X-Api-Key": API_KEY},
        "hooks": Hooks(on_attempt_end=ended.append),
    }
    try:
        if mode == "sync":
            with ResilientClient(**options) as client:
                return client.request("GET", URL)

        async def run() -> Outcome:
            async with AsyncResilientClient(**options) as client:
                return await client.request("GET", URL)

        return anyio.run(run)
    except SeawallError as error:
        return error


def texts_of(result: Outcome | SeawallError) -> list[str]:
    """What a caller could print or log of the result: messages and reprs of
    the error and of every runtime error it was raised from."""
    if isinstance(result, Outcome):
        return [repr(result)]
    texts = []
    error: BaseException | None = result
    while isinstance(error, SeawallError):
        texts += [str(error), repr(error), error.message]
        error = error.__cause__
    return texts


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_no_secret_in_errors_attempts_hooks_or_the_debug_log(
    mode: str, scenario: str, caplog: pytest.LogCaptureFixture
) -> None:
    ended: list[AttemptEnded] = []
    with caplog.at_level(logging.DEBUG, logger="seawall_runtime"):
        result = call(mode, scenario, ended)

    _, expected = SCENARIOS[scenario]
    if expected is None:
        assert isinstance(result, Outcome) and result.status == 503
        assert len(result.attempts) == 3
    else:
        assert isinstance(result, expected)
        # The message is still useful: it names the call, without its query.
        assert "GET api.test/x" in str(result)
    attempts = result.attempts
    assert attempts and len(ended) == len(attempts)
    assert "api.test" in caplog.text  # the requests were logged at DEBUG
    places = {
        "error or outcome": texts_of(result),
        "Attempt.error": [attempt.error or "" for attempt in attempts],
        "AttemptEnded.error": [event.error or "" for event in ended],
        "DEBUG log": [caplog.text],
    }
    for where, texts in places.items():
        for secret in SECRETS:
            assert not any(secret in text for text in texts), f"{secret!r} in {where}"
