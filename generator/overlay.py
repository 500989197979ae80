"""Stage 2: apply OpenAPI Overlay 1.0 documents to a loaded spec.

An overlay is a list of actions, each selecting nodes with an RFC 9535
JSONPath ``target`` and either merging ``update`` into them (objects merge
recursively, arrays get the value appended) or deleting them (``remove:
true``). Overlays are applied in the order given, before resolve/validate, so
a team can annotate a vendor's spec without editing it.

Positions survive: every object and array remembers where it was written
(the spec or an overlay file), so ``locate()`` on the result points into the
overlay for nodes the overlay added and into the spec for the rest.
"""

from __future__ import annotations

import copy
import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seawall.diagnostics import Diagnostic, Location, SpecError, join_pointer
from seawall.load import SourceDocument, load_document, split_pointer

_VERSION = re.compile(r"1\.0\.\d+\Z")
_ROOT_FIELDS = ("overlay", "info", "extends", "actions")
_INFO_FIELDS = ("title", "version")
_ACTION_FIELDS = ("target", "description", "update", "remove")

# Where a node was written: the document it comes from and its pointer there.
_Origin = tuple[SourceDocument, str]


@dataclass
class OverlaidDocument(SourceDocument):
    """A ``SourceDocument`` after overlays: ``locate`` knows which file each node came from."""

    overlays: tuple[SourceDocument, ...] = ()
    _containers: dict[int, _Origin] = field(default_factory=dict, repr=False, compare=False)
    _members: dict[tuple[int, str], _Origin] = field(default_factory=dict, repr=False, compare=False)
    # Nodes taken out of the tree stay referenced so their ids are never reused.
    _retired: list[Any] = field(default_factory=list, repr=False, compare=False)

    def locate(self, pointer: str) -> Location:
        """Where the node at ``pointer`` was written: in the spec or in an overlay."""
        tokens = split_pointer(pointer)
        origin, rest = self._containers.get(id(self.data)), tokens
        node = self.data
        for depth, token in enumerate(tokens):
            key = _child_key(node, token)
            if key is None:
                break
            member = self._members.get((id(node), token))
            node = node[key]
            known = member or self._containers.get(id(node))
            if known is not None:
                origin, rest = known, tokens[depth + 1 :]
        if origin is None:
            return Location(self.display, pointer)
        source, base = origin
        found = source.locate(join_pointer(base, *rest))
        return Location(found.file, pointer, found.line, found.column)


def apply_overlays(
    source: SourceDocument, overlay_paths: Sequence[Path]
) -> tuple[SourceDocument, list[Diagnostic]]:
    """Apply the overlays in order; return the new document and warnings.

    Raises ``SpecError`` with every problem of every overlay (loading,
    structure, JSONPath syntax, impossible updates) at once.
    """
    overlays = []
    problems: list[Diagnostic] = []
    for path in overlay_paths:
        try:
            overlay = load_document(path)
        except SpecError as error:
            problems += error.diagnostics
            continue
        problems += _check_overlay(overlay)
        overlays.append(overlay)
    if problems:
        raise SpecError(problems)
    result = _new_document(source, overlays)
    applier = _Applier(result)
    for overlay in overlays:
        for index, action in enumerate(overlay.data["actions"]):
            applier.apply(overlay, index, action)
    if any(d.severity == "error" for d in applier.diagnostics):
        raise SpecError(applier.diagnostics)
    return result, applier.diagnostics


def _new_document(source: SourceDocument, overlays: list[SourceDocument]) -> OverlaidDocument:
    containers: dict[int, _Origin] = {}
    data = _copy_tracked(source.data, source, "", containers)

    def position_of(tokens: list[str]) -> tuple[int, int] | None:
        found = result.locate(join_pointer("", *tokens))
        return None if found.line is None else (found.line, found.column or 1)

    result = OverlaidDocument(source.path, source.display, data, position_of, tuple(overlays), containers)
    return result


