"""Which header values debug logs hide: credentials by name, not harmless headers."""

from __future__ import annotations

import logging

import httpx
import pytest

from seawall_runtime import ResilientClient
from seawall_runtime.hooks import REDACTED, is_sensitive_header, redact_headers

SECRET_NAMES = [
    "Authorization",
    "Proxy-Authorization",
    "Cookie",
    "Set-Cookie",
    "X-API-Key",
    "apikey",
    "Ocp-Apim-Subscription-Key",  # Azure API Management
    "X-Signature",
    "X-Hub-Signature-256",
    "X-Session-Id",
    "X-Password",
    "X-Client-Credential",
    "X-Amz-Security-Token",
    "X-Auth-Token",
    "X-Client-Secret",
]
HARMLESS_NAMES = [
    "Idempotency-Key",
    "idempotency-key",
    "X-Idempotency-Key",
    "Content-Type",
    "Accept",
    "User-Agent",
    "X-Request-Id",
    "Retry-After",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_credential_headers_are_redacted(name: str) -> None:
    assert is_sensitive_header(name)
    assert redact_headers([(name, "s3cret")]) == [(name, REDACTED)]


@pytest.mark.parametrize("name", HARMLESS_NAMES)
def test_harmless_headers_stay_visible(name: str) -> None:
    assert not is_sensitive_header(name)
    assert redact_headers([(name, "v-1")]) == [(name, "v-1")]


def test_idempotency_key_is_hidden_when_the_caller_asks() -> None:
    assert redact_headers({"Idempotency-Key": "k-1"}, extra=["idempotency-key"]) == [
        ("Idempotency-Key", REDACTED)
    ]


def test_a_calls_debug_log_hides_every_secret_and_shows_the_rest(
    caplog: pytest.LogCaptureFixture,
) -> None:
    secrets = {name: "s3cret" for name in SECRET_NAMES}
    shown = {name: f"shown-{name.lower()}" for name in HARMLESS_NAMES}
    transport = httpx.MockTransport(lambda request: httpx.Response(200))
    with ResilientClient("http://api.test", transport=transport, headers=secrets | shown) as client:
        with caplog.at_level(logging.DEBUG, logger="seawall_runtime"):
            client.request("GET", "/r")
    assert "s3cret" not in caplog.text
    assert [value for value in shown.values() if value not in caplog.text] == []
