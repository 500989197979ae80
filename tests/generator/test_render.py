"""The render stage: layout, determinism, escaping, and hostile specs."""

from __future__ import annotations

import ast
import copy
import dataclasses
import inspect
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest
from test_ir_build import DictSpec, document
from test_render_client import generate_package, import_generated

from seawall import ir
from seawall.build import BuildOptions, build_api
from seawall.format import format_generated, format_source
from seawall.render import docstring, py_literal, render_package, toml_string

HOSTILE = '"""\nimport os; os.system("rm -rf /")  # \\ \\x00 \x00 \x1b \u2028 end"'


def render(doc: dict[str, Any]) -> dict[str, str]:
    api, _ = build_api(DictSpec(doc), BuildOptions())
    return render_package(api)


@pytest.mark.parametrize("text", [HOSTILE, "plain", 'ends with a quote"', "back\\slash\\", "tab\tand\r\nCRLF", "'''"])
def test_docstrings_cannot_break_out(text: str) -> None:
    for indent in ("", "    "):
        literal = docstring(text, indent).strip()
        parsed = ast.literal_eval(literal)
        expected = "\n".join(line.rstrip() for line in text.strip().replace("\r\n", "\n").split("\n"))
        # As black does, a one-line docstring ending in a quote gets a space before the closing quotes.
        one_line_ending_in_quote = "\n" not in expected.strip() and expected.strip().endswith('"')
        assert inspect.cleandoc(parsed) == inspect.cleandoc(expected) + (" " if one_line_ending_in_quote else "")


@pytest.mark.parametrize("value", [HOSTILE, "", 1, 2.5, True, None, ["a", {"b": "c"}]])
def test_literals_round_trip(value: ir.JsonValue) -> None:
    assert ast.literal_eval(py_literal(value)) == value


def test_toml_strings_round_trip() -> None:
    text = HOSTILE + "\x7f"
    assert tomllib.loads(f"x = {toml_string(text)}")["x"] == text


def test_package_layout() -> None:
    files = render(document({"Pet": {"type": "object", "properties": {"a": {"type": "string"}}}}))
    assert sorted(files) == [
        "README.md",
        "pet_store/__init__.py",
        "pet_store/_endpoints.py",
        "pet_store/_sagas.py",
        "pet_store/async_client.py",
        "pet_store/client.py",
        "pet_store/errors.py",
        "pet_store/models.py",
        "pet_store/py.typed",
        "pyproject.toml",
    ]
    project = tomllib.loads(files["pyproject.toml"])["project"]
    assert project["name"] == "pet-store" and project["version"] == "1.2.0"
    assert project["requires-python"] == ">=3.10"
    assert project["dependencies"] == ["seawall-runtime", "httpx", "pydantic>=2"]


