"""The OpenAPI checks a JSON Schema cannot express, each placed at the node it concerns.

These are openapi-spec-validator's keyword checks (same rules, same messages)
run over plain data instead of its path objects, which made them take seconds:
every Schema Object reached from a parameter, a response or
``components/schemas`` is checked against the OpenAPI schema dialect, defaults
must fit their schema, an ``allOf`` schema may only require properties some
part defines; parameters must not repeat and path templates must match path
parameters; tag names must be unique. (Duplicate operationIds are checked in
:mod:`seawall.validate`, which names both places.)
"""

from __future__ import annotations

import string
from collections.abc import Iterator
from typing import Any, cast

from seawall import validate_engines
from seawall.diagnostics import Diagnostic, join_pointer
from seawall.resolve import Spec, ref_pointer

_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_OAS31_BASE_DIALECT = "https://spec.openapis.org/oas/3.1/dialect/base"


def keyword_problems(spec: Spec) -> Iterator[Diagnostic]:
    """Every keyword problem of ``spec``, in document order (tags, paths, components)."""
    return _Checker(spec).run()


class _Checker:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.version = spec.version
        self.document = spec.document
        # Schemas are shared through refs: check each one once (by identity, as the library does).
        self.meta_checked: set[int] = set()
        self.visited: set[int] = set()
        self._values: Any = None

    def run(self) -> Iterator[Diagnostic]:
        tags = self.document.get("tags")
        if isinstance(tags, list):
            yield from self.tags(tags)
        for url, path_item in _mapping(self.document, "paths").items():
            path_item, pointer = self.deref(path_item, join_pointer("/paths", url))
            if isinstance(path_item, dict):
                yield from self.path_item(url, path_item, pointer)
        for name, schema in _mapping(_mapping(self.document, "components"), "schemas").items():
            yield from self.schema(schema, join_pointer("/components/schemas", name), root=True)

    def problem(self, message: str, pointer: str) -> Diagnostic:
        return Diagnostic(message, self.spec.locate(pointer))

    def deref(self, value: Any, pointer: str) -> tuple[Any, str]:
        """Follow ``$ref``s (all local after resolving) to the value and its pointer."""
        seen: set[str] = set()
        while isinstance(value, dict) and isinstance(value.get("$ref"), str) and value["$ref"].startswith("#"):
            ref = value["$ref"]
            if ref in seen:
                break
            seen.add(ref)
            try:
                value, pointer = self.spec.follow(ref), ref_pointer(ref)
            except KeyError:
                break
        return value, pointer

    # ------------------------------------------------------------ structure

    def tags(self, tags: list[Any]) -> Iterator[Diagnostic]:
        seen: set[str] = set()
        for index, tag in enumerate(tags):
            name = tag.get("name") if isinstance(tag, dict) else None
            if not isinstance(name, str):
                continue
            if name in seen:
                yield self.problem(f"Duplicate tag name '{name}'", join_pointer("/tags", index, "name"))
            seen.add(name)

    def path_item(self, url: str, item: dict[str, Any], pointer: str) -> Iterator[Diagnostic]:
        shared = item.get("parameters")
        shared_pointer = join_pointer(pointer, "parameters")
        if isinstance(shared, list):
            yield from self.parameters(shared, shared_pointer)
        for method in item:
            operation, operation_pointer = self.deref(item[method], join_pointer(pointer, method))
            if method in _HTTP_METHODS and isinstance(operation, dict):
                yield from self.operation(url, method, operation, operation_pointer, shared, shared_pointer)

    def operation(
        self, url: str, method: str, operation: dict[str, Any], pointer: str, shared: Any, shared_pointer: str
    ) -> Iterator[Diagnostic]:
        for code, response in _mapping(operation, "responses").items():
            response, response_pointer = self.deref(response, join_pointer(pointer, "responses", code))
            yield from self.response(response, response_pointer)
        names: set[str] = set()
        own = operation.get("parameters")
        if isinstance(own, list):
            yield from self.parameters(own, join_pointer(pointer, "parameters"))
            names |= self.path_parameter_names(own, join_pointer(pointer, "parameters"))
        if isinstance(shared, list):
            names |= self.path_parameter_names(shared, shared_pointer)
        try:
            in_url = {field for _, field, _, _ in string.Formatter().parse(url) if field}
        except ValueError:  # unbalanced braces: the template itself is reported elsewhere
            return
        for name in sorted(in_url - names) + sorted(names - in_url):
            message = f"Path parameter '{name}' for '{method}' operation in '{url}' was not resolved"
            yield self.problem(message, pointer)

    def path_parameter_names(self, parameters: list[Any], pointer: str) -> set[str]:
        names = set()
        for index, parameter in enumerate(parameters):
            parameter, _ = self.deref(parameter, join_pointer(pointer, index))
            if isinstance(parameter, dict) and parameter.get("in") == "path" and isinstance(parameter.get("name"), str):
                names.add(parameter["name"])
        return names

    def parameters(self, parameters: list[Any], pointer: str) -> Iterator[Diagnostic]:
        seen: set[tuple[Any, Any]] = set()
        for index, parameter in enumerate(parameters):
            parameter, parameter_pointer = self.deref(parameter, join_pointer(pointer, index))
            if not isinstance(parameter, dict):
                continue
            if "schema" in parameter:
                yield from self.schema(parameter["schema"], join_pointer(parameter_pointer, "schema"), root=True)
            if self.version == "2.0" and "default" in parameter:
                yield from self.default(parameter, parameter["default"], parameter_pointer)
            key = (parameter.get("name"), parameter.get("in"))
            if key in seen:
                yield self.problem(f"Duplicate parameter '{key[0]}'", parameter_pointer)
            seen.add(key)

    def response(self, response: Any, pointer: str) -> Iterator[Diagnostic]:
        if not isinstance(response, dict):
            return
        if self.version == "2.0":
            if "schema" in response:
                yield from self.schema(response["schema"], join_pointer(pointer, "schema"), root=True)
            return
        for media_type, media in _mapping(response, "content").items():
            media, media_pointer = self.deref(media, join_pointer(pointer, "content", media_type))
            if isinstance(media, dict) and "schema" in media:
                yield from self.schema(media["schema"], join_pointer(media_pointer, "schema"), root=True)

    # ------------------------------------------------------------ Schema Objects

    def schema(self, value: Any, pointer: str, *, root: bool) -> Iterator[Diagnostic]:
        schema, pointer = self.deref(value, pointer)
        if not isinstance(schema, (dict, bool)):
            yield self.problem(f"{schema!r} is not of type 'object', 'boolean'", pointer)
            return
        if root and id(schema) not in self.meta_checked:
            self.meta_checked.add(id(schema))
            message = self.meta_problem(schema)
            if message is not None:
                yield self.problem(message, pointer)
                return
        if id(schema) in self.visited or isinstance(schema, bool):
            return
        self.visited.add(id(schema))
        nested: set[str] = set()
        for keyword in ("allOf", "anyOf", "oneOf"):
            for index, part in enumerate(_list(schema, keyword)):
                yield from self.schema(part, join_pointer(pointer, keyword, index), root=False)
                if keyword == "allOf":
                    nested |= self.property_names(part, set())
        for keyword in ("not", "items"):
            if keyword in schema:
                yield from self.schema(schema[keyword], join_pointer(pointer, keyword), root=False)
        properties = _mapping(schema, "properties")
        for name, property_schema in properties.items():
            yield from self.schema(property_schema, join_pointer(pointer, "properties", name), root=False)
        required = schema.get("required")
        if root and "allOf" in schema and isinstance(required, list):
            undefined = sorted(str(name) for name in set(required) - set(properties) - nested)
            if undefined:
                yield self.problem(f"Required list has not defined properties: {undefined}", pointer)
        if "default" in schema and (schema["default"] is not None or schema.get("nullable") is not True):
            yield from self.default(schema, schema["default"], pointer)

    def property_names(self, value: Any, seen: set[int]) -> set[str]:
        """Every property name a schema and its parts (through refs) define."""
        schema, _ = self.deref(value, "")
        if not isinstance(schema, dict) or id(schema) in seen:
            return set()
        seen.add(id(schema))
        names = set(_mapping(schema, "properties"))
        for keyword in ("allOf", "anyOf", "oneOf"):
            for part in _list(schema, keyword):
                names |= self.property_names(part, seen)
        for keyword in ("items", "not"):
            if keyword in schema:
                names |= self.property_names(schema[keyword], seen)
        return names

    def meta_problem(self, schema: dict[str, Any] | bool) -> str | None:
        """The first error of ``schema`` against its dialect's meta-schema, or None."""
        dialect = self.dialect(schema)
        if dialect is not None and dialect != _OAS31_BASE_DIALECT:
            return _other_dialect_problem(dialect, schema)
        fast = validate_engines.fast_meta_check(self.version)
        if fast is not None and fast.is_valid(schema):
            return None
        error = next(validate_engines.meta_validator(self.version).iter_errors(schema), None)
        return None if error is None else str(error.message)

    def dialect(self, schema: dict[str, Any] | bool) -> str | None:
        if self.version != "3.1":
            return None
        if isinstance(schema, dict) and "$schema" in schema:
            return str(schema["$schema"]) if isinstance(schema["$schema"], str) else repr(schema["$schema"])
        chosen = self.document.get("jsonSchemaDialect")
        return chosen if isinstance(chosen, str) else None

    def default(self, schema: Any, value: Any, pointer: str) -> Iterator[Diagnostic]:
        """Problems of a default value, placed at the schema (or 2.0 parameter) that holds it."""
        if _plainly_valid(schema, value):
            return
        if self._values is None:
            self._values = validate_engines.value_validator(self.version, self.document)
        for error in self._values.evolve(schema=schema).iter_errors(value):
            yield self.problem(str(error.message), pointer)


