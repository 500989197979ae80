"""Black's layout for the calls the templates print, so black rarely has to run.

A call that fits in :data:`LINE_LENGTH` columns stays on one line. One that
does not is split after its opening bracket: its arguments go on one indented
line if they fit there, else one per line with a trailing comma. That is what
black does with a call whose head fits on the first line; whatever this
cannot lay out (a head too long, an argument too long for its own line) is
left long, and the format stage hands that statement to black.
"""

from __future__ import annotations

from collections.abc import Sequence

LINE_LENGTH = 88
INDENT = "    "


def call_lines(indent: str, head: str, arguments: Sequence[str], tail: str = "") -> str:
    """``{indent}{head}({arguments}){tail}``, laid out as black lays it out."""
    joined = ", ".join(arguments)
    one_line = f"{indent}{head}({joined}){tail}"
    if len(one_line) <= LINE_LENGTH or not arguments:
        return one_line
    opening = f"{indent}{head}("
    closing = f"{indent}){tail}"
    if len(opening) > LINE_LENGTH:
        return one_line
    inner = indent + INDENT
    if len(inner) + len(joined) <= LINE_LENGTH or len(arguments) == 1:
        # One argument too long for its line stays there, with no comma added.
        return f"{opening}\n{inner}{joined}\n{closing}"
    exploded = "".join(f"{inner}{argument},\n" for argument in arguments)
    return f"{opening}\n{exploded}{closing}"


def from_import(module: str, names: Sequence[str]) -> str:
    """``from {module} import {names}``: one line if it fits, else one name per line."""
    one_line = f"from {module} import {', '.join(names)}"
    if len(one_line) <= LINE_LENGTH:
        return one_line
    exploded = "".join(f"{INDENT}{name},\n" for name in names)
    return f"from {module} import (\n{exploded})"
