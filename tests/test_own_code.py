"""Seawall's own code passes ``mypy --strict``.

generator/ is imported as ``seawall``, a mapping mypy cannot follow through the
editable install, so the check runs over a folder holding a ``seawall`` symlink.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_generator_and_runtime_pass_mypy_strict(tmp_path: Path) -> None:
    (tmp_path / "seawall").symlink_to(REPO / "generator", target_is_directory=True)
    env = {**os.environ, "MYPYPATH": os.pathsep.join([str(tmp_path), str(REPO / "runtime")])}
    completed = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(tmp_path / "cache"),
         "-p", "seawall", "-p", "seawall_runtime"],
        capture_output=True, text=True, env=env, cwd=tmp_path, timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-6000:]
