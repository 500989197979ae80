"""JSON Schemas (OpenAPI 3.0 and 3.1 dialects) → IR types and definitions.

Every component schema becomes a named definition; inline objects and enums
become definitions named after where they appear (``Pet`` + ``owner`` →
``PetOwner``). Definitions are keyed by the JSON pointer of their schema, so a
schema reached twice (or recursively) is built once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Literal
from urllib.parse import unquote

from seawall import ir
from seawall.diagnostics import join_pointer
from seawall.load import split_pointer
from seawall.naming import Namer, class_name, constant_name, variable_name

_STRING_FORMATS: dict[str, ir.PrimitiveKind] = {
    "date-time": "datetime",
    "date": "date",
    "time": "time",
    "uuid": "uuid",
    "binary": "bytes",
    "byte": "base64",
}
_PRIMITIVES: dict[str, ir.PrimitiveKind] = {
    "string": "str",
    "integer": "int",
    "number": "float",
    "boolean": "bool",
    "null": "none",
}
_ANY = ir.Primitive("any")
_NONE = ir.Primitive("none")


class Unsupported(Exception):
    """A construct the generator cannot turn into code, at ``pointer``."""

    def __init__(self, message: str, pointer: str) -> None:
        super().__init__(message)
        self.message = message
        self.pointer = pointer


Resolve = Callable[[str], Any]


def pointer_of_ref(ref: object, where: str) -> str:
    """The JSON pointer of a local ``$ref`` (the resolve stage made them all local)."""
    if not isinstance(ref, str) or not ref.startswith("#"):
        raise Unsupported(f"$ref {ref!r} is not a local reference", where)
    return unquote(ref[1:])


class SchemaBuilder:
    """Turns schemas into :mod:`seawall.ir` types, collecting definitions."""

    def __init__(self, resolve: Resolve, reserved_names: frozenset[str] = frozenset()) -> None:
        self._resolve = resolve
        self._class_names = Namer(set(reserved_names))
        self._names: dict[str, str] = {}  # schema pointer → definition name
        self._pointers: dict[str, str] = {}  # definition name → schema pointer
        self.definitions: dict[str, ir.Definition] = {}
        self._pending: list[str] = []  # pointers named but not built yet

    # --- named schemas --------------------------------------------------------

    def declare_components(self, schemas: Mapping[str, Any]) -> None:
        """Reserve the names of component schemas first so they get the plain names."""
        for key in sorted(schemas):
            pointer = join_pointer("/components/schemas", key)
            self._name(pointer, class_name(key))

    def build_named(self, pointer: str) -> str:
        """The definition name for the schema at ``pointer``; it is built later.

        Building is a worklist (:meth:`build_pending`), not recursion, so long
        chains of references cannot exhaust the stack, and cycles need no care.
        """
        name = self._names.get(pointer)
        if name is None:
            name = self._name(pointer, class_name(_last_token(pointer)))
        return name

    def build_pending(self, on_error: Callable[[str, str, Unsupported], None]) -> None:
        """Build every named schema not built yet; ``on_error(name, pointer, problem)``
        is told about each one that cannot be (it becomes ``Any``)."""
        while self._pending:
            pointer = self._pending.pop()
            name = self._names[pointer]
            if name in self.definitions:
                continue
            try:
                self.definitions[name] = self._definition(self._resolve(pointer), pointer, name)
            except Unsupported as problem:
                on_error(name, pointer, problem)
                self.definitions[name] = ir.AliasDef(name=name, pointer=pointer, type=_ANY)

    def _name(self, pointer: str, candidate: str) -> str:
        name = self._class_names.claim(candidate, separator="")
        self._names[pointer] = name
        self._pointers[name] = pointer
        self._pending.append(pointer)
        return name

    def _definition(self, schema: Any, pointer: str, name: str) -> ir.Definition:
        description = _description(schema)
        if isinstance(schema, dict):
            if _is_object_model(schema) and not _is_union(schema):
                return self._model(schema, pointer, name)
            enum = self._enum(schema, pointer, name)
            if enum is not None:
                return enum
        type_ = self.type_of(schema, pointer, name, top_level=True)
        return ir.AliasDef(name=name, pointer=pointer, type=type_, description=description)

    def _inline(self, schema: dict[str, Any], pointer: str, hint: str) -> ir.NamedType:
        """An inline object or enum becomes a definition named from ``hint``."""
        if pointer not in self._names:
            self._name(pointer, class_name(hint))
        return ir.NamedType(self.build_named(pointer))

    # --- types ------------------------------------------------------------------

    def type_of(
        self, schema: Any, pointer: str, hint: str, *, top_level: bool = False
    ) -> ir.TypeRef:
        """The IR type of ``schema`` (at ``pointer``); inline names start with ``hint``."""
        if not isinstance(schema, dict):
            return _ANY  # `true`, `{}`-like or malformed: anything goes
        if "$ref" in schema:
            target = pointer_of_ref(schema["$ref"], join_pointer(pointer, "$ref"))
            type_: ir.TypeRef = ir.NamedType(self.build_named(target))
            return ir.Nullable(type_) if schema.get("nullable") is True else type_
        nullable = _is_nullable(schema)
        type_ = self._non_null_type(schema, pointer, hint, top_level)
        if nullable and not isinstance(type_, ir.Nullable) and type_ not in (_NONE, _ANY):
            return ir.Nullable(type_)
        return type_

    def _non_null_type(
        self, schema: dict[str, Any], pointer: str, hint: str, top_level: bool
    ) -> ir.TypeRef:
        if "const" in schema:
            return _literal([schema["const"]])
        if isinstance(schema.get("enum"), list):
            values = [value for value in schema["enum"] if value is not None]
            if not values:
                return _NONE
            if top_level or _enum_kind(values) is None:
                return _literal(values)
            return self._inline(schema, pointer, hint)
        if _is_union(schema) and not schema.get("properties"):
            return self._union(schema, pointer, hint)
        if isinstance(schema.get("allOf"), list):
            if _is_object_model(schema):
                return self._inline(schema, pointer, hint) if not top_level else _ANY
            index = _single_allof_part(schema)
            if index is None:
                raise Unsupported("allOf of non-object schemas", join_pointer(pointer, "allOf"))
            part = schema["allOf"][index]
            return self.type_of(part, join_pointer(pointer, "allOf", index), hint)
        types = _types(schema)
        if len(types) > 1:
            options = tuple(
                self._typed(schema, kind, pointer, hint, top_level) for kind in types
            )
            return ir.UnionOf(options)
        return self._typed(schema, types[0] if types else None, pointer, hint, top_level)

    def _typed(
        self, schema: dict[str, Any], kind: str | None, pointer: str, hint: str, top_level: bool
    ) -> ir.TypeRef:
        if kind is None:
            if _is_object_model(schema) or "additionalProperties" in schema:
                kind = "object"
            elif "items" in schema or "prefixItems" in schema:
                kind = "array"
            else:
                return _ANY
        if kind == "array":
            return self._array(schema, pointer, hint)
        if kind == "object":
            if _is_object_model(schema):
                return self._inline(schema, pointer, hint) if not top_level else _ANY
            extra = schema.get("additionalProperties", True)
            if isinstance(extra, dict):
                value = self.type_of(
                    extra, join_pointer(pointer, "additionalProperties"), hint + "Value"
                )
                return ir.MapOf(value)
            return ir.MapOf(_ANY)
        if kind == "string":
            fmt = schema.get("format")
            if schema.get("contentEncoding") == "base64":
                return ir.Primitive("base64")
            if isinstance(fmt, str) and fmt in _STRING_FORMATS:
                return ir.Primitive(_STRING_FORMATS[fmt])
            return ir.Primitive("str")
        if kind in _PRIMITIVES:
            return ir.Primitive(_PRIMITIVES[kind])
        raise Unsupported(f"unknown schema type {kind!r}", join_pointer(pointer, "type"))

    def _array(self, schema: dict[str, Any], pointer: str, hint: str) -> ir.TypeRef:
        prefix = schema.get("prefixItems")
        if isinstance(prefix, list) and prefix:
            return ir.TupleOf(
                tuple(
                    self.type_of(item, join_pointer(pointer, "prefixItems", index), hint + "Item")
                    for index, item in enumerate(prefix)
                )
            )
        items = schema.get("items", {})
        return ir.ListOf(self.type_of(items, join_pointer(pointer, "items"), hint + "Item"))

    def _union(self, schema: dict[str, Any], pointer: str, hint: str) -> ir.TypeRef:
        keyword = "oneOf" if isinstance(schema.get("oneOf"), list) else "anyOf"
        options: list[ir.TypeRef] = []
        nullable = False
        for index, option in enumerate(schema[keyword]):
            option_pointer = join_pointer(pointer, keyword, index)
            type_ = self.type_of(option, option_pointer, f"{hint}Option{index + 1}")
            if isinstance(type_, ir.Nullable):
                nullable, type_ = True, type_.inner
            if type_ == _NONE:
                nullable = True
            elif type_ == _ANY:
                return _ANY
            elif type_ not in options:
                options.append(type_)
        result: ir.TypeRef
        if not options:
            result = _NONE
        elif len(options) == 1:
            result = options[0]
        else:
            discriminator = self._discriminator(schema, pointer, options)
            result = ir.UnionOf(tuple(options), discriminator)
        return ir.Nullable(result) if nullable and result != _NONE else result

    def _discriminator(
        self, schema: dict[str, Any], pointer: str, options: list[ir.TypeRef]
    ) -> ir.Discriminator | None:
        spec = schema.get("discriminator")
        if not isinstance(spec, dict) or not isinstance(spec.get("propertyName"), str):
            return None
        names = [option.name for option in options if isinstance(option, ir.NamedType)]
        if len(names) != len(options):
            return None  # a discriminated union needs named object variants
        if not all(self._is_model(self._pointers[name]) for name in names):
            return None
        mapping: dict[str, str] = {}
        explicit = spec.get("mapping")
        if isinstance(explicit, dict):
            for value, target in sorted(explicit.items()):
                target_pointer = (
                    pointer_of_ref(target, join_pointer(pointer, "discriminator", "mapping", value))
                    if str(target).startswith("#")
                    else join_pointer("/components/schemas", str(target))
                )
                target_name = self._names.get(target_pointer)
                if target_name in names:
                    mapping[str(value)] = target_name
        mapped = set(mapping.values())
        for name in names:
            if name not in mapped:  # implicit mapping: the component schema's key
                mapping[self._component_key(name)] = name
        return ir.Discriminator(spec["propertyName"], tuple(sorted(mapping.items())))

    def _component_key(self, name: str) -> str:
        return _last_token(self._pointers[name])

    # --- enums and models ------------------------------------------------------------

    def _enum(self, schema: dict[str, Any], pointer: str, name: str) -> ir.EnumDef | None:
        values = [value for value in schema.get("enum") or () if value is not None]
        kind = _enum_kind(values)
        if kind is None or "const" in schema:
            return None
        members = Namer()
        return ir.EnumDef(
            name=name,
            pointer=pointer,
            kind=kind,
            members=tuple(
                ir.EnumMember(members.claim(constant_name(value)), value)
                for value in dict.fromkeys(values)
            ),
            description=_description(schema),
        )

    def _model(self, schema: dict[str, Any], pointer: str, name: str) -> ir.ModelDef:
        base_name, base_pointer = self._base_of(schema, pointer)
        properties: dict[str, tuple[Any, str]] = {}
        required: set[str] = set()
        additional: Any = True
        for part, part_pointer in self._parts(schema, pointer, skip=base_pointer):
            for key, value in (part.get("properties") or {}).items():
                properties[key] = (value, join_pointer(part_pointer, "properties", key))
            required.update(r for r in part.get("required") or () if isinstance(r, str))
            if "additionalProperties" in part:
                additional = part["additionalProperties"]
        inherited = self._property_names(base_pointer) if base_pointer else set()
        namer = Namer({variable_name(key, fallback="field") for key in inherited})
        fields = []
        for key in properties:
            if key in inherited and base_pointer is not None:
                continue  # restated in the child (often only to mark it required)
            prop, prop_pointer = properties[key]
            fields.append(self._field(key, prop, prop_pointer, name, key in required, namer))
        extra_type: ir.TypeRef | None = None
        if isinstance(additional, dict):
            extra_type = self.type_of(
                additional, join_pointer(pointer, "additionalProperties"), name + "Value"
            )
        return ir.ModelDef(
            name=name,
            pointer=pointer,
            fields=tuple(fields),
            description=_description(schema),
            base=base_name,
            extra="forbid" if additional is False else "allow",
            extra_type=None if extra_type == _ANY else extra_type,
        )

    def _field(
        self, key: str, prop: Any, pointer: str, model: str, required: bool, namer: Namer
    ) -> ir.Field:
        prop_schema = prop if isinstance(prop, dict) else {}
        target = prop_schema
        if "$ref" in prop_schema:
            target = self._resolve(pointer_of_ref(prop_schema["$ref"], pointer)) or {}
            if not isinstance(target, dict):
                target = {}
        read_only = prop_schema.get("readOnly") is True or target.get("readOnly") is True
        write_only = prop_schema.get("writeOnly") is True or target.get("writeOnly") is True
        default: ir.JsonValue | ir.Missing = ir.MISSING
        if "default" in prop_schema:
            default = _json_value(prop_schema["default"])
        return ir.Field(
            name=namer.claim(variable_name(key, fallback="field")),
            wire_name=key,
            type=self.type_of(prop, pointer, model + (class_name(key, fallback="Field"))),
            # readOnly/writeOnly properties are absent in one direction, so the
            # one model serving both directions cannot require them.
            required=required and not read_only and not write_only,
            default=default,
            description=_description(prop_schema),
            read_only=read_only,
            write_only=write_only,
            deprecated=prop_schema.get("deprecated") is True,
        )

    def _is_model(self, pointer: str) -> bool:
        """Whether the schema at ``pointer`` becomes a model class."""
        schema = self._resolve(pointer)
        return isinstance(schema, dict) and _is_object_model(schema) and not _is_union(schema)

    def _base_pointer(self, schema: dict[str, Any], pointer: str) -> str | None:
        """``allOf: [{$ref: Base}, {…}]`` inherits from ``Base`` when it is a model
        whose properties the other parts do not redefine."""
        parts = schema.get("allOf")
        if not isinstance(parts, list) or "properties" in schema:
            return None
        refs = [part for part in parts if isinstance(part, dict) and "$ref" in part]
        if len(refs) != 1:
            return None
        base = pointer_of_ref(refs[0]["$ref"], join_pointer(pointer, "allOf"))
        if not self._is_model(base):
            return None
        base_props = self._property_names(base)
        for part, _ in self._parts(schema, pointer, skip=base):
            for key, value in (part.get("properties") or {}).items():
                if key in base_props and value != self._property_schema(base, key):
                    return None  # a narrowed property: merge, do not inherit
        return base

    def _base_of(self, schema: dict[str, Any], pointer: str) -> tuple[str | None, str | None]:
        """The base model's name and pointer, unless inheriting would make a cycle."""
        base = self._base_pointer(schema, pointer)
        ancestor, seen = base, {pointer}
        while ancestor is not None:
            if ancestor in seen:
                return None, None
            seen.add(ancestor)
            ancestor_schema = self._resolve(ancestor)
            ancestor = self._base_pointer(ancestor_schema, ancestor) if isinstance(ancestor_schema, dict) else None
        return (self.build_named(base), base) if base is not None else (None, None)

    def _parts(
        self, schema: dict[str, Any], pointer: str, skip: str | None, seen: frozenset[str] = frozenset()
    ) -> list[tuple[dict[str, Any], str]]:
        """The object schemas an ``allOf`` tree merges (refs followed), in order."""
        result: list[tuple[dict[str, Any], str]] = [(schema, pointer)]
        for index, part in enumerate(schema.get("allOf") or ()):
            part_pointer = join_pointer(pointer, "allOf", index)
            if isinstance(part, dict) and "$ref" in part:
                part_pointer = pointer_of_ref(part["$ref"], part_pointer)
                if part_pointer == skip or part_pointer in seen:
                    continue
                part = self._resolve(part_pointer)
            if isinstance(part, dict):
                result += self._parts(part, part_pointer, skip, seen | {part_pointer})
        return result

    def _property_names(self, pointer: str) -> set[str]:
        schema = self._resolve(pointer)
        if not isinstance(schema, dict):
            return set()
        names: set[str] = set()
        for part, _ in self._parts(schema, pointer, skip=None):
            names.update(part.get("properties") or {})
        return names

    def _property_schema(self, pointer: str, key: str) -> Any:
        for part, _ in self._parts(self._resolve(pointer), pointer, skip=None):
            if key in (part.get("properties") or {}):
                return part["properties"][key]
        return None


