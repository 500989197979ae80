"""origin(): the key of per-host breakers and budgets, read from httpx's
parsed URL, or from the public properties where an httpx keeps it elsewhere."""

from __future__ import annotations

from typing import cast

import httpx
import pytest

from seawall_runtime.transport import origin

CASES = [
    ("http://example.com/a?b=c", "http://example.com:80"),
    ("https://example.com/", "https://example.com:443"),
    ("https://example.com:443/x", "https://example.com:443"),
    ("http://EXAMPLE.com:8080/", "http://example.com:8080"),
    ("http://user:secret@example.com/", "http://example.com:80"),
    ("http://[::1]:9000/", "http://::1:9000"),
    ("https://münchen.de/", "https://xn--mnchen-3ya.de:443"),
]


class PublicPartsOnly:
    """A URL that offers only httpx's public properties."""

    def __init__(self, url: httpx.URL) -> None:
        self.scheme = url.scheme
        self.raw_host = url.raw_host
        self.port = url.port


@pytest.mark.parametrize(("url", "expected"), CASES)
def test_origin_is_scheme_host_and_port(url: str, expected: str) -> None:
    assert origin(httpx.URL(url)) == expected


@pytest.mark.parametrize(("url", "expected"), CASES)
def test_origin_from_public_properties_is_the_same(url: str, expected: str) -> None:
    public = cast(httpx.URL, PublicPartsOnly(httpx.URL(url)))
    assert origin(public) == expected
