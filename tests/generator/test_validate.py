"""The validate stage, and the front stages over the whole shared corpus."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from seawall.diagnostics import SpecError
from seawall.load import load_document
from seawall.resolve import resolve
from seawall.upgrade import upgrade
from seawall.validate import validate

FIXTURES = Path(__file__).parent / "fixtures" / "front"
CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus" / "specs"
# The corpus files that break the OpenAPI specification (see SOURCES.md), and a piece of each message.
CORPUS_INVALID = {
    "swagger-petstore-3.1.yaml": "an unquoted '#' starts a YAML comment",
    "oag-petstore-with-fake-endpoints-models-for-testing.yaml": "80 is not of type 'string'",
    "opc-baseline_openapi_3.0.json": "'const' does not match any of the regexes",
    "opc-baseline_openapi_3.1.yaml": "('title' was unexpected)",
}


def test_all_problems_listed_at_once_with_places() -> None:
    spec = resolve(load_document(FIXTURES / "invalid.yaml"))
    with pytest.raises(SpecError) as caught:
        validate(spec, lenient=False)
    problems = caught.value.diagnostics
    assert len(problems) == 3
    by_pointer = {p.location.pointer: p for p in problems}
    assert by_pointer["/info"].message == "'version' is a required property"
    assert by_pointer["/info"].location.line == 2
    bad_in = by_pointer["/paths/~1b/get/parameters/0/in"]
    assert "'nowhere' is not one of" in bad_in.message
    assert (bad_in.location.line, bad_in.location.column) == (15, 11)
    duplicate = by_pointer["/paths/~1b/get/operationId"]
    assert duplicate.message.startswith("operationId 'same' of GET /b is already used by the operation at ")
    assert "invalid.yaml:7:7 (#/paths/~1a/get/operationId)" in duplicate.message
    assert duplicate.location.line == 12
    assert all(p.severity == "error" for p in problems)


def test_lenient_returns_the_same_problems_as_warnings() -> None:
    spec = resolve(load_document(FIXTURES / "invalid.yaml"))
    warnings = validate(spec, lenient=True)
    assert len(warnings) == 3
    assert {w.severity for w in warnings} == {"warning"}


def test_unquoted_ref_error_strict_warning_lenient() -> None:
    spec = resolve(load_document(FIXTURES / "unquoted-ref.yaml"))
    with pytest.raises(SpecError) as caught:
        validate(spec, lenient=False)
    [problem] = caught.value.diagnostics
    assert problem.message.startswith("$ref must be a string, found nothing (null)")
    assert problem.location.line == 10
    [warning] = validate(spec, lenient=True)
    assert warning.severity == "warning" and warning.message == problem.message


def test_valid_multi_file_spec_has_no_problems() -> None:
    spec = resolve(load_document(FIXTURES / "multi" / "openapi.yaml"))
    assert validate(spec, lenient=False) == []


def test_keyword_check_placed_at_its_component(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(
        "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "components:\n  schemas:\n    Count: {type: integer, default: many}\n",
        encoding="utf-8",
    )
    [warning] = validate(resolve(load_document(path)), lenient=True)
    assert warning.message == "'many' is not of type 'integer'"
    assert (warning.location.pointer, warning.location.line) == ("/components/schemas/Count", 6)


def corpus_files() -> list[Path]:
    return sorted(CORPUS.iterdir()) if CORPUS.is_dir() else []


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not present at {CORPUS}")
@pytest.mark.parametrize("path", corpus_files(), ids=lambda p: p.name)
def test_corpus_front_stages(path: Path) -> None:
    spec = resolve(load_document(path))
    started = time.perf_counter()
    if path.name in CORPUS_INVALID:
        with pytest.raises(SpecError) as caught:
            validate(spec, lenient=False)
        assert any(CORPUS_INVALID[path.name] in d.message for d in caught.value.diagnostics)
        assert all(d.location.line is not None for d in caught.value.diagnostics)
        warnings = validate(spec, lenient=True)
        assert [w.message for w in warnings] == [d.message for d in caught.value.diagnostics]
    else:
        assert validate(spec, lenient=False) == []
    print(f"{path.name}: validate {(time.perf_counter() - started) * 1000:.0f} ms")
    upgraded = upgrade(spec)
    assert "openapi" in upgraded.document and upgraded.version in ("3.0", "3.1")
    if spec.version == "2.0":
        # the upgraded document is itself a valid OpenAPI 3.0 document
        assert validate(upgraded, lenient=False) == []