_ANNOTATION_KEYS = frozenset(
    {"description", "title", "example", "examples", "deprecated", "readOnly", "writeOnly",
     "default", "externalDocs", "xml", "$schema", "$id", "$comment"}
)  # fmt: skip


def _description(schema: Any) -> str | None:
    if not isinstance(schema, dict):
        return None
    text = schema.get("description") or schema.get("title")
    return text if isinstance(text, str) and text.strip() else None


def _last_token(pointer: str) -> str:
    tokens = split_pointer(pointer)
    return tokens[-1] if tokens else ""


def _single_allof_part(schema: dict[str, Any]) -> int | None:
    """The one ``allOf`` part that carries a type when the others only annotate."""
    typed = [
        index
        for index, part in enumerate(schema["allOf"])
        if not isinstance(part, dict) or set(part) - _ANNOTATION_KEYS - {"nullable"}
    ]
    return typed[0] if len(typed) == 1 else None


def _types(schema: dict[str, Any]) -> list[str]:
    declared = schema.get("type")
    if isinstance(declared, str):
        return [declared]
    if isinstance(declared, list):
        kinds = [kind for kind in declared if isinstance(kind, str) and kind != "null"]
        return kinds or ["null"]
    return []


def _is_nullable(schema: dict[str, Any]) -> bool:
    declared = schema.get("type")
    return (
        schema.get("nullable") is True
        or (isinstance(declared, list) and "null" in declared)
        or (isinstance(schema.get("enum"), list) and None in schema["enum"])
    )