def test_output_is_deterministic_and_independent_of_key_order() -> None:
    schemas = {
        "B": {"type": "object", "properties": {"z": {"type": "string"}, "a": {"$ref": "#/components/schemas/A"}}},
        "A": {"type": "string", "enum": ["y", "x"]},
    }
    paths = {
        "/b": {"get": {"operationId": "b", "responses": {"200": {"description": "", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/B"}}}}}}},
        "/a": {"get": {"operationId": "a", "responses": {"204": {"description": ""}}}},
    }
    first = render(document(schemas, paths))
    reordered = render(document(dict(reversed(list(schemas.items()))), dict(reversed(list(paths.items())))))
    assert first == render(document(copy.deepcopy(schemas), copy.deepcopy(paths)))
    assert first == reordered


def hostile_spec() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": 'Evil """ API\n', "version": "1.0.0", "description": HOSTILE},
        "servers": [{"url": 'https://example.com/"; import os; "'}],
        "components": {
            "schemas": {
                'Evil"""Name': {
                    "description": HOSTILE,
                    "type": "object",
                    "required": ['"); import os  #'],
                    "properties": {
                        '"); import os  #': {"type": "string", "description": HOSTILE},
                        "mode": {"type": "string", "default": '"\\\n'},
                        "kind": {"enum": ['a"b', "c\nd", "\\"]},
                        "json": {"type": "integer"},
                    },
                }
            }
        },
        "paths": {
            '/x/{id}"\'': {
                "get": {
                    "operationId": 'op"""id\\',
                    "summary": HOSTILE,
                    "parameters": [{"name": 'id"\'', "in": "path", "required": True, "schema": {"type": "string"}}],
                    "responses": {
                        "200": {"description": "", "content": {"application/json": {"schema": {"$ref": '#/components/schemas/Evil"""Name'}}}}
                    },
                }
            }
        },
    }


def test_hostile_spec_generates_code_that_keeps_the_text_as_data(tmp_path: Path) -> None:
    name = generate_package(hostile_spec(), tmp_path)
    files = sorted((tmp_path / "out").rglob("*.py"))
    for path in files:
        compile(path.read_text(), str(path), "exec")  # valid Python
        assert "import os" not in [line.strip() for line in path.read_text().splitlines()]
    package = import_generated(tmp_path, name)
    models = sys.modules[name + ".models"]
    evil = models.EvilName
    assert inspect.cleandoc(evil.__doc__) == HOSTILE.strip()
    instance = evil.model_validate({'"); import os  #': "v", "json": 1, "kind": "c\nd"})
    assert instance.model_dump(by_alias=True, exclude_unset=True) == {'"); import os  #': "v", "json": 1, "kind": models.EvilNameKind("c\nd")}
    assert evil.model_fields["mode"].default == '"\\\n'
    assert [member.value for member in models.EvilNameKind] == ['a"b', "c\nd", "\\"]
    endpoints = sys.modules[name + "._endpoints"]
    assert endpoints.OP_ID.operation.name == 'op"""id\\'
    assert endpoints.OP_ID.operation.path == '/x/{id}"\''
    documented = inspect.cleandoc(package.Client.op_id.__doc__)
    assert documented == HOSTILE.strip() + "\n\n``op_id`` returns the value; ``op_id_detailed`` an ApiResponse."
    assert tomllib.loads((tmp_path / "out" / "pyproject.toml").read_text())["project"]["name"] == "evil-api"


def test_resilience_policies_become_runtime_objects(tmp_path: Path) -> None:
    from seawall.policies import extract_policies
    from seawall_runtime import Backoff, BreakerPolicy, FallbackPolicy, Policy, RetryPolicy, TimeoutPolicy

    pet = {"type": "object", "properties": {"id": {"type": "integer"}}}
    ok = {"200": {"description": "", "content": {"application/json": {"schema": pet}}}}
    doc = document(
        paths={
            "/pets": {
                "get": {
                    "operationId": "listPets",
                    "x-timeout": {"attempt": 2, "total": 10},
                    "x-retry": {
                        "attempts": 4,
                        "backoff": {"initial": 0.5, "max": 5},
                        "on": [503, "timeout"],
                        "max-retry-after": 300,
                    },
                    "x-fallback": {"on": ["circuit-open"], "value": {"id": 0}},
                    "responses": ok,
                },
                "post": {"operationId": "addPet", "x-idempotent": {"key": "Idempotency-Key"}, "x-retry": False, "responses": ok},
                "put": {"operationId": "putPets", "x-retry": {"max-retry-after": False}, "responses": ok},
                "delete": {"operationId": "dropPets", "responses": {"204": {"description": ""}}},
            }
        },
        **{"x-circuit-breaker": {"failure-ratio": 0.25, "open-for": 30}},
    )
    spec = DictSpec(doc)
    policies, _ = extract_policies(spec)
    api, _ = build_api(spec, BuildOptions())
    api = dataclasses.replace(
        api,
        breaker=policies.breaker,
        operations=tuple(dataclasses.replace(op, policy=policies.get(op.operation_id)) for op in api.operations),
    )
    out = tmp_path / "out"
    for relative, text in render_package(api).items():
        (out / relative).parent.mkdir(parents=True, exist_ok=True)
        (out / relative).write_text(text)
    package = import_generated(tmp_path, api.package.import_name)
    endpoints = sys.modules[package.__name__ + "._endpoints"]
    listing = endpoints.LIST_PETS.operation
    assert listing.policy == Policy(
        timeout=TimeoutPolicy(attempt=2, total=10),
        retry=RetryPolicy(
            attempts=4, backoff=Backoff(initial=0.5), on=frozenset({503, "timeout"}), max_retry_after=300
        ),
        fallback=FallbackPolicy(on=frozenset({"circuit-open"}), value={"id": 0}),
    )
    adding = endpoints.ADD_PET.operation
    assert (adding.idempotent, adding.idempotency_key_header, adding.policy) == (True, "Idempotency-Key", Policy(retry=None))
    assert endpoints.DROP_PETS.operation.policy is None
    assert endpoints.PUT_PETS.operation.policy == Policy(retry=RetryPolicy(max_retry_after=None))
    breaker = inspect.signature(package.Client).parameters["breaker"].default
    assert breaker == BreakerPolicy(failure_ratio=0.25, open_for=30)


def test_endpoints_import_only_what_they_name() -> None:
    ok = {"204": {"description": ""}}
    parameter = {"name": "petId", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}}
    files = render(document(paths={"/pets/{petId}": {"delete": {"operationId": "dropPet", "parameters": [parameter], "responses": ok}}}))
    assert "import uuid" in files["pet_store/client.py"]  # the method's annotation
    assert "import uuid" not in files["pet_store/_endpoints.py"]


def test_the_idempotency_key_header_is_sent_by_the_runtime_not_passed(tmp_path: Path) -> None:
    from seawall.pipeline import attach_policies
    from seawall.policies import extract_policies

    ok = {"201": {"description": ""}}
    key = {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string"}}
    trace = {"name": "X-Trace", "in": "header", "schema": {"type": "string"}}
    operation = {"operationId": "addPet", "parameters": [key, trace], "x-idempotent": {"key": "idempotency-key"}, "responses": ok}
    spec = DictSpec(document(paths={"/pets": {"post": operation}}))
    policies, _ = extract_policies(spec)
    api, _ = build_api(spec, BuildOptions())
    files = render_package(attach_policies(api, policies))
    assert "idempotency_key_2" not in files["pet_store/client.py"] and "x_trace" in files["pet_store/client.py"]
    assert 'idempotency_key_header="idempotency-key"' in files["pet_store/_endpoints.py"]
    assert "Idempotency-Key" not in files["pet_store/_endpoints.py"]  # no Param for it


def test_compensation_arguments_the_saga_cannot_send_are_reported() -> None:
    from seawall.diagnostics import SpecError
    from seawall.pipeline import attach_policies
    from seawall.policies import CompensationArg, extract_policies

    created = {"201": {"description": "", "content": {"application/json": {"schema": {"type": "object", "properties": {"id": {"type": "string"}}}}}}}
    session = {"name": "session", "in": "cookie", "required": True, "schema": {"type": "string"}}
    compensation = {"operation": "dropPet", "args": {"session": "$response.body#/id"}}
    paths = {
        "/pets": {"post": {"operationId": "addPet", "x-compensation": compensation, "responses": created}},
        "/pets/drop": {"post": {"operationId": "dropPet", "parameters": [session], "responses": {"204": {"description": ""}}}},
    }
    spec = DictSpec(document(paths=paths))
    with pytest.raises(SpecError) as checked:
        extract_policies(spec)  # the policies stage knows the file and line
    [problem] = checked.value.diagnostics
    assert "cookie" in problem.message and problem.location.pointer == "/paths/~1pets/post/x-compensation/args/session"
    # Render refuses it too, should a policy reach it unchecked.
    header = {**session, "in": "header"}
    drop = {"post": {**paths["/pets/drop"]["post"], "parameters": [header]}}
    policies, _ = extract_policies(DictSpec(document(paths={"/pets": paths["/pets"], "/pets/drop": drop})))
    api, _ = build_api(spec, BuildOptions())
    unchecked = dataclasses.replace(policies.operations[0], compensation=dataclasses.replace(
        policies.operations[0].compensation, args=(CompensationArg("session", "cookie", "$response.body#/id"),)))
    with pytest.raises(SpecError) as caught:
        render_package(attach_policies(api, dataclasses.replace(policies, operations=(unchecked, *policies.operations[1:]))))
    [problem] = caught.value.diagnostics
    assert "cookie" in problem.message and problem.location.pointer == "/paths/~1pets/post/x-compensation/args"
    unknown = dataclasses.replace(unchecked, compensation=dataclasses.replace(unchecked.compensation, operation="gone"))
    with pytest.raises(SpecError) as missing:
        render_package(attach_policies(api, dataclasses.replace(policies, operations=(unknown, *policies.operations[1:]))))
    assert [d.location.pointer for d in missing.value.diagnostics][0] == "/paths/~1pets/post/x-compensation/operation"


def test_hostile_spec_output_is_what_black_writes() -> None:
    """Quotes, backslashes and control characters in names and text must not
    throw the black-style layout (or the format stage's docstring scan) off."""
    for path, text in render(hostile_spec()).items():
        if path.endswith(".py"):
            assert format_generated(path, text) == format_source(text), path
