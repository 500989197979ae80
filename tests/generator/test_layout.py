"""The render stage lays out calls and literals as black would, so black rarely runs.

Each property holds the layout to black itself: black must leave it unchanged.
"""

from __future__ import annotations

import ast
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from seawall.format import format_source
from seawall.layout import call_lines, from_import
from seawall.render import py_literal

names = st.text(string.ascii_letters + "_", min_size=1, max_size=30).map(lambda name: "n_" + name)
arguments = st.lists(
    st.one_of(names, names.map(lambda name: f'"{name}"'), names.map(lambda name: f"{name}={name}")),
    min_size=1,
    max_size=8,
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(["return ", "value = ", "", "key: int = "]), names, arguments, st.integers(0, 3))
def test_a_laid_out_call_is_what_black_writes(prefix: str, name: str, args: list[str], depth: int) -> None:
    indent = "    " * depth
    statement = call_lines(indent, prefix + name, args)
    source = "".join(f"{'    ' * level}def f():\n" for level in range(depth)) + statement + "\n"
    if max(len(line) for line in statement.splitlines()) <= 88:
        assert format_source(source) == source


@settings(max_examples=60, deadline=None)
@given(names, arguments)
def test_a_laid_out_item_of_a_dict_is_what_black_writes(name: str, args: list[str]) -> None:
    item = call_lines("    ", f'"{name}": {name}', args, ",")
    source = "x = {\n" + item + "\n}\n"
    if max(len(line) for line in item.splitlines()) <= 88:
        assert format_source(source) == source


@settings(max_examples=60, deadline=None)
@given(st.lists(names, min_size=1, max_size=12, unique=True))
def test_an_import_is_what_black_writes(imported: list[str]) -> None:
    source = from_import("package.module", imported) + "\n"
    assert format_source(source) == source


@settings(max_examples=300, deadline=None)
@given(json_values)
def test_a_literal_is_what_black_writes_and_means_the_value(value: object) -> None:
    literal = py_literal(value)  # type: ignore[arg-type]
    assert ast.literal_eval(literal) == value
    source = f"x = {literal}\n"
    if len(source) <= 88:
        assert format_source(source) == source


@given(st.text())
def test_a_string_literal_cannot_end_early(text: str) -> None:
    assert ast.literal_eval(py_literal(text)) == text