def _copy_tracked(value: Any, source: SourceDocument, pointer: str, origins: dict[int, _Origin]) -> Any:
    """A deep copy of ``value`` whose every object and array remembers ``(source, pointer)``."""
    if isinstance(value, Mapping):
        copied: Any = {
            key: _copy_tracked(item, source, join_pointer(pointer, key), origins)
            for key, item in value.items()
        }
    elif isinstance(value, list):
        copied = [
            _copy_tracked(item, source, join_pointer(pointer, index), origins)
            for index, item in enumerate(value)
        ]
    else:
        return copy.copy(value)
    origins[id(copied)] = (source, pointer)
    return copied


def _child_key(node: Any, token: str) -> str | int | None:
    if isinstance(node, dict) and token in node:
        return token
    if isinstance(node, list) and token.isdigit() and int(token) < len(node):
        return int(token)
    return None


# ------------------------------------------------------------ checking


def _check_overlay(overlay: SourceDocument) -> list[Diagnostic]:
    """Structural problems of one Overlay document, each located in its file."""
    problems: list[Diagnostic] = []

    def problem(pointer: str, message: str) -> None:
        problems.append(Diagnostic(message, overlay.locate(pointer)))

    def unknown_fields(node: Mapping[str, Any], pointer: str, allowed: Sequence[str], what: str) -> None:
        for key in node:
            if not str(key).startswith("x-") and key not in allowed:
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"; did you mean '{close[0]}'?" if close else ""
                problem(join_pointer(pointer, str(key)), f"unknown field '{key}' in {what}{hint}")

    data = overlay.data
    if not isinstance(data, Mapping):
        problem("", "an Overlay document must be an object with 'overlay', 'info' and 'actions'")
        return problems
    unknown_fields(data, "", _ROOT_FIELDS, "the Overlay document")
    version = data.get("overlay")
    if "overlay" not in data:
        problem("", "not an Overlay document: the 'overlay' field (e.g. overlay: 1.0.0) is missing")
    elif not isinstance(version, str) or not _VERSION.match(version):
        problem("/overlay", f"unsupported Overlay version {version!r}: seawall reads Overlay 1.0.x")
    info = data.get("info")
    if not isinstance(info, Mapping):
        problem("/info" if "info" in data else "", "the Overlay needs 'info' with 'title' and 'version'")
    else:
        unknown_fields(info, "/info", _INFO_FIELDS, "info")
        for name in _INFO_FIELDS:
            if not isinstance(info.get(name), str):
                problem(
                    join_pointer("/info", name) if name in info else "/info", f"info.{name} must be a string"
                )
    if "extends" in data and not isinstance(data["extends"], str):
        problem("/extends", "extends must be a URI string")
    actions = data.get("actions")
    if not isinstance(actions, list) or not actions:
        problem("/actions" if "actions" in data else "", "the Overlay needs 'actions': a non-empty list")
        return problems
    for index, action in enumerate(actions):
        pointer = join_pointer("/actions", index)
        if not isinstance(action, Mapping):
            problem(pointer, f"action {index} must be an object with 'target' and 'update' or 'remove'")
            continue
        unknown_fields(action, pointer, _ACTION_FIELDS, f"action {index}")
        target = action.get("target")
        if not isinstance(target, str):
            problem(
                pointer if "target" not in action else join_pointer(pointer, "target"),
                f"action {index} needs 'target': a JSONPath string",
            )
        else:
            syntax = _jsonpath_error(target)
            if syntax:
                problem(
                    join_pointer(pointer, "target"), f"action {index}: invalid JSONPath {target!r}: {syntax}"
                )
        if "description" in action and not isinstance(action["description"], str):
            problem(join_pointer(pointer, "description"), f"action {index}: description must be a string")
        remove = action.get("remove", False)
        if not isinstance(remove, bool):
            problem(join_pointer(pointer, "remove"), f"action {index}: remove must be true or false")
        elif remove and "update" in action:
            problem(pointer, f"action {index} has both 'update' and 'remove: true'; use one per action")
        elif not remove and "update" not in action:
            problem(pointer, f"action {index} does nothing: give it 'update' or 'remove: true'")
    return problems


