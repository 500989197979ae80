"""Format stage: run black over the generated Python sources, in process.

Black's mode is pinned here rather than read from any pyproject.toml, so the
output depends only on the input and the black version.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from concurrent.futures import ProcessPoolExecutor

# Below this much Python source, starting worker processes costs more than it saves.
_PARALLEL_THRESHOLD_BYTES = 2_000_000


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


class GeneratedCodeError(RuntimeError):
    """Black could not parse a generated file: a bug in seawall, not in the spec."""


def _format_named(item: tuple[str, str]) -> str:
    path, source = item
    from black.parsing import InvalidInput

    try:
        return format_source(source)
    except InvalidInput as exc:
        raise GeneratedCodeError(f"generated {path} is not valid Python: {exc}") from None


def format_files(files: Mapping[str, str]) -> dict[str, str]:
    """Format every ``*.py`` file of a generated project; other files pass through."""
    python = sorted(path for path in files if path.endswith(".py"))
    total = sum(len(files[path]) for path in python)
    workers = min(os.cpu_count() or 1, 8)
    if total >= _PARALLEL_THRESHOLD_BYTES and workers > 1 and len(python) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            items = [(p, files[p]) for p in python]
            formatted = list(pool.map(_format_named, items, chunksize=4))
    else:
        formatted = [_format_named((p, files[p])) for p in python]
    result = dict(files)
    result.update(zip(python, formatted))
    return result
