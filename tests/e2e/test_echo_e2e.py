"""End to end: a generated package, installed into a fresh venv that holds only
the runtime, httpx and pydantic, calls a real server on loopback for every kind
of operation (path/query/header/cookie parameters, JSON, form, multipart and raw
bodies, typed and generic errors, credentials).
"""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from seawall.cli import main as seawall_main
from seawall.examples.server import serve_in_thread

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
pytestmark = pytest.mark.slow

# Runs inside the fresh venv: exercises the client and prints what it saw as JSON.
CLIENT_SCRIPT = r'''
import json, sys
import echo_lab
from echo_lab import Client, models
from echo_lab.errors import ApiError, NotFoundError, UnprocessableEntityError

out = {}
with Client(sys.argv[1], api_key="k-123", bearer="t-456") as client:
    echo = client.echo_parameters(
        "../admin?x=1", tags=["a", "b c"], ids=[1, 2, 3], limit=5,
        x_trace="trace-1", session="s-1",
    )
    out["echo"] = echo.model_dump()
    item = client.create_item(
        models.NewItem(name="lamp", price=1299, colour=models.NewItemColour.RED,
                       class_="premium")
    )
    out["item"] = item.model_dump(by_alias=True)
    try:
        client.create_item(models.NewItem(name="bad", price=-1))
    except UnprocessableEntityError as error:
        out["unprocessable"] = {"status": error.status, "title": error.body.title,
                                "field": error.body.field}
    out["deleted"] = client.delete_item(item.id)
    try:
        client.delete_item(item.id)
    except NotFoundError as error:
        out["not_found"] = {"status": error.status, "title": error.body.title}
    form = client.submit_form(models.SubmitFormRequest(name="ada", count=3))
    out["form"] = form.form
    upload = client.upload_file(models.UploadFileRequest(file=b"\x00\x01binary", note="n1"))
    out["upload"] = upload.model_dump()
    out["put_blob"] = client.put_blob("blob-1", b"\xff\xfe raw")
    out["get_blob"] = client.get_blob("blob-1").hex()
    out["secure"] = client.who_am_i().headers.get("authorization")
    try:
        client.brew_coffee()
    except ApiError as error:
        out["teapot"] = {"status": error.status, "type": type(error).__name__,
                         "content": error.content.decode()}
print(json.dumps(out))
'''


@pytest.fixture(scope="module")
def echo_server() -> Iterator[str]:
    sys.path.insert(0, str(HERE))
    from echo_server import app

    with serve_in_thread(app, name="echo-server") as url:
        yield url


def _run(*command: str | Path) -> str:
    completed = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, timeout=600
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    return completed.stdout


@pytest.fixture(scope="module")
def client_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("e2e")
    assert seawall_main(["generate", str(HERE / "echo.yaml"), "--out", str(root / "echo")]) == 0
    venv.EnvBuilder(with_pip=True).create(root / "venv")
    python = root / "venv" / "bin" / "python"
    _run(python, "-m", "pip", "install", "--quiet", str(REPO / "runtime"))
    _run(python, "-m", "pip", "install", "--quiet", str(root / "echo"))
    return python


def test_generated_package_depends_only_on_runtime_httpx_pydantic(client_python: Path) -> None:
    installed = _run(client_python, "-m", "pip", "list", "--format=freeze").lower()
    names = {line.split("==")[0] for line in installed.split()}
    assert {"echo-lab", "seawall-runtime", "httpx", "pydantic"} <= names
    for absent in ("jinja2", "black", "openapi-spec-validator", "seawall"):
        assert absent not in names, f"{absent} is installed in the client venv"
    requires = _run(
        client_python, "-c",
        "import importlib.metadata as m; print('\\n'.join(m.requires('echo-lab')))",
    ).split("\n")
    assert sorted(r.split(">")[0].split("=")[0].strip() for r in requires if r) == [
        "httpx", "pydantic", "seawall-runtime"
    ]


def test_every_operation_kind_against_a_real_server(client_python: Path, echo_server: str) -> None:
    out = json.loads(_run(client_python, "-c", CLIENT_SCRIPT, echo_server))

    echo = out["echo"]
    # The hostile path value stays inside one segment; nothing reaches the query.
    assert echo["path"] == "/echo/..%2Fadmin%3Fx%3D1"
    assert echo["query"] == "tags=a&tags=b+c&ids=1%2C2%2C3&limit=5"
    assert echo["headers"]["x-trace"] == "trace-1"
    assert echo["headers"]["x-api-key"] == "k-123"
    assert echo["cookies"] == {"session": "s-1"}

    assert out["item"] == {
        "name": "lamp", "price": 1299, "colour": "red", "tags": None,
        "class": "premium", "id": "item-1",
    }
    assert out["unprocessable"] == {"status": 422, "title": "price must not be negative",
                                    "field": "price"}
    assert out["deleted"] is None
    assert out["not_found"] == {"status": 404, "title": "no such item"}
    assert out["form"] == {"name": "ada", "count": "3"}
    assert out["upload"]["size"] == len(b"\x00\x01binary") and out["upload"]["note"] == "n1"
    assert out["put_blob"] is None
    assert out["get_blob"] == b"\xff\xfe raw".hex()
    assert out["secure"] == "Bearer t-456"
    assert out["teapot"] == {"status": 418, "type": "ApiError", "content": "I'm a teapot"}