def _jsonpath_error(target: str) -> str | None:
    import jsonpath_rfc9535

    try:
        jsonpath_rfc9535.compile(target)
    except jsonpath_rfc9535.JSONPathError as error:
        return str(error)
    return None


# ------------------------------------------------------------ applying


class _Applier:
    """Applies actions to an ``OverlaidDocument`` in place, recording origins."""

    def __init__(self, document: OverlaidDocument) -> None:
        self.document = document
        self.diagnostics: list[Diagnostic] = []

    def apply(self, overlay: SourceDocument, index: int, action: Mapping[str, Any]) -> None:
        import jsonpath_rfc9535

        pointer = join_pointer("/actions", index)
        nodes = list(jsonpath_rfc9535.find(action["target"], self.document.data))
        if not nodes:
            label = action.get("description") or action["target"]
            self.diagnostics.append(
                Diagnostic(
                    f"overlay action {index} ({label}) matched nothing in {self.document.display}",
                    overlay.locate(join_pointer(pointer, "target")),
                    "warning",
                )
            )
            return
        if action.get("remove"):
            self._remove(overlay, pointer, nodes)
        else:
            self._update(overlay, pointer, nodes, action["update"])

    def _remove(self, overlay: SourceDocument, pointer: str, nodes: list[Any]) -> None:
        # Delete from the back so the remaining array indices stay valid.
        places = []
        for node in nodes:
            if not node.location:
                self._error(overlay, join_pointer(pointer, "target"), "cannot remove the whole document")
                continue
            places.append((node.parent.value, node.location[-1]))
        places.sort(key=lambda place: place[1] if isinstance(place[1], int) else -1, reverse=True)
        for container, key in places:
            if isinstance(container, list) and key < len(container):
                self.document._retired.append(container.pop(key))
            elif isinstance(container, dict) and key in container:
                self.document._retired.append(container.pop(key))

    def _update(self, overlay: SourceDocument, pointer: str, nodes: list[Any], update: Any) -> None:
        update_pointer = join_pointer(pointer, "update")
        seen: set[int] = set()
        for node in nodes:
            target = node.value
            if id(target) in seen:
                continue
            seen.add(id(target))
            where = node.path()
            if isinstance(target, list):
                self._append(target, update, overlay, update_pointer)
            elif not isinstance(target, dict):
                self._error(
                    overlay,
                    update_pointer,
                    f"the target {where} is a single value; only objects and arrays can be updated",
                )
            elif not isinstance(update, Mapping):
                self._error(
                    overlay, update_pointer, f"update must be an object to merge into the object at {where}"
                )
            else:
                self._merge(target, update, overlay, update_pointer)

    def _merge(
        self, target: dict[str, Any], update: Mapping[str, Any], overlay: SourceDocument, pointer: str
    ) -> None:
        for key, value in update.items():
            value_pointer = join_pointer(pointer, key)
            current = target.get(key)
            if isinstance(current, dict) and isinstance(value, Mapping):
                self._merge(current, value, overlay, value_pointer)
            elif isinstance(current, list) and isinstance(value, list):
                for offset, item in enumerate(value):
                    self._append(current, item, overlay, join_pointer(value_pointer, offset))
            else:
                self.document._retired.append(current)
                target[key] = _copy_tracked(value, overlay, value_pointer, self.document._containers)
                self.document._members[(id(target), key)] = (overlay, value_pointer)

    def _append(self, target: list[Any], value: Any, overlay: SourceDocument, pointer: str) -> None:
        self.document._members[(id(target), str(len(target)))] = (overlay, pointer)
        target.append(_copy_tracked(value, overlay, pointer, self.document._containers))

    def _error(self, overlay: SourceDocument, pointer: str, message: str) -> None:
        self.diagnostics.append(Diagnostic(message, overlay.locate(pointer)))
