"""Every spec of the shared corpus generates a package that imports and passes
``mypy --strict``. The four specs that the validator rejects (see
../shared/corpus/SOURCES.md) must fail in strict mode and generate with
``--lenient``; no spec is skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from seawall.cli import main as seawall_main

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO.parent / "shared" / "corpus" / "specs"
# The validator's verdict on these is FAIL in SOURCES.md: real upstream bugs.
INVALID = {
    "swagger-petstore-3.1.yaml",
    "oag-petstore-with-fake-endpoints-models-for-testing.yaml",
    "opc-baseline_openapi_3.0.json",
    "opc-baseline_openapi_3.1.yaml",
}

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not CORPUS.is_dir(), reason=f"corpus folder {CORPUS} is absent"),
]


def _specs() -> list[Path]:
    return sorted(CORPUS.iterdir()) if CORPUS.is_dir() else []


def _package_name(spec: Path) -> str:
    return "corpus_" + re.sub(r"\W", "_", spec.name.rsplit(".", 1)[0])


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generate every corpus spec once; map spec file name → project directory."""
    root = tmp_path_factory.mktemp("corpus")
    projects: dict[str, Path] = {}
    for spec in _specs():
        out = root / spec.stem
        args = ["generate", str(spec), "--out", str(out), "--package-name", _package_name(spec)]
        # Some corpus versions ("v1", "2025.0") are not PEP 440: give one explicitly.
        args += ["--package-version", "1.0.0"]
        if spec.name in INVALID:
            args.append("--lenient")
        status = seawall_main(args)
        assert status == 0, f"{spec.name}: seawall generate exited {status}"
        projects[spec.name] = out
    return projects


def test_corpus_is_complete() -> None:
    assert len(_specs()) == 17
    assert INVALID <= {p.name for p in _specs()}


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_specs_fail_strictly_with_located_errors(
    name: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = seawall_main(["generate", str(CORPUS / name), "--out", str(tmp_path / "out")])
    assert status == 2
    err = capsys.readouterr().err
    assert f"{name}:" in err and "error:" in err and "(#/" in err
    assert not (tmp_path / "out").exists(), "a failed run must write nothing"


def test_every_generated_package_imports(generated: dict[str, Path]) -> None:
    names = [_package_name(CORPUS / spec) for spec in sorted(generated)]
    code = "import importlib, sys\nfor n in sys.argv[1:]:\n    importlib.import_module(n + '.client')\n    importlib.import_module(n + '.async_client')\n"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([*map(str, generated.values()), str(REPO / "runtime")])}
    completed = subprocess.run(
        [sys.executable, "-c", code, *names], capture_output=True, text=True, env=env, timeout=600
    )
    assert completed.returncode == 0, completed.stderr[-5000:]


def test_every_generated_package_passes_mypy_strict(generated: dict[str, Path]) -> None:
    mypy_path = os.pathsep.join([*map(str, generated.values()), str(REPO / "runtime")])
    packages: list[str] = []
    for spec in sorted(generated):
        packages += ["-p", _package_name(CORPUS / spec)]
    completed = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary",
         "--cache-dir", str(next(iter(generated.values())).parent / ".mypy_cache"), *packages],
        capture_output=True, text=True, env={**os.environ, "MYPYPATH": mypy_path}, timeout=900,
    )
    assert completed.returncode == 0, completed.stdout[-8000:] + completed.stderr[-2000:]


def test_large_outputs_are_black_stable(generated: dict[str, Path]) -> None:
    """The format stage runs black only on long statements; the written files
    must still be what black gives for each whole file."""
    from seawall.format import format_source

    for name in ("real-netlify.yml", "real-box-v2025.0.json"):
        for path in sorted(generated[name].rglob("*.py")):
            text = path.read_text()
            assert format_source(text) == text, f"{name}: {path.name} is not black-stable"
