"""Format stage: black over the generated sources, in process, where it changes something.

Black's mode is pinned here rather than read from any pyproject.toml, so the
output depends only on the input and the black version.

Black costs about 10 s of CPU per MB of source, which would make it most of a
run's time. But the templates already write black's style (quotes, spacing,
blank lines, exploded brackets with magic trailing commas), and the render
stage lays out the lines it builds from spec names as black would
(:mod:`seawall.layout`). What is left over the 88 columns (a shape layout
does not know) goes through black: each statement holding such a line, at
its own depth (inside stand-in ``async def`` blocks, so black sees the same
indentation and line budget as in the file), all statements of one depth in
one black call. Docstring lines are left alone, as black leaves them. The
test suite checks, on every corpus spec and the golden specs, that the result
equals black run over each whole file."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from seawall.layout import INDENT, LINE_LENGTH

_BLOCKS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class GeneratedCodeError(RuntimeError):
    """Black could not parse a generated file: a bug in seawall, not in the spec."""


def format_source(source: str) -> str:
    """Return ``source`` formatted by black (target Python 3.10, line length 88)."""
    import black
    from black.mode import Mode, TargetVersion
    from black.report import NothingChanged

    mode = Mode(target_versions={TargetVersion.PY310}, line_length=LINE_LENGTH)
    try:
        # fast=True skips black's AST-equivalence self-check: the generated code is
        # ours, and the test suite type-checks and imports what it produces.
        return black.format_file_contents(source, fast=True, mode=mode)
    except NothingChanged:
        return source


def format_files(files: Mapping[str, str]) -> dict[str, str]:
    """Format every ``*.py`` file of a generated project; other files pass through."""
    return {
        path: format_generated(path, text) if path.endswith(".py") else text
        for path, text in files.items()
    }


def format_generated(path: str, source: str) -> str:
    """Black's output for ``source``, a file the templates wrote in black's style."""
    lines = source.splitlines(keepends=True)
    long_lines = set(_long_code_lines(lines))
    if not long_lines:
        return source
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise GeneratedCodeError(f"generated {path} is not valid Python: {exc}") from None
    statements = list(_statements_to_format(tree.body, lines, long_lines, 0))
    by_depth: dict[int, list[_Statement]] = {}
    for statement in statements:
        by_depth.setdefault(statement.depth, []).append(statement)
    replacements: dict[int, tuple[_Statement, list[str]]] = {}
    for depth, group in by_depth.items():
        texts = ["".join(lines[s.first : s.last + 1]) for s in group]
        try:
            formatted_group = _format_at_depth(texts, depth)
        except GeneratedCodeError as exc:
            raise GeneratedCodeError(f"generated {path}: {exc}") from None
        for statement, formatted in zip(group, formatted_group):
            replacements[statement.first] = (statement, formatted)
    out: list[str] = []
    i = 0
    while i < len(lines):
        if i in replacements:
            statement, formatted = replacements[i]
            out += formatted
            i = statement.last + 1
        else:
            out.append(lines[i])
            i += 1
    return "".join(out)


def _long_code_lines(lines: list[str]) -> Iterator[int]:
    """Indexes of the lines over the limit that are not docstring text.

    Docstrings are the only triple-quoted strings seawall writes, each opening
    a line, and their text has every ``"`` escaped: so a line that starts with
    three quotes opens one, and the next three quotes close it. Parsing is
    left for files where black has work (it costs as much as the rest).
    """
    in_docstring = False
    for i, line in enumerate(lines):
        if in_docstring:
            in_docstring = '"""' not in line
            continue
        stripped = line.lstrip()
        if stripped.startswith('"""'):
            in_docstring = '"""' not in stripped[3:]
        elif len(line.rstrip("\r\n")) > LINE_LENGTH:
            yield i


@dataclass(frozen=True)
class _Statement:
    first: int  # 0-based index of its first line (a decorator's, for a decorated block)
    last: int  # 0-based index of its last line
    depth: int  # indentation level


def _statements_to_format(
    body: Sequence[ast.stmt], lines: list[str], long_lines: set[int], depth: int
) -> Iterator[_Statement]:
    """The smallest statements of ``body`` with a long line that black would change."""
    for node in body:
        first, last = _first_line(node), (node.end_lineno or node.lineno) - 1
        long_here = [i for i in range(first, last + 1) if i in long_lines]
        if not long_here:
            continue
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
            continue  # a docstring: black does not wrap text
        if isinstance(node, _BLOCKS) or (isinstance(node, ast.If) and not node.orelse):
            body_first = node.body[0].lineno - 1
            if all(i >= body_first for i in long_here):
                yield from _statements_to_format(node.body, lines, long_lines, depth + 1)
                continue
        elif all(first < i < last and _unsplittable_item(lines[i]) for i in long_here):
            continue
        yield _Statement(first, last, depth)


# An item such as ``Name as Name,`` or ``"key": CONSTANT,``: names, dotted
# names and plain strings, joined by nothing black splits at.
_UNSPLITTABLE_ITEM = re.compile(r'(?:[\w.]+|"[^"\\]*")(?:(?:: | as |=)(?:[\w.]+|"[^"\\]*"))?,')


def _unsplittable_item(line: str) -> bool:
    """An item of an exploded bracket that black cannot split.

    Black would split it at its delimiters (operators, commas other than its
    own) and then at its brackets; with neither, it keeps the line as it is.
    """
    return _UNSPLITTABLE_ITEM.fullmatch(line.strip()) is not None


def _format_at_depth(texts: list[str], depth: int) -> list[list[str]]:
    """Black's lines for each statement in ``texts``, all indented ``depth`` levels."""
    from black.parsing import InvalidInput

    wrapper = "".join(f"{INDENT * level}async def _():\n" for level in range(depth))
    try:
        formatted = format_source(wrapper + "".join(texts))
    except InvalidInput as exc:
        raise GeneratedCodeError(f"black cannot parse it: {exc}") from None
    lines = formatted.splitlines(keepends=True)
    body = ast.parse(formatted).body
    for _ in range(depth):
        body = body[0].body  # type: ignore[attr-defined]
    if len(body) != len(texts):
        raise GeneratedCodeError("black merged or split generated statements")
    return [lines[_first_line(node) : node.end_lineno] for node in body]


def _first_line(node: ast.stmt) -> int:
    """0-based index of a statement's first line: its first decorator's, if it has any."""
    decorators: list[ast.expr] = getattr(node, "decorator_list", [])
    return min([node.lineno, *(d.lineno for d in decorators)]) - 1
