"""Render stage: :class:`seawall.ir.Api` → the files of the client project.

Everything a template prints is computed here into small view objects:
annotations, escaped literals, docstrings, imports. Templates only loop and
look up. Text from the spec reaches code only through :func:`py_literal`
(``repr``) or :func:`docstring` (escaped), and TOML only through
:func:`toml_string`.

The generated package (``<import_name>/``):

* ``models.py`` – pydantic models, enums and type aliases for the schemas;
  over ``MODELS_PACKAGE_THRESHOLD`` definitions, a package ``models/`` instead
  (see :func:`models_package_views`);
* ``errors.py`` – ``ApiError`` (subclass of the runtime's) and one subclass
  per documented error status (``NotFoundError``, ``ServerError`` for 5XX…);
* ``_endpoints.py`` – one ``seawall_runtime.codegen.Endpoint`` per operation;
* ``client.py`` / ``async_client.py`` – ``Client`` and ``AsyncClient``;
* ``_sagas.py`` – one saga ``OperationRef`` per operation (loaded on first use);
* ``__init__.py`` and ``py.typed``.

Each operation is one method ``<name>_detailed`` returning
``ApiResponse[T]``, and its twin ``<name> = returning_value(<name>_detailed)``
returning ``T`` with the same (type-checked) signature: one signature per
operation keeps big clients small. The per-call overrides (``timeout``,
``retry``, ``fallback``, ``idempotency_key``) are typed keyword arguments
through ``**options: Unpack[CallOptions]``; ``saga=`` makes the call a saga
step. Each client is also the saga invoker of its API (``service``,
``operation()``, ``invoke()``; docs/sagas.md). Models subclass
``seawall_runtime.codegen.Model`` whose validators are built on first use,
so importing many models stays fast. For a large spec, ``models/`` holds
modules of at most ``MODELS_MODULE_SIZE`` definitions (a recursive group
stays whole) that import only earlier modules, so no import cycle is
possible; ``models/__init__.py`` loads a name's module on first access and
re-exports every name for type checkers under ``TYPE_CHECKING``. There the
endpoints name models through ``Deferred(lambda: models.X)``, so loading a
client imports no model module until an operation needs one.
"""

from __future__ import annotations

import functools
import http
import json
import math
import re
import unicodedata
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

from seawall import ir
from seawall.diagnostics import Diagnostic, Location, SpecError, join_pointer
from seawall.layout import LINE_LENGTH, Bracketed, Item, annotated_lines, assignment_lines, call_lines, from_import
from seawall.naming import class_name
from seawall.policies import BackoffSpec, BreakerSpec, BudgetSpec, OperationPolicy, RetrySpec, TimeoutSpec

RUNTIME_REQUIREMENT = "seawall-runtime"


# --- escaping ------------------------------------------------------------------------


