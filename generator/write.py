"""Write stage: put a generated project on disk atomically, or diff against it.

The project is written into a temporary sibling directory and then swapped in
with two renames, so an interrupted run leaves either the old package or the new
one, never a mix. A directory is only ever replaced if seawall wrote it (it
holds our manifest), so a mistyped ``--out`` cannot delete someone's work.
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from seawall.diagnostics import Diagnostic, Location, SpecError

MANIFEST = ".seawall-manifest.json"
# Build and tool output that may appear in a generated project and is not ours.
_IGNORED_PARTS = {"__pycache__", "build", "dist", ".mypy_cache", ".pytest_cache"}


def _manifest_text(files: Mapping[str, str]) -> str:
    return json.dumps({"generator": "seawall", "files": sorted(files)}, indent=2) + "\n"


def _check_relative(path: str) -> PurePosixPath:
    relative = PurePosixPath(path)
    if relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise ValueError(f"refusing to write outside the output directory: {path!r}")
    return relative


def _ensure_replaceable(out: Path) -> None:
    """Refuse to replace anything that seawall did not generate."""
    if not out.exists():
        return
    location = Location(file=str(out))
    if not out.is_dir():
        raise SpecError([Diagnostic("--out exists and is not a directory", location)])
    if any(out.iterdir()) and not (out / MANIFEST).is_file():
        raise SpecError(
            [
                Diagnostic(
                    f"--out is a non-empty directory that seawall did not generate "
                    f"(no {MANIFEST}); choose an empty or new directory",
                    location,
                )
            ]
        )


def write_project(files: Mapping[str, str], out: Path) -> None:
    """Replace ``out`` with exactly ``files`` (relative POSIX path → text)."""
    out = out.resolve()
    _ensure_replaceable(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.new-", dir=out.parent))
    try:
        for path, text in {**files, MANIFEST: _manifest_text(files)}.items():
            target = staging.joinpath(*_check_relative(path).parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            with open(target, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
        if out.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.rename(out, retired / out.name)
            os.rename(staging, out)
            shutil.rmtree(retired)
        else:
            os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def _read_existing(out: Path) -> dict[str, str]:
    existing: dict[str, str] = {}
    if not out.is_dir():
        return existing
    for path in sorted(out.rglob("*")):
        parts = path.relative_to(out).parts
        ignored = any(p in _IGNORED_PARTS or p.endswith(".egg-info") for p in parts)
        if path.is_file() and not ignored:
            relative = path.relative_to(out).as_posix()
            if relative != MANIFEST:
                existing[relative] = path.read_text(encoding="utf-8", errors="replace")
    return existing


def diff_project(files: Mapping[str, str], out: Path) -> str:
    """A unified diff from what is in ``out`` to ``files``; empty when identical."""
    existing = _read_existing(out)
    chunks: list[str] = []
    for path in sorted(set(existing) | set(files)):
        old, new = existing.get(path), files.get(path)
        if old == new:
            continue
        chunks.extend(
            difflib.unified_diff(
                (old or "").splitlines(keepends=True),
                (new or "").splitlines(keepends=True),
                fromfile=f"a/{path}" if old is not None else "/dev/null",
                tofile=f"b/{path}" if new is not None else "/dev/null",
            )
        )
        if chunks and not chunks[-1].endswith("\n"):
            chunks[-1] += "\n"
    return "".join(chunks)
