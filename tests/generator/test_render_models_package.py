"""Large specs: ``models/`` is a package of modules, loaded name by name.

A synthetic spec with more definitions than the threshold (a ring of models
larger than a module, a model that names definitions in other modules) goes
through the pipeline; the package must import lazily, validate payloads that
cross modules, and pass ``mypy --strict``, user code included.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_render_client import Recorder, generate_package, import_generated

from seawall import ir
from seawall.examples.server import serve_in_thread
from seawall.render import MODELS_MODULE_SIZE, MODELS_PACKAGE_THRESHOLD, model_modules

REPO = Path(__file__).resolve().parents[2]
RING = MODELS_MODULE_SIZE + 5  # a recursive group larger than one module
ITEMS = MODELS_PACKAGE_THRESHOLD  # leaf models no operation names


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def many_schemas_spec() -> dict[str, Any]:
    schemas: dict[str, Any] = {"Color": {"type": "string", "enum": ["red", "green"]}}
    schemas["Palette"] = {"type": "array", "items": _ref("Color")}  # an alias
    for number in range(ITEMS):
        schemas[f"Item{number:03d}"] = {
            "type": "object",
            "required": ["id"],
            "properties": {"id": {"type": "integer"}, "color": _ref("Color")},
        }
    for number in range(RING):
        schemas[f"Ring{number:02d}"] = {
            "type": "object",
            "required": ["depth"],
            "properties": {"depth": {"type": "integer"}, "next": _ref(f"Ring{(number + 1) % RING:02d}")},
        }
    schemas["Order"] = {
        "type": "object",
        "required": ["item", "ring"],
        "properties": {
            "item": _ref(f"Item{ITEMS - 1:03d}"),
            "ring": _ref("Ring00"),
            "palette": {"allOf": [_ref("Palette")], "default": ["red"]},
        },
    }
    return {
        "openapi": "3.0.3",
        "info": {"title": "Many Schemas", "version": "1.0.0"},
        "paths": {
            "/orders": {
                "post": {
                    "operationId": "createOrder",
                    "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("Order")}}},
                    "responses": {"201": {"description": "ok", "content": {"application/json": {"schema": _ref("Order")}}}},
                }
            },
            "/orders/{id}": {
                "get": {
                    "operationId": "getOrder",
                    "parameters": [{"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}],
                    "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": _ref("Order")}}}},
                }
            }
        },
        "components": {"schemas": schemas},
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    directory = tmp_path_factory.mktemp("many")
    return directory, generate_package(many_schemas_spec(), directory)


def _parts(directory: Path, name: str) -> dict[str, ast.Module]:
    folder = directory / "out" / name / "models"
    return {path.stem: ast.parse(path.read_text()) for path in sorted(folder.glob("_part_*.py"))}


def _defined(module: ast.Module) -> set[str]:
    names = {node.name for node in module.body if isinstance(node, ast.ClassDef)}
    return names | {n.target.id for n in module.body if isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name)}


def test_a_large_spec_gets_a_package_of_bounded_modules(generated: tuple[Path, str]) -> None:
    directory, name = generated
    assert not (directory / "out" / name / "models.py").exists()
    parts = _parts(directory, name)
    defined = {part: _defined(module) for part, module in parts.items()}
    everything = set().union(*defined.values())
    assert len(everything) == sum(map(len, defined.values())) == 1 + 1 + ITEMS + RING + 1
    ring = {f"Ring{number:02d}" for number in range(RING)}
    assert any(ring <= names for names in defined.values()), "a recursive group is split"
    assert all(len(names) <= MODELS_MODULE_SIZE for names in defined.values() if not ring <= names)


def test_parts_import_only_earlier_parts(generated: tuple[Path, str]) -> None:
    directory, name = generated
    parts = _parts(directory, name)
    order = list(parts)
    for position, (part, module) in enumerate(parts.items()):
        for node in module.body:
            if isinstance(node, ast.ImportFrom) and node.level == 1:
                assert node.module in order[:position], f"{part} imports {node.module}"


def test_names_load_on_first_use_and_validate_across_modules(generated: tuple[Path, str]) -> None:
    directory, name = generated
    import_generated(directory, name)
    models = sys.modules[name + ".models"]
    payload: dict[str, Any] = {"depth": RING - 1}
    for depth in reversed(range(RING - 1)):
        payload = {"depth": depth, "next": payload}
    order = models.Order.model_validate(
        {"item": {"id": 7, "color": "green"}, "ring": payload, "palette": ["green"]}
    )
    assert isinstance(order.item, models.Item149) and order.item.color is models.Color.GREEN
    node = order.ring
    for depth in range(RING - 1):
        assert node.depth == depth
        node = node.next
    assert isinstance(node, models.Ring44) and node.next is None
    assert order.palette == [models.Color.GREEN]
    defaulted = models.Order.model_validate({"item": {"id": 1}, "ring": {"depth": 0}})
    assert defaulted.palette == [models.Color.RED]  # the default names an enum two modules away
    assert models.Item000(id=1).id == 1  # a part nothing had loaded
    assert "Item000" in dir(models) and "Item000" in models.__all__
    with pytest.raises(AttributeError, match="has no attribute 'Nope'"):
        models.Nope


def test_importing_the_client_loads_no_model_module(generated: tuple[Path, str]) -> None:
    directory, name = generated
    code = (
        "import sys\n"
        f"import {name}.client, {name}.models\n"
        f"parts = lambda: sorted(m for m in sys.modules if m.startswith('{name}.models._'))\n"
        "print(parts())\n"
        f"from {name}.models import Order\n"
        "print(parts())\n"
    )
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(directory / "out"), str(REPO / "runtime")])}
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=environment, timeout=120)
    assert completed.returncode == 0, completed.stderr
    before, after = (ast.literal_eval(line) for line in completed.stdout.splitlines())
    assert before == []
    assert 0 < len(after) < len(_parts(directory, name)), "Order needs some parts, not the unrelated items"


def test_mypy_strict_sees_every_name_and_rejects_unknown_ones(generated: tuple[Path, str]) -> None:
    directory, name = generated
    user = directory / "out" / "user_code.py"
    user.write_text(
        f"from {name} import models\n"
        f"from {name}.models import Order, Ring02\n\n"
        "order: Order = Order.model_validate({})\n"
        "ring: Ring02 | None = order.ring.next.next if order.ring.next else None\n"
        "color: models.Color = models.Item000(id=1).color or models.Color.RED\n"
        "models.Nope\n"
    )
    environment = {**os.environ, "MYPYPATH": os.pathsep.join([str(directory / "out"), str(REPO / "runtime")])}
    completed = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--no-error-summary", "--cache-dir", str(directory / ".mypy_cache"),
         "-p", name, "-m", "user_code"],
        capture_output=True, text=True, env=environment, cwd=directory / "out", timeout=600,
    )  # fmt: skip
    errors = [line for line in completed.stdout.splitlines() if ": error:" in line]
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert len(errors) == 1 and "user_code.py:7:" in errors[0] and '"Nope"' in errors[0], completed.stdout


def _model(name: str, *references: str) -> ir.ModelDef:
    fields = tuple(
        ir.Field(name=f"f{number}", wire_name=f"f{number}", type=ir.NamedType(target), required=False)
        for number, target in enumerate(references)
    )
    return ir.ModelDef(name=name, pointer=f"#/components/schemas/{name}", fields=fields)


def test_modules_keep_cycles_whole_and_follow_dependencies() -> None:
    definitions: dict[str, ir.Definition] = {
        "A": _model("A", "B"),
        "B": _model("B", "C"),
        "C": _model("C", "A", "D"),  # A → B → C → A
        "D": _model("D"),
        "E": _model("E", "D"),
    }
    modules = model_modules(definitions, size=2)
    assert modules == [["D"], ["A", "B", "C"], ["E"]]


def test_a_long_reference_chain_needs_no_recursion() -> None:
    count = sys.getrecursionlimit() * 2
    definitions: dict[str, ir.Definition] = {
        f"M{number:05d}": _model(f"M{number:05d}", f"M{number + 1:05d}") for number in range(count)
    }
    modules = model_modules(definitions, size=1000)
    flat = [name for module in modules for name in module]
    assert flat == sorted(definitions, reverse=True)  # each after the one it names
    assert all(len(module) == 1000 for module in modules[:-1])


class OrderService(Recorder):
    """POST answers 201 with the body it got; GET answers 200 with a two-step ring."""

    def answer(self, method: str, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str, bytes]:
        if method == "POST":
            return 201, "application/json", body
        order = {"item": {"id": 3}, "ring": {"depth": 0, "next": {"depth": 1}}}
        return 200, "application/json", json.dumps(order).encode()


@pytest.fixture(scope="module")
def echo_server() -> Iterator[str]:
    with serve_in_thread(OrderService(), name="order-service") as url:
        yield url


def test_endpoints_load_their_models_when_first_called(generated: tuple[Path, str], echo_server: str) -> None:
    directory, name = generated
    package = import_generated(directory, name)
    models = sys.modules[name + ".models"]
    endpoints = sys.modules[name + "._endpoints"]
    assert "Deferred(lambda: models.Order)" in (directory / "out" / name / "_endpoints.py").read_text()
    with package.Client(echo_server) as client:
        fetched = client.get_order(5)
        assert isinstance(fetched, models.Order) and isinstance(fetched.ring.next, models.Ring01)
        sent = models.Order(item=models.Item149(id=1, color=models.Color.RED), ring=models.Ring00(depth=0))
        created = client.create_order(sent)
    assert created == sent and isinstance(created.item, models.Item149)
    assert endpoints.CREATE_ORDER.body.annotation.resolve() is models.Order


@pytest.mark.slow
def test_the_wheel_holds_the_models_package(generated: tuple[Path, str], tmp_path: Path) -> None:
    directory, name = generated
    completed = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp_path), str(directory / "out")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packed = {Path(entry).as_posix() for entry in archive.namelist()}
    written = {path.relative_to(directory / "out").as_posix() for path in (directory / "out" / name).rglob("*.py")}
    assert f"{name}/models/_part_1.py" in written and written <= packed