def py_literal(value: ir.JsonValue) -> str:
    """A Python literal for JSON data, written as black writes it.

    Strings are ``repr``-escaped (so spec text cannot end them early), in
    double quotes unless single quotes need fewer backslashes; exponents
    lose their ``+``.
    """
    if isinstance(value, str):
        return _py_string(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return "float(" + _py_string(str(value)) + ")"
        return repr(value).replace("e+", "e")
    if isinstance(value, list):
        return "[" + ", ".join(py_literal(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_py_string(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    return repr(value)  # int, bool, None


_ESCAPE_OR_DOUBLE_QUOTE = re.compile(r'\\.|"', re.DOTALL)


def _py_string(text: str) -> str:
    quoted = repr(text)
    if quoted[0] == '"' or text.count('"') > text.count("'"):
        return quoted
    # repr chose single quotes; swap them, unescaping \' and escaping " instead.
    body = _ESCAPE_OR_DOUBLE_QUOTE.sub(_swap_quote, quoted[1:-1])
    return f'"{body}"'


def _swap_quote(match: re.Match[str]) -> str:
    found = match.group()
    return "'" if found == "\\'" else '\\"' if found == '"' else found


def _escape_char(char: str) -> str:
    if char in "\n\t":
        return char
    if unicodedata.category(char).startswith("C") or char in "\u2028\u2029":
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
    return char


def _escape_line(line: str) -> str:
    """Backslashes doubled, control characters escaped (one line, no ``\\n``)."""
    line = line.replace("\\", "\\\\")
    # Fast path: str.isprintable() is False for every character _escape_char
    # changes (categories C*, U+2028/9), so most lines skip the per-character pass.
    if line.replace("\t", " ").isprintable():
        return line
    return "".join(_escape_char(char) for char in line)


def docstring(text: str, indent: str) -> str:
    """A docstring for ``text``, indented for its block; it cannot end early.

    Backslashes and quotes are escaped, control characters become escapes,
    so a description cannot close the literal or inject code.
    """
    normalized = text.strip().replace("\r\n", "\n").replace("\r", "\n")
    first, *rest = [_escape_line(line).replace('"', '\\"').rstrip() for line in normalized.split("\n")]
    if not rest:
        # Black pads a docstring ending in a quote (here always an escaped one).
        padding = " " if first.endswith('"') else ""
        return f'{indent}"""{first}{padding}"""'
    # As black normalizes a docstring: leading tabs expanded, the lines after
    # the first moved left together as far as they go, then indented.
    rest = [_expand_leading_tabs(line) for line in rest]
    common = min((len(line) - len(line.lstrip()) for line in rest if line.strip()), default=0)
    indented = "\n".join(f"{indent}{line[common:]}" if line.strip() else "" for line in rest)
    return f'{indent}"""{first}\n{indented}\n{indent}"""'


def _expand_leading_tabs(line: str) -> str:
    body = line.lstrip()
    margin = line[: len(line) - len(body)]
    return margin.expandtabs() + body if "\t" in margin else line


def toml_string(text: str) -> str:
    """A TOML basic string."""
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F or unicodedata.category(char) in ("Cs", "Zl", "Zp"):
            out.append(f"\\u{ord(char):04x}" if ord(char) < 0x10000 else "")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def markdown_text(text: str) -> str:
    """Spec text for the README: one paragraph, no HTML or control characters."""
    cleaned = "".join(char for char in text if not unicodedata.category(char).startswith("C") or char == "\n")
    return cleaned.replace("<", "&lt;").replace(">", "&gt;").strip()


# --- annotations ---------------------------------------------------------------------

_PRIMITIVES = {
    "str": "str",
    "int": "int",
    "float": "float",
    "bool": "bool",
    "datetime": "datetime.datetime",
    "date": "datetime.date",
    "time": "datetime.time",
    "uuid": "uuid.UUID",
    "bytes": "bytes",
    "base64": "Base64Bytes",
    "any": "Any",
    "none": "None",
}


@dataclass
class Annotator:
    """Writes annotations for one module; records the imports they need.

    ``prefix`` qualifies definition names (``models.``). When ``defined`` is
    set, the annotation is evaluated at import time (an alias), and a name not
    yet defined becomes ``Any`` (a recursive alias).
    """

    prefix: str = ""
    defined: set[str] | None = None
    used: set[str] = field(default_factory=set)
    names: set[str] = field(default_factory=set)  # definitions the annotations mention

    def __call__(self, type_: ir.TypeRef) -> str:
        if isinstance(type_, ir.Primitive):
            text = _PRIMITIVES[type_.kind]
            self.used.add(text.split(".")[0])
            return text
        if isinstance(type_, ir.NamedType):
            if self.defined is not None and type_.name not in self.defined:
                self.used.add("Any")
                return "Any"
            self.used.add("models")
            self.names.add(type_.name)
            return self.prefix + type_.name
        if isinstance(type_, ir.ListOf):
            return f"list[{self(type_.item)}]"
        if isinstance(type_, ir.TupleOf):
            return "tuple[" + ", ".join(self(item) for item in type_.items) + "]"
        if isinstance(type_, ir.MapOf):
            return f"dict[str, {self(type_.value)}]"
        if isinstance(type_, ir.LiteralOf):
            self.used.add("Literal")
            return "Literal[" + ", ".join(py_literal(value) for value in type_.values) + "]"
        if isinstance(type_, ir.Nullable):
            return f"{self(type_.inner)} | None"
        return self._union(type_)

    def _union(self, type_: ir.UnionOf) -> str:
        if type_.discriminator is None:
            return " | ".join(self(option) for option in type_.options)
        self.used.update({"Annotated", "Union", "Tag", "Discriminator", "codegen"})
        tagged = ", ".join(
            f"Annotated[{self(option)}, Tag({py_literal(option.name)})]"
            for option in type_.options
            if isinstance(option, ir.NamedType)
        )
        mapping = "{" + ", ".join(
            f"{py_literal(value)}: {py_literal(name)}" for value, name in type_.discriminator.mapping
        ) + "}"
        rule = f"codegen.discriminator({py_literal(type_.discriminator.property_name)}, {mapping})"
        return f"Annotated[Union[{tagged}], Discriminator({rule})]"


def references(type_: ir.TypeRef) -> set[str]:
    """Definition names a type mentions."""
    if isinstance(type_, ir.NamedType):
        return {type_.name}
    if isinstance(type_, (ir.ListOf,)):
        return references(type_.item)
    if isinstance(type_, ir.MapOf):
        return references(type_.value)
    if isinstance(type_, ir.Nullable):
        return references(type_.inner)
    if isinstance(type_, (ir.TupleOf, ir.UnionOf)):
        items = type_.items if isinstance(type_, ir.TupleOf) else type_.options
        return set().union(*(references(item) for item in items)) if items else set()
    return set()


_TYPING = ("Annotated", "Any", "Literal", "TypeAlias", "Union")
_PYDANTIC = ("Base64Bytes", "ConfigDict", "Discriminator", "Field", "Tag")


def import_lines(used: set[str]) -> list[str]:
    """Import statements for the names an Annotator (and the module) used."""
    lines = [f"import {module}" for module in ("datetime", "enum", "uuid") if module in used]
    typing_names = [name for name in _TYPING if name in used]
    if typing_names:
        lines.append(from_import("typing", typing_names))
    if lines:
        lines.append("")  # standard library above, third party below
    pydantic_names = [name for name in _PYDANTIC if name in used]
    if pydantic_names:
        lines.append(from_import("pydantic", pydantic_names))
    if "codegen" in used:
        lines.append("from seawall_runtime import codegen")
    if "Model" in used:
        lines.append("from seawall_runtime.codegen import Model")
    return lines


# --- models ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldView:
    statement: str  # ``name: annotation`` and its default, laid out
    docstring: str | None


@dataclass(frozen=True)
class DefinitionView:
    kind: str  # "model", "enum", "alias"
    name: str
    docstring: str | None
    header: str = ""  # ``class Name(Base):``, laid out
    config: str | None = None
    fields: tuple[FieldView, ...] = ()
    extra_annotation: str | None = None
    members: tuple[str, ...] = ()  # enum: ``NAME = literal`` statements

    @property
    def empty(self) -> bool:
        """A class with no body of its own (it needs ``pass``)."""
        return not (self.docstring or self.fields or self.members or self.config or self.extra_annotation)
    alias: str = ""  # ``Name: TypeAlias = ...``, laid out


def _ordered(definitions: dict[str, ir.Definition]) -> list[str]:
    """Names in definition order: what a definition needs at import comes first.

    Aliases need everything they name, models their base and the enums
    of their defaults; field annotations are resolved lazily
    (``from __future__ import annotations``).
    """
    order: list[str] = []
    state: dict[str, int] = {}  # 1 visiting, 2 done

    def visit(name: str) -> None:
        if state.get(name) or name not in definitions:
            return
        state[name] = 1
        definition = definitions[name]
        if isinstance(definition, ir.AliasDef):
            needs = sorted(references(definition.type))
        elif isinstance(definition, ir.ModelDef) and definition.base:
            needs = [definition.base]
        else:
            needs = []
        for need in needs:
            visit(need)
        state[name] = 2
        order.append(name)

    # Enums first: they need nothing, and field defaults name their members.
    for name in sorted(definitions, key=lambda n: (not isinstance(definitions[n], ir.EnumDef), n)):
        visit(name)
    return order


class ModelsRenderer:
    """Views for the models module(s)."""

    def __init__(self, api: ir.Api) -> None:
        self.definitions = {definition.name: definition for definition in api.definitions}
        self.defined: set[str] = set()  # rendered by earlier calls of views()
        self.annotate = Annotator()

    def views(self, names: Collection[str] | None = None) -> list[DefinitionView]:
        """Views of ``names`` (default: every definition) in definition order.

        ``self.annotate`` collects what this call's views need (imports,
        names); names rendered by earlier calls count as defined. Models need
        no ``model_rebuild()``: they are built on first use (``defer_build``),
        when every name they mention is defined.
        """
        chosen = self.definitions if names is None else {name: self.definitions[name] for name in names}
        self.annotate = Annotator()
        views = []
        defined = self.defined
        for name in _ordered(chosen):
            definition = self.definitions[name]
            if isinstance(definition, ir.ModelDef):
                views.append(self._model(definition))
            elif isinstance(definition, ir.EnumDef):
                self.annotate.used.add("enum")
                views.append(self._enum(definition))
            else:
                self.annotate.used.add("TypeAlias")
                self.annotate.defined = defined
                views.append(
                    DefinitionView(
                        "alias",
                        name,
                        _doc(definition.description, ""),
                        alias=assignment_lines("", f"{name}: TypeAlias", self.annotate(definition.type)),
                    )
                )
                self.annotate.defined = None
            defined.add(name)
        return views

    def _model(self, model: ir.ModelDef) -> DefinitionView:
        fields = tuple(self._field(f) for f in model.fields)
        extra = None
        if model.extra_type is not None:
            self.annotate.used.add("Field")
            extra = f"dict[str, {self.annotate(model.extra_type)}]"
        if model.base is None:
            self.annotate.used.add("Model")
        else:
            self.annotate.names.add(model.base)
        if model.extra == "forbid":
            self.annotate.used.add("ConfigDict")
        return DefinitionView(
            kind="model",
            name=model.name,
            docstring=_doc(model.description, "    "),
            header=call_lines("", f"class {model.name}", [model.base or "Model"], ":"),
            config='ConfigDict(extra="forbid")' if model.extra == "forbid" else None,
            fields=fields,
            extra_annotation=extra,
        )

    def _field(self, item: ir.Field) -> FieldView:
        annotation = self.annotate(item.type)
        optional = not item.required
        if optional and not _accepts_none(item.type, self.definitions):
            annotation += " | None"
        # An optional field's default: a literal, or a factory for lists and dicts.
        default = self._default(item) if optional else None
        arguments = []
        if default is not None:
            factory = default.startswith("lambda")
            arguments.append(f"default_factory={default}" if factory else f"default={default}")
        if item.name != item.wire_name:
            wire = py_literal(item.wire_name)
            arguments += [f"validation_alias={wire}", f"serialization_alias={wire}"]
        if len(arguments) > 1 or (default is not None and default.startswith("lambda")):
            self.annotate.used.add("Field")
            statement = annotated_lines("    ", item.name, annotation, Bracketed("Field", arguments))
        else:
            statement = annotated_lines("    ", item.name, annotation, default)
        return FieldView(statement, _doc(item.description, "    "))

    def _default(self, item: ir.Field) -> str:
        """The default of an optional field: the spec's when it fits the type, else None."""
        if isinstance(item.default, ir.Missing) or item.default is None:
            return "None"
        literal = self._value(item.type, item.default)
        if literal is None:
            return "None"
        return f"lambda: {literal}" if isinstance(item.default, (list, dict)) else literal

    def _value(self, type_: ir.TypeRef, value: ir.JsonValue) -> str | None:
        """A literal of ``value`` typed as ``type_``, or None when it does not fit."""
        if isinstance(type_, ir.Nullable):
            return "None" if value is None else self._value(type_.inner, value)
        if isinstance(type_, ir.NamedType):
            target = self.definitions.get(type_.name)
            if isinstance(target, ir.EnumDef):
                for member in target.members:
                    if member.value == value and type(member.value) is type(value):
                        self.annotate.names.add(target.name)
                        return f"{target.name}.{member.name}"
                return None
            if isinstance(target, ir.AliasDef):
                return self._value(target.type, value)
            return None
        if isinstance(type_, ir.Primitive):
            fits = {
                "str": isinstance(value, str),
                "int": isinstance(value, int) and not isinstance(value, bool),
                "float": isinstance(value, (int, float)) and not isinstance(value, bool),
                "bool": isinstance(value, bool),
                "any": True,
            }.get(type_.kind, False)
            return py_literal(value) if fits else None
        if isinstance(type_, ir.LiteralOf):
            return py_literal(value) if value in type_.values else None
        if isinstance(type_, ir.ListOf) and isinstance(value, list):
            items = [self._value(type_.item, item) for item in value]
            return None if None in items else "[" + ", ".join(i for i in items if i is not None) + "]"
        return None

    def _enum(self, enum: ir.EnumDef) -> DefinitionView:
        return DefinitionView(
            kind="enum",
            name=enum.name,
            docstring=_doc(enum.description, "    "),
            header=call_lines("", f"class {enum.name}", ["str", "enum.Enum"] if enum.kind == "str" else ["enum.IntEnum"], ":"),
            members=tuple(assignment_lines("    ", member.name, py_literal(member.value)) for member in enum.members),
        )


def _accepts_none(type_: ir.TypeRef, definitions: dict[str, ir.Definition]) -> bool:
    if isinstance(type_, ir.Nullable) or type_ in (ir.Primitive("none"), ir.Primitive("any")):
        return True
    if isinstance(type_, ir.NamedType):
        target = definitions.get(type_.name)
        return isinstance(target, ir.AliasDef) and _accepts_none(target.type, {})
    return False


def _doc(text: str | None, indent: str) -> str | None:
    return docstring(text, indent) if text else None


# --- models as a package ---------------------------------------------------------------------

MODELS_PACKAGE_THRESHOLD = 150  # more definitions than this: ``models/`` is a package
MODELS_MODULE_SIZE = 40  # definitions per module of that package (a recursive group may exceed it)


def dependencies(definition: ir.Definition) -> set[str]:
    """Definition names that ``definition`` mentions: annotations and base."""
    if isinstance(definition, ir.AliasDef):
        return references(definition.type)
    if isinstance(definition, ir.EnumDef):
        return set()
    types = [item.type for item in definition.fields]
    if definition.extra_type is not None:
        types.append(definition.extra_type)
    base = {definition.base} if definition.base else set()
    return base.union(*(references(type_) for type_ in types))


def _components(graph: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components, each after all those it reaches (Tarjan).

    Iterative, so a long chain of references cannot exhaust the stack.
    """
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    work: list[tuple[str, Iterator[str]]] = []  # the depth-first path, with each name's unvisited edges

    def enter(name: str) -> None:
        index[name] = low[name] = len(index)
        stack.append(name)
        on_stack.add(name)
        work.append((name, iter(graph[name])))

    for root in graph:
        if root in index:
            continue
        enter(root)
        while work:
            name, edges = work[-1]
            for target in edges:
                if target not in index:
                    enter(target)
                    break
                if target in on_stack:
                    low[name] = min(low[name], index[target])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[name])
                if low[name] == index[name]:
                    component = [stack.pop()]
                    while component[-1] != name:
                        component.append(stack.pop())
                    on_stack.difference_update(component)
                    components.append(sorted(component))
    return components


def model_modules(definitions: dict[str, ir.Definition], size: int = MODELS_MODULE_SIZE) -> list[list[str]]:
    """Definition names grouped into modules that import each other without cycles.

    A recursive group (a strongly connected component of the reference graph)
    stays in one module. Groups come after every group they reach and are
    packed in that order, so a module only imports from earlier modules; the
    depth-first walk from each name keeps related definitions together.
    """
    graph = {
        name: sorted(dependencies(definitions[name]) & definitions.keys()) for name in sorted(definitions)
    }
    modules: list[list[str]] = [[]]
    for component in _components(graph):
        if modules[-1] and len(modules[-1]) + len(component) > size:
            modules.append([])
        modules[-1].extend(component)
    return modules


@dataclass(frozen=True)
class ModelsModuleView:
    name: str  # module name inside models/
    definitions: list[DefinitionView]
    imports: list[str]  # import lines


def models_package_views(models: ModelsRenderer) -> list[ModelsModuleView]:
    """The modules of ``models/``, each importing what it names from earlier ones."""
    groups = model_modules(models.definitions)
    width = len(str(len(groups)))
    module_of: dict[str, str] = {}
    views = []
    for number, names in enumerate(groups, start=1):
        module = f"_part_{number:0{width}d}"
        definitions = models.views(names)
        local = sorted(models.annotate.names - set(names))
        imports = import_lines(models.annotate.used)
        by_module: dict[str, list[str]] = {}
        for name in local:
            by_module.setdefault(module_of[name], []).append(name)
        if by_module:
            imports += [""] + [from_import(f".{source}", found) for source, found in sorted(by_module.items())]
        module_of.update(dict.fromkeys(names, module))
        views.append(ModelsModuleView(module, definitions, imports))
    return views


# --- operations ----------------------------------------------------------------------------


def error_class_name(status: str) -> str:
    """``404`` → ``NotFoundError``; ``5XX`` → ``ServerError``; ``default`` → ``DefaultResponseError``."""
    ranges = {"4XX": "ClientError", "5XX": "ServerError", "DEFAULT": "DefaultResponseError"}
    if status.upper() in ranges:
        return ranges[status.upper()]
    try:
        phrase = http.HTTPStatus(int(status)).phrase
    except ValueError:
        return f"Status{class_name(status, fallback='')}Error"
    name = class_name(phrase)
    return name if name.endswith("Error") else name + "Error"


@dataclass(frozen=True)
class ArgumentView:
    name: str
    annotation: str
    default: str | None  # None: required


@dataclass(frozen=True)
class ReplyView:
    entry: str  # the ``status: Reply(...)`` entry of the replies dict, laid out


@dataclass(frozen=True)
class OperationView:
    name: str
    constant: str  # the Endpoint's name in _endpoints.py
    docstring: str
    positional: tuple[ArgumentView, ...]
    keyword: tuple[ArgumentView, ...]
    call: dict[bool, str]  # the endpoint call that ends the method, by is_async
    alias: dict[bool, str]  # ``name = returning_value(name_detailed)``, by is_async
    returns: str
    endpoint_head: str  # ``CONSTANT: Endpoint[...] = Endpoint(``, laid out
    operation: str  # the ``Operation(...)`` entry of the Endpoint, laid out
    params: str | None  # the ``params=(...)`` entry of the Endpoint, laid out
    body: str | None  # the ``body=Body(...)`` entry of the Endpoint, laid out
    replies: tuple[ReplyView, ...]
    accept: str | None  # literal of the Accept header
    operation_id: str  # literal
    fallback_operation: str | None  # literal of the operationId an x-fallback calls


class OperationsRenderer:
    def __init__(self, api: ir.Api, definitions: dict[str, ir.Definition], *, deferred: bool = False) -> None:
        self.api = api
        self.definitions = definitions
        self.deferred = deferred  # endpoints name models through Deferred (models/ is a package)
        self.annotate = Annotator(prefix="models.")  # the client modules
        self.endpoint_annotate = Annotator(prefix="models.")  # _endpoints.py
        self.error_classes: dict[str, str] = {}  # class name → docstring text
        self.runtime_names: set[str] = set()  # policy classes the endpoints construct

    def views(self) -> list[OperationView]:
        return [self._operation(op) for op in self.api.operations]

    def _operation(self, op: ir.Operation) -> OperationView:
        success = [r for r in op.responses if r.is_success] or [r for r in op.responses if r.status == "default"]
        returns = self._returns(success)
        parameters = sent_parameters(op)
        positional: list[ArgumentView] = []
        required: list[ArgumentView] = []
        optional: list[ArgumentView] = []
        for param in parameters:
            annotation = self.annotate(param.type)
            if param.location == "path":
                positional.append(ArgumentView(param.name, annotation, None))
            elif param.required:
                required.append(ArgumentView(param.name, annotation, None))
            else:
                optional.append(ArgumentView(param.name, _optional(annotation, param.type, self.definitions), "None"))
        if op.body is not None:
            annotation = self.annotate(op.body.type)
            if op.body.required:
                positional.append(ArgumentView("body", annotation, None))
            else:
                optional.append(ArgumentView("body", _optional(annotation, op.body.type, self.definitions), "None"))
        replies = tuple(self._reply(r, r in success) for r in op.responses)
        summary = op.summary or op.description or f"{op.method} {op.path}"
        text = summary if op.description in (None, summary) else f"{summary}\n\n{op.description}"
        text += f"\n\n``{op.name}`` returns the value; ``{op.name}_detailed`` an ApiResponse."
        if op.deprecated:
            text = "Deprecated.\n\n" + text
        return OperationView(
            name=op.name,
            constant=op.name.upper(),
            docstring=docstring(text, "        "),
            positional=tuple(positional),
            keyword=tuple(required + optional),
            call=_endpoint_calls(op, parameters),
            alias={
                names.is_async: call_lines("    ", f"{op.name} = {names.returning}", [f"{op.name}_detailed"])
                for names in (SYNC_NAMES, ASYNC_NAMES)
            },
            returns=returns,
            endpoint_head=_endpoint_head(op.name.upper(), returns),
            operation=call_lines("    ", "Operation", self._operation_args(op), ","),
            params=_params_entry(parameters),
            body=None
            if op.body is None
            else call_lines(
                "    ",
                "body=Body",
                [py_literal(op.body.kind), py_literal(op.body.media_type), self._endpoint_type(op.body.type)],
                ",",
            ),
            replies=replies,
            accept=_accept(op.responses),
            operation_id=py_literal(op.operation_id),
            fallback_operation=_fallback_operation(op),
        )

    def _operation_args(self, op: ir.Operation) -> list[str]:
        args = [py_literal(op.operation_id), py_literal(op.method), py_literal(op.path)]
        key_header = None
        if op.policy is not None:
            idempotency = op.policy.idempotency
            if idempotency.idempotent != (op.method in IDEMPOTENT_METHODS):
                args.append(f"idempotent={idempotency.idempotent}")
            key_header = idempotency.key_header
            policy = policy_expression(op.policy)
            if policy is not None:
                self.runtime_names.update(_constructors(policy))
                args.append(f"policy={policy}")
        if key_header:
            args.append(f"idempotency_key_header={py_literal(key_header)}")
        return args

    def _returns(self, success: list[ir.Response]) -> str:
        annotations: list[str] = []
        for response in success:
            text = self.annotate(response.type) if response.type is not None else "None"
            if response.type is not None:
                self.endpoint_annotate(response.type)
            if text not in annotations:
                annotations.append(text)
        if not annotations:
            return "None"
        if "None" in annotations and len(annotations) > 1:
            annotations = [a for a in annotations if a != "None"] + ["None"]
        return " | ".join(annotations)

    def _endpoint_type(self, type_: ir.TypeRef) -> str:
        """An annotation for ``_endpoints.py``; one naming models is deferred if asked.

        Deferred, loading the client imports no model module: each is imported
        when an endpoint first sends or parses its type.
        """
        annotation = self.endpoint_annotate(type_)
        if self.deferred and "models." in annotation:
            return f"Deferred(lambda: {annotation})"
        return annotation

    def _reply(self, response: ir.Response, is_success: bool) -> ReplyView:
        annotation = self._endpoint_type(response.type) if response.type is not None else None
        error = None
        if not is_success:
            error = error_class_name(response.status)
            self.error_classes.setdefault(error, _error_text(response.status))
        arguments = [py_literal(response.kind)]
        if annotation:
            arguments.append(annotation)
        if error:
            arguments.append(f"error=errors.{error}")
        return ReplyView(call_lines("        ", f"{py_literal(response.status)}: Reply", arguments, ","))


def _params_entry(parameters: tuple[ir.Parameter, ...]) -> str | None:
    """``params=(Param(...), ...),`` for an Endpoint: inline for one that fits, else one per line."""
    if not parameters:
        return None
    calls = []
    for p in parameters:
        arguments = [py_literal(p.name), py_literal(p.wire_name), py_literal(p.location), py_literal(p.style), str(p.explode)]
        if p.allow_reserved:
            arguments.append("allow_reserved=True")
        calls.append(arguments)
    inline = f"    params=(Param({', '.join(calls[0])}),),"
    if len(calls) == 1 and len(inline) <= LINE_LENGTH:
        return inline
    lines = "\n".join(call_lines("        ", "Param", arguments, ",") for arguments in calls)
    return f"    params=(\n{lines}\n    ),"


def _endpoint_head(constant: str, returns: str) -> str:
    head = f"{constant}: Endpoint[{returns}] = Endpoint("
    if len(head) <= LINE_LENGTH:
        return head
    # Declared apart: black would otherwise wrap (and re-indent) the whole call.
    return annotated_lines("", constant, f"Endpoint[{returns}]", None) + f"\n{constant} = Endpoint("


def _endpoint_calls(op: ir.Operation, parameters: tuple[ir.Parameter, ...]) -> dict[bool, str]:
    """The statement that ends ``<name>_detailed``, sync and async."""
    mapping = Bracketed("", [f"{py_literal(p.name)}: {p.name}" for p in parameters], "{}")
    arguments: list[Item] = ["self._session", mapping, "body" if op.body is not None else "None", "saga", "**options"]
    constant = op.name.upper()
    return {
        False: call_lines("        ", f"return _endpoints.{constant}.call", arguments),
        True: call_lines("        ", f"return await _endpoints.{constant}.acall", arguments),
    }


def _fallback_operation(op: ir.Operation) -> str | None:
    fallback = op.policy.fallback if op.policy is not None else None
    return py_literal(fallback.operation) if fallback is not None and fallback.operation else None


def sent_parameters(op: ir.Operation) -> tuple[ir.Parameter, ...]:
    """The parameters the caller passes: all but the idempotency-key header.

    The runtime sets that header (a fresh key, or the caller's
    ``idempotency_key=`` option) and keeps it for every retry.
    """
    key_header = op.policy.idempotency.key_header if op.policy is not None else None
    if key_header is None:
        return op.parameters
    return tuple(
        p for p in op.parameters if not (p.location == "header" and p.wire_name.lower() == key_header.lower())
    )


def _accept(responses: tuple[ir.Response, ...]) -> str | None:
    """The Accept header: the media types the generated code parses, in order."""
    media = dict.fromkeys(r.media_type for r in responses if r.media_type is not None and r.kind != "empty")
    return py_literal(", ".join(media)) if media else None


def _optional(annotation: str, type_: ir.TypeRef, definitions: dict[str, ir.Definition]) -> str:
    return annotation if _accepts_none(type_, definitions) else f"{annotation} | None"


def _error_text(status: str) -> str:
    if status == "default":
        return "The server answered with a status the operation documents as `default`."
    if "X" in status.upper():
        return f"The server answered with a {status.upper()} status."
    try:
        return f"The server answered {status} {http.HTTPStatus(int(status)).phrase}."
    except ValueError:
        return f"The server answered {status}."


# --- resilience policies ---------------------------------------------------------------

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"})  # RFC 9110
_POLICY_CLASSES = ("Backoff", "BreakerPolicy", "BudgetPolicy", "FallbackPolicy", "Policy", "RetryPolicy", "TimeoutPolicy")


def _constructors(expression: str) -> set[str]:
    """The runtime policy classes an expression calls."""
    return {name for name in _POLICY_CLASSES if f"{name}(" in expression}


def _call(name: str, spec: object, default: object) -> str:
    """``Name(field=value, …)`` with only the fields that differ from ``default``."""
    args = []
    for key, value in vars(spec).items():
        if value == getattr(default, key):
            continue
        if isinstance(value, tuple):
            literal = "frozenset({" + ", ".join(py_literal(item) for item in sorted(value, key=str)) + "})"
        elif isinstance(value, BackoffSpec):
            literal = _call("Backoff", value, BackoffSpec())
        else:
            literal = py_literal(value)
        args.append(f"{key}={literal}")
    return f"{name}({', '.join(args)})"


def policy_expression(policy: OperationPolicy) -> str | None:
    """A ``Policy(...)`` expression for an operation's effective policy; None when default."""
    parts = []
    if policy.timeout != TimeoutSpec():
        parts.append(f"timeout={_call('TimeoutPolicy', policy.timeout, TimeoutSpec())}")
    if policy.retry is None:
        parts.append("retry=None")
    elif policy.retry != RetrySpec():
        parts.append(f"retry={_call('RetryPolicy', policy.retry, RetrySpec())}")
    fallback = policy.fallback
    if fallback is not None:
        on = ", ".join(py_literal(item) for item in sorted(fallback.on, key=str))
        # An operation fallback: the endpoint calls that operation (see ``Endpoint.fallback_operation``).
        answer = f"value={py_literal(fallback.value)}" if fallback.has_value else "factory=delegate_to_operation"
        parts.append(f"fallback=FallbackPolicy(on=frozenset({{{on}}}), {answer})")
    return f"Policy({', '.join(parts)})" if parts else None


# --- sagas ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SagaRefView:
    constant: str
    operation_id: str  # literal
    statement: str  # ``CONSTANT = OperationRef(...)``, laid out


def _is_idempotent(op: ir.Operation) -> bool:
    return op.policy.idempotency.idempotent if op.policy is not None else op.method in IDEMPOTENT_METHODS


def saga_refs(api: ir.Api) -> list[SagaRefView]:
    """One ``OperationRef`` per operation: may the saga repeat it, and how to undo it.

    ``x-compensation.args`` (flat, by name) become the canonical sectioned
    template. The policies stage has checked them against the spec; a
    template the saga runtime would still refuse is reported here, on the
    spec's ``x-compensation/args``.
    """
    problems: list[Diagnostic] = []
    views = []
    operation_ids = {op.operation_id for op in api.operations}
    for op in api.operations:
        compensation = op.policy.compensation if op.policy is not None else None
        spec = "None"
        if compensation is not None:
            args_pointer = join_pointer(compensation.pointer, "args")
            if compensation.operation not in operation_ids:
                where = Location("", join_pointer(compensation.pointer, "operation"))
                problems.append(Diagnostic(f"x-compensation: no operation {compensation.operation!r}", where))
            # Imported only here: the runtime's package is slow to load for specs without sagas.
            from seawall_runtime.saga.expressions import check_template, sectioned_template

            flat = {a.name: a.expression if a.expression is not None else a.value for a in compensation.args}
            locations = {a.name: a.target for a in compensation.args if a.target != "body"}
            try:
                template = sectioned_template(flat, locations)
            except ValueError as refused:
                problems.append(Diagnostic(f"x-compensation.args: {refused}", Location("", args_pointer)))
                continue
            for pointer, message in check_template(template):
                problems.append(Diagnostic(message, Location("", args_pointer + pointer)))
            # Built from JSON values only (the spec's), so it is JSON data itself.
            literal = py_literal(cast(ir.JsonValue, template))
            spec = f"CompensationSpec({py_literal(compensation.operation)}, {literal})"
        constant = op.name.upper()
        arguments = [py_literal(op.operation_id), str(_is_idempotent(op)), spec]
        statement = call_lines("", f"{constant} = OperationRef", arguments)
        views.append(SagaRefView(constant, py_literal(op.operation_id), statement))
    if problems:
        raise SpecError(problems)
    return views


# --- the package -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CredentialView:
    argument: str
    annotation: str
    target: str  # "headers", "query", "cookies", "basic"
    name: str  # literal of the header/param/cookie name
    value: str  # expression


def _credentials_statement(groups: dict[str, list[CredentialView]]) -> str:
    """``credentials = Credentials(...)`` in the client's constructor, by target."""
    if not groups:
        return "        credentials = Credentials()"
    lines = ["        credentials = Credentials("]
    for target, entries in sorted(groups.items()):
        pairs = [f"({c.name}, {c.value})" for c in entries]
        if target == "basic":
            lines.append(f"            basic={entries[0].value},")
        elif len(pairs) == 1:
            lines.append(f"            {target}=({pairs[0]},),")
        else:
            lines += [f"            {target}=(", *(f"                {pair}," for pair in pairs), "            ),"]
    return "\n".join([*lines, "        )"])


@dataclass(frozen=True)
class ClientNames:
    """What differs between the sync and the async client's source."""

    is_async: bool
    kind: str
    client: str
    runtime: str
    http: str
    transport: str
    saga: str
    returning: str
    invoke: str
    def_: str  # "def" or "async def"
    await_: str  # "" or "await "


SYNC_NAMES = ClientNames(
    is_async=False,
    kind="synchronous",
    client="Client",
    runtime="ResilientClient",
    http="httpx.Client",
    transport="httpx.BaseTransport",
    saga="Saga",
    returning="returning_value",
    invoke="invoke",
    def_="def",
    await_="",
)
ASYNC_NAMES = ClientNames(
    is_async=True,
    kind="asynchronous",
    client="AsyncClient",
    runtime="AsyncResilientClient",
    http="httpx.AsyncClient",
    transport="httpx.AsyncBaseTransport",
    saga="AsyncSaga",
    returning="returning_value_async",
    invoke="ainvoke",
    def_="async def",
    await_="await ",
)


def _credentials(api: ir.Api) -> list[CredentialView]:
    views = []
    for scheme in api.security_schemes:
        if scheme.kind == "basic":
            views.append(CredentialView(scheme.argument, "tuple[str, str] | None", "basic", "", scheme.argument))
        elif scheme.kind == "bearer":
            views.append(
                CredentialView(
                    scheme.argument, "str | None", "headers", py_literal("Authorization"), f"codegen.bearer({scheme.argument})"
                )
            )
        else:
            target = {"header": "headers", "query": "query", "cookie": "cookies"}[scheme.location]
            views.append(
                CredentialView(scheme.argument, "str | None", target, py_literal(scheme.parameter_name), scheme.argument)
            )
    return views


def _default_base_url(api: ir.Api) -> str | None:
    for server in api.servers:
        if server.url.startswith(("http://", "https://")):
            return server.url
    return None


@functools.lru_cache(maxsize=1)
def _environment() -> Any:
    import jinja2  # imported lazily: only the render stage needs it

    return jinja2.Environment(
        loader=jinja2.PackageLoader("seawall.templates", "."),
        autoescape=False,  # Python, TOML and Markdown: escaping is done in this module
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        bytecode_cache=_template_cache(),
    )


def _template_cache() -> Any:
    """Compiled templates kept between runs, in jinja2's private folder of the temp
    directory (compiling them is a tenth of a second); None if that is unusable."""
    import jinja2

    class QuietCache(jinja2.FileSystemBytecodeCache):
        def dump_bytecode(self, bucket: Any) -> None:
            try:
                super().dump_bytecode(bucket)
            except OSError:
                pass  # a cache that cannot be written is no cache, not an error

    try:
        return QuietCache()
    except (OSError, RuntimeError):
        return None


def render_package(api: ir.Api) -> dict[str, str]:
    """Relative POSIX path → text for every file of the generated project."""
    env = _environment()
    models = ModelsRenderer(api)
    split = len(models.definitions) > MODELS_PACKAGE_THRESHOLD
    modules = models_package_views(models) if split else []
    definitions = [] if split else models.views()
    operations_renderer = OperationsRenderer(api, models.definitions, deferred=split)
    operations = operations_renderer.views()
    errors = sorted(operations_renderer.error_classes.items())
    refs = saga_refs(api)
    package = api.package
    base_url = _default_base_url(api)
    credentials = _credentials(api)
    groups: dict[str, list[CredentialView]] = {}
    for credential in credentials:
        groups.setdefault(credential.target, []).append(credential)
    endpoint_used = set(operations_renderer.endpoint_annotate.used) | {"models", "Any"}
    codegen_names = {"Body", "Endpoint", "Param", "Reply"}
    if any(op.fallback_operation for op in operations):
        codegen_names.add("delegate_to_operation")
    if split:
        codegen_names.add("Deferred")
    client_used = set(operations_renderer.annotate.used)
    if any(credential.target == "headers" and credential.value.startswith("codegen.") for credential in credentials):
        client_used.add("codegen")
    context = {
        "package": package,
        "version_literal": py_literal(package.version),
        "models_doc": docstring(f"Models for the schemas of {package.title}.", ""),
        "client_doc": docstring(f"Client for {package.title}.", "    "),
        "endpoint_imports": import_lines(endpoint_used)
        + [
            from_import("seawall_runtime", sorted({"Operation"} | operations_renderer.runtime_names)),
            from_import("seawall_runtime.codegen", sorted(codegen_names)),
            "",
            "from . import errors, models",
        ],
        "credentials_statement": _credentials_statement(groups),
        "breaker_default": _call("BreakerPolicy", api.breaker or BreakerSpec(), BreakerSpec()),
        "budget_default": _call("BudgetPolicy", api.budget or BudgetSpec(), BudgetSpec()),
        "title_doc": docstring(f"Client for {package.title} (API version {package.api_version}).", ""),
        "definitions": definitions,
        "models_imports": import_lines(models.annotate.used),
        "operations": operations,
        "saga_refs": refs,
        "service_literal": py_literal(package.import_name),
        "saga_imports": ", ".join(
            sorted({"OperationRef"} | ({"CompensationSpec"} if any("CompensationSpec(" in r.statement for r in refs) else set()))
        ),
        "client_imports": import_lines(client_used),
        "client_local_import": "from . import _endpoints, models" if "models" in client_used else "from . import _endpoints",
        "errors": [(name, docstring(text, "    ")) for name, text in errors],
        "credentials": credentials,
        "base_url": py_literal(base_url) if base_url else None,
        "toml": {
            "name": toml_string(package.distribution_name),
            "version": toml_string(package.version),
            "description": toml_string(f"Resilient typed client for {package.title}"),
            "package": toml_string(package.import_name),
            "packages": ", ".join(
                toml_string(name) for name in [package.import_name] + ([f"{package.import_name}.models"] if split else [])
            ),
        },
        "readme": {
            "title": markdown_text(package.title),
            "description": markdown_text(package.description or ""),
            "base_url": markdown_text(base_url or ""),
            "api_version": markdown_text(package.api_version),
        },
        "runtime_requirement": json.dumps(RUNTIME_REQUIREMENT),
    }
    root = package.import_name
    files = {
        "pyproject.toml": env.get_template("pyproject.toml.jinja").render(context),
        "README.md": env.get_template("README.md.jinja").render(context),
        f"{root}/__init__.py": env.get_template("__init__.py.jinja").render(context),
        f"{root}/py.typed": "",
        f"{root}/errors.py": env.get_template("errors.py.jinja").render(context),
        f"{root}/_endpoints.py": env.get_template("endpoints.py.jinja").render(context),
        f"{root}/_sagas.py": env.get_template("sagas.py.jinja").render(context),
        f"{root}/client.py": env.get_template("client.py.jinja").render(context, names=SYNC_NAMES),
        f"{root}/async_client.py": env.get_template("client.py.jinja").render(context, names=ASYNC_NAMES),
    }
    if split:
        files.update(_models_package_files(env, context, modules))
    else:
        files[f"{root}/models.py"] = env.get_template("models.py.jinja").render(context)
    return files


def _models_package_files(env: Any, context: dict[str, Any], modules: list[ModelsModuleView]) -> dict[str, str]:
    """``models/__init__.py`` and its modules."""
    package: ir.PackageInfo = context["package"]
    folder = f"{package.import_name}/models"
    files = {}
    for module in modules:
        files[f"{folder}/{module.name}.py"] = env.get_template("models.py.jinja").render(
            context,
            models_doc=docstring(f"Models for the schemas of {package.title} ({module.name}).", ""),
            definitions=module.definitions,
            models_imports=module.imports,
        )
    package_doc = (
        f"Models for the schemas of {package.title}.\n\n"
        "A package of modules. Each name is imported from its module on first use, so\n"
        f"``import {package.import_name}.models`` stays fast; ``models.Name`` and\n"
        f"``from {package.import_name}.models import Name`` work as for one module."
    )
    files[f"{folder}/__init__.py"] = env.get_template("models_package.py.jinja").render(
        context,
        models_doc=docstring(package_doc, ""),
        parts=[(module.name, [definition.name for definition in module.definitions]) for module in modules],
    )
    return files
