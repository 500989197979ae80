"""Paths and operations → IR operations (parameters, bodies, responses)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

from seawall import ir
from seawall.build_schemas import SchemaBuilder, Unsupported, pointer_of_ref
from seawall.diagnostics import join_pointer
from seawall.naming import Namer, class_name, pascal_case, variable_name

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# Keyword arguments every generated method has; parameters get renamed around them.
METHOD_ARGUMENTS = frozenset(
    {"self", "body", "timeout", "retry", "idempotency_key", "fallback", "response", "saga"}
    | {"models", "httpx", "ssl"}  # modules the client module names
)
# Client attributes an operation method must not replace.
CLIENT_MEMBERS = frozenset({"close", "aclose", "runtime", "service", "operation", "invoke"})  # + saga invoker

# Headers the spec may not describe as parameters (OpenAPI 3 §4.8.12.1).
_IGNORED_HEADERS = frozenset({"accept", "content-type", "authorization"})
_DEFAULT_STYLE = {"path": "simple", "query": "form", "header": "simple", "cookie": "form"}


MediaKind = Literal["json", "form", "multipart", "text", "binary"]


def media_kind(media_type: str) -> MediaKind:
    """Classify a media type: json, form, multipart, text or binary."""
    base = media_type.split(";", 1)[0].strip().lower()
    if base == "application/json" or base.endswith("+json"):
        return "json"
    if base == "application/x-www-form-urlencoded":
        return "form"
    if base.startswith("multipart/"):
        return "multipart"
    if base.startswith("text/") and base != "text/event-stream":
        return "text"
    return "binary"


_PREFERENCE = {"json": 0, "form": 1, "multipart": 2, "binary": 3, "text": 4}


def _choose_media(content: dict[str, Any]) -> str | None:
    """The media type to use among those offered: JSON first, then form, multipart…"""
    usable = [media for media in content if isinstance(media, str)]
    if not usable:
        return None
    return min(usable, key=lambda media: (_PREFERENCE[media_kind(media)], media))


class OperationBuilder:
    """Builds every operation of a document through one :class:`SchemaBuilder`."""

    def __init__(self, document: dict[str, Any], schemas: SchemaBuilder, deref: Callable[[Any, str], tuple[Any, str]]) -> None:
        self._document = document
        self._schemas = schemas
        self._deref = deref
        self._method_names = Namer(set(CLIENT_MEMBERS))
        self._security_names: set[str] = set()

    def operations_in_order(self) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
        """(path, method, path item, operation) in document order."""
        found = []
        paths = self._document.get("paths") or {}
        for path, item in paths.items():
            item, _ = self._deref(item, join_pointer("/paths", path))
            if not isinstance(item, dict):
                continue
            for method in METHODS:
                if isinstance(item.get(method), dict):
                    found.append((str(path), method, item, item[method]))
        return found

    def build(
        self, path: str, method: str, item: dict[str, Any], op: dict[str, Any], known_security: set[str]
    ) -> ir.Operation:
        pointer = join_pointer("/paths", path, method)
        operation_id = op.get("operationId")
        wire_id = operation_id if isinstance(operation_id, str) and operation_id else f"{method.upper()} {path}"
        name = self._method_name(wire_id if operation_id else f"{method} {path}")
        hint = pascal_case(name) or "Operation"
        arguments = Namer(set(METHOD_ARGUMENTS))
        parameters = self._parameters(item, op, path, pointer, hint, arguments)
        body = self._body(op.get("requestBody"), join_pointer(pointer, "requestBody"), hint)
        responses = self._responses(op.get("responses") or {}, join_pointer(pointer, "responses"), hint)
        security = op.get("security", self._document.get("security") or [])
        return ir.Operation(
            name=name,
            operation_id=wire_id,
            method=method.upper(),
            path=path,
            pointer=pointer,
            parameters=parameters,
            body=body,
            responses=responses,
            summary=_text(op.get("summary")),
            description=_text(op.get("description")),
            deprecated=op.get("deprecated") is True,
            tags=tuple(str(tag) for tag in op.get("tags") or ()),
            security=tuple(
                sorted(
                    {
                        str(scheme)
                        for requirement in security if isinstance(requirement, dict)
                        for scheme in requirement
                        if scheme in known_security
                    }
                )
            ),
        )

    def _method_name(self, source: str) -> str:
        base = variable_name(source, fallback="operation")
        candidate = base
        counter = 2
        # A method and its `_detailed` twin must both be free.
        while not (
            self._method_names.is_free(candidate)
            and self._method_names.is_free(candidate + "_detailed")
        ):
            candidate = f"{base}_{counter}"
            counter += 1
        self._method_names.claim(candidate)
        self._method_names.claim(candidate + "_detailed")
        return candidate

    def _parameters(
        self, item: dict[str, Any], op: dict[str, Any], path: str, pointer: str, hint: str, arguments: Namer
    ) -> tuple[ir.Parameter, ...]:
        merged: dict[tuple[str, str], tuple[dict[str, Any], str]] = {}
        item_pointer = pointer.rsplit("/", 1)[0]
        for source, source_pointer in ((item, item_pointer), (op, pointer)):
            for index, raw in enumerate(source.get("parameters") or ()):
                param, param_pointer = self._deref(raw, join_pointer(source_pointer, "parameters", index))
                if not isinstance(param, dict):
                    continue
                location, name = param.get("in"), param.get("name")
                if location not in _DEFAULT_STYLE or not isinstance(name, str):
                    raise Unsupported(f"parameter in {location!r} is not supported", param_pointer)
                if location == "header" and name.lower() in _IGNORED_HEADERS:
                    continue
                merged[(location, name)] = (param, param_pointer)
        # Path parameters first (in path order), then required ones, then the rest.
        def order(key: tuple[str, str]) -> tuple[int, int]:
            if key[0] == "path":
                return (0, path.find("{" + key[1] + "}"))
            return (1 if _is_required(merged[key][0]) else 2, 0)

        return tuple(
            self._parameter(*merged[key], hint, arguments) for key in sorted(merged, key=order)
        )

    def _parameter(self, param: dict[str, Any], pointer: str, hint: str, arguments: Namer) -> ir.Parameter:
        location = param["in"]
        schema: Any = param.get("schema")
        schema_pointer = join_pointer(pointer, "schema")
        style = param.get("style", _DEFAULT_STYLE[location])
        if schema is None and isinstance(param.get("content"), dict) and param["content"]:
            media = sorted(param["content"])[0]
            schema = (param["content"][media] or {}).get("schema")
            schema_pointer = join_pointer(pointer, "content", media, "schema")
        wire = param["name"]
        type_ = self._schemas.type_of(schema or {}, schema_pointer, hint + class_name(wire, fallback="Param"))
        return ir.Parameter(
            name=arguments.claim(variable_name(wire, fallback="param")),
            wire_name=wire,
            location=location,
            type=type_,
            required=_is_required(param),
            style=str(style),
            explode=bool(param.get("explode", style == "form")),
            allow_reserved=param.get("allowReserved") is True,
            description=_text(param.get("description")),
            deprecated=param.get("deprecated") is True,
        )

    def _body(self, raw: Any, pointer: str, hint: str) -> ir.RequestBody | None:
        if raw is None:
            return None
        body, pointer = self._deref(raw, pointer)
        content = body.get("content") if isinstance(body, dict) else None
        if not isinstance(content, dict) or not content:
            return None
        media = _choose_media(content)
        if media is None:
            return None
        kind = media_kind(media)
        media_object = content[media] if isinstance(content[media], dict) else {}
        schema_pointer = join_pointer(pointer, "content", media, "schema")
        if kind == "binary":
            type_: ir.TypeRef = ir.Primitive("bytes")
        elif kind == "text":
            type_ = ir.Primitive("str")
        else:
            type_ = self._schemas.type_of(media_object.get("schema", {}), schema_pointer, hint + "Request")
        return ir.RequestBody(
            kind=kind,
            media_type=media,
            type=type_,
            required=body.get("required") is True,
            description=_text(body.get("description")),
        )

    def _responses(self, responses: dict[Any, Any], pointer: str, hint: str) -> tuple[ir.Response, ...]:
        built = []
        for status_key in responses:
            status = str(status_key).upper() if str(status_key).lower() != "default" else "default"
            raw, response_pointer = self._deref(responses[status_key], join_pointer(pointer, str(status_key)))
            if not isinstance(raw, dict):
                continue
            content = raw.get("content")
            media = _choose_media(content) if isinstance(content, dict) else None
            description = _text(raw.get("description"))
            if media is None or not isinstance(content, dict):
                built.append(ir.Response(status, "empty", None, None, description))
                continue
            suffix = "Response" if status.startswith("2") else f"Response{status.capitalize()}"
            kind = media_kind(media)
            type_: ir.TypeRef
            if kind in ("binary", "multipart"):
                kind, type_ = "binary", ir.Primitive("bytes")
            elif kind == "text":
                type_ = ir.Primitive("str")
            else:
                kind = "json"
                schema_pointer = join_pointer(response_pointer, "content", media, "schema")
                schema = content[media].get("schema", {}) if isinstance(content[media], dict) else {}
                type_ = self._schemas.type_of(schema, schema_pointer, hint + suffix)
            built.append(ir.Response(status, kind, media, type_, description))
        return tuple(sorted(built, key=lambda response: _status_order(response.status)))


def _status_order(status: str) -> tuple[int, str]:
    """Exact codes first, then ranges (``4XX``), then ``default``."""
    if status == "default":
        return (2, status)
    return (1 if "X" in status else 0, status)


def _is_required(param: dict[str, Any]) -> bool:
    return param.get("in") == "path" or param.get("required") is True


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value.strip() else None
