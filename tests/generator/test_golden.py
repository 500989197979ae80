"""Golden files: the exact render output for small specs, and mypy --strict on it.

Each folder in ``tests/generator/golden/`` holds ``spec.yaml`` and, under
``expected/``, every file the render stage produces for it (before the format
stage: this tests our output, not black's; the templates write black's style,
so only lines over 88 columns differ from the final files). After an intended change to the
generated code, regenerate them and review the diff:

    SEAWALL_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/generator/test_golden.py

The mypy test type-checks the expected packages with ``--strict`` against
the runtime in ``runtime/``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from seawall import build, load, render, resolve, upgrade
from seawall.format import format_generated, format_source

GOLDEN = Path(__file__).parent / "golden"
CASES = sorted(path.name for path in GOLDEN.iterdir() if (path / "spec.yaml").is_file())
REPO = Path(__file__).parents[2]


def generate(case: str) -> dict[str, str]:
    spec = upgrade.upgrade(resolve.resolve(load.load_document(GOLDEN / case / "spec.yaml")))
    api, warnings = build.build_api(spec, build.BuildOptions())
    assert warnings == []
    return render.render_package(api)


def read_tree(root: Path) -> dict[str, str]:
    return {path.relative_to(root).as_posix(): path.read_text() for path in sorted(root.rglob("*")) if path.is_file() and "__pycache__" not in path.parts}


@pytest.mark.parametrize("case", CASES)
def test_render_output_matches_golden_files(case: str) -> None:
    files = generate(case)
    expected_root = GOLDEN / case / "expected"
    if os.environ.get("SEAWALL_UPDATE_GOLDEN") == "1":
        shutil.rmtree(expected_root, ignore_errors=True)
        for relative, text in files.items():
            target = expected_root / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
    assert read_tree(expected_root) == files


@pytest.mark.parametrize("case", CASES)
def test_render_output_is_black_where_lines_fit(case: str) -> None:
    """The templates write black's style; the format stage fixes only long lines."""
    for path, text in generate(case).items():
        if path.endswith(".py"):
            assert format_generated(path, text) == format_source(text), path


def test_generated_packages_pass_mypy_strict(tmp_path: Path) -> None:
    roots = [GOLDEN / case / "expected" for case in CASES]
    packages = [next(p.name for p in root.iterdir() if p.is_dir() and p.name != "__pycache__") for root in roots]
    environment = dict(os.environ, MYPYPATH=os.pathsep.join([str(REPO / "runtime"), *map(str, roots)]))
    command = [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "--cache-dir", str(tmp_path), "--config-file", os.devnull]
    for package in packages:
        command += ["-p", package]
    result = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=tmp_path, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
