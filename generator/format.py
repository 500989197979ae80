"""Format stage: run black over the generated Python sources, in process.

Black's mode is pinned here rather than read from any pyproject.toml, so the
output depends only on the input and the black version.

Black is the slowest stage by far (about 100-150 KB of source a second on one
core), so large projects are formatted in parallel: each file is cut into
pieces at top-level ``def``/``class`` statements, where black's output is known
to be the pieces' output joined by two blank lines, and the pieces go to a pool
of worker processes.
"""

from __future__ import annotations

import ast
import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor

# Below this much Python source, starting worker processes costs more than it saves.
_PARALLEL_THRESHOLD_BYTES = 300_000
# Pieces this small are not worth cutting further.
_MIN_PIECE_BYTES = 20_000
_TOP_LEVEL_BLOCKS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


class GeneratedCodeError(RuntimeError):
    """Black could not parse a generated file: a bug in seawall, not in the spec."""


def format_source(source: str) -> str:
    """Return ``source`` formatted by black (target Python 3.10, line length 88)."""
    import black
    from black.mode import Mode, TargetVersion
    from black.report import NothingChanged

    mode = Mode(target_versions={TargetVersion.PY310}, line_length=88)
    try:
        # fast=True skips black's AST-equivalence self-check: the generated code is
        # ours, and the test suite type-checks and imports what it produces.
        return black.format_file_contents(source, fast=True, mode=mode)
    except NothingChanged:
        return source


def _format_named(item: tuple[str, str]) -> str:
    path, source = item
    from black.parsing import InvalidInput

    try:
        return format_source(source)
    except InvalidInput as exc:
        raise GeneratedCodeError(f"generated {path} is not valid Python: {exc}") from None


def _is_stub(node: ast.stmt) -> bool:
    """``def f(): ...``: black may keep such overload stubs without blank lines."""
    body = getattr(node, "body", None)
    return (
        isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        and body is not None
        and len(body) == 1
        and isinstance(body[0], ast.Expr)
        and isinstance(body[0].value, ast.Constant)
        and body[0].value.value is Ellipsis
    )


def split_top_level(source: str, target_bytes: int) -> list[str]:
    """Cut ``source`` into pieces of about ``target_bytes`` that black formats alike.

    A cut goes only before a top-level ``def`` or ``class`` (with its decorators)
    that follows another top-level statement, is not the file's second statement
    (the one after a module docstring), follows no overload stub, and has only
    blank lines before it: black then puts exactly two blank lines there, so
    formatting the pieces and joining them with two blank lines equals
    formatting the whole.
    """
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return [source]  # black reports it, with the file's name
    lines = source.splitlines(keepends=True)
    offsets = [0]  # offsets[i]: characters before line i
    for line in lines:
        offsets.append(offsets[-1] + len(line))
    cuts: list[int] = []  # 0-based line indexes where a new piece starts
    start = 0
    for previous, node in zip(body[1:], body[2:]):
        if not isinstance(node, _TOP_LEVEL_BLOCKS) or _is_stub(previous):
            continue
        first = min([node.lineno] + [d.lineno for d in node.decorator_list]) - 1
        end = previous.end_lineno or previous.lineno
        if any(line.strip() for line in lines[end:first]):
            continue  # a comment sits between them: keep it with its statement
        if offsets[first] - offsets[start] >= target_bytes:
            cuts.append(first)
            start = first
    bounds = [0, *cuts, len(lines)]
    return ["".join(lines[a:b]) for a, b in zip(bounds, bounds[1:])]


def format_files(files: Mapping[str, str]) -> dict[str, str]:
    """Format every ``*.py`` file of a generated project; other files pass through."""
    python = sorted(path for path in files if path.endswith(".py"))
    total = sum(len(files[path]) for path in python)
    workers = min(os.cpu_count() or 1, 8)
    result = dict(files)
    if total < _PARALLEL_THRESHOLD_BYTES or workers == 1:
        result.update((p, _format_named((p, files[p]))) for p in python)
        return result
    # Several pieces per worker keep the pool busy when piece sizes differ.
    target = max(_MIN_PIECE_BYTES, total // (workers * 4))
    pieces = [(p, piece) for p in python for piece in split_top_level(files[p], target)]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        formatted = list(pool.map(_format_named, pieces))
    joined: dict[str, list[str]] = {}
    for (path, _), text in zip(pieces, formatted):
        joined.setdefault(path, []).append(text)
    result.update((path, "\n\n".join(parts)) for path, parts in joined.items())
    return result
