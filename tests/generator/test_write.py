"""The write stage: atomic replacement, refusal to clobber, and --check diffs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from seawall.diagnostics import SpecError
from seawall.write import MANIFEST, diff_project, write_project

FILES = {"pyproject.toml": "[project]\n", "pkg/__init__.py": "X = 1\n"}


def test_writes_files_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "client"
    write_project(FILES, out)
    assert (out / "pkg" / "__init__.py").read_text() == "X = 1\n"
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["files"] == sorted(FILES)


def test_replaces_previous_output_and_drops_stale_files(tmp_path: Path) -> None:
    out = tmp_path / "client"
    write_project({**FILES, "pkg/old.py": "OLD = 1\n"}, out)
    write_project(FILES, out)
    assert not (out / "pkg" / "old.py").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["client"]


def test_refuses_to_replace_a_directory_it_did_not_write(tmp_path: Path) -> None:
    out = tmp_path / "precious"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    with pytest.raises(SpecError) as error:
        write_project(FILES, out)
    assert "seawall did not generate" in str(error.value)
    assert (out / "notes.txt").read_text() == "keep me"


def test_failed_write_leaves_previous_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "client"
    write_project(FILES, out)
    with pytest.raises(ValueError, match="outside the output directory"):
        write_project({**FILES, "../escape.py": "X = 2\n"}, out)
    assert (out / "pkg" / "__init__.py").read_text() == "X = 1\n"
    assert not (tmp_path / "escape.py").exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["client"]


def test_diff_is_empty_when_up_to_date_and_ignores_build_output(tmp_path: Path) -> None:
    out = tmp_path / "client"
    write_project(FILES, out)
    (out / "pkg" / "__pycache__").mkdir()
    (out / "pkg" / "__pycache__" / "x.pyc").write_bytes(b"\0")
    (out / "pkg.egg-info").mkdir()
    (out / "pkg.egg-info" / "PKG-INFO").write_text("x")
    assert diff_project(FILES, out) == ""


def test_diff_shows_changed_added_and_removed_files(tmp_path: Path) -> None:
    out = tmp_path / "client"
    write_project({**FILES, "pkg/gone.py": "G = 1\n"}, out)
    diff = diff_project({**FILES, "pkg/__init__.py": "X = 2\n", "pkg/new.py": "N = 1\n"}, out)
    assert "-X = 1\n+X = 2\n" in diff
    assert "--- /dev/null\n+++ b/pkg/new.py" in diff
    assert "--- a/pkg/gone.py\n+++ /dev/null" in diff


def test_diff_against_missing_directory_lists_everything(tmp_path: Path) -> None:
    diff = diff_project(FILES, tmp_path / "nowhere")
    assert "+++ b/pyproject.toml" in diff and "+++ b/pkg/__init__.py" in diff
