"""Stage 1: read a YAML or JSON file into JSON-compatible data that knows where each node came from.

YAML is composed into nodes with libyaml (``yaml.CSafeLoader``) and the data is
built here, so that mapping keys always become strings, timestamps stay ISO
strings and duplicate keys are caught with their line. JSON goes through the
stdlib parser; line/column are only worked out (by a token scan of the text in
:class:`_JsonPositions`) when a message needs them.
"""

from __future__ import annotations

import bisect
import gc
import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from seawall.diagnostics import Diagnostic, Location, SpecError, join_pointer

# (line, column), both 1-based.
Position = tuple[int, int]

_YAML_SUFFIXES = (".yaml", ".yml")


def split_pointer(pointer: str) -> list[str]:
    """Split a JSON pointer (``/a/b~1c``) into unescaped tokens (``["a", "b/c"]``)."""
    if not pointer:
        return []
    if not pointer.startswith("/"):
        raise ValueError(f"not a JSON pointer: {pointer!r}")
    return [t.replace("~1", "/").replace("~0", "~") for t in pointer[1:].split("/")]


@dataclass
class SourceDocument:
    """One parsed file: its data and a way back from JSON pointers to line/column."""

    path: Path
    display: str
    data: Any
    _position_of: Callable[[list[str]], Position | None] = field(repr=False, compare=False)

    def locate(self, pointer: str) -> Location:
        """File, pointer and line/column of the deepest node on ``pointer`` that exists."""
        position = self._position_of(split_pointer(pointer))
        if position is None:
            return Location(self.display, pointer)
        return Location(self.display, pointer, position[0], position[1])


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a stage builds or walks a big document.

    Spec data is hundreds of thousands of small acyclic objects (and a YAML
    document keeps its node tree for positions): every collection would
    traverse them all, for nothing; on a 4 MB YAML spec that is most of the
    time of resolve and validate.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def load_document(path: str | Path) -> SourceDocument:
    """Read and parse ``path`` (YAML or JSON). Raises :class:`SpecError` on any problem."""
    display = str(path)
    absolute = Path(path).expanduser().resolve()
    try:
        raw = absolute.read_bytes()
    except FileNotFoundError:
        raise SpecError([Diagnostic("file not found", Location(display))]) from None
    except IsADirectoryError:
        raise SpecError([Diagnostic("is a directory, not a file", Location(display))]) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise SpecError([Diagnostic(f"cannot read file: {reason}", Location(display))]) from None
    text = _decode(raw, display)
    if _looks_like_json(absolute, text):
        data, position_of = _parse_json(text, display)
    else:
        data, position_of = _parse_yaml(text, display)
    return SourceDocument(absolute, display, data, position_of)


def _decode(raw: bytes, display: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        problem = f"file is not valid UTF-8 (byte 0x{raw[exc.start]:02x})"
        raise SpecError([Diagnostic(problem, Location(display, "", line, column))]) from None


def _looks_like_json(path: Path, text: str) -> bool:
    if path.suffix.lower() == ".json":
        return True
    if path.suffix.lower() in _YAML_SUFFIXES:
        return False
    return text.lstrip()[:1] in ("{", "[")


class _LineIndex:
    """Turns character offsets into 1-based (line, column)."""

    def __init__(self, text: str) -> None:
        self._starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def position(self, offset: int) -> Position:
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1] + 1


# --------------------------------------------------------------------- JSON


