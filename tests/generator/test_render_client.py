"""Generated clients against a real HTTP server on loopback (uvicorn).

A small spec goes through load → resolve → upgrade → build → render; the
package is written to a temporary directory and imported. The server is a
hand-written ASGI app that records what it received (raw path, query,
headers, body) so the tests check the wire, not just the return values.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from seawall import build, load, render, resolve, upgrade
from seawall.examples.server import read_body, serve_in_thread
from seawall_runtime import FallbackPolicy, ResponseValidationError, RetryPolicy

SPEC: dict[str, Any] = {
    "openapi": "3.0.3",
    "info": {"title": "Loopback Pets", "version": "1.0.0"},
    "servers": [{"url": "http://127.0.0.1:1/never-used"}],
    "components": {
        "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Api-Key"}},
        "schemas": {
            "Status": {"type": "string", "enum": ["available", "sold"]},
            "Pet": {
                "type": "object",
                "required": ["id", "name"],
                "properties": {
                    "id": {"type": "integer"},
                    "name": {"type": "string"},
                    "tag": {"type": "string", "nullable": True},
                    "class": {"type": "string"},
                    "status": {"$ref": "#/components/schemas/Status"},
                },
            },
            "NewPet": {
                "type": "object",
                "required": ["name"],
                "properties": {"name": {"type": "string"}, "tag": {"type": "string"}, "class": {"type": "string"}},
            },
            "Error": {
                "type": "object",
                "required": ["code", "message"],
                "properties": {"code": {"type": "integer"}, "message": {"type": "string"}},
            },
            "Cat": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}, "meows": {"type": "boolean"}}},
            "Dog": {"type": "object", "required": ["kind"], "properties": {"kind": {"type": "string"}, "barks": {"type": "boolean"}}},
            "Animal": {
                "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
                "discriminator": {"propertyName": "kind", "mapping": {"cat": "#/components/schemas/Cat", "dog": "#/components/schemas/Dog"}},
            },
        },
    },
    "paths": {
        "/pets/{petId}": {
            "parameters": [{"name": "petId", "in": "path", "required": True, "schema": {"type": "string"}}],
            "get": {
                "operationId": "getPet",
                "responses": {
                    "200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}},
                    "404": {"description": "no", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
                },
            },
            "delete": {"operationId": "deletePet", "responses": {"204": {"description": "gone"}}},
        },
        "/pets": {
            "get": {
                "operationId": "listPets",
                "parameters": [
                    {"name": "tags", "in": "query", "schema": {"type": "array", "items": {"type": "string"}}},
                    {"name": "ids", "in": "query", "explode": False, "schema": {"type": "array", "items": {"type": "integer"}}},
                    {"name": "filter", "in": "query", "style": "deepObject", "schema": {"type": "object", "additionalProperties": {"type": "string"}}},
                    {"name": "X-Trace", "in": "header", "required": True, "schema": {"type": "string"}},
                    {"name": "session", "in": "cookie", "schema": {"type": "string"}},
                ],
                "responses": {
                    "200": {
                        "description": "ok",
                        "content": {"application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}},
                    }
                },
            },
            "post": {
                "operationId": "createPet",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/NewPet"}}}},
                "responses": {"201": {"description": "made", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Pet"}}}}},
            },
        },
        "/animals/{id}": {
            "get": {
                "operationId": "getAnimal",
                "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Animal"}}}}},
            }
        },
        "/upload": {
            "post": {
                "operationId": "upload",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "properties": {"file": {"type": "string", "format": "binary"}, "note": {"type": "string"}},
                            }
                        }
                    },
                },
                "responses": {"200": {"description": "ok", "content": {"text/plain": {"schema": {"type": "string"}}}}},
            }
        },
        "/form": {
            "post": {
                "operationId": "sendForm",
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/x-www-form-urlencoded": {
                            "schema": {"type": "object", "properties": {"name": {"type": "string"}, "scores": {"type": "array", "items": {"type": "integer"}}}}
                        }
                    },
                },
                "responses": {"200": {"description": "ok", "content": {"text/plain": {"schema": {"type": "string"}}}}},
            }
        },
        "/blob": {
            "put": {
                "operationId": "putBlob",
                "requestBody": {"required": True, "content": {"application/octet-stream": {}}},
                "responses": {"200": {"description": "ok", "content": {"application/octet-stream": {}}}},
            }
        },
        "/secure": {
            "get": {
                "operationId": "secure",
                "security": [{"key": []}],
                "responses": {"200": {"description": "ok", "content": {"text/plain": {"schema": {"type": "string"}}}}},
            }
        },
    },
}


def generate_package(spec: dict[str, Any], directory: Path) -> str:
    """Run the pipeline up to render on ``spec``; write the files; the import name."""
    spec_file = directory / "spec.json"
    spec_file.write_text(json.dumps(spec))
    resolved = upgrade.upgrade(resolve.resolve(load.load_document(spec_file)))
    api, _ = build.build_api(resolved, build.BuildOptions())
    for relative, text in render.render_package(api).items():
        target = directory / "out" / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    return api.package.import_name


def import_generated(directory: Path, name: str) -> ModuleType:
    sys.path.insert(0, str(directory / "out"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(directory / "out"))


class Recorder:
    """The ASGI app: answers per path and remembers the last request."""

    def __init__(self) -> None:
        self.last: dict[str, Any] = {}

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = await read_body(receive)
        headers = {k.decode().lower(): v.decode() for k, v in scope["headers"]}
        self.last = {"method": scope["method"], "raw_path": scope["raw_path"], "query": scope["query_string"], "headers": headers, "body": body}
        status, content_type, payload = self.answer(scope["method"], scope["path"], headers, body)
        await send({"type": "http.response.start", "status": status, "headers": [(b"content-type", content_type.encode())]})
        await send({"type": "http.response.body", "body": payload})

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes]:
        as_json = "application/json"
        if path.startswith("/pets/") and method == "DELETE":
            return 204, "text/plain", b""
        if path.startswith("/pets/"):
            pet_id = path.removeprefix("/pets/")
            if pet_id == "missing":
                return 404, as_json, json.dumps({"code": 404, "message": "no such pet"}).encode()
            if pet_id == "broken":
                return 500, "text/plain", b"boom"
            if pet_id == "bad":
                return 200, as_json, json.dumps({"id": "not a number", "name": "x"}).encode()
            pet = {"id": 7, "name": pet_id, "class": "mammal", "status": "sold", "extra": 1}
            return 200, as_json, json.dumps(pet).encode()
        if path == "/pets" and method == "POST":
            sent = json.loads(body)
            return 201, as_json, json.dumps({"id": 1, **sent}).encode()
        if path == "/pets":
            return 200, as_json, b"[]"
        if path.startswith("/animals/"):
            kind = path.removeprefix("/animals/")
            return 200, as_json, json.dumps({"kind": kind, "meows": True} if kind == "cat" else {"kind": kind, "barks": True}).encode()
        if path == "/upload":
            return 200, "text/plain", f"{headers['content-type'].split(';')[0]} {len(body)}".encode()
        if path in ("/form", "/blob"):
            return 200, headers["content-type"], body
        if path == "/secure":
            return 200, "text/plain", headers.get("x-api-key", "none").encode()
        return 418, "text/plain", b"?"


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[str, Recorder]]:
    app = Recorder()
    with serve_in_thread(app, name="render-client-recorder") as url:
        yield url, app


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    directory = tmp_path_factory.mktemp("generated")
    return import_generated(directory, generate_package(SPEC, directory))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def test_typed_model_with_aliases_and_enums(server: tuple[str, Recorder], package: ModuleType) -> None:
    url, app = server
    models = sys.modules[package.__name__ + ".models"]
    with package.Client(url) as client:
        pet = client.get_pet("rex")
    assert app.last["headers"]["accept"] == "application/json"
    assert isinstance(pet, models.Pet)
    assert (pet.id, pet.name, pet.class_, pet.status) == (7, "rex", "mammal", models.Status.SOLD)
    assert pet.model_extra == {"extra": 1}


@pytest.mark.parametrize(
    ("value", "raw_path"),
    [("../admin", b"/pets/..%2Fadmin"), ("a/b?x=1", b"/pets/a%2Fb%3Fx%3D1"), ("..", b"/pets/%2E%2E"), ("é #", b"/pets/%C3%A9%20%23")],
)
def test_path_values_stay_in_one_segment(server: tuple[str, Recorder], package: ModuleType, value: str, raw_path: bytes) -> None:
    url, app = server
    with package.Client(url) as client:
        client.get_pet(value)
    assert app.last["raw_path"] == raw_path


def test_documented_error_raises_its_typed_error(server: tuple[str, Recorder], package: ModuleType) -> None:
    url, _ = server
    models = sys.modules[package.__name__ + ".models"]
    with package.Client(url) as client, pytest.raises(package.NotFoundError) as caught:
        client.get_pet("missing")
    assert isinstance(caught.value, package.ApiError)
    assert caught.value.status == 404
    assert caught.value.body == models.ErrorModel(code=404, message="no such pet")
    assert caught.value.headers["content-type"] == "application/json"


def test_undocumented_status_raises_the_generic_api_error(server: tuple[str, Recorder], package: ModuleType) -> None:
    url, _ = server
    with package.Client(url) as client, pytest.raises(package.ApiError) as caught:
        client.get_pet("broken", retry=RetryPolicy(attempts=1))
    assert type(caught.value) is package.ApiError
    assert (caught.value.status, caught.value.body, caught.value.content) == (500, "boom", b"boom")


def test_response_not_matching_schema_names_the_field(server: tuple[str, Recorder], package: ModuleType) -> None:
    url, _ = server
    with package.Client(url) as client, pytest.raises(ResponseValidationError) as caught:
        client.get_pet("bad")
    assert "at id:" in str(caught.value)
    assert b"not a number" in caught.value.content


def test_query_header_and_cookie_serialization(server: tuple[str, Recorder], package: ModuleType) -> None:
    url, app = server
    with package.Client(url) as client:
        result = client.list_pets(x_trace="t-1", tags=["a", "b c"], ids=[1, 2], filter={"color": "red"}, session="s 1")
    assert result == []
    assert app.last["query"] == b"tags=a&tags=b+c&ids=1%2C2&filter%5Bcolor%5D=red"
    assert app.last["headers"]["x-trace"] == "t-1"
    assert app.last["headers"]["cookie"] == "session=s%201"


def test_json_body_by_alias_without_unset_fields(server: tuple[str, Recorder], package: ModuleType) -> None:
    url, app = server
    models = sys.modules[package.__name__ + ".models"]
    with package.Client(url) as client:
        detailed = client.create_pet_detailed(models.NewPet(name="Tom", class_="cat"))
    assert json.loads(app.last["body"]) == {"name": "Tom", "class": "cat"}
    assert app.last["headers"]["content-type"] == "application/json"
    assert (detailed.status, detailed.value.id, detailed.from_fallback) == (201, 1, False)
    assert len(detailed.attempts) == 1


def test_no_content_returns_none(server: tuple[str, Recorder], package: ModuleType) -> None:
    url, _ = server
    with package.Client(url) as client:
        assert client.delete_pet("1") is None
        assert client.delete_pet_detailed("1").status == 204


def test_discriminated_union_picks_the_variant(server: tuple[str, Recorder], package: ModuleType) -> None:
    url, _ = server
    models = sys.modules[package.__name__ + ".models"]
    with package.Client(url) as client:
        assert isinstance(client.get_animal("cat"), models.Cat)
        assert isinstance(client.get_animal("dog"), models.Dog)
        with pytest.raises(ResponseValidationError):
            client.get_animal("cow")


def test_multipart_upload_sends_files(server: tuple[str, Recorder], package: ModuleType) -> None:
    url, app = server
    models = sys.modules[package.__name__ + ".models"]
    with package.Client(url) as client:
        answer = client.upload(models.UploadRequest(file=b"\x00\x01binary", note="hi"))
    assert answer.startswith("multipart/form-data ")
    assert b'name="file"; filename="file"' in app.last["body"] and b"\x00\x01binary" in app.last["body"]
    assert b'name="note"' in app.last["body"]


def test_credentials_are_sent(server: tuple[str, Recorder], package: ModuleType) -> None:
    url, _ = server
    with package.Client(url, key="s3cret") as client:
        assert client.secure() == "s3cret"
    with package.Client(url) as client:
        assert client.secure() == "none"


def test_per_call_fallback_answers_for_a_server_error(server: tuple[str, Recorder], package: ModuleType) -> None:
    url, _ = server
    with package.Client(url) as client:
        detailed = client.get_pet_detailed(
            "broken", retry=RetryPolicy(attempts=1), fallback=FallbackPolicy(on=frozenset({"5XX"}), value=None)
        )
    assert (detailed.from_fallback, detailed.value, detailed.status) == (True, None, None)


@pytest.mark.anyio
async def test_async_client(server: tuple[str, Recorder], package: ModuleType) -> None:
    url, _ = server
    async with package.AsyncClient(url) as client:
        pet = await client.get_pet("async")
        assert pet.name == "async"
        with pytest.raises(package.NotFoundError):
            await client.get_pet("missing")


def test_form_and_binary_bodies(server: tuple[str, Recorder], package: ModuleType) -> None:
    url, app = server
    models = sys.modules[package.__name__ + ".models"]
    with package.Client(url) as client:
        assert client.send_form(models.SendFormRequest(name="a b", scores=[1, 2])) == "name=a+b&scores=1&scores=2"
        assert app.last["headers"]["content-type"] == "application/x-www-form-urlencoded"
        assert client.put_blob(b"\x00\xffraw") == b"\x00\xffraw"
        assert app.last["headers"]["content-type"] == "application/octet-stream"


def test_caller_supplied_httpx_client_keeps_credentials_and_stays_open(server: tuple[str, Recorder], package: ModuleType) -> None:
    url, _ = server
    with httpx.Client(base_url=url) as http:
        with package.Client(http=http, key="mine") as client:
            assert client.secure() == "mine"
        assert not http.is_closed  # the generated client closes only what it opened
