"""The ``seawall generate`` command: exit statuses, messages, --check, determinism.

Each bad input gets a message naming the file and where in it, and exit status
2, never a traceback; nothing is written when a run fails.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from seawall.cli import main

REPO = Path(__file__).resolve().parents[2]
ORDERS = REPO / "specs" / "orders.yaml"

MINIMAL = """openapi: 3.0.3
info: {title: Tiny, version: 1.0.0}
paths:
  /things/{id}:
    get:
      operationId: getThing
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        '200':
          description: A thing.
          content:
            application/json:
              schema: {$ref: '#/components/schemas/Thing'}
components:
  schemas:
    Thing:
      type: object
      properties:
        name: {type: string}
"""


def _write(tmp_path: Path, text: str, name: str = "spec.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def _generate(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(["generate", *args])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_generates_a_project(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, _, err = _generate(capsys, str(_write(tmp_path, MINIMAL)), "--out", str(tmp_path / "o"))
    assert status == 0, err
    assert (tmp_path / "o" / "pyproject.toml").is_file()
    assert (tmp_path / "o" / "tiny" / "client.py").is_file()


def test_output_is_byte_identical_across_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    for out in ("a", "b"):
        assert _generate(capsys, str(ORDERS), "--out", str(tmp_path / out))[0] == 0
    first = {p.relative_to(tmp_path / "a"): p.read_bytes() for p in (tmp_path / "a").rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path / "b"): p.read_bytes() for p in (tmp_path / "b").rglob("*") if p.is_file()}
    assert first == second


def test_check_reports_differences_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _write(tmp_path, MINIMAL)
    out = tmp_path / "o"
    assert _generate(capsys, str(spec), "--out", str(out))[0] == 0
    assert _generate(capsys, str(spec), "--out", str(out), "--check") == (0, "", "")

    spec.write_text(MINIMAL.replace("name: {type: string}", "label: {type: string}"))
    before = {p: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    status, diff, err = _generate(capsys, str(spec), "--out", str(out), "--check")
    assert status == 1
    assert "-    name: str | None = None\n+    label: str | None = None" in diff
    assert diff.startswith("--- a/")
    assert "out of date" in err
    assert {p: p.read_bytes() for p in out.rglob("*") if p.is_file()} == before


def test_check_against_missing_output_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status, diff, _ = _generate(
        capsys, str(_write(tmp_path, MINIMAL)), "--out", str(tmp_path / "none"), "--check"
    )
    assert status == 1 and "+++ b/pyproject.toml" in diff
    assert not (tmp_path / "none").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, "spec.yaml"),  # missing file
        ("openapi: 3.0.3\ninfo: [unclosed\n", "spec.yaml:"),
        (MINIMAL.replace("$ref: '#/components/schemas/Thing'", "$ref: '#/components/schemas/Nope'"),
         "#/components/schemas/Nope"),
        (MINIMAL.replace("version: 1.0.0", "version: 1.0-SNAPSHOT"), "/info/version"),
        (MINIMAL.replace("responses:", "x-retry: {attempts: 0}\n      responses:"), "attempts"),
    ],
    ids=["missing-file", "invalid-yaml", "unresolvable-ref", "version", "bad-policy"],
)
def test_bad_input_exits_2_with_a_located_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str | None, expected: str
) -> None:
    spec = tmp_path / "spec.yaml"
    if text is not None:
        spec.write_text(text)
    status, _, err = _generate(capsys, str(spec), "--out", str(tmp_path / "o"))
    assert status == 2
    assert expected in err and "error:" in err
    assert "Traceback" not in err
    assert not (tmp_path / "o").exists()


def test_every_validation_problem_is_listed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = MINIMAL.replace("in: path", "in: nowhere").replace("description: A thing.", "descr: 1")
    status, _, err = _generate(capsys, str(_write(tmp_path, broken)), "--out", str(tmp_path / "o"))
    assert status == 2
    errors = [line for line in err.splitlines() if ": error: " in line]
    assert len(errors) >= 2, err
    assert all(line.startswith(str(tmp_path / "spec.yaml") + ":") for line in errors)


def test_duplicate_operation_ids_name_both_places(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    twice = MINIMAL.replace(
        "components:",
        "  /other:\n    get:\n      operationId: getThing\n"
        "      responses: {'204': {description: none}}\ncomponents:",
    )
    status, _, err = _generate(capsys, str(_write(tmp_path, twice)), "--out", str(tmp_path / "o"))
    assert status == 2
    assert "getThing" in err and "/paths/~1other/get" in err


def test_package_version_overrides_an_unmappable_version(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = _write(tmp_path, MINIMAL.replace("version: 1.0.0", "version: 1.0-SNAPSHOT"))
    status, _, err = _generate(
        capsys, str(spec), "--out", str(tmp_path / "o"), "--package-version", "1.0.0.dev1",
        "--package-name", "tiny-things",
    )
    assert status == 0, err
    pyproject = (tmp_path / "o" / "pyproject.toml").read_text()
    assert 'version = "1.0.0.dev1"' in pyproject and 'name = "tiny-things"' in pyproject


def test_semver_prerelease_maps_to_pep440(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = _write(tmp_path, MINIMAL.replace("version: 1.0.0", "version: 1.2.0-rc.1"))
    assert _generate(capsys, str(spec), "--out", str(tmp_path / "o"))[0] == 0
    assert 'version = "1.2.0rc1"' in (tmp_path / "o" / "pyproject.toml").read_text()


def test_refuses_to_replace_a_foreign_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "keep.txt").write_text("precious")
    status, _, err = _generate(capsys, str(_write(tmp_path, MINIMAL)), "--out", str(out))
    assert status == 2 and "did not generate" in err
    assert (out / "keep.txt").read_text() == "precious"


def test_no_progress_line_when_stderr_is_not_a_terminal(tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "seawall", "generate", str(ORDERS), "--out", str(tmp_path / "o")],
        capture_output=True, text=True, timeout=300,
    )
    assert completed.returncode == 0, completed.stderr
    assert "\r" not in completed.stderr and "\x1b[" not in completed.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="needs a pseudo-terminal (pty)")
def test_a_large_spec_shows_progress_on_a_terminal(tmp_path: Path) -> None:
    import os
    import pty

    spec = tmp_path / "large.yaml"  # over the progress threshold only by a comment's bulk
    spec.write_text(ORDERS.read_text() + "\n# " + "padding " * 70_000 + "\n")
    controller, terminal = pty.openpty()
    try:
        completed = subprocess.run(
            [sys.executable, "-m", "seawall", "generate", str(spec), "--out", str(tmp_path / "o")],
            stdout=subprocess.PIPE, stderr=terminal, text=True, timeout=300,
        )  # fmt: skip
        os.close(terminal)
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # the terminal side is closed and drained
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(controller)
    assert completed.returncode == 0
    assert b"seawall: load" in shown and b"seawall: format" in shown and b"\r\x1b[K" in shown
