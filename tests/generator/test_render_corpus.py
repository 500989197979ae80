"""Every spec of the shared corpus builds and renders to valid Python.

The corpus is real public documents (see ../shared/corpus/SOURCES.md); two
of them carry a Maven ``-SNAPSHOT`` version, which has no PEP 440 form, so
they need an explicit package version like the CLI's ``--package-version``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from seawall import build, load, render, resolve, upgrade
from seawall.diagnostics import SpecError

CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus" / "specs"
SPECS = sorted(p.name for p in CORPUS.iterdir()) if CORPUS.is_dir() else []

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(not SPECS, reason=f"corpus folder {CORPUS} is absent"),
]


def load_spec(name: str) -> resolve.Spec:
    return upgrade.upgrade(resolve.resolve(load.load_document(CORPUS / name)))


@pytest.mark.parametrize("name", SPECS)
def test_corpus_spec_renders_valid_python(name: str) -> None:
    version = "1.0.0" if "SNAPSHOT" in (CORPUS / name).read_text() else None
    api, warnings = build.build_api(load_spec(name), build.BuildOptions(package_version=version))
    assert all(w.severity == "warning" for w in warnings)
    assert api.operations, "every corpus spec has operations"
    files = render.render_package(api)
    for path, text in files.items():
        if path.endswith(".py"):
            compile(text, path, "exec")


def test_snapshot_version_needs_an_explicit_package_version() -> None:
    with pytest.raises(SpecError) as caught:
        build.build_api(load_spec("swagger-petstore-3.0.yaml"), build.BuildOptions())
    (problem,) = caught.value.diagnostics
    assert problem.location.pointer == "/info/version" and problem.location.line is not None
