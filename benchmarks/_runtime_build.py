"""Which build of the seawall runtime a benchmark measures.

Two builds exist: the source in ``runtime/`` (pure Python), and the one
compiled by mypyc that ``./dev compile`` installs in ``.build/runtime-compiled``
(the same build ``SEAWALL_RUNTIME_COMPILE=1 pip install ./runtime`` makes).
Both are packaged as ``seawall_runtime``, so one process can import only one:
a script measures the build that ``SEAWALL_RUNTIME_BUILD`` names, and a
top-level run starts one child process per build present.
"""

from __future__ import annotations

import importlib.machinery
import os
import sys
from pathlib import Path

import _peers

VARIABLE = "SEAWALL_RUNTIME_BUILD"
SOURCE = _peers.REPO / "runtime"
COMPILED = _peers.REPO / ".build" / "runtime-compiled"
_EXTENSIONS = tuple(importlib.machinery.EXTENSION_SUFFIXES)


def select() -> None:
    """Put the build named by SEAWALL_RUNTIME_BUILD (else the source) first on
    sys.path; call before importing seawall_runtime."""
    sys.path.insert(0, str(SOURCE))
    build = os.environ.get(VARIABLE)
    if build:
        sys.path.insert(0, build)


def chosen() -> bool:
    """Whether this process was told which build to measure (a child run)."""
    return VARIABLE in os.environ


def imported() -> str:
    """What the imported runtime is, judged by its controller module's file."""
    import seawall_runtime.controller

    where = str(seawall_runtime.controller.__file__)
    if where.endswith(_EXTENSIONS):
        return f"compiled by mypyc ({Path(where).parent.parent})"
    return f"source, pure Python ({Path(where).parent.parent})"


def present() -> list[tuple[str, Path]]:
    """(name, directory) of each build there is: the source, and the compiled
    build once ``./dev compile`` has made it."""
    builds = [("source", SOURCE)]
    package = COMPILED / "seawall_runtime"
    if any((package / f"controller{suffix}").exists() for suffix in _EXTENSIONS):
        builds.append(("compiled", COMPILED))
    return builds


def environment(build: Path) -> dict[str, str]:
    """This process's environment, with ``build`` chosen."""
    return {**os.environ, VARIABLE: str(build)}
