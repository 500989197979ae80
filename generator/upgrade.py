"""Stage 4: turn a Swagger 2.0 document into an OpenAPI 3.0-shaped one (3.x passes through).

Later stages then only know 3.x. Every part of the new document remembers the
pointer of the 2.0 part it was made from, so :meth:`Spec.locate` still points
into the original file.
"""

from __future__ import annotations

from typing import Any

from seawall.diagnostics import join_pointer
from seawall.resolve import Spec

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch")
_SCHEMA_FIELDS = (
    "type", "format", "items", "collectionFormat", "default", "maximum", "exclusiveMaximum", "minimum",
    "exclusiveMinimum", "maxLength", "minLength", "pattern", "maxItems", "minItems", "uniqueItems", "enum",
    "multipleOf",
)  # fmt: skip
_FORM_MEDIA_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
# collectionFormat → (style, explode); "multi" only exists for query and form fields.
_COLLECTION_STYLES = {
    "csv": ("form", False),
    "ssv": ("spaceDelimited", False),
    "pipes": ("pipeDelimited", False),
    "multi": ("form", True),
}
_OAUTH_FLOWS = {
    "implicit": "implicit",
    "password": "password",
    "application": "clientCredentials",
    "accessCode": "authorizationCode",
}
_REF_PREFIXES = {
    "#/definitions/": "#/components/schemas/",
    "#/parameters/": "#/components/parameters/",
    "#/responses/": "#/components/responses/",
}


def upgrade(spec: Spec) -> Spec:
    """An OpenAPI 3.0-shaped :class:`Spec` for a Swagger 2.0 one; 3.x specs are returned as they are."""
    if spec.version != "2.0":
        return spec
    return _Upgrader(spec).run()


