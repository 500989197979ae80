"""Stage 2: follow every ``$ref`` and make one self-contained document.

Refs are not inlined: a ref to another file is *bundled*, i.e. its target is
copied once into the root document (a schema under ``components/schemas``, a
parameter under ``components/parameters``, … with a stable derived name) and
the ref is rewritten to point there. Named schemas therefore stay named and
recursive schemas stay cycles of refs.

Every ``$ref`` in :attr:`Spec.document` is ``"#"`` followed by an RFC 6901 JSON
pointer (``~0``/``~1`` escaped, *not* percent-encoded). Use :func:`ref_pointer`
and :meth:`Spec.follow` rather than parsing refs by hand.

OpenAPI 3.1 schemas may name themselves with ``$id``/``$anchor``; refs to those
URIs are resolved too. Pragmatic choice: a ref that is only a fragment
(``#/components/...``) always means the current *file*, even inside a schema
that has its own ``$id`` (that is what authors mean in practice).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from seawall.diagnostics import Diagnostic, Location, SpecError, join_pointer
from seawall.load import SourceDocument, load_document, paused_gc, split_pointer

Version = Literal["2.0", "3.0", "3.1"]

# Mappings whose keys are names (of properties, schemas) and whose values are schemas:
# a key "$ref" or "example" in them is a name, not a keyword.
_NAME_MAPS = frozenset({"properties", "patternProperties", "definitions", "$defs", "dependentSchemas"})
# Keywords holding literal data, never refs.
_LITERALS = frozenset({"example", "default", "enum", "const"})
# Keywords whose value is a single schema.
_SCHEMA_SLOTS = frozenset(
    {
        "schema", "items", "additionalProperties", "not", "contains", "propertyNames", "if", "then",
        "else", "additionalItems", "unevaluatedItems", "unevaluatedProperties", "contentSchema",
    }
)  # fmt: skip
_SCHEMA_LISTS = frozenset({"allOf", "anyOf", "oneOf", "prefixItems"})
_COMPONENT_KINDS = frozenset(
    {"schemas", "parameters", "responses", "requestBodies", "headers", "examples", "links", "callbacks",
     "securitySchemes", "pathItems"}
)  # fmt: skip
_SWAGGER_SECTIONS = {"schemas": "/definitions", "parameters": "/parameters", "responses": "/responses"}
_UNSAFE_NAME_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def ref_pointer(ref: str) -> str:
    """The JSON pointer of a local ref in a resolved document: ``"#/a/b"`` → ``"/a/b"``."""
    if not ref.startswith("#"):
        raise ValueError(f"not a local ref: {ref!r}")
    return ref[1:]


def follow_pointer(data: Any, pointer: str) -> Any:
    """The value at ``pointer`` in ``data``; ``KeyError`` naming the missing token if there is none."""
    for token in split_pointer(pointer):
        if isinstance(data, dict) and token in data:
            data = data[token]
        elif isinstance(data, dict) and token.isdigit() and int(token) in data:
            data = data[int(token)]  # a YAML mapping key such as `200:` in an example
        elif isinstance(data, list) and token.isdigit() and int(token) < len(data):
            data = data[int(token)]
        else:
            raise KeyError(token)
    return data


@dataclass
class Spec:
    """One self-contained OpenAPI document (all refs local) and the way back to its files."""

    document: dict[str, Any]
    source: SourceDocument
    version: Version
    # Pointer prefix in `document` → the file and pointer it was copied from (always has "").
    origins: dict[str, tuple[SourceDocument, str]] = field(default_factory=dict, repr=False)
    # Problems found while resolving that are errors strictly but only warnings under
    # --lenient; `seawall.validate` reports them.
    deferred: list[Diagnostic] = field(default_factory=list)

    def origin(self, pointer: str) -> tuple[SourceDocument, str]:
        """The file and pointer in it that ``pointer`` of :attr:`document` came from."""
        prefix = pointer
        while prefix not in self.origins and prefix:
            prefix = prefix[: prefix.rfind("/")]
        source, origin_pointer = self.origins.get(prefix, (self.source, prefix))
        return source, origin_pointer + pointer[len(prefix) :]

    def locate(self, pointer: str) -> Location:
        """File, line and column of ``pointer`` of :attr:`document` in the original files."""
        source, origin_pointer = self.origin(pointer)
        found = source.locate(origin_pointer)
        return Location(found.file, pointer, found.line, found.column)

    def follow(self, ref: str) -> Any:
        """The value a local ``$ref`` of :attr:`document` points to."""
        return follow_pointer(self.document, ref_pointer(ref))


def resolve(source: SourceDocument) -> Spec:
    """Bundle ``source`` and the files it refers to into one :class:`Spec`.

    Raises :class:`SpecError` listing every ``$ref`` that cannot be resolved.
    """
    version = detect_version(source)
    with paused_gc():
        return _Resolver(source, version).run()


def detect_version(source: SourceDocument) -> Version:
    """2.0, 3.0 or 3.1 from the ``swagger``/``openapi`` field; :class:`SpecError` otherwise."""
    data = source.data
    if not isinstance(data, dict):
        raise SpecError([Diagnostic("an OpenAPI document must be a mapping at the top level", source.locate(""))])
    if "openapi" in data:
        field_name, value = "openapi", data["openapi"]
        known: dict[str, Version] = {"3.0": "3.0", "3.1": "3.1"}
    elif "swagger" in data:
        field_name, value = "swagger", data["swagger"]
        known = {"2.0": "2.0"}
    else:
        message = "not an OpenAPI document: it has no 'openapi' (3.x) or 'swagger' (2.0) field"
        raise SpecError([Diagnostic(message, source.locate(""))])
    # Locating is costly on a big JSON file (a token scan): only done for a message.
    if not isinstance(value, str):
        message = f"'{field_name}' must be a string such as '3.0.3' (quote it in YAML), not {value!r}"
        raise SpecError([Diagnostic(message, source.locate("/" + field_name))])
    major_minor = ".".join(value.split(".")[:2])
    if major_minor not in known or not re.fullmatch(r"\d+\.\d+(\.\d+)?(-.+)?", value):
        message = f"unsupported {field_name} version {value!r}: seawall reads Swagger 2.0 and OpenAPI 3.0 and 3.1"
        raise SpecError([Diagnostic(message, source.locate("/" + field_name))])
    return known[major_minor]


@dataclass
class _Site:
    """Where a ref sits: the file, the reference tokens from its root, and the base URI in force."""

    doc: SourceDocument
    tokens: list[str]
    base: str

    @property
    def pointer(self) -> str:
        return join_pointer("", *self.tokens)

    def ref_location(self) -> Location:
        """Where the ``$ref`` at this site is written (worked out only for messages)."""
        return self.doc.locate(join_pointer(self.pointer, "$ref"))


class _Resolver:
    def __init__(self, root: SourceDocument, version: Version) -> None:
        self.root = root
        self.version = version
        self.documents: dict[Path, SourceDocument] = {root.path: root}
        self.failed_files: set[Path] = set()
        # URI (no fragment) of a 3.1 `$id`, or URI#anchor of an `$anchor` → where it is.
        self.identified: dict[str, tuple[SourceDocument, str]] = {}
        self.bundled: dict[tuple[Path, str], str] = {}
        self.inlining: set[tuple[Path, str]] = set()
        self.additions: dict[str, dict[str, Any]] = {}
        self.origins: dict[str, tuple[SourceDocument, str]] = {"": (root, "")}
        self.errors: list[Diagnostic] = []
        self.deferred: list[Diagnostic] = []
        self._index_identifiers(root)

    def run(self) -> Spec:
        document = self.rewrite(self.root.data, _Site(self.root, [], self.root.path.as_uri()), "schemas")
        for section, entries in self.additions.items():
            container = document
            for token in split_pointer(section):
                container = container.setdefault(token, {})
            container.update(entries)
        if self.errors:
            raise SpecError(self.errors)
        return Spec(document, self.root, self.version, self.origins, self.deferred)

    # ------------------------------------------------------------ the walk

    def rewrite(self, value: Any, site: _Site, kind: str) -> Any:
        """A copy of ``value`` (found at ``site``) with every ref made local."""
        if isinstance(value, list):
            return [
                self.rewrite(item, self._child(site, str(i)), kind) if isinstance(item, (dict, list)) else item
                for i, item in enumerate(value)
            ]
        if not isinstance(value, dict):
            return value
        parent_key = site.tokens[-1] if site.tokens else ""
        in_name_map = parent_key in _NAME_MAPS
        if not in_name_map and isinstance(value.get("$id"), str):
            site = _Site(site.doc, site.tokens, urljoin(site.base, value["$id"]))
        result: dict[str, Any] = {}
        for key, item in value.items():
            if key == "$ref" and not in_name_map:
                ref = self._rewrite_ref(item, site, kind)
                if isinstance(ref, dict):  # an inlined target: its fields, then the siblings
                    result.update(ref)
                elif ref is not None:
                    result[key] = ref
            elif (key in _LITERALS and not in_name_map) or not isinstance(item, (dict, list)):
                result[key] = item  # scalars need no walk (most nodes are scalars)
            else:
                result[key] = self.rewrite(item, self._child(site, key), kind)
        return result

    @staticmethod
    def _child(site: _Site, token: str) -> _Site:
        return _Site(site.doc, [*site.tokens, token], site.base)

    def _rewrite_ref(self, ref: Any, site: _Site, kind: str) -> str | dict[str, Any] | None:
        if not isinstance(ref, str):
            hint = ""
            if ref is None:
                hint = " (an unquoted '#' starts a YAML comment: write $ref: '#/...' in quotes)"
            message = f"$ref must be a string, found {_describe(ref)}{hint}; the reference is ignored"
            self.deferred.append(Diagnostic(message, site.ref_location()))
            return None
        target = self._target(ref, site)
        if target is None:
            return None
        doc, pointer = target
        missing = _first_missing(doc.data, pointer)
        if missing is not None:
            where = f" in {doc.display}" if doc is not self.root else ""
            message = f"cannot resolve $ref {ref!r}: there is no {missing[1]!r} at #{missing[0]}{where}"
            self.errors.append(Diagnostic(message, site.ref_location()))
            return None
        if doc is self.root:
            return "#" + pointer
        return self._bundle(doc, pointer, self._kind_at(site.tokens, kind), ref, site)

    def _target(self, ref: str, site: _Site) -> tuple[SourceDocument, str] | None:
        """The file and JSON pointer a ref names, loading the file if needed."""
        if ref.startswith("#") and (ref == "#" or ref.startswith("#/")):
            return site.doc, unquote(ref[1:])
        uri, fragment = urldefrag(urljoin(site.base, ref))
        fragment = unquote(fragment)
        if fragment and not fragment.startswith("/"):  # a 3.1 $anchor
            found = self.identified.get(f"{uri}#{fragment}")
            if found is None:
                message = f"cannot resolve $ref {ref!r}: no $anchor {fragment!r}"
                self.errors.append(Diagnostic(message, site.ref_location()))
            return found
        if uri in self.identified:
            doc, pointer = self.identified[uri]
            return doc, pointer + fragment
        parts = urlsplit(uri)
        if parts.scheme != "file":
            message = f"cannot resolve $ref {ref!r}: only refs to local files are supported, not {parts.scheme}: URLs"
            self.errors.append(Diagnostic(message, site.ref_location()))
            return None
        from urllib.request import url2pathname  # urllib.request is slow to import

        path = Path(url2pathname(parts.path))
        loaded = self._document(path, ref, site)
        return None if loaded is None else (loaded, fragment)

    def _document(self, path: Path, ref: str, site: _Site) -> SourceDocument | None:
        if path in self.documents:
            return self.documents[path]
        if path in self.failed_files:
            return None
        if not path.is_file():
            self.failed_files.add(path)
            message = f"cannot resolve $ref {ref!r}: file not found: {path}"
            self.errors.append(Diagnostic(message, site.ref_location()))
            return None
        try:
            doc = load_document(path)
        except SpecError as exc:
            self.failed_files.add(path)
            message = f"cannot resolve $ref {ref!r}: the file it names is not usable"
            self.errors.append(Diagnostic(message, site.ref_location()))
            self.errors += exc.diagnostics
            return None
        self.documents[path] = doc
        self._index_identifiers(doc)
        return doc

    # ------------------------------------------------------------ bundling

    def _bundle(
        self, doc: SourceDocument, pointer: str, kind: str, ref: str, site: _Site
    ) -> str | dict[str, Any] | None:
        key = (doc.path, pointer)
        if key in self.bundled:
            return "#" + self.bundled[key]
        section = self._section(kind)
        target_site = _Site(doc, split_pointer(pointer), doc.path.as_uri())
        value = follow_pointer(doc.data, pointer)
        if section is None:
            # No components section for this kind (e.g. a path item in 3.0): copy it in place.
            if key in self.inlining:
                message = f"cannot resolve $ref {ref!r}: it refers back to itself through a {kind[:-1]}"
                self.errors.append(Diagnostic(message, site.ref_location()))
                return None
            self.inlining.add(key)
            inlined = self.rewrite(value, target_site, kind)
            self.inlining.discard(key)
            return inlined if isinstance(inlined, dict) else None
        name = self._free_name(section, _derived_name(doc, pointer))
        local = join_pointer(section, name)
        self.bundled[key] = local
        self.origins[local] = (doc, pointer)
        entries = self.additions.setdefault(section, {})
        entries[name] = None  # reserve the name before recursing (cycles come back here)
        entries[name] = self.rewrite(value, target_site, kind)
        return "#" + local

    def _section(self, kind: str) -> str | None:
        if self.version == "2.0":
            return _SWAGGER_SECTIONS.get(kind)
        if kind == "pathItems" and self.version == "3.0":
            return None
        return "/components/" + kind

    def _free_name(self, section: str, wanted: str) -> str:
        try:
            existing = follow_pointer(self.root.data, section)
        except KeyError:
            existing = {}
        taken = set(existing) | set(self.additions.get(section, {}))
        name, counter = wanted, 1
        while name in taken:
            counter += 1
            name = f"{wanted}_{counter}"
        return name

    @staticmethod
    def _kind_at(tokens: list[str], inherited: str) -> str:
        """What sort of object a ref at ``tokens`` stands for (a components section name)."""
        if not tokens:
            return inherited
        last = tokens[-1]
        parent = tokens[-2] if len(tokens) > 1 else ""
        grandparent = tokens[-3] if len(tokens) > 2 else ""
        if parent in _NAME_MAPS or last in _SCHEMA_SLOTS or parent in _SCHEMA_LISTS:
            return "schemas"
        if grandparent == "components" and parent in _COMPONENT_KINDS:
            return parent
        if parent == "paths" or (grandparent == "callbacks" and not last.isdigit()):
            return "pathItems"
        if last == "requestBody":
            return "requestBodies"
        if parent == "parameters" and (last.isdigit() or len(tokens) == 2):
            return "parameters"
        if parent in ("responses", "headers", "links", "callbacks", "securitySchemes"):
            return parent
        if parent == "examples" and not last.isdigit():
            return "examples"
        return inherited

    # ------------------------------------------------------------ 3.1 identifiers

    def _index_identifiers(self, doc: SourceDocument) -> None:
        """Record every ``$id`` and ``$anchor`` of ``doc`` with the base URI in force there."""
        # Each entry: value, its tokens (shared with its parent's, joined only for a find),
        # base URI, and whether its keys are names. Only containers are pushed.
        Tokens = tuple[Any, ...]  # nested pairs (parent tokens, token): no copying per node
        stack: list[tuple[Any, Tokens, str, bool]] = [(doc.data, (), doc.path.as_uri(), False)]
        while stack:
            value, tokens, base, is_name_map = stack.pop()
            if isinstance(value, list):
                stack += [(item, (tokens, i), base, False) for i, item in enumerate(value) if _is_container(item)]
                continue
            if not is_name_map:
                if isinstance(value.get("$id"), str):
                    base = urljoin(base, value["$id"])
                    self.identified.setdefault(urldefrag(base)[0], (doc, _pointer_of(tokens)))
                if isinstance(value.get("$anchor"), str):
                    place = (doc, _pointer_of(tokens))
                    self.identified.setdefault(f"{urldefrag(base)[0]}#{value['$anchor']}", place)
            stack += [
                (item, (tokens, key), base, key in _NAME_MAPS and not is_name_map)
                for key, item in value.items()
                if _is_container(item) and (is_name_map or key not in _LITERALS)
            ]


def _is_container(value: Any) -> bool:
    return isinstance(value, (dict, list))


def _pointer_of(tokens: tuple[Any, ...]) -> str:
    """The JSON pointer of nested ``(parent, token)`` pairs."""
    reversed_tokens = []
    while tokens:
        tokens, token = tokens
        reversed_tokens.append(token)
    return join_pointer("", *reversed(reversed_tokens))


def _derived_name(doc: SourceDocument, pointer: str) -> str:
    tokens = split_pointer(pointer)
    wanted = tokens[-1] if tokens and tokens[-1] else doc.path.stem
    return _UNSAFE_NAME_CHARS.sub("_", wanted) or "Bundled"


def _first_missing(data: Any, pointer: str) -> tuple[str, str] | None:
    """``(pointer of the container, token)`` where ``pointer`` first fails in ``data``, or None."""
    tokens = split_pointer(pointer)
    for depth in range(len(tokens) + 1):
        try:
            follow_pointer(data, join_pointer("", *tokens[:depth]))
        except KeyError:
            return join_pointer("", *tokens[: depth - 1]), tokens[depth - 1]
    return None


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    return f"a {type(value).__name__} {value!r}"
