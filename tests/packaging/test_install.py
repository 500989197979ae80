"""Installing seawall and its runtime into fresh virtual environments.

These build real venvs with pip (dependencies come from the configured package
index or pip's cache), so they are marked slow; together they take about a
minute.
"""

from __future__ import annotations

import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.slow


def _make_venv(path: Path) -> Path:
    venv.EnvBuilder(with_pip=True, clear=True).create(path)
    return path / "bin" / "python"


def _run(*command: str | Path, cwd: Path | None = None) -> str:
    completed = subprocess.run(
        [str(c) for c in command], cwd=cwd, capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


def _site_packages(python: Path) -> Path:
    return Path(
        _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])").strip()
    )


def test_pip_install_dot_gives_namespaced_packages_and_templates(tmp_path: Path) -> None:
    python = _make_venv(tmp_path / "venv")
    _run(python, "-m", "pip", "install", "--quiet", str(REPO))
    site = _site_packages(python)
    top_level = {p.name for p in site.iterdir()}
    assert {"seawall", "seawall_runtime"} <= top_level
    assert not {"generator", "runtime", "templates"} & top_level
    assert list((site / "seawall" / "templates").rglob("*.jinja")), "templates missing from wheel"
    assert "seawall 0.1.0" in _run(tmp_path / "venv" / "bin" / "seawall", "--version")


def test_pip_install_editable_imports_from_the_checkout(tmp_path: Path) -> None:
    python = _make_venv(tmp_path / "venv")
    _run(python, "-m", "pip", "install", "--quiet", "-e", str(REPO))
    where = _run(python, "-c", "import seawall.cli; print(seawall.cli.__file__)").strip()
    assert Path(where) == REPO / "generator" / "cli.py"
    templates = _run(
        python, "-c", "import importlib.resources as r; print(r.files('seawall.templates'))"
    ).strip()
    assert Path(templates) == REPO / "templates"


def test_runtime_installs_without_generator_dependencies(tmp_path: Path) -> None:
    python = _make_venv(tmp_path / "venv")
    _run(python, "-m", "pip", "install", "--quiet", str(REPO / "runtime"))
    installed = _run(python, "-m", "pip", "list", "--format=freeze").lower()
    for heavy in ("jinja2", "black", "openapi-spec-validator", "pyyaml"):
        assert f"{heavy}==" not in installed, f"{heavy} came with the runtime"
    _run(python, "-c", "import seawall_runtime, httpx, pydantic")


def test_python_version_floor_is_declared() -> None:
    pyproject = (REPO / "pyproject.toml").read_text()
    runtime = (REPO / "runtime" / "pyproject.toml").read_text()
    assert 'requires-python = ">=3.10"' in pyproject
    assert 'requires-python = ">=3.10"' in runtime
    assert sys.version_info >= (3, 10)
