"""Problems found in a user's input, with where they are.

Every stage reports bad input as :class:`Diagnostic` values carrying a
:class:`Location` (file, JSON pointer, and line/column where the loader knows
them). A stage that cannot go on raises :class:`SpecError` with all the
problems it found; the CLI prints them and exits with status 2.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

Severity = Literal["error", "warning"]


def escape_pointer_token(token: str | int) -> str:
    """Escape one reference token for a JSON pointer (RFC 6901)."""
    return str(token).replace("~", "~0").replace("/", "~1")


def join_pointer(pointer: str, *tokens: str | int) -> str:
    """Append reference tokens to a JSON pointer: ``join_pointer("/a", "b/c")``."""
    return pointer + "".join("/" + escape_pointer_token(t) for t in tokens)


@dataclass(frozen=True, slots=True)
class Location:
    """Where something is: a file, a JSON pointer in it, and line/column (1-based)."""

    file: str
    pointer: str = ""
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        place = self.file
        if self.line is not None:
            place += f":{self.line}"
            if self.column is not None:
                place += f":{self.column}"
        if self.pointer:
            place += f" (#{self.pointer})"
        return place


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One problem, or a warning, at a location."""

    message: str
    location: Location
    severity: Severity = "error"

    def __str__(self) -> str:
        return f"{self.location}: {self.severity}: {self.message}"


class SpecError(Exception):
    """The input cannot be used; carries every problem that was found."""

    def __init__(self, diagnostics: Iterable[Diagnostic]) -> None:
        self.diagnostics = list(diagnostics)
        if not self.diagnostics:
            raise ValueError("SpecError needs at least one diagnostic")
        super().__init__("\n".join(str(d) for d in self.diagnostics))
