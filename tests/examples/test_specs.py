"""The example specs are valid OpenAPI and their annotations are consistent."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from openapi_spec_validator import validate

from seawall import load, policies, resolve

SPECS = Path(__file__).resolve().parents[2] / "specs"
NAMES = ("orders", "inventory", "payments")
METHODS = ("get", "put", "post", "delete", "patch")


def _document(name: str) -> dict[str, Any]:
    document: dict[str, Any] = yaml.safe_load((SPECS / f"{name}.yaml").read_text())
    return document


def _operations(document: dict[str, Any]) -> dict[str, tuple[str, dict[str, Any], dict[str, Any]]]:
    """operationId → (method, operation, path item)."""
    return {
        operation["operationId"]: (method, operation, item)
        for item in document["paths"].values()
        for method, operation in item.items()
        if method in METHODS
    }


def _deref(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for token in node["$ref"].removeprefix("#/").split("/"):
            target = target[token]
        node = target
    return node


def _success_schema(document: dict[str, Any], operation: dict[str, Any]) -> dict[str, Any]:
    status = next(code for code in operation["responses"] if code.startswith("2"))
    response = _deref(document, operation["responses"][status])
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


def _parameters(
    document: dict[str, Any], operation: dict[str, Any], item: dict[str, Any]
) -> set[str]:
    return {
        _deref(document, parameter)["name"]
        for parameter in item.get("parameters", []) + operation.get("parameters", [])
    }


@pytest.mark.parametrize("name", NAMES)
def test_spec_is_valid_openapi(name: str) -> None:
    validate(_document(name))


@pytest.mark.parametrize("name", NAMES)
def test_policy_checker_reports_nothing(name: str) -> None:
    spec = resolve.resolve(load.load_document(SPECS / f"{name}.yaml"))
    policy_set, diagnostics = policies.extract_policies(spec)
    assert [str(d) for d in diagnostics] == []
    first = next(iter(_operations(_document(name))))
    assert policy_set.get(first).operation_id == first


@pytest.mark.parametrize("name", NAMES)
def test_fallbacks_fit_the_success_schema(name: str) -> None:
    document = _document(name)
    operations = _operations(document)
    fallbacks = [(o, o["x-fallback"]) for _, o, _ in operations.values() if "x-fallback" in o]
    for operation, fallback in fallbacks:
        schema = _success_schema(document, operation)
        if "value" in fallback:
            validator = jsonschema.Draft202012Validator({**document, **schema})
            validator.validate(fallback["value"])
        else:
            _, other, _ = operations[fallback["operation"]]
            assert _success_schema(document, other) == schema


@pytest.mark.parametrize("name", NAMES)
def test_creating_posts_send_a_declared_idempotency_key(name: str) -> None:
    document = _document(name)
    for operation_id, (method, operation, item) in _operations(document).items():
        if method != "post":
            continue
        marker = operation.get("x-idempotent")
        assert marker is not None, f"{operation_id}: POST without x-idempotent"
        if isinstance(marker, dict):
            assert marker["key"] in _parameters(document, operation, item), operation_id


@pytest.mark.parametrize("name", NAMES)
def test_compensation_args_name_parameters_or_body_properties(name: str) -> None:
    document = _document(name)
    operations = _operations(document)
    compensated = [
        (o, o["x-compensation"]) for _, o, _ in operations.values() if "x-compensation" in o
    ]
    assert compensated, "each service has a saga step"
    for operation, compensation in compensated:
        _, undo, undo_item = operations[compensation["operation"]]
        names = _parameters(document, undo, undo_item)
        body = undo.get("requestBody")
        properties: set[str] = set()
        if body is not None:
            body_schema = _deref(document, body["content"]["application/json"]["schema"])
            properties = set(body_schema["properties"])
            assert set(body_schema.get("required", [])) <= set(compensation["args"])
        for arg, value in compensation["args"].items():
            assert arg in names | properties, f"{compensation['operation']} has no {arg}"
            if isinstance(value, str) and value.startswith("$response.body#/"):
                pointer = value.removeprefix("$response.body#/")
                success = _deref(document, _success_schema(document, operation))
                assert pointer in success["properties"]
