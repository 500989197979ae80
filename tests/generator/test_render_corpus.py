"""Every spec of the shared corpus builds and renders to valid, black-formatted Python.

The corpus is real public documents (see ../shared/corpus/SOURCES.md); two
of them carry a Maven ``-SNAPSHOT`` version, which has no PEP 440 form, so
they need an explicit package version like the CLI's ``--package-version``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from seawall import build, load, render, resolve, upgrade
from seawall.diagnostics import SpecError
from seawall.format import format_generated, format_source
from seawall_runtime.codegen import Deferred

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
            # The format stage runs black only on long statements: its output must
            # still be black's over the whole file.
            assert format_generated(path, text) == format_source(text), path


def test_snapshot_version_needs_an_explicit_package_version() -> None:
    with pytest.raises(SpecError) as caught:
        build.build_api(load_spec("swagger-petstore-3.0.yaml"), build.BuildOptions())
    (problem,) = caught.value.diagnostics
    assert problem.location.pointer == "/info/version" and problem.location.line is not None


@pytest.mark.parametrize(
    "name",
    ["oag-petstore-with-fake-endpoints-models-for-testing.yaml", "opc-baseline_openapi_3.1.yaml", "real-spotify-web-api.yml"],
)
def test_corpus_package_imports_and_every_type_builds(name: str, tmp_path: Path) -> None:
    """Import the package and build every model and endpoint type (pydantic defers
    that to first use, so a bad annotation would only show up here)."""
    import importlib
    import sys

    import pydantic

    api, _ = build.build_api(load_spec(name), build.BuildOptions())
    for relative, text in render.render_package(api).items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    sys.path.insert(0, str(tmp_path))
    try:
        endpoints = importlib.import_module(api.package.import_name + "._endpoints")
        models = importlib.import_module(api.package.import_name + ".models")
    finally:
        sys.path.remove(str(tmp_path))
    replies = [r.annotation for e in vars(endpoints).values() if hasattr(e, "replies") for r in e.replies.values() if r.kind == "json"]
    # A large spec's endpoints defer their models, and its models/ is a package loaded name by name.
    annotations = [a.resolve() if isinstance(a, Deferred) else a for a in replies]
    found = [getattr(models, name) for name in dir(models)]
    annotations += [v for v in found if isinstance(v, type) and issubclass(v, pydantic.BaseModel) and v.__module__.startswith(models.__name__)]
    assert len(annotations) > 20
    for annotation in annotations:
        pydantic.TypeAdapter(annotation).json_schema()