class _Upgrader:
    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.old = spec.document
        self.consumes: list[str] = self.old.get("consumes") or ["application/json"]
        self.produces: list[str] = self.old.get("produces") or ["application/json"]
        # new pointer → old pointer, for locate()
        self.traced: dict[str, str] = {"": ""}

    def run(self) -> Spec:
        old = self.old
        new: dict[str, Any] = {"openapi": "3.0.3"}
        for key in ("info", "tags", "externalDocs", "security"):
            if key in old:
                new[key] = old[key]
        new["servers"] = self._servers()
        self.traced["/servers"] = "/host" if "host" in old else ""
        new["paths"] = {
            path: self._path_item(path, item) for path, item in old.get("paths", {}).items() if isinstance(item, dict)
        }
        components = self._components()
        if components:
            new["components"] = components
        new.update({k: v for k, v in old.items() if k.startswith("x-")})
        origins = {new_pointer: self.spec.origin(old_pointer) for new_pointer, old_pointer in self.traced.items()}
        return Spec(new, self.spec.source, "3.0", origins, list(self.spec.deferred))

    def _trace(self, new_pointer: str, old_pointer: str) -> None:
        self.traced[new_pointer] = old_pointer

    # ------------------------------------------------------------ top level

    def _servers(self) -> list[dict[str, str]]:
        host = self.old.get("host")
        base_path = self.old.get("basePath") or ""
        if not host:
            return [{"url": base_path or "/"}]
        schemes = self.old.get("schemes") or ["https"]
        return [{"url": f"{scheme}://{host}{base_path}"} for scheme in schemes]

    def _components(self) -> dict[str, Any]:
        old = self.old
        components: dict[str, Any] = {}
        schemas = {name: _schema(value) for name, value in old.get("definitions", {}).items()}
        self._trace("/components/schemas", "/definitions")
        parameters: dict[str, Any] = {}
        bodies: dict[str, Any] = {}
        for name, param in old.get("parameters", {}).items():
            if param.get("in") == "body":
                bodies[name] = self._request_body([param], self.consumes)
                self._trace(join_pointer("/components/requestBodies", name), join_pointer("/parameters", name))
            elif param.get("in") != "formData":  # form fields are copied into each operation that uses them
                parameters[name] = self._parameter(param, join_pointer("/components/parameters", name))
                self._trace(join_pointer("/components/parameters", name), join_pointer("/parameters", name))
        responses = {name: self._response(value, self.produces) for name, value in old.get("responses", {}).items()}
        self._trace("/components/responses", "/responses")
        schemes = {name: _security_scheme(value) for name, value in old.get("securityDefinitions", {}).items()}
        self._trace("/components/securitySchemes", "/securityDefinitions")
        for section, entries in (
            ("schemas", schemas),
            ("parameters", parameters),
            ("requestBodies", bodies),
            ("responses", responses),
            ("securitySchemes", schemes),
        ):
            if entries:
                components[section] = entries
        return components

    # ------------------------------------------------------------ paths

    def _path_item(self, path: str, item: dict[str, Any]) -> dict[str, Any]:
        base = join_pointer("/paths", path)
        shared = item.get("parameters", [])
        new: dict[str, Any] = {}
        kept = [(i, p) for i, p in enumerate(shared) if not self._is_body_or_form(p)]
        if kept:
            new["parameters"] = self._parameters(kept, join_pointer(base, "parameters"))
        for key, value in item.items():
            if key in _METHODS and isinstance(value, dict):
                new[key] = self._operation(value, shared, join_pointer(base, key))
            elif key.startswith("x-"):
                new[key] = value
        return new

    def _operation(self, operation: dict[str, Any], shared: list[Any], pointer: str) -> dict[str, Any]:
        new = {k: v for k, v in operation.items() if k not in ("parameters", "responses", "consumes", "produces", "schemes")}
        own = operation.get("parameters", [])
        kept = [(i, p) for i, p in enumerate(own) if not self._is_body_or_form(p)]
        if kept:
            new["parameters"] = self._parameters(kept, join_pointer(pointer, "parameters"))
        path_pointer = pointer[: pointer.rfind("/")]
        body_params = self._body_parameters(
            [(join_pointer(path_pointer, "parameters", i), p) for i, p in enumerate(shared)]
            + [(join_pointer(pointer, "parameters", i), p) for i, p in enumerate(own)]
        )
        if body_params:
            consumes = operation.get("consumes") or self.consumes
            only = body_params[0][1]
            if len(body_params) == 1 and "$ref" in only and self._deref(only).get("in") == "body":
                new["requestBody"] = {"$ref": only["$ref"].replace("#/parameters/", "#/components/requestBodies/")}
            else:
                new["requestBody"] = self._request_body([self._deref(p) for _, p in body_params], consumes)
            self._trace(join_pointer(pointer, "requestBody"), body_params[0][0])
        produces = operation.get("produces") or self.produces
        responses = {}
        for code, response in operation.get("responses", {}).items():
            responses[code] = self._response(response, produces)
            self._trace(join_pointer(pointer, "responses", code), join_pointer(pointer, "responses", code))
        new["responses"] = responses
        return new

    def _body_parameters(self, located: list[tuple[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
        """(old pointer, parameter) of the body/formData ones; later ones (the operation's) win."""
        found: dict[tuple[str, str], tuple[str, dict[str, Any]]] = {}
        for old_pointer, param in located:
            if self._is_body_or_form(param):
                real = self._deref(param)
                found[(real.get("name", ""), real.get("in", ""))] = (old_pointer, param)
        return list(found.values())

    def _deref(self, param: dict[str, Any]) -> dict[str, Any]:
        ref = param.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/parameters/"):
            target = self.spec.follow(ref)
            return target if isinstance(target, dict) else {}
        return param

    def _is_body_or_form(self, param: Any) -> bool:
        return isinstance(param, dict) and self._deref(param).get("in") in ("body", "formData")

    def _parameters(self, indexed: list[tuple[int, dict[str, Any]]], pointer: str) -> list[dict[str, Any]]:
        result = []
        for new_index, (old_index, param) in enumerate(indexed):
            new_pointer = join_pointer(pointer, new_index)
            self._trace(new_pointer, join_pointer(pointer, old_index))
            result.append(self._parameter(param, new_pointer))
        return result

    def _parameter(self, param: dict[str, Any], new_pointer: str) -> dict[str, Any]:
        if "$ref" in param:
            return {"$ref": _rewrite_ref(param["$ref"])}
        new = {k: v for k, v in param.items() if k in ("name", "in", "description", "required") or k.startswith("x-")}
        if param.get("in") == "query" and "allowEmptyValue" in param:
            new["allowEmptyValue"] = param["allowEmptyValue"]
        new["schema"] = _schema(_simple_schema(param))
        self._trace(join_pointer(new_pointer, "schema"), self.traced.get(new_pointer, new_pointer))
        if param.get("type") == "array":
            style, explode = _COLLECTION_STYLES.get(param.get("collectionFormat", "csv"), ("form", False))
            if param.get("in") in ("path", "header"):
                style = "simple"
            new["style"], new["explode"] = style, explode
        return new

    def _request_body(self, params: list[dict[str, Any]], consumes: list[str]) -> dict[str, Any]:
        body = next((p for p in params if p.get("in") == "body"), None)
        if body is not None:
            schema = _schema(body.get("schema", {}))
            media_types = [m for m in consumes if m not in _FORM_MEDIA_TYPES] or ["application/json"]
            new: dict[str, Any] = {"content": {m: {"schema": schema} for m in media_types}}
            if "description" in body:
                new["description"] = body["description"]
            if body.get("required"):
                new["required"] = True
            return new
        properties = {p["name"]: _schema(_simple_schema(p)) for p in params if "name" in p}
        for param in params:
            if "description" in param and param.get("name") in properties:
                properties[param["name"]]["description"] = param["description"]
        form: dict[str, Any] = {"type": "object", "properties": properties}
        required = [p["name"] for p in params if p.get("required") and "name" in p]
        if required:
            form["required"] = required
        has_file = any(p.get("type") == "file" for p in params)
        media_types = [m for m in consumes if m in _FORM_MEDIA_TYPES]
        if has_file or not media_types:
            media_types = ["multipart/form-data"] if has_file else ["application/x-www-form-urlencoded"]
        return {"content": {m: {"schema": form} for m in media_types}, "required": bool(required)}

    def _response(self, response: dict[str, Any], produces: list[str]) -> dict[str, Any]:
        if "$ref" in response:
            return {"$ref": _rewrite_ref(response["$ref"])}
        new: dict[str, Any] = {"description": response.get("description", "")}
        if "schema" in response:
            schema = _schema(response["schema"])
            examples = response.get("examples", {})
            content = {}
            for media_type in produces:
                content[media_type] = {"schema": schema}
                if media_type in examples:
                    content[media_type]["example"] = examples[media_type]
            new["content"] = content
        if "headers" in response:
            new["headers"] = {
                name: {"description": h.get("description", ""), "schema": _schema(_simple_schema(h))}
                if "description" in h
                else {"schema": _schema(_simple_schema(h))}
                for name, h in response["headers"].items()
            }
        new.update({k: v for k, v in response.items() if k.startswith("x-")})
        return new


def _simple_schema(param: dict[str, Any]) -> dict[str, Any]:
    """The schema of a non-body parameter, header or items object (its type fields)."""
    schema = {k: v for k, v in param.items() if k in _SCHEMA_FIELDS and k != "collectionFormat"}
    if "items" in schema and isinstance(schema["items"], dict):
        schema["items"] = _simple_schema(schema["items"])
    return schema


def _schema(value: Any) -> Any:
    """A 2.0 schema in 3.0 form: refs moved, ``type: file`` as binary, ``x-nullable`` as ``nullable``."""
    if isinstance(value, list):
        return [_schema(item) for item in value]
    if not isinstance(value, dict):
        return value
    new: dict[str, Any] = {}
    for key, item in value.items():
        if key == "$ref" and isinstance(item, str):
            new[key] = _rewrite_ref(item)
        elif key in ("example", "default", "enum"):
            new[key] = item
        elif key == "x-nullable":
            new["nullable"] = item
        elif key == "discriminator" and isinstance(item, str):
            new[key] = {"propertyName": item}
        else:
            new[key] = _schema(item)
    if new.get("type") == "file":
        new["type"], new["format"] = "string", "binary"
    return new


def _rewrite_ref(ref: str) -> str:
    for old_prefix, new_prefix in _REF_PREFIXES.items():
        if ref.startswith(old_prefix):
            return new_prefix + ref[len(old_prefix) :]
    return ref


def _security_scheme(scheme: dict[str, Any]) -> dict[str, Any]:
    kind = scheme.get("type")
    extra = {k: v for k, v in scheme.items() if k == "description" or k.startswith("x-")}
    if kind == "basic":
        return {"type": "http", "scheme": "basic", **extra}
    if kind == "apiKey":
        return {"type": "apiKey", "name": scheme.get("name"), "in": scheme.get("in"), **extra}
    flow: dict[str, Any] = {"scopes": scheme.get("scopes", {})}
    for url in ("authorizationUrl", "tokenUrl"):
        if url in scheme:
            flow[url] = scheme[url]
    return {"type": "oauth2", "flows": {_OAUTH_FLOWS.get(scheme.get("flow", ""), "implicit"): flow}, **extra}
