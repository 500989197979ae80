"""Deterministic synthetic OpenAPI 3.0 documents shaped like large real APIs (Stripe-sized).

Each *resource* contributes five operations (list, create, retrieve, update,
delete) and about a dozen schemas: the resource object with nested objects,
enums, nullable fields, arrays, maps (``additionalProperties``), "expandable"
fields written ``anyOf: [string, $ref]`` as Stripe does, a paginated list
wrapper, a create-request body, and a ``oneOf`` with a discriminator over
per-kind variants built with ``allOf``. Descriptions are long, list operations
have many query parameters.

    python benchmarks/synthetic.py --operations 450 --out /tmp/big.json   # ~4 MB
    python benchmarks/synthetic.py --operations 100 --out /tmp/mid.yaml

The same seed and size always give the same document.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

OPERATIONS_PER_RESOURCE = 5

_WORDS = (
    "account balance charge customer invoice payment refund transfer payout dispute session "
    "object identifier amount currency created metadata status description livemode request "
    "field value returned when the is a an of to for with this that may be null if set by "
    "default only expand response list page cursor limit starting ending before after"
).split()
_STATUSES = ("active", "pending", "canceled", "failed", "succeeded", "requires_action", "expired")
_SCALARS: tuple[dict[str, Any], ...] = (
    {"type": "string"},
    {"type": "string", "format": "date-time"},
    {"type": "integer", "format": "int64"},
    {"type": "number"},
    {"type": "boolean"},
    {"type": "string", "maxLength": 5000},
)


class _Maker:
    """Builds one document; all randomness comes from one seeded generator."""

    def __init__(self, seed: int, description_words: int) -> None:
        self.random = random.Random(seed)
        self.description_words = description_words
        self.schemas: dict[str, Any] = {}
        self.paths: dict[str, Any] = {}

    def text(self, words: int | None = None) -> str:
        count = words or self.random.randint(self.description_words // 2, self.description_words)
        sentence = " ".join(self.random.choice(_WORDS) for _ in range(count))
        return sentence.capitalize() + "."

    def scalar(self) -> dict[str, Any]:
        schema = dict(self.random.choice(_SCALARS))
        schema["description"] = self.text()
        if self.random.random() < 0.3:
            schema["nullable"] = True
        return schema

    def nested_object(self, depth: int) -> dict[str, Any]:
        properties: dict[str, Any] = {}
        for index in range(self.random.randint(3, 7)):
            if depth > 0 and index == 0:
                properties[f"detail_{depth}"] = self.nested_object(depth - 1)
            else:
                properties[f"field_{index}"] = self.scalar()
        return {
            "type": "object",
            "description": self.text(),
            "properties": properties,
            "required": sorted(properties)[:2],
            "nullable": self.random.random() < 0.4,
        }

    def resource(self, index: int, related: list[str]) -> None:
        name = f"resource_{index}"
        status = f"{name}_status"
        self.schemas[status] = {"type": "string", "enum": list(_STATUSES), "description": self.text()}
        kinds = [f"{name}_kind_{k}" for k in range(3)]
        base = f"{name}_method_base"
        self.schemas[base] = {
            "type": "object",
            "required": ["type"],
            "properties": {"type": {"type": "string"}, "created": {"type": "integer", "format": "int64"}},
        }
        for kind in kinds:
            self.schemas[kind] = {
                "allOf": [
                    {"$ref": f"#/components/schemas/{base}"},
                    {"type": "object", "properties": {"detail": self.nested_object(1), "code": self.scalar()}},
                ],
                "description": self.text(),
            }
        method = f"{name}_method"
        self.schemas[method] = {
            "oneOf": [{"$ref": f"#/components/schemas/{kind}"} for kind in kinds],
            "discriminator": {
                "propertyName": "type",
                "mapping": {kind.rsplit("_", 1)[-1]: f"#/components/schemas/{kind}" for kind in kinds},
            },
        }
        properties: dict[str, Any] = {
            "id": {"type": "string", "maxLength": 5000, "description": self.text()},
            "object": {"type": "string", "enum": [name], "description": self.text()},
            "status": {"$ref": f"#/components/schemas/{status}"},
            "metadata": {
                "type": "object",
                "additionalProperties": {"type": "string", "maxLength": 500},
                "description": self.text(),
            },
            "method": {"$ref": f"#/components/schemas/{method}"},
            "history": {"type": "array", "items": self.nested_object(1), "description": self.text()},
            "address": self.nested_object(2),
        }
        for other in related:
            properties[f"{other}_ref"] = {
                "anyOf": [{"type": "string", "maxLength": 5000}, {"$ref": f"#/components/schemas/{other}"}],
                "description": self.text(),
                "nullable": True,
                "x-expansionResources": {"oneOf": [{"$ref": f"#/components/schemas/{other}"}]},
            }
        for extra in range(self.random.randint(8, 14)):
            properties[f"attribute_{extra}"] = self.scalar()
        self.schemas[name] = {
            "type": "object",
            "title": name.replace("_", " ").title(),
            "description": self.text(self.description_words * 3),
            "properties": properties,
            "required": ["id", "object", "status", "metadata"],
            "x-resourceId": name,
        }
        for part in range(2):
            self.schemas[f"{name}_part_{part}"] = self.nested_object(2)
        self.schemas[f"{name}_list"] = {
            "type": "object",
            "required": ["data", "has_more", "object", "url"],
            "properties": {
                "data": {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}},
                "has_more": {"type": "boolean"},
                "object": {"type": "string", "enum": ["list"]},
                "url": {"type": "string", "maxLength": 5000, "pattern": "^/v1/"},
            },
        }
        self.schemas[f"{name}_create"] = {
            "type": "object",
            "required": ["status"],
            "properties": {
                "status": {"$ref": f"#/components/schemas/{status}"},
                "metadata": {"type": "object", "additionalProperties": {"type": "string"}},
                "method": {"$ref": f"#/components/schemas/{method}"},
                "part": {"$ref": f"#/components/schemas/{name}_part_0"},
                "limit": {"type": "integer", "default": 10, "minimum": 1, "maximum": 100},
            },
        }
        self.schemas[f"{name}_deleted"] = {
            "type": "object",
            "required": ["id", "deleted"],
            "properties": {"id": {"type": "string"}, "deleted": {"type": "boolean", "enum": [True]}},
        }
        self.operations(name)

    def operations(self, name: str) -> None:
        collection = f"/v1/{name}s"
        item = f"{collection}/{{id}}"
        id_parameter = {"name": "id", "in": "path", "required": True, "schema": {"type": "string", "maxLength": 5000}}
        body = {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{name}_create"}}}}
        self.paths[collection] = {
            "get": self.operation(f"list_{name}s", self.list_parameters(), None, f"{name}_list"),
            "post": self.operation(f"create_{name}", [], body, name),
        }
        self.paths[item] = {
            "parameters": [id_parameter],
            "get": self.operation(f"retrieve_{name}", [self.expand_parameter()], None, name),
            "post": self.operation(f"update_{name}", [], body, name),
            "delete": self.operation(f"delete_{name}", [], None, f"{name}_deleted"),
        }

    def list_parameters(self) -> list[dict[str, Any]]:
        parameters: list[dict[str, Any]] = [
            {"name": "limit", "in": "query", "schema": {"type": "integer", "default": 10, "minimum": 1}},
            {"name": "starting_after", "in": "query", "schema": {"type": "string", "maxLength": 5000}},
            {"name": "ending_before", "in": "query", "schema": {"type": "string", "maxLength": 5000}},
            {
                "name": "created",
                "in": "query",
                "style": "deepObject",
                "explode": True,
                "schema": {
                    "anyOf": [
                        {"type": "object", "properties": {b: {"type": "integer"} for b in ("gt", "gte", "lt", "lte")}},
                        {"type": "integer"},
                    ]
                },
            },
            {"name": "status", "in": "query", "schema": {"type": "string", "enum": list(_STATUSES)}},
            self.expand_parameter(),
        ]
        for index in range(self.random.randint(2, 6)):
            parameters.append(
                {"name": f"filter_{index}", "in": "query", "description": self.text(), "schema": self.scalar()}
            )
        return parameters

    def expand_parameter(self) -> dict[str, Any]:
        return {
            "name": "expand",
            "in": "query",
            "style": "deepObject",
            "explode": True,
            "description": "Specifies which fields in the response should be expanded.",
            "schema": {"type": "array", "items": {"type": "string", "maxLength": 5000}},
        }

    def operation(
        self, operation_id: str, parameters: list[dict[str, Any]], body: dict[str, Any] | None, returns: str
    ) -> dict[str, Any]:
        operation: dict[str, Any] = {
            "operationId": operation_id,
            "summary": self.text(6),
            "description": self.text(self.description_words * 2),
            "parameters": parameters,
            "responses": {
                "200": {
                    "description": "Successful response.",
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{returns}"}}},
                },
                "default": {
                    "description": "Error response.",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}},
                },
            },
        }
        if body is not None:
            operation["requestBody"] = body
        return operation


def build_spec(operations: int = 450, seed: int = 1, description_words: int = 30) -> dict[str, Any]:
    """A valid OpenAPI 3.0.3 document with about ``operations`` operations (a multiple of five)."""
    maker = _Maker(seed, description_words)
    maker.schemas["error"] = {
        "type": "object",
        "required": ["error"],
        "properties": {"error": maker.nested_object(1)},
    }
    resources = max(1, round(operations / OPERATIONS_PER_RESOURCE))
    for index in range(resources):
        # Expandable references point at resources made earlier, as real APIs' do.
        related = [f"resource_{other}" for other in sorted({maker.random.randrange(index) for _ in range(3)})] if index else []
        maker.resource(index, related)
    return {
        "openapi": "3.0.3",
        "info": {"title": "Synthetic API", "version": "2024.1.0", "description": maker.text(200)},
        "servers": [{"url": "https://api.example.invalid"}],
        "paths": maker.paths,
        "components": {
            "schemas": maker.schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }


def write_spec(spec: dict[str, Any], path: Path) -> None:
    """Write ``spec`` as YAML (``.yaml``/``.yml``) or JSON (anything else)."""
    if path.suffix.lower() in (".yaml", ".yml"):
        import yaml

        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        text = yaml.dump(spec, Dumper=dumper, sort_keys=False, allow_unicode=True, width=100)
    else:
        text = json.dumps(spec, indent=2)
    path.write_text(text, encoding="utf-8")


def count(spec: dict[str, Any]) -> tuple[int, int]:
    """(operations, component schemas) of a document made by :func:`build_spec`."""
    methods = ("get", "put", "post", "delete", "patch")
    operations = sum(1 for item in spec["paths"].values() for method in methods if method in item)
    return operations, len(spec["components"]["schemas"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--operations", type=int, default=450, help="how many operations (default 450)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--description-words", type=int, default=30, help="words in a description (default 30)")
    parser.add_argument("--out", type=Path, required=True, help="where to write (.json, .yaml or .yml)")
    args = parser.parse_args(argv)
    spec = build_spec(args.operations, args.seed, args.description_words)
    write_spec(spec, args.out)
    operations, schemas = count(spec)
    size = args.out.stat().st_size
    print(f"{args.out}: {size / 1e6:.2f} MB, {operations} operations, {schemas} schemas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
