"""The resolve stage: local and cross-file refs, bundling, cycles and unresolvable refs."""

from __future__ import annotations

from pathlib import Path

import pytest

from seawall.diagnostics import SpecError
from seawall.load import load_document
from seawall.resolve import Spec, detect_version, resolve

FIXTURES = Path(__file__).parent / "fixtures" / "front"


def resolved(path: Path) -> Spec:
    return resolve(load_document(path))


def refs_in(value: object) -> list[str]:
    if isinstance(value, dict):
        own = [value["$ref"]] if isinstance(value.get("$ref"), str) else []
        return own + [ref for item in value.values() for ref in refs_in(item)]
    if isinstance(value, list):
        return [ref for item in value for ref in refs_in(item)]
    return []


def test_multi_file_spec_is_bundled_with_local_refs() -> None:
    spec = resolved(FIXTURES / "multi" / "openapi.yaml")
    document = spec.document
    assert spec.version == "3.0"
    assert all(ref.startswith("#/") for ref in refs_in(document))
    schemas = document["components"]["schemas"]
    # the root's own Pet keeps its name; the other file's Pet gets a derived, stable one
    assert schemas["Pet"] == {"type": "object", "properties": {"name": {"type": "string"}}}
    assert set(schemas) == {"Pet", "Pet_2", "owner", "a_b_c"}
    items = document["paths"]["/pets"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]["items"]
    assert items == {"$ref": "#/components/schemas/Pet_2"}
    # refs inside the bundled file were resolved relative to that file, and the cycle kept
    assert schemas["Pet_2"]["properties"]["parent"] == {"$ref": "#/components/schemas/Pet_2"}
    assert schemas["Pet_2"]["properties"]["owner"] == {"$ref": "#/components/schemas/owner"}
    assert schemas["owner"]["properties"]["pets"]["items"] == {"$ref": "#/components/schemas/Pet_2"}
    # ~0/~1 escapes in the other file's pointer
    assert schemas["a_b_c"] == {"type": "string"}
    # a parameter in another file is bundled as a parameter, not a schema
    assert document["paths"]["/owners/{id}"]["get"]["parameters"] == [{"$ref": "#/components/parameters/Id"}]
    assert document["components"]["parameters"]["Id"]["in"] == "path"
    # a path item has no components section in 3.0: it is copied in place
    assert document["paths"]["/pets"]["get"]["operationId"] == "listPets"
    assert spec.follow("#/components/schemas/Pet_2")["type"] == "object"


def test_locate_maps_bundled_parts_back_to_their_files() -> None:
    spec = resolved(FIXTURES / "multi" / "openapi.yaml")
    parent = spec.locate("/components/schemas/Pet_2/properties/parent")
    assert parent.file.endswith("pet.yaml")
    assert (parent.line, parent.column, parent.pointer) == (5, 5, "/components/schemas/Pet_2/properties/parent")
    nick = spec.locate("/components/schemas/owner/properties/nick")
    assert nick.file.endswith("owner.json") and nick.line == 5
    root = spec.locate("/components/schemas/Pet/properties/name")
    assert root.file.endswith("openapi.yaml") and root.line == 22


def test_local_refs_with_escapes_and_percent_encoding(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\n"
        "paths:\n  /a/{id}:\n    get: {responses: {'200': {description: ok}}}\n"
        "components:\n  schemas:\n    'My Thing': {type: object}\n"
        "    Node: {properties: {next: {$ref: '#/components/schemas/Node'}}}\n"
        "    A: {$ref: '#/components/schemas/My%20Thing'}\n"
        "    B: {$ref: '#/paths/~1a~1%7Bid%7D/get'}\n",
        encoding="utf-8",
    )
    schemas = resolved(path).document["components"]["schemas"]
    assert schemas["A"] == {"$ref": "#/components/schemas/My Thing"}
    assert schemas["B"] == {"$ref": "#/paths/~1a~1{id}/get"}
    assert schemas["Node"]["properties"]["next"] == {"$ref": "#/components/schemas/Node"}


def test_every_unresolvable_ref_is_listed_with_its_place() -> None:
    with pytest.raises(SpecError) as caught:
        resolved(FIXTURES / "broken-refs.yaml")
    problems = caught.value.diagnostics
    assert [p.message for p in problems] == [
        "cannot resolve $ref '#/components/schemas/Nope': there is no 'Nope' at #/components/schemas",
        f"cannot resolve $ref 'missing.yaml#/Thing': file not found: {FIXTURES.resolve() / 'missing.yaml'}",
        "cannot resolve $ref 'https://example.com/schemas.json#/X': "
        "only refs to local files are supported, not https: URLs",
    ]
    assert [(p.location.line, p.location.column) for p in problems] == [(11, 24), (19, 24), (26, 18)]
    assert problems[0].location.pointer == "/paths/~1a/get/responses/200/content/application~1json/schema/$ref"
    assert all(p.location.file.endswith("broken-refs.yaml") for p in problems)


def test_ref_into_a_file_that_does_not_parse(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text("a: [\n", encoding="utf-8")
    root = tmp_path / "root.yaml"
    root.write_text(
        "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "components: {schemas: {X: {$ref: 'bad.yaml#/a'}}}\n",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as caught:
        resolved(root)
    first, second = caught.value.diagnostics
    assert first.message == "cannot resolve $ref 'bad.yaml#/a': the file it names is not usable"
    assert first.location.line == 4
    assert second.message.startswith("invalid YAML") and second.location.file.endswith("bad.yaml")


def test_unquoted_ref_is_deferred_not_fatal() -> None:
    spec = resolved(FIXTURES / "unquoted-ref.yaml")
    assert spec.document["components"]["schemas"]["Pet"]["properties"]["details"] == {}
    [problem] = spec.deferred
    assert "an unquoted '#' starts a YAML comment" in problem.message
    assert (problem.location.line, problem.location.pointer) == (
        10,
        "/components/schemas/Pet/properties/details/$ref",
    )


def test_openapi_31_id_and_anchor_refs(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "openapi: 3.1.0\ninfo: {title: t, version: '1'}\npaths: {}\n"
        "components:\n  schemas:\n"
        "    Details: {$id: /schemas/details, properties: {id: {$anchor: the_id, type: integer}}}\n"
        "    Pet: {properties: {d: {$ref: /schemas/details}, i: {$ref: '/schemas/details#the_id'}}}\n",
        encoding="utf-8",
    )
    pet = resolved(path).document["components"]["schemas"]["Pet"]["properties"]
    assert pet["d"] == {"$ref": "#/components/schemas/Details"}
    assert pet["i"] == {"$ref": "#/components/schemas/Details/properties/id"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- a\n", "an OpenAPI document must be a mapping at the top level"),
        ("info: {}\n", "not an OpenAPI document: it has no 'openapi' (3.x) or 'swagger' (2.0) field"),
        ("openapi: 3.0\n", "'openapi' must be a string such as '3.0.3' (quote it in YAML), not 3.0"),
        ("openapi: '4.0.0'\n", "unsupported openapi version '4.0.0': seawall reads Swagger 2.0 and OpenAPI 3.0 and 3.1"),
        ("swagger: '1.2'\n", "unsupported swagger version '1.2': seawall reads Swagger 2.0 and OpenAPI 3.0 and 3.1"),
    ],
)
def test_version_problems(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "v.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SpecError) as caught:
        detect_version(load_document(path))
    assert [d.message for d in caught.value.diagnostics] == [message]
