"""The runtime under test is the build asked for: the source in runtime/, or
the mypyc-compiled build that SEAWALL_RUNTIME_BUILD names (./dev test runs
this suite on both). Without this, a compiled run that silently imported the
source would pass for the compiled build."""

from __future__ import annotations

import ast
import importlib
import importlib.machinery
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def compiled_modules() -> list[str]:
    """The modules runtime/setup.py compiles (read, not run: it calls setup())."""
    tree = ast.parse((ROOT / "runtime" / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and ast.unparse(node.targets[0]) == "COMPILED_MODULES":
            names = ast.literal_eval(node.value)
            assert names and all(isinstance(name, str) for name in names)
            return list(names)
    raise AssertionError("runtime/setup.py has no COMPILED_MODULES")


@pytest.mark.parametrize("name", compiled_modules())
def test_each_compiled_module_comes_from_the_build_under_test(name: str) -> None:
    module = importlib.import_module(f"seawall_runtime.{name}")
    where = Path(str(module.__file__)).resolve()
    build = os.environ.get("SEAWALL_RUNTIME_BUILD")
    if build:
        assert where.is_relative_to(Path(build).resolve())
        assert where.name.endswith(tuple(importlib.machinery.EXTENSION_SUFFIXES)), where
    else:
        assert where == ROOT / "runtime" / "seawall_runtime" / f"{name}.py"
