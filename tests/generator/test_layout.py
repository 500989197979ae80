"""The render stage lays out calls and literals as black would, so black rarely runs.

Each property holds the layout to black itself: black must leave it unchanged.
Examples are derandomized so that CI runs are repeatable; vary them with
``--hypothesis-seed`` after changing the layout.
"""

from __future__ import annotations

import ast
import string

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from seawall.format import format_source
from seawall.layout import (
    Bracketed,
    annotated_lines,
    assignment_lines,
    call_lines,
    from_import,
    lay_out,
    parse_bracketed,
)
from seawall.render import docstring, py_literal

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


def assert_black_keeps(*sources: str) -> None:
    """Black leaves each source that fits in 88 columns as it is.

    A line the layout leaves long is black's to split, not this module's
    business; an example with no source that fits is rejected (``assume``),
    so hypothesis fails the test if too few examples are really checked.
    """
    fitting = [source for source in sources if max(len(line) for line in source.splitlines()) <= 88]
    assume(fitting)
    for source in fitting:
        assert format_source(source) == source


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.sampled_from(["return ", "value = ", "", "key: int = "]), names, arguments, st.integers(0, 3))
def test_a_laid_out_call_is_what_black_writes(prefix: str, name: str, args: list[str], depth: int) -> None:
    indent = "    " * depth
    statement = call_lines(indent, prefix + name, args)
    source = "".join(f"{'    ' * level}def f():\n" for level in range(depth)) + statement + "\n"
    assert_black_keeps(source)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(names, arguments)
def test_a_laid_out_item_of_a_dict_is_what_black_writes(name: str, args: list[str]) -> None:
    item = call_lines("    ", f'"{name}": {name}', args, ",")
    source = "x = {\n" + item + "\n}\n"
    assert_black_keeps(source)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(st.lists(names, min_size=1, max_size=12, unique=True))
def test_an_import_is_what_black_writes(imported: list[str]) -> None:
    source = from_import("package.module", imported) + "\n"
    assert format_source(source) == source


@settings(max_examples=300, deadline=None, derandomize=True)
@given(json_values)
def test_a_literal_is_what_black_writes_and_means_the_value(value: object) -> None:
    literal = py_literal(value)  # type: ignore[arg-type]
    assert ast.literal_eval(literal) == value
    source = f"x = {literal}\n"
    assert_black_keeps(source)


@settings(derandomize=True)
@given(st.text())
def test_a_string_literal_cannot_end_early(text: str) -> None:
    assert ast.literal_eval(py_literal(text)) == text


def bracketed(depth: int) -> st.SearchStrategy[Bracketed]:
    """Calls, list literals and dict literals, nested ``depth`` deep."""
    plain: st.SearchStrategy[object] = names
    if depth:
        plain = plain | bracketed(depth - 1)
    entries = st.tuples(names, plain).map(lambda pair: f'"{pair[0]}": {pair[1]}')
    return st.one_of(
        st.builds(Bracketed, st.sampled_from(["call", "obj.method"]), st.lists(plain, max_size=6)),
        st.builds(Bracketed, st.sampled_from(["Annotated", "dict"]), st.lists(plain, min_size=1, max_size=4), st.just("[]")),
        st.builds(Bracketed, st.just(""), st.lists(plain, max_size=6), st.just("[]")),
        st.builds(Bracketed, st.just(""), st.lists(entries, max_size=6), st.just("{}")),
    )


@settings(max_examples=300, deadline=None, derandomize=True)
@given(bracketed(2))
def test_nested_brackets_are_laid_out_as_black_lays_them_out(expression: Bracketed) -> None:
    statement = lay_out("    ", Bracketed("return call", [expression, "other"]))
    item = lay_out("    ", expression, ",")
    assert_black_keeps(f"def f():\n{statement}\n", f"x = [\n    a,\n{item}\n]\n")


type_names = st.text(string.ascii_letters, min_size=1, max_size=70).map(lambda name: "T" + name)
annotations = st.one_of(
    type_names,
    type_names.map(lambda name: f"{name} | None"),
    st.tuples(type_names, type_names).map(lambda pair: f"{pair[0]} | dict[str, {pair[1]}] | None"),
    type_names.map(lambda name: f"list[{name}]"),
    type_names.map(lambda name: f"list[{name}] | None"),
)


field_call = Bracketed("Field", ["default=None", 'validation_alias="aliasOfTheField"', 'serialization_alias="aliasOfTheField"'])
tags = names.map(lambda name: f'Annotated[{name}, Tag("{name}")]')
discriminated = st.lists(tags, min_size=2, max_size=4).map(
    lambda options: f'Annotated[Union[{", ".join(options)}], Field(discriminator="type")]'
)
field_annotations = st.one_of(
    annotations,
    st.one_of(discriminated, discriminated.map(lambda union: f"list[{union}]")).flatmap(
        lambda annotation: st.sampled_from([annotation, f"{annotation} | None"])
    ),
)


@settings(max_examples=600, deadline=None, derandomize=True)
@given(names, field_annotations, st.sampled_from([None, "None", "Other.MEMBER", '"a default string"', field_call]))
def test_a_field_is_laid_out_as_black_lays_it_out(name: str, annotation: str, default: str | Bracketed | None) -> None:
    assert_black_keeps("class A:\n" + annotated_lines("    ", name, annotation, default) + "\n")


@settings(derandomize=True)
@given(st.text(alphabet='ab()[]{}", |\\\\', max_size=20))
def test_parsing_brackets_keeps_the_text(text: str) -> None:
    parsed = parse_bracketed(text)
    assert str(parsed) == text  # a Bracketed prints back the text it was parsed from


def test_parsing_brackets_finds_the_structure_outside_strings() -> None:
    parsed = parse_bracketed('call(a, [b, "c), d"], key=f(x))')
    assert parsed == Bracketed("call", ["a", Bracketed("", ["b", '"c), d"'], "[]"), Bracketed("key=f", ["x"])])
    assert parse_bracketed("a | f(x)") == "a | f(x)"  # an operator before the bracket: not split there
    assert parse_bracketed('f("(")') == Bracketed("f", ['"("'])


@settings(max_examples=300, deadline=None, derandomize=True)
@given(
    st.sampled_from(["NAME", "Alias: TypeAlias", "A_MUCH_LONGER_CONSTANT_NAME_FOR_AN_ENUM_MEMBER"]),
    st.one_of(
        annotations,
        discriminated,
        names.map(lambda name: f'"{name} and some words to make it long enough"'),
        st.lists(type_names, min_size=2, max_size=6).map(" | ".join),
    ),
    st.integers(0, 1),
)
def test_an_assignment_is_laid_out_as_black_lays_it_out(target: str, value: str, depth: int) -> None:
    assert_black_keeps("class A:\n" * depth + assignment_lines("    " * depth, target, value) + "\n")


docstring_pieces = st.sampled_from(list('ab "\\\t\n\r \u00a0\x0b\x85\u2028') + ["word", "  ", '"""'])
docstring_text = st.lists(docstring_pieces, max_size=25).map("".join)


@settings(max_examples=500, deadline=None, derandomize=True)
@given(docstring_text.filter(str.strip), st.sampled_from(["", "    ", "        "]))
def test_a_docstring_is_what_black_writes(text: str, indent: str) -> None:
    body = docstring(text, indent)
    source = "".join(f"{'    ' * level}def f():\n" for level in range(len(indent) // 4)) + body + "\n"
    assert format_source(source) == source
