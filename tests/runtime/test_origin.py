"""origin(): the key of per-host breakers and budgets, read from httpx's
parsed URL, or from the public properties where an httpx keeps it elsewhere;
an internationalised host is keyed in Unicode, as httpx's ``host`` gives it."""

from __future__ import annotations

from typing import cast

import httpx
import pytest

from seawall_runtime import ResilientClient
from seawall_runtime.transport import origin

CASES = [
    ("http://example.com/a?b=c", "http://example.com:80"),
    ("https://example.com/", "https://example.com:443"),
    ("https://example.com:443/x", "https://example.com:443"),
    ("http://EXAMPLE.com:8080/", "http://example.com:8080"),
    ("http://user:secret@example.com/", "http://example.com:80"),
    ("http://[::1]:9000/", "http://::1:9000"),
    ("https://münchen.de/", "https://münchen.de:443"),
    ("https://xn--mnchen-3ya.de/", "https://münchen.de:443"),  # one host, one key
]


class PublicPartsOnly:
    """A URL that offers only httpx's public properties."""

    def __init__(self, url: httpx.URL) -> None:
        self.scheme = url.scheme
        self.host = url.host
        self.port = url.port


@pytest.mark.parametrize(("url", "expected"), CASES)
def test_origin_is_scheme_host_and_port(url: str, expected: str) -> None:
    assert origin(httpx.URL(url)) == expected


@pytest.mark.parametrize(("url", "expected"), CASES)
def test_origin_from_public_properties_is_the_same(url: str, expected: str) -> None:
    public = cast(httpx.URL, PublicPartsOnly(httpx.URL(url)))
    assert origin(public) == expected


def test_a_client_keys_its_breaker_by_the_unicode_host() -> None:
    answer = httpx.MockTransport(lambda request: httpx.Response(200))
    with ResilientClient("https://münchen.de", transport=answer) as client:
        client.request("GET", "/x")
    assert list(client.circuit_breakers) == ["https://münchen.de:443"]
