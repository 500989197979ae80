"""Black's layout for the calls and literals the templates print, so black rarely runs.

A bracketed expression that fits in :data:`LINE_LENGTH` columns stays on one
line. One that does not is split after its opening bracket. A call's (or a
subscript's) items then go on one indented line if they fit there; a
collection literal's go one per line, as do a call's that do not fit
together, each followed by a comma. Items that are bracketed themselves are
laid out the same way when their line is too long. That is what black does
with these shapes; whatever this cannot lay out (a head too long for its
line, an unbracketed item too long for its own) is left long, and the format
stage hands that statement to black.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Union

LINE_LENGTH = 88
INDENT = "    "


@dataclass(frozen=True)
class Bracketed:
    """``{head}({items})``; with no head, a collection literal such as ``{...}``."""

    head: str
    items: Sequence[Item]
    brackets: str = "()"

    def __str__(self) -> str:
        opening, closing = self.brackets
        return f"{self.head}{opening}{', '.join(map(str, self.items))}{closing}"


Item = Union[str, Bracketed]


def call_lines(indent: str, head: str, arguments: Sequence[Item], tail: str = "") -> str:
    """``{indent}{head}({arguments}){tail}``, laid out as black lays it out."""
    return lay_out(indent, Bracketed(head, arguments), tail)


def lay_out(indent: str, expression: Bracketed, tail: str = "") -> str:
    """``expression`` at ``indent`` followed by ``tail``, in as many lines as black uses."""
    one_line = f"{indent}{expression}{tail}"
    opening, closing = expression.brackets
    first = f"{indent}{expression.head}{opening}"
    if len(one_line) <= LINE_LENGTH or not expression.items or len(first) > LINE_LENGTH:
        return one_line
    inner = indent + INDENT
    last = f"{indent}{closing}{tail}"
    items = expression.items
    if len(items) == 1:
        # A lone item gets no comma; if it is still too long, it is split in turn.
        (item,) = items
        body = lay_out(inner, item) if isinstance(item, Bracketed) else f"{inner}{item}"
        return f"{first}\n{body}\n{last}"
    joined = ", ".join(map(str, items))
    if expression.head and len(inner) + len(joined) <= LINE_LENGTH:
        return f"{first}\n{inner}{joined}\n{last}"
    lines = [lay_out(inner, item, ",") if isinstance(item, Bracketed) else f"{inner}{item}," for item in items]
    return "\n".join([first, *lines, last])


def from_import(module: str, names: Sequence[str]) -> str:
    """``from {module} import {names}``: one line if it fits, else one name per line."""
    one_line = f"from {module} import {', '.join(names)}"
    if len(one_line) <= LINE_LENGTH:
        return one_line
    exploded = "".join(f"{INDENT}{name},\n" for name in names)
    return f"from {module} import (\n{exploded})"


def annotated_lines(indent: str, name: str, annotation: str, default: str | None) -> str:
    """``{name}: {annotation} = {default}`` (a field), laid out as black lays it out.

    Too long, the default goes alone in parentheses when that makes it fit;
    else the annotation does, split before each top-level ``|`` if it must
    be. A subscript annotation such as ``list[X]`` is split at its bracket.
    """
    rest = "" if default is None else f" = {default}"
    one_line = f"{indent}{name}: {annotation}{rest}"
    if len(one_line) <= LINE_LENGTH:
        return one_line
    inner = indent + INDENT
    if default is not None:
        head = f"{indent}{name}: {annotation} = ("
        if len(head) <= LINE_LENGTH and len(inner) + len(default) <= LINE_LENGTH:
            return f"{head}\n{inner}{default}\n{indent})"
    if "'" in annotation or '"' in annotation:
        return one_line  # a Literal[...]: its strings may hold brackets; black decides
    alternatives = _top_level_split(annotation, " | ")
    if len(alternatives) == 1 and annotation.endswith("]"):
        subscripted, _, inside = annotation[:-1].partition("[")
        if len(_top_level_split(inside, ", ")) > 1:
            return one_line
        return lay_out(indent, Bracketed(f"{name}: {subscripted}", [inside], "[]"), rest)
    if len(inner) + len(annotation) <= LINE_LENGTH:
        body = f"{inner}{annotation}"
    else:
        body = "\n".join(f"{inner}{'| ' if i else ''}{part}" for i, part in enumerate(alternatives))
    return f"{indent}{name}: (\n{body}\n{indent}){rest}"


def _top_level_split(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` where no bracket is open."""
    parts, depth, start, i = [], 0, 0, 0
    while i < len(text):
        char = text[i]
        if char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif depth == 0 and text.startswith(separator, i):
            parts.append(text[start:i])
            start = i = i + len(separator)
            continue
        i += 1
    parts.append(text[start:])
    return parts


def assignment_lines(indent: str, target: str, value: str) -> str:
    """``{target} = {value}`` with an unbracketed value: too long, the value goes in parentheses."""
    one_line = f"{indent}{target} = {value}"
    head = f"{indent}{target} = ("
    inner = indent + INDENT
    if len(one_line) <= LINE_LENGTH or len(head) > LINE_LENGTH or len(inner) + len(value) > LINE_LENGTH:
        return one_line
    return f"{head}\n{inner}{value}\n{indent})"
