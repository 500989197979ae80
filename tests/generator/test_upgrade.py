"""The upgrade stage: Swagger 2.0 → OpenAPI 3.0 shape, locations kept."""

from __future__ import annotations

from pathlib import Path

from seawall.load import load_document
from seawall.resolve import Spec, resolve
from seawall.upgrade import upgrade
from seawall.validate import validate

FIXTURES = Path(__file__).parent / "fixtures" / "front"


def upgraded() -> Spec:
    return upgrade(resolve(load_document(FIXTURES / "swagger.json")))


def test_result_is_valid_openapi_30() -> None:
    spec = upgraded()
    assert spec.version == "3.0" and spec.document["openapi"] == "3.0.3"
    assert validate(spec, lenient=False) == []


def test_servers_security_and_schemas() -> None:
    document = upgraded().document
    assert document["servers"] == [{"url": "https://api.example.com/v1"}, {"url": "http://api.example.com/v1"}]
    schemes = document["components"]["securitySchemes"]
    assert schemes["key"] == {"type": "apiKey", "name": "X-Key", "in": "header"}
    assert schemes["basic"] == {"type": "http", "scheme": "basic"}
    assert schemes["oauth"]["flows"] == {
        "authorizationCode": {
            "scopes": {"read": "read things"},
            "authorizationUrl": "https://a.example.com/auth",
            "tokenUrl": "https://a.example.com/token",
        }
    }
    pet = document["components"]["schemas"]["Pet"]
    assert pet["discriminator"] == {"propertyName": "kind"}
    assert pet["properties"]["nick"] == {"type": "string", "nullable": True}
    assert "definitions" not in document and "securityDefinitions" not in document


def test_parameters_bodies_and_responses() -> None:
    paths = upgraded().document["paths"]
    get = paths["/pets"]["get"]
    tags, ids = get["parameters"]
    assert tags == {
        "name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string"}},
        "style": "form", "explode": True,
    }  # fmt: skip
    assert (ids["style"], ids["explode"]) == ("pipeDelimited", False)
    ok = get["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["items"] == {"$ref": "#/components/schemas/Pet"}
    assert ok["headers"]["X-Next"] == {"description": "next page", "schema": {"type": "string"}}
    body = paths["/pets"]["post"]["requestBody"]
    assert body == {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}, "required": True}
    upload = paths["/pets/{id}/photo"]
    assert upload["parameters"] == [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}]
    form = upload["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert form["properties"]["file"] == {"type": "string", "format": "binary"}
    assert form["required"] == ["file"]
    assert "consumes" not in upload["post"] and "parameters" not in upload["post"]


def test_locate_points_into_the_original_file() -> None:
    spec = upgraded()
    schema_place = spec.locate("/components/schemas/Pet/properties/name")
    assert schema_place.file.endswith("swagger.json") and schema_place.line == 47
    assert spec.locate("/paths/~1pets/get/parameters/1/schema").line == 21
    assert spec.locate("/paths/~1pets/post/requestBody").line == 28


def test_openapi_3_is_returned_unchanged() -> None:
    spec = resolve(load_document(FIXTURES / "multi" / "openapi.yaml"))
    assert upgrade(spec) is spec