# Keywords that either constrain nothing or that _plainly_valid checks itself.
_PLAIN_KEYWORDS = frozenset(
    {"default", "type", "enum", "minimum", "maximum", "description", "title", "example", "deprecated", "readOnly", "writeOnly"}
)
_PLAIN_TYPES: dict[str, tuple[type, ...]] = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,)}


def _plainly_valid(schema: Any, value: Any) -> bool:
    """A default that plainly fits a simple schema (a scalar type, an enum, bounds).

    Most defaults are of this kind, and checking them here spares loading the
    OpenAPI validator (a third of a second). Anything less plain (refs,
    composition, formats, nullable) returns False and gets the full check;
    so does anything in doubt: True is only ever a certain answer.
    """
    if not isinstance(schema, dict) or not all(k in _PLAIN_KEYWORDS or k.startswith("x-") for k in schema):
        return False
    declared = schema.get("type")
    allowed = _PLAIN_TYPES.get(declared) if isinstance(declared, str) else None
    if allowed is None or isinstance(value, bool) != (allowed == (bool,)) or not isinstance(value, allowed):
        return False
    enum = schema.get("enum")
    if enum is not None and not (isinstance(enum, list) and any(type(item) is type(value) and item == value for item in enum)):
        return False
    minimum, maximum = schema.get("minimum"), schema.get("maximum")
    for limit in (minimum, maximum):
        if limit is not None and (isinstance(value, str) or isinstance(limit, bool) or not isinstance(limit, (int, float))):
            return False
    return (minimum is None or value >= minimum) and (maximum is None or value <= maximum)


def _other_dialect_problem(dialect: str, schema: dict[str, Any] | bool) -> str | None:
    """Meta-check a 3.1 schema written in a dialect other than OpenAPI's own."""
    from jsonschema.exceptions import SchemaError
    from jsonschema.validators import validator_for

    validator_class: Any = validator_for({"$schema": dialect}, default=cast(Any, None))
    if validator_class is None:
        return f"Unknown JSON Schema dialect: {dialect!r}"
    try:
        validator_class.check_schema(schema)
    except SchemaError as error:
        return str(error.message)
    return None


def _mapping(data: Any, key: str) -> dict[str, Any]:
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def _list(data: dict[str, Any], key: str) -> list[Any]:
    value = data.get(key)
    return value if isinstance(value, list) else []