def _is_union(schema: dict[str, Any]) -> bool:
    return isinstance(schema.get("oneOf"), list) or isinstance(schema.get("anyOf"), list)


def _is_object_model(schema: dict[str, Any]) -> bool:
    """An object with named properties (or an allOf merge of them) → a model class."""
    if isinstance(schema.get("properties"), dict) and schema["properties"]:
        return True
    parts = schema.get("allOf")
    if not isinstance(parts, list) or _is_union(schema):
        return False
    if schema.get("type") not in (None, "object"):
        return False
    return _single_allof_part(schema) is None or any(
        isinstance(part, dict) and (part.get("properties") or part.get("allOf")) for part in parts
    )


def _enum_kind(values: list[Any]) -> Literal["str", "int"] | None:
    if values and all(isinstance(value, str) for value in values):
        return "str"
    if values and all(isinstance(value, int) and not isinstance(value, bool) for value in values):
        return "int"
    return None


def _literal(values: list[Any]) -> ir.TypeRef:
    if any(value is None for value in values):
        return _NONE
    if not all(isinstance(value, (str, int, bool)) for value in values):
        return _ANY  # object/array/float constants: no Literal form
    return ir.LiteralOf(tuple(values))


def _json_value(value: Any) -> ir.JsonValue:
    """A default as plain JSON data (YAML may have produced dates and the like)."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [_json_value(item) for item in value]
    if isinstance(value, dict):
        return {str(key): _json_value(item) for key, item in value.items()}
    return str(value)

