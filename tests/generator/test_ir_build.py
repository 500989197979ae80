"""The build stage: OpenAPI documents (small dicts) → IR."""

from __future__ import annotations

from typing import Any

import pytest

from seawall import ir
from seawall.build import BuildOptions, build_api, pep440_version
from seawall.diagnostics import Location, SpecError


class DictSpec:
    """A resolved spec as the build stage sees it, made from a dict."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.version = document.get("openapi", "3.0.3")

    def locate(self, pointer: str) -> Location:
        return Location("spec.yaml", pointer)


def document(schemas: dict[str, Any] | None = None, paths: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Pet Store", "version": "1.2.0"},
        "paths": paths or {},
        "components": {"schemas": schemas or {}},
    }
    doc.update(extra)
    return doc


def build(doc: dict[str, Any], **options: Any) -> ir.Api:
    api, _ = build_api(DictSpec(doc), BuildOptions(**options))
    return api


def definitions(schemas: dict[str, Any]) -> dict[str, ir.Definition]:
    return {d.name: d for d in build(document(schemas)).definitions}


def model(schemas: dict[str, Any], name: str) -> ir.ModelDef:
    found = definitions(schemas)[name]
    assert isinstance(found, ir.ModelDef)
    return found


def fields(found: ir.ModelDef) -> dict[str, ir.Field]:
    return {f.wire_name: f for f in found.fields}


STR = ir.Primitive("str")
INT = ir.Primitive("int")


# --- package metadata ---------------------------------------------------------


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.2.0", "1.2.0"),
        ("1.2.0-rc.1", "1.2.0rc1"),
        ("1.2.0-alpha.2", "1.2.0a2"),
        ("2.0.0-beta", "2.0.0b0"),
        ("1.0.0+build.7", "1.0.0"),
        ("v3.1", "3.1"),
        ("4", "4"),
        ("2025.0", "2025.0"),
        ("1.0.post2", "1.0.post2"),
        ("2024-06-01", None),
        ("1.0-SNAPSHOT", None),
        ("latest", None),
    ],
)
def test_version_maps_to_pep440(version: str, expected: str | None) -> None:
    assert pep440_version(version) == expected


def test_package_metadata_from_info() -> None:
    api = build(document(info={"title": "Swagger Petstore - OpenAPI 3.0", "version": "1.0.0-rc.2"}))
    assert api.package.distribution_name == "swagger-petstore-openapi-3-0"
    assert api.package.import_name == "swagger_petstore_openapi_3_0"
    assert api.package.version == "1.0.0rc2"
    assert api.package.api_version == "1.0.0-rc.2"


def test_unmappable_version_is_an_error_naming_info_version() -> None:
    with pytest.raises(SpecError) as caught:
        build(document(info={"title": "x", "version": "1.0-SNAPSHOT"}))
    (problem,) = caught.value.diagnostics
    assert problem.location.pointer == "/info/version"
    assert "1.0-SNAPSHOT" in problem.message


def test_package_options_override_and_are_checked() -> None:
    api = build(
        document(info={"title": "x", "version": "2024-06-01"}), package_name="My.Client", package_version="3.0.1"
    )
    assert (api.package.distribution_name, api.package.import_name, api.package.version) == (
        "my-client",
        "my_client",
        "3.0.1",
    )
    with pytest.raises(SpecError, match="not a PEP 440 version"):
        build(document(), package_version="1.0-SNAPSHOT")
    with pytest.raises(SpecError, match="not a valid distribution name"):
        build(document(), package_name="bad name!")


def test_import_name_of_a_title_starting_with_a_digit_is_valid() -> None:
    api = build(document(info={"title": "3D Printing API", "version": "1"}))
    assert api.package.import_name.isidentifier()


# --- schemas ------------------------------------------------------------------------


def test_object_required_optional_and_nullable_30() -> None:
    pet = model(
        {
            "Pet": {
                "type": "object",
                "required": ["id", "owner"],
                "properties": {
                    "id": {"type": "integer"},
                    "owner": {"type": "string", "nullable": True},
                    "tag": {"type": "string"},
                },
            }
        },
        "Pet",
    )
    by_wire = fields(pet)
    assert by_wire["id"] == ir.Field("id", "id", INT, True)
    assert by_wire["owner"].type == ir.Nullable(STR) and by_wire["owner"].required
    assert by_wire["tag"].type == STR and not by_wire["tag"].required


def test_type_arrays_with_null_are_nullable_31() -> None:
    pet = model({"Pet": {"type": "object", "properties": {"n": {"type": ["integer", "null"]}, "u": {"type": ["string", "integer"]}}}}, "Pet")
    assert fields(pet)["n"].type == ir.Nullable(INT)
    assert fields(pet)["u"].type == ir.UnionOf((STR, INT))


def test_string_and_integer_enums_become_enum_classes() -> None:
    found = definitions({"Status": {"type": "string", "enum": ["available", "sold out", "1st"]}, "Code": {"enum": [1, -2]}})
    status = found["Status"]
    assert isinstance(status, ir.EnumDef) and status.kind == "str"
    assert [(m.name, m.value) for m in status.members] == [
        ("AVAILABLE", "available"),
        ("SOLD_OUT", "sold out"),
        ("VALUE_1ST", "1st"),
    ]
    code = found["Code"]
    assert isinstance(code, ir.EnumDef) and code.kind == "int"
    assert [m.name for m in code.members] == ["VALUE_1", "VALUE_MINUS_2"]


def test_mixed_and_null_enums() -> None:
    found = definitions(
        {
            "Mixed": {"enum": ["a", 1, True]},
            "OnlyNull": {"enum": [None]},
            "Holder": {"type": "object", "properties": {"e": {"type": ["string", "null"], "enum": ["x", None]}}},
        }
    )
    assert found["Mixed"] == ir.AliasDef("Mixed", "/components/schemas/Mixed", ir.LiteralOf(("a", 1, True)))
    assert found["OnlyNull"] == ir.AliasDef("OnlyNull", "/components/schemas/OnlyNull", ir.Primitive("none"))
    holder = found["Holder"]
    assert isinstance(holder, ir.ModelDef)
    assert fields(holder)["e"].type == ir.Nullable(ir.NamedType("HolderE"))
    assert isinstance(found["HolderE"], ir.EnumDef)


def test_arrays_maps_and_additional_properties_false() -> None:
    found = definitions(
        {
            "Tags": {"type": "array", "items": {"type": "string"}},
            "Counts": {"type": "object", "additionalProperties": {"type": "integer"}},
            "Free": {"type": "object"},
            "Strict": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": False},
            "Typed": {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "integer"}},
        }
    )
    assert found["Tags"].type == ir.ListOf(STR)  # type: ignore[union-attr]
    assert found["Counts"].type == ir.MapOf(INT)  # type: ignore[union-attr]
    assert found["Free"].type == ir.MapOf(ir.Primitive("any"))  # type: ignore[union-attr]
    strict, typed = found["Strict"], found["Typed"]
    assert isinstance(strict, ir.ModelDef) and strict.extra == "forbid"
    assert isinstance(typed, ir.ModelDef) and typed.extra_type == INT


def test_all_of_with_one_ref_inherits_and_several_merge() -> None:
    found = definitions(
        {
            "NewPet": {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}},
            "Pet": {"allOf": [{"$ref": "#/components/schemas/NewPet"}, {"required": ["id"], "properties": {"id": {"type": "integer"}}}]},
            "Audit": {"type": "object", "properties": {"at": {"type": "string", "format": "date-time"}}},
            "AuditedPet": {"allOf": [{"$ref": "#/components/schemas/NewPet"}, {"$ref": "#/components/schemas/Audit"}]},
        }
    )
    pet = found["Pet"]
    assert isinstance(pet, ir.ModelDef) and pet.base == "NewPet"
    assert [(f.name, f.required) for f in pet.fields] == [("id", True)]
    audited = found["AuditedPet"]
    assert isinstance(audited, ir.ModelDef) and audited.base is None
    assert {f.wire_name: f.type for f in audited.fields} == {"name": STR, "at": ir.Primitive("datetime")}


def test_all_of_narrowing_a_property_merges_instead_of_inheriting() -> None:
    found = definitions(
        {
            "Base": {"type": "object", "properties": {"kind": {"type": "string"}}},
            "Narrow": {"allOf": [{"$ref": "#/components/schemas/Base"}, {"properties": {"kind": {"type": "string", "enum": ["a"]}}}]},
        }
    )
    narrow = found["Narrow"]
    assert isinstance(narrow, ir.ModelDef) and narrow.base is None


def test_one_of_any_of_and_discriminator_mapping() -> None:
    schemas = {
        "Cat": {"type": "object", "properties": {"petType": {"type": "string"}, "meows": {"type": "boolean"}}},
        "Dog": {"type": "object", "properties": {"petType": {"type": "string"}}},
        "Pet": {
            "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
            "discriminator": {"propertyName": "petType", "mapping": {"kitty": "#/components/schemas/Cat"}},
        },
        "IdOrName": {"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]},
    }
    found = definitions(schemas)
    pet = found["Pet"]
    assert isinstance(pet, ir.AliasDef)
    assert pet.type == ir.UnionOf(
        (ir.NamedType("Cat"), ir.NamedType("Dog")),
        ir.Discriminator("petType", (("Dog", "Dog"), ("kitty", "Cat"))),
    )
    assert found["IdOrName"].type == ir.Nullable(ir.UnionOf((INT, STR)))  # type: ignore[union-attr]


def test_recursive_schemas_refer_by_name() -> None:
    node = model(
        {"Node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}},
        "Node",
    )
    assert fields(node)["children"].type == ir.ListOf(ir.NamedType("Node"))


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string", "format": "date-time"}, ir.Primitive("datetime")),
        ({"type": "string", "format": "date"}, ir.Primitive("date")),
        ({"type": "string", "format": "uuid"}, ir.Primitive("uuid")),
        ({"type": "string", "format": "binary"}, ir.Primitive("bytes")),
        ({"type": "string", "format": "byte"}, ir.Primitive("base64")),
        ({"type": "number"}, ir.Primitive("float")),
        ({"const": "fixed"}, ir.LiteralOf(("fixed",))),
        ({"type": "array", "prefixItems": [{"type": "integer"}, {"type": "string"}]}, ir.TupleOf((INT, STR))),
        ({}, ir.Primitive("any")),
        ({"description": "anything"}, ir.Primitive("any")),
    ],
)
def test_formats_const_tuples_and_untyped(schema: dict[str, Any], expected: ir.TypeRef) -> None:
    holder = model({"Holder": {"type": "object", "properties": {"value": schema}}}, "Holder")
    assert fields(holder)["value"].type == expected


def test_defaults_and_read_write_only_fields() -> None:
    holder = model(
        {
            "Holder": {
                "type": "object",
                "required": ["id", "secret"],
                "properties": {
                    "id": {"type": "integer", "readOnly": True},
                    "secret": {"type": "string", "writeOnly": True},
                    "size": {"type": "integer", "default": 10},
                },
            }
        },
        "Holder",
    )
    by_wire = fields(holder)
    assert not by_wire["id"].required and by_wire["id"].read_only
    assert not by_wire["secret"].required and by_wire["secret"].write_only
    assert by_wire["size"].default == 10


def test_inline_schemas_get_stable_derived_names() -> None:
    doc = document(
        {"Pet": {"type": "object", "properties": {"owner": {"type": "object", "properties": {"name": {"type": "string"}}}}}},
        {
            "/pets": {
                "post": {
                    "operationId": "createPet",
                    "requestBody": {"content": {"application/json": {"schema": {"type": "object", "properties": {"name": {"type": "string"}}}}}},
                    "responses": {"201": {"description": "ok", "content": {"application/json": {"schema": {"type": "object", "properties": {"id": {"type": "integer"}}}}}}},
                }
            }
        },
    )
    names = [d.name for d in build(doc).definitions]
    assert names == ["CreatePetRequest", "CreatePetResponse", "Pet", "PetOwner"]
    assert names == [d.name for d in build(doc).definitions]  # deterministic


def test_names_are_valid_distinct_and_keep_wire_names() -> None:
    found = definitions(
        {
            "200_response": {"type": "object", "properties": {"class": {"type": "string"}, "json": {"type": "string"}, "_id": {"type": "string"}, "id": {"type": "string"}}},
            "Client": {"type": "object", "properties": {"a": {"type": "string"}}},
            "pet": {"type": "string"},
            "Pet": {"type": "integer"},
        }
    )
    assert sorted(found) == ["ClientModel", "Pet", "Pet2", "Schema200Response"]
    response = found["Schema200Response"]
    assert isinstance(response, ir.ModelDef)
    assert [(f.name, f.wire_name) for f in response.fields] == [("class_", "class"), ("json_", "json"), ("id", "_id"), ("id_2", "id")]


# --- operations -------------------------------------------------------------------


def operation(op: dict[str, Any], path: str = "/pets/{petId}", method: str = "get", **item: Any) -> ir.Operation:
    (built,) = build(document(paths={path: {method: op, **item}})).operations
    return built


def test_operation_names_from_operation_id_or_method_and_path() -> None:
    assert operation({"operationId": "getPetById", "responses": {}}).name == "get_pet_by_id"
    unnamed = operation({"responses": {}})
    assert (unnamed.name, unnamed.operation_id) == ("get_pets_pet_id", "GET /pets/{petId}")


def test_parameters_styles_locations_and_overrides() -> None:
    built = operation(
        {
            "operationId": "getPet",
            "parameters": [
                {"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}, "style": "pipeDelimited"},
                {"name": "X-Trace", "in": "header", "required": True, "schema": {"type": "string"}},
                {"name": "Accept", "in": "header", "schema": {"type": "string"}},
                {"name": "session", "in": "cookie", "schema": {"type": "string"}},
                {"name": "petId", "in": "path", "required": True, "schema": {"type": "integer"}},
            ],
            "responses": {},
        },
        parameters=[{"name": "petId", "in": "path", "required": True, "schema": {"type": "string"}}],
    )
    summary = [(p.name, p.location, p.style, p.explode, p.required) for p in built.parameters]
    assert summary == [
        ("pet_id", "path", "simple", False, True),
        ("x_trace", "header", "simple", False, True),
        ("tags", "query", "pipeDelimited", False, False),
        ("session", "cookie", "form", True, False),
    ]
    assert built.parameters[0].type == INT  # the operation's definition wins


def test_parameter_names_never_clash_with_method_arguments() -> None:
    built = operation(
        {"operationId": "x", "parameters": [{"name": "body", "in": "query", "schema": {}}, {"name": "timeout", "in": "query", "schema": {}}], "responses": {}},
        path="/x",
    )
    assert [p.name for p in built.parameters] == ["body_2", "timeout_2"]


def test_request_bodies_pick_a_media_type() -> None:
    def body(content: dict[str, Any]) -> ir.RequestBody:
        found = operation({"operationId": "x", "requestBody": {"required": True, "content": content}, "responses": {}}, path="/x", method="post").body
        assert found is not None
        return found

    assert body({"application/xml": {}, "application/json": {"schema": {"type": "string"}}}).kind == "json"
    form = body({"application/x-www-form-urlencoded": {"schema": {"type": "object", "properties": {"a": {"type": "string"}}}}})
    assert (form.kind, form.type) == ("form", ir.NamedType("XRequest"))
    assert body({"multipart/form-data": {"schema": {"type": "object", "properties": {"f": {"type": "string", "format": "binary"}}}}}).kind == "multipart"
    raw = body({"application/octet-stream": {}})
    assert (raw.kind, raw.type, raw.required) == ("binary", ir.Primitive("bytes"), True)


def test_responses_ordered_with_kinds() -> None:
    built = operation(
        {
            "operationId": "x",
            "responses": {
                "default": {"description": "e", "content": {"application/json": {"schema": {"type": "object", "properties": {"m": {"type": "string"}}}}}},
                "4XX": {"description": "c"},
                204: {"description": "none"},
                "200": {"description": "png", "content": {"image/png": {}}},
            },
        },
        path="/x",
    )
    assert [(r.status, r.kind, r.is_success) for r in built.responses] == [
        ("200", "binary", True),
        ("204", "empty", True),
        ("4XX", "empty", False),
        ("default", "json", False),
    ]


def test_security_schemes_and_servers() -> None:
    doc = document(
        servers=[{"url": "https://{region}.example.com/v1", "variables": {"region": {"default": "eu"}}}],
        security=[{"key": []}],
    )
    doc["components"]["securitySchemes"] = {
        "key": {"type": "apiKey", "in": "query", "name": "api_key"},
        "token": {"type": "http", "scheme": "bearer"},
        "basic": {"type": "http", "scheme": "basic"},
        "oauth": {"type": "oauth2", "flows": {}},
        "tls": {"type": "mutualTLS"},
    }
    api, warnings = build_api(DictSpec(doc), BuildOptions())
    assert api.servers == (ir.Server("https://eu.example.com/v1"),)
    assert [(s.argument, s.kind, s.location, s.parameter_name) for s in api.security_schemes] == [
        ("basic", "basic", "header", "Authorization"),
        ("key", "api_key", "query", "api_key"),
        ("oauth", "bearer", "header", "Authorization"),
        ("token", "bearer", "header", "Authorization"),
    ]
    assert [w.location.pointer for w in warnings] == ["/components/securitySchemes/tls"]


def test_strict_mode_rejects_and_lenient_mode_skips_with_pointer() -> None:
    doc = document(
        {"Bad": {"type": "object", "properties": {"x": {"type": "complex"}}}},
        {"/x": {"get": {"operationId": "x", "parameters": [{"name": "a", "in": "body"}], "responses": {}}}},
    )
    with pytest.raises(SpecError) as caught:
        build(doc)
    pointers = sorted(d.location.pointer for d in caught.value.diagnostics)
    assert pointers == ["/components/schemas/Bad/properties/x/type", "/paths/~1x/get/parameters/0"]
    api, warnings = build_api(DictSpec(doc), BuildOptions(lenient=True))
    assert api.operations == ()
    assert api.definitions == (ir.AliasDef("Bad", "/components/schemas/Bad", ir.Primitive("any")),)
    assert all(w.severity == "warning" for w in warnings) and len(warnings) == 2
    assert "schema 'Bad' (/components/schemas/Bad) replaced by Any" in warnings[0].message