def _parse_json(text: str, display: str) -> tuple[Any, Callable[[list[str]], Position | None]]:
    duplicates_seen = False

    def build_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal duplicates_seen
        obj = dict(pairs)
        if len(obj) != len(pairs):
            duplicates_seen = True
        return obj

    try:
        data = json.loads(text, object_pairs_hook=build_object, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        location = Location(display, "", exc.lineno, exc.colno)
        raise SpecError([Diagnostic(f"invalid JSON: {exc.msg}", location)]) from None
    except _NonJsonConstant as exc:
        raise SpecError([Diagnostic(f"invalid JSON: {exc.args[0]} is not allowed", Location(display))]) from None
    positions = _JsonPositions(text)
    if duplicates_seen:
        raise SpecError(positions.duplicate_key_diagnostics(display))
    return data, positions.position_of


class _NonJsonConstant(ValueError):
    pass


def _reject_constant(name: str) -> Any:
    # Python's json accepts NaN/Infinity, which are not JSON and cannot be written back.
    raise _NonJsonConstant(name)


_JSON_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<open>[\[{])
      | (?P<close>[\]}])
      | (?P<colon>:)
      | (?P<comma>,)
      | (?P<atom>[^\s,:\[\]{}"]+)
    )""",
    re.VERBOSE | re.DOTALL,
)


class _JsonPositions:
    """Pointer → position index of a JSON text, built on first use (only errors need it).

    Members are placed at their key, array items at their first character.
    """

    def __init__(self, text: str) -> None:
        self._text = text
        self._lines = _LineIndex(text)
        self._offsets: dict[tuple[str, ...], int] | None = None
        self._duplicates: list[tuple[tuple[str, ...], str, int, int]] = []

    def position_of(self, tokens: list[str]) -> Position | None:
        offsets = self._index()
        path = tuple(tokens)
        while path not in offsets:
            path = path[:-1]
        return self._lines.position(offsets[path])

    def duplicate_key_diagnostics(self, display: str) -> list[Diagnostic]:
        self._index()
        diagnostics = []
        for parent, key, first, again in self._duplicates:
            line, column = self._lines.position(again)
            first_line = self._lines.position(first)[0]
            pointer = join_pointer("", *parent, key)
            message = f"duplicate key {key!r} (first defined on line {first_line})"
            diagnostics.append(Diagnostic(message, Location(display, pointer, line, column)))
        return diagnostics

    def _index(self) -> dict[tuple[str, ...], int]:
        if self._offsets is None:
            self._offsets = self._scan()
        return self._offsets

    def _scan(self) -> dict[tuple[str, ...], int]:
        # The text is known to be valid JSON, so a flat token walk with a stack is enough.
        offsets: dict[tuple[str, ...], int] = {(): len(self._text) - len(self._text.lstrip())}
        # Each frame: (path of container, is_object, next array index, pending key).
        stack: list[list[Any]] = []
        expecting_key = False
        for match in _JSON_TOKEN.finditer(self._text):
            kind = match.lastgroup
            start = match.start(kind) if kind else match.start()
            if kind == "string" and expecting_key:
                quoted = match.group("string")
                key = json.loads(quoted) if "\\" in quoted else quoted[1:-1]
                frame = stack[-1]
                member = (*frame[0], key)
                if member in offsets:
                    self._duplicates.append((frame[0], key, offsets[member], start))
                else:
                    offsets[member] = start
                frame[3] = key
                expecting_key = False
                continue
            if kind in ("string", "open", "atom") and stack and not stack[-1][1]:
                frame = stack[-1]
                offsets[frame[0] + (str(frame[2]),)] = start
            if kind == "open":
                path: tuple[str, ...] = ()
                if stack:
                    frame = stack[-1]
                    path = (*frame[0], frame[3] if frame[1] else str(frame[2]))
                is_object = match.group("open") == "{"
                stack.append([path, is_object, 0, ""])
                expecting_key = is_object
            elif kind == "close":
                stack.pop()
            elif kind == "comma":
                frame = stack[-1]
                frame[2] += 1
                expecting_key = frame[1]
        return offsets


# --------------------------------------------------------------------- YAML


def _parse_yaml(text: str, display: str) -> tuple[Any, Callable[[list[str]], Position | None]]:
    import yaml

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    builder = _YamlBuilder(display)
    try:
        with paused_gc():
            root = yaml.compose(text, Loader=loader)
            data = None if root is None else builder.build(root)
    except yaml.MarkedYAMLError as exc:
        raise SpecError([_yaml_error(exc, display)]) from None
    except yaml.YAMLError as exc:
        raise SpecError([Diagnostic(f"invalid YAML: {exc}", Location(display))]) from None
    if root is None:
        raise SpecError([Diagnostic("file is empty", Location(display, "", 1, 1))])
    if builder.problems:
        raise SpecError(builder.problems)
    return data, lambda tokens: _yaml_position(root, tokens)


def _yaml_error(exc: Any, display: str) -> Diagnostic:
    mark = exc.problem_mark or exc.context_mark
    problem = exc.problem or exc.context or "unreadable"
    if exc.context and exc.problem:
        problem = f"{exc.context}: {exc.problem}"
    location = Location(display) if mark is None else Location(display, "", mark.line + 1, mark.column + 1)
    return Diagnostic(f"invalid YAML: {problem}", location)


def _mark(node: Any) -> Position:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _yaml_position(root: Any, tokens: list[str]) -> Position:
    """Walk composed nodes along ``tokens``; members are placed at their key."""
    import yaml

    node, position = root, _mark(root)
    for token in tokens:
        if isinstance(node, yaml.MappingNode):
            pair = next((p for p in _own_and_merged_pairs(node) if _key_text(p[0]) == token), None)
            if pair is None:
                break
            position, node = _mark(pair[0]), pair[1]
        elif isinstance(node, yaml.SequenceNode) and token.isdigit() and int(token) < len(node.value):
            node = node.value[int(token)]
            position = _mark(node)
        else:
            break
    return position


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _own_and_merged_pairs(node: Any) -> list[tuple[Any, Any]]:
    """A mapping's own pairs, then the pairs merged in by ``<<`` (earlier ones win)."""
    return [p for p in node.value if p[0].tag != _MERGE_TAG] + _merged_pairs(node)


def _merged_pairs(node: Any) -> list[tuple[Any, Any]]:
    """The pairs a mapping takes in through ``<<`` merge keys, in precedence order."""
    import yaml

    merged: list[tuple[Any, Any]] = []
    for key, value in node.value:
        if key.tag != _MERGE_TAG:
            continue
        sources = value.value if isinstance(value, yaml.SequenceNode) else [value]
        for source in sources:
            if isinstance(source, yaml.MappingNode):
                merged += _own_and_merged_pairs(source)
    return merged


def _key_text(node: Any) -> str | None:
    import yaml

    return node.value if isinstance(node, yaml.ScalarNode) else None


class _YamlBuilder:
    """Builds JSON-compatible data from composed YAML nodes, collecting problems."""

    _PLAIN_TAGS = {
        "tag:yaml.org,2002:str",
        "tag:yaml.org,2002:timestamp",  # kept as the ISO text the author wrote
        "tag:yaml.org,2002:binary",  # kept as its base64 text
    }

    def __init__(self, display: str) -> None:
        import yaml

        self._yaml = yaml
        self._display = display
        self._constructor = yaml.constructor.SafeConstructor()
        self._built: dict[int, Any] = {}
        self._in_progress: set[int] = set()
        # Tokens from the root to the node being built; joined into a pointer only for problems.
        self._path: list[str | int] = []
        self.problems: list[Diagnostic] = []

    def build(self, node: Any) -> Any:
        """The value of ``node``; problems are collected in :attr:`problems`."""
        yaml = self._yaml
        if isinstance(node, yaml.ScalarNode):
            return self._scalar(node)
        if id(node) in self._built:  # an alias: share the anchored value
            return self._built[id(node)]
        if id(node) in self._in_progress:
            self._problem("an alias refers to its own anchor (recursive data is not allowed)", node)
            return None
        is_sequence = isinstance(node, yaml.SequenceNode)
        if node.tag != ("tag:yaml.org,2002:seq" if is_sequence else "tag:yaml.org,2002:map"):
            self._problem(f"unsupported YAML tag {node.tag!r}", node)
            return None
        self._in_progress.add(id(node))
        value: Any = self._sequence(node) if is_sequence else self._mapping(node)
        self._in_progress.discard(id(node))
        self._built[id(node)] = value
        return value

    def _sequence(self, node: Any) -> list[Any]:
        items = []
        path = self._path
        for index, item in enumerate(node.value):
            path.append(index)
            items.append(self.build(item))
            path.pop()
        return items

    def _mapping(self, node: Any) -> dict[str, Any]:
        result: dict[str, Any] = {}
        first_seen: dict[str, Any] = {}
        path = self._path
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            key = _key_text(key_node)
            if key is None:
                self._problem("a mapping key must be a plain value, not a list or mapping", key_node)
                continue
            path.append(key)
            if key in first_seen:
                first_line = _mark(first_seen[key])[0]
                self._problem(f"duplicate key {key!r} (first defined on line {first_line})", key_node)
            else:
                first_seen[key] = key_node
                result[key] = self.build(value_node)
            path.pop()
        for key_node, value_node in _merged_pairs(node):
            key = _key_text(key_node)
            if key is not None and key not in result:
                path.append(key)
                result[key] = self.build(value_node)
                path.pop()
        return result

    def _scalar(self, node: Any) -> Any:
        if node.tag in self._PLAIN_TAGS:
            return node.value
        make = self._constructor.yaml_constructors.get(node.tag)
        if make is None or node.tag.rsplit(":", 1)[-1] not in ("null", "bool", "int", "float"):
            self._problem(f"unsupported YAML tag {node.tag!r}", node)
            return node.value
        return make(self._constructor, node)

    def _problem(self, message: str, node: Any) -> None:
        line, column = _mark(node)
        location = Location(self._display, join_pointer("", *self._path), line, column)
        self.problems.append(Diagnostic(message, location))
