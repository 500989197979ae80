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

import re
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
        opening, closing = self.brackets[0], self.brackets[1]
        return f"{self.head}{opening}{', '.join(map(str, self.items))}{closing}"


Item = Union[str, Bracketed]


def call_lines(indent: str, head: str, arguments: Sequence[Item], tail: str = "") -> str:
    """``{indent}{head}({arguments}){tail}``, laid out as black lays it out."""
    return lay_out(indent, Bracketed(head, arguments), tail)


def lay_out(indent: str, expression: Bracketed, tail: str = "") -> str:
    """``expression`` at ``indent`` followed by ``tail``, in as many lines as black uses."""
    one_line = f"{indent}{expression}{tail}"
    opening, closing = expression.brackets[0], expression.brackets[1]
    first = f"{indent}{expression.head}{opening}"
    if len(one_line) <= LINE_LENGTH or not expression.items or len(first) > LINE_LENGTH:
        return one_line
    inner = indent + INDENT
    last = f"{indent}{closing}{tail}"
    items = [parse_bracketed(item) if isinstance(item, str) else item for item in expression.items]
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


def annotated_lines(indent: str, name: str, annotation: str, default: Item | None) -> str:
    """``{name}: {annotation} = {default}`` (a field), laid out as black lays it out.

    Too long, a default call is split at its bracket if its head fits; an
    unbracketed default goes alone in parentheses when that makes it fit.
    Else the annotation is split: a subscript such as ``list[X]`` at its
    bracket, anything else in parentheses, before each top-level ``|`` if
    it must be.
    """
    rest = "" if default is None else f" = {default}"
    one_line = f"{indent}{name}: {annotation}{rest}"
    if len(one_line) <= LINE_LENGTH:
        return one_line
    inner = indent + INDENT
    head = f"{indent}{name}: {annotation} = ("
    if isinstance(default, Bracketed):
        declared = Bracketed(f"{name}: {annotation} = {default.head}", default.items, default.brackets)
        if len(f"{indent}{declared.head}(") <= LINE_LENGTH:
            return lay_out(indent, declared)
        if len(head) <= LINE_LENGTH:
            return f"{head}\n{lay_out(inner, default)}\n{indent})"
    elif default is not None:
        if len(head) <= LINE_LENGTH and len(inner) + len(default) <= LINE_LENGTH:
            return f"{head}\n{inner}{default}\n{indent})"
    parsed = parse_bracketed(annotation) if len(_top_level_split(annotation, " | ")) == 1 else annotation
    if not isinstance(parsed, Bracketed):
        lines = f"{indent}{name}: (\n{_alternatives(inner, annotation)}\n{indent}){rest}"
    elif parsed.brackets == "[]" and parsed.head:
        lines = lay_out(indent, Bracketed(f"{name}: {parsed.head}", parsed.items, "[]"), rest)
    else:
        return one_line
    last_start = lines.rfind("\n") + 1
    if isinstance(default, Bracketed) and len(lines) - last_start > LINE_LENGTH:
        # The closing bracket's line, ") = Field(...)", is split in turn.
        closing = Bracketed(f"{lines[-len(rest) - 1]} = {default.head}", default.items, default.brackets)
        lines = lines[:last_start] + lay_out(indent, closing)
    return lines


def assignment_lines(indent: str, target: str, value: str) -> str:
    """``{target} = {value}``, laid out as black lays it out.

    Too long, a value ending in a call or subscript is split at its bracket;
    any other goes in parentheses, one ``|`` alternative per line if need be.
    """
    one_line = f"{indent}{target} = {value}"
    if len(one_line) <= LINE_LENGTH:
        return one_line
    parsed = parse_bracketed(value)
    if isinstance(parsed, Bracketed):
        if not parsed.head:
            return one_line
        return lay_out(indent, Bracketed(f"{target} = {parsed.head}", parsed.items, parsed.brackets))
    head = f"{indent}{target} = ("
    if len(head) > LINE_LENGTH:
        return one_line
    return f"{head}\n{_alternatives(indent + INDENT, value)}\n{indent})"


def _alternatives(indent: str, expression: str) -> str:
    """``expression`` alone at ``indent``; too long, one ``|`` alternative per line."""
    if len(indent) + len(expression) <= LINE_LENGTH:
        return f"{indent}{expression}"
    lines = []
    for i, alternative in enumerate(_top_level_split(expression, " | ")):
        prefix = "| " if i else ""
        parsed = parse_bracketed(alternative)
        line = f"{indent}{prefix}{alternative}"
        if len(line) > LINE_LENGTH and isinstance(parsed, Bracketed) and parsed.head:
            line = lay_out(indent, Bracketed(prefix + parsed.head, parsed.items, parsed.brackets))
        lines.append(line)
    return "\n".join(lines)


# What may come before an opening bracket for black to split there: a (dotted)
# name, maybe as a keyword argument, or nothing (a literal).
_HEAD = re.compile(r"(?:\w+=)?[\w.]*")


def parse_bracketed(text: str) -> Item:
    """``text`` as a :class:`Bracketed` if it is ``head(...)``, ``head[...]`` or a
    bracketed literal, its items parsed in turn; else ``text`` itself."""
    opening = _opening_of_last(text)
    if opening is None or not _HEAD.fullmatch(text[:opening]):
        return text
    inner = text[opening + 1 : -1]
    items = [parse_bracketed(item) for item in _top_level_split(inner, ", ")] if inner else []
    return Bracketed(text[:opening], items, text[opening] + text[-1])


def _scan(text: str) -> list[tuple[int, str, int]]:
    """(index, character, bracket depth before it) of each character outside strings."""
    found, depth, quote, i = [], 0, "", 0
    while i < len(text):
        char = text[i]
        if quote:
            if char == "\\":
                i += 1
            elif char == quote:
                quote = ""
        elif char in "\"'":
            quote = char
        else:
            found.append((i, char, depth))
            depth += (char in "([{") - (char in ")]}")
        i += 1
    return found


def _opening_of_last(text: str) -> int | None:
    """Where the bracket that the last character closes opens, if it is one."""
    if not text or text[-1] not in ")]}":
        return None
    openings: list[int] = []
    for index, char, _ in _scan(text):
        if char in "([{":
            openings.append(index)
        elif char in ")]}":
            if not openings:
                return None
            opened = openings.pop()
            if index == len(text) - 1:
                matches = "([{".index(text[opened]) == ")]}".index(char)
                return opened if matches and not openings else None
    return None


def _top_level_split(text: str, separator: str) -> list[str]:
    """``text`` split at ``separator`` where no bracket is open (nor a string)."""
    parts, start = [], 0
    for index, _, depth in _scan(text):
        if depth == 0 and index >= start and text.startswith(separator, index):
            parts.append(text[start:index])
            start = index + len(separator)
    parts.append(text[start:])
    return parts
