"""The description of one API operation that the runtime needs."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Final

from seawall_runtime.policies import Policy

# RFC 9110 §9.2.2: methods whose intended effect is the same when repeated.
IDEMPOTENT_METHODS: Final = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})
DEFAULT_IDEMPOTENCY_HEADER: Final = "Idempotency-Key"
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")  # RFC 9110 token


# The hex digit of the RFC 4122 variant nibble (binary 10xx) for each random nibble.
_VARIANT_DIGIT: Final = {digit: "89ab"[int(digit, 16) & 3] for digit in "0123456789abcdef"}


def new_idempotency_key() -> str:
    """A random UUIDv4 string, as ``str(uuid.uuid4())`` makes, at a third of its cost.

    122 bits come from ``os.urandom``; the version nibble is 4 and the
    variant bits are 10, as RFC 4122 requires.
    """
    digits = os.urandom(16).hex()
    return (
        f"{digits[:8]}-{digits[8:12]}-4{digits[13:16]}-"
        f"{_VARIANT_DIGIT[digits[16]]}{digits[17:20]}-{digits[20:]}"
    )


def is_idempotent_method(method: str) -> bool:
    """Whether RFC 9110 defines ``method`` as idempotent."""
    return method.upper() in IDEMPOTENT_METHODS


@dataclass(frozen=True, slots=True)
class Operation:
    """One operation of an API, as generated code (or a person) describes it.

    ``idempotent`` overrides the method's RFC 9110 meaning when not ``None``.
    ``idempotency_key_header`` names the header that carries a per-call key;
    a request with a key counts as idempotent. ``policy`` replaces the
    client's policy for this operation when given.
    """

    name: str
    method: str
    path: str
    idempotent: bool | None = None
    idempotency_key_header: str | None = None
    policy: Policy | None = None

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("Operation.name must not be empty")
        if not _TOKEN.match(self.method):
            raise ValueError(f"Operation.method is not an HTTP method (got {self.method!r})")
        object.__setattr__(self, "method", self.method.upper())
        header = self.idempotency_key_header
        if header is not None and not _TOKEN.match(header):
            raise ValueError(
                f"Operation.idempotency_key_header is not a header name (got {header!r})"
            )
        if self.policy is not None and not isinstance(self.policy, Policy):
            raise ValueError(f"Operation.policy must be a Policy (got {self.policy!r})")

    def is_idempotent(self, has_key: bool = False) -> bool:
        """Whether repeating this operation is safe (declared, by key, or by method)."""
        if self.idempotent is not None:
            return self.idempotent or has_key
        return has_key or self.method in IDEMPOTENT_METHODS  # upper case since __post_init__
