"""The keyword checks (seawall.validate_keywords), and that the fast filter changes nothing.

Every check is tested twice: with jsonschema-rs as the filter, and with the
pure-Python engines alone (as when jsonschema-rs is not installed).
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seawall import validate_engines
from seawall.diagnostics import Diagnostic
from seawall.load import load_document
from seawall.resolve import resolve
from seawall.validate import validate
from seawall.validate_keywords import _plainly_valid

CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus" / "specs"


@pytest.fixture(params=["fast", "python-only"])
def engines(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    if request.param == "fast":
        pytest.importorskip("jsonschema_rs", reason="jsonschema-rs is the optional fast filter")
    else:
        monkeypatch.setattr(validate_engines, "fast_document_check", lambda version: None)
        monkeypatch.setattr(validate_engines, "fast_meta_check", lambda version: None)
    yield request.param


def problems_of(tmp_path: Path, text: str, suffix: str = ".yaml") -> list[Diagnostic]:
    path = tmp_path / f"spec{suffix}"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return validate(resolve(load_document(path)), lenient=True)


def component_problems(tmp_path: Path, version: str, schemas: str) -> list[Diagnostic]:
    """Problems of a document whose only content is ``schemas`` (YAML lines, from line 6)."""
    header = f"openapi: {version}\ninfo: {{title: t, version: '1'}}\npaths: {{}}\ncomponents:\n  schemas:\n"
    return problems_of(tmp_path, header + textwrap.indent(textwrap.dedent(schemas), "    "))


def placed(problems: list[Diagnostic]) -> list[tuple[str, str, int | None]]:
    return [(p.message, p.location.pointer, p.location.line) for p in problems]


def test_valid_document_has_no_problems(engines: str, tmp_path: Path) -> None:
    assert problems_of(
        tmp_path,
        """\
        openapi: 3.0.3
        info: {title: t, version: '1'}
        paths:
          /items/{id}:
            parameters: [{name: id, in: path, required: true, schema: {type: string}}]
            get:
              responses:
                '200':
                  description: ok
                  content: {application/json: {schema: {$ref: '#/components/schemas/Item'}}}
        components:
          schemas:
            Item:
              allOf: [{$ref: '#/components/schemas/Base'}]
              required: [id]
              properties: {size: {type: integer, default: 3}}
            Base: {type: object, properties: {id: {type: string, pattern: '^[a-z]+$'}}}
        """,
    ) == []


def test_schema_object_errors_are_placed_at_the_schema(engines: str, tmp_path: Path) -> None:
    problems = component_problems(
        tmp_path,
        "3.0.3",
        """\
        Named: {type: string, pattern: '(?<name>a)'}
        Mixed:
          allOf: [{type: object, properties: {a: {type: string}}}]
          required: [a, b]
        """,
    )
    assert placed(problems) == [
        ("'(?<name>a)' is not a 'regex'", "/components/schemas/Named", 6),
        ("Required list has not defined properties: ['b']", "/components/schemas/Mixed", 7),
    ]


def test_31_schemas_are_checked_against_the_dialect(engines: str, tmp_path: Path) -> None:
    problems = component_problems(
        tmp_path,
        "3.1.0",
        """\
        Odd: {type: strin}
        Fine: {type: [string, 'null'], default: null}
        """,
    )
    [problem] = problems
    assert problem.location.pointer == "/components/schemas/Odd" and problem.location.line == 6
    assert "'strin'" in problem.message


def test_parameters_defaults_and_path_templates(engines: str, tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        """\
        openapi: 3.0.3
        info: {title: t, version: '1'}
        tags: [{name: a}, {name: a, description: again}]
        paths:
          /items/{id}:
            get:
              parameters:
                - {name: q, in: query, schema: {type: integer, default: many}}
                - {name: q, in: query, schema: {type: integer}}
                - {name: other, in: path, required: true, schema: {type: string}}
              responses: {'200': {description: ok}}
        """,
    )
    assert placed(problems) == [
        ("Duplicate tag name 'a'", "/tags/1/name", 3),
        ("'many' is not of type 'integer'", "/paths/~1items~1{id}/get/parameters/0/schema", 8),
        ("Duplicate parameter 'q'", "/paths/~1items~1{id}/get/parameters/1", 9),
        ("Path parameter 'id' for 'get' operation in '/items/{id}' was not resolved", "/paths/~1items~1{id}/get", 6),
        ("Path parameter 'other' for 'get' operation in '/items/{id}' was not resolved", "/paths/~1items~1{id}/get", 6),
    ]


def test_a_null_default_is_allowed_on_a_nullable_schema_only(engines: str, tmp_path: Path) -> None:
    problems = component_problems(
        tmp_path,
        "3.0.3",
        """\
        Maybe: {type: string, nullable: true, default: null}
        Never: {type: string, default: null}
        """,
    )
    # openapi-schema-validator's own wording, twice (nullable and type)
    assert placed(problems) == [
        ("None for not nullable", "/components/schemas/Never", 7),
        ("None is not of type 'string'", "/components/schemas/Never", 7),
    ]


def test_swagger_parameter_default_checked_against_the_parameter(engines: str, tmp_path: Path) -> None:
    problems = problems_of(
        tmp_path,
        """\
        {"swagger": "2.0", "info": {"title": "t", "version": "1"},
         "paths": {"/a": {"get": {
           "parameters": [{"name": "n", "in": "query", "type": "integer", "default": "x"}],
           "responses": {"200": {"description": "ok"}}}}}}
        """,
        suffix=".json",
    )
    assert placed(problems) == [("'x' is not of type 'integer'", "/paths/~1a/get/parameters/0", 3)]


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"shared corpus not present at {CORPUS}")
def test_fast_filter_and_python_engines_agree_on_the_corpus(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("jsonschema_rs", reason="jsonschema-rs is the optional fast filter")
    specs = {path.name: resolve(load_document(path)) for path in sorted(CORPUS.iterdir())}
    fast = {name: validate(spec, lenient=True) for name, spec in specs.items()}
    monkeypatch.setattr(validate_engines, "fast_document_check", lambda version: None)
    monkeypatch.setattr(validate_engines, "fast_meta_check", lambda version: None)
    slow = {name: validate(spec, lenient=True) for name, spec in specs.items()}
    assert fast == slow
    assert sum(len(problems) for problems in fast.values()) > 0


plain_values = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.floats(-3, 3), st.sampled_from(["", "a", "b"]))
plain_schemas = st.fixed_dictionaries(
    {"type": st.sampled_from(["string", "integer", "number", "boolean", "array", ["string", "null"]])},
    optional={
        "enum": st.lists(plain_values, max_size=3),
        "minimum": st.one_of(st.integers(-3, 3), st.floats(-3, 3), st.booleans()),
        "maximum": st.one_of(st.integers(-3, 3), st.floats(-3, 3)),
        "description": st.just("words"),
    },
)


@settings(max_examples=1000, deadline=None)
@given(st.sampled_from(["3.0", "3.1"]), plain_schemas, plain_values)
def test_a_default_passed_without_the_validator_is_one_the_validator_passes(
    version: str, schema: dict[str, object], value: object
) -> None:
    """The shortcut for plain defaults may only ever answer "valid" when it is."""
    if _plainly_valid(schema, value):
        validator = validate_engines.value_validator(version, {"openapi": version})  # type: ignore[arg-type]
        assert list(validator.evolve(schema=schema).iter_errors(value)) == []


@pytest.mark.parametrize("keyword", [{"format": "int32"}, {"nullable": True}, {"$ref": "#/x"}, {"allOf": []}])
def test_a_default_under_other_keywords_gets_the_full_check(keyword: dict[str, object]) -> None:
    assert _plainly_valid({"type": "integer"}, 1)
    assert not _plainly_valid({"type": "integer", **keyword}, 1)
