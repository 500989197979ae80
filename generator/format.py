"""Format stage: run black over the generated Python sources, in process.

Black's mode is pinned here rather than read from any pyproject.toml, so the
output depends only on the input and the black version.

Black is the slowest stage by far (about 100 KB of source a second on one
core), so each file is cut into pieces at top-level ``def``/``class``
statements, where black's output is known to be the pieces' output joined by
two blank lines. Pieces black has formatted before come from a cache (keyed by
black's version and the piece's text, in ``$SEAWALL_CACHE_DIR``, else
``$XDG_CACHE_HOME/seawall`` or ``~/.cache/seawall``; ``SEAWALL_CACHE_DIR=off``
turns it off), so regenerating after a small spec change reformats only what
changed; the rest go to a pool of worker processes when there are many.
"""

from __future__ import annotations

import ast
import hashlib
import os
import tempfile
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

# Below this much Python source, starting worker processes costs more than it saves.
_PARALLEL_THRESHOLD_BYTES = 300_000
# Pieces this small are not worth cutting further (nor caching separately).
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


class _Cache:
    """Formatted pieces on disk, one file each, named by a hash of the input."""

    def __init__(self) -> None:
        self.folder: Path | None = None
        setting = os.environ.get("SEAWALL_CACHE_DIR")
        if setting == "off":
            return
        if setting:
            root = Path(setting)
        else:
            xdg = os.environ.get("XDG_CACHE_HOME")
            root = (Path(xdg) if xdg else Path.home() / ".cache") / "seawall"
        from importlib.metadata import version

        self.folder = root / f"black-{version('black')}-py310-88"

    def _path(self, source: str) -> Path | None:
        if self.folder is None:
            return None
        return self.folder / hashlib.sha256(source.encode()).hexdigest()

    def get(self, source: str) -> str | None:
        path = self._path(source)
        try:
            return path.read_text(encoding="utf-8") if path else None
        except OSError:
            return None

    def put(self, source: str, formatted: str) -> None:
        path = self._path(source)
        if path is None:
            return
        try:  # a cache that cannot be written is no cache, not an error
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                "w", encoding="utf-8", dir=path.parent, delete=False
            ) as handle:
                handle.write(formatted)
            os.replace(handle.name, path)
        except OSError:
            pass


def format_files(files: Mapping[str, str]) -> dict[str, str]:
    """Format every ``*.py`` file of a generated project; other files pass through."""
    python = sorted(path for path in files if path.endswith(".py"))
    pieces = [
        (path, piece)
        for path in python
        for piece in split_top_level(files[path], _MIN_PIECE_BYTES)
    ]
    cache = _Cache()
    cached = [cache.get(piece) for _, piece in pieces]
    missing = [i for i, text in enumerate(cached) if text is None]
    todo = [pieces[i] for i in missing]
    workers = min(os.cpu_count() or 1, 8)
    if sum(len(piece) for _, piece in todo) >= _PARALLEL_THRESHOLD_BYTES and workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            done = list(pool.map(_format_named, todo, chunksize=2))
    else:
        done = [_format_named(item) for item in todo]
    fresh = dict(zip(missing, done))
    for i, text in fresh.items():
        cache.put(pieces[i][1], text)
    joined: dict[str, list[str]] = {}
    for i, (path, _) in enumerate(pieces):
        joined.setdefault(path, []).append(fresh.get(i) or cached[i] or "")
    result = dict(files)
    result.update((path, "\n\n".join(parts)) for path, parts in joined.items())
    return result
