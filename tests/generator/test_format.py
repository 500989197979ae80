"""The format stage: black's output, with black run only where it changes something.

The templates write black's style; the format stage sends black only the
statements with a line over 88 columns. These tests hold it to black run
over the whole file (tests/generator/test_render_corpus.py does the same on
every corpus spec).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from seawall.format import GeneratedCodeError, format_files, format_source

REPO = Path(__file__).resolve().parents[2]
LONG = "a_rather_long_argument_name_" * 2

# Black's style everywhere, but with lines over 88 columns at several depths,
# in several shapes, and long lines black keeps (docstrings, unsplittable items).
SOURCE = f'''"""Module docstring that is long enough to pass the line limit by a fair way, which black allows."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from some.module import (
        AVeryLongNameThatMakesThisImportLineLongerThanTheLimitAllowsForAnything as AVeryLongNameThatMakesThisImportLineLongerThanTheLimitAllowsForAnything,
    )

VALUE = call({LONG}, {LONG}, {LONG})
SHORT = call(1, 2)


class Model(Base):
    """A class docstring whose single line is long enough to pass the limit of eighty-eight."""

    field: dict[str, list[int]] | None = Field(default=None, validation_alias="aliasName", serialization_alias="aliasName")
    """An attribute docstring, also long enough to pass the limit of eighty-eight columns."""

    other: int = 1


def function(
    first: int,
    second_parameter_with_a_long_name: list[SomethingLong] | dict[str, SomethingLonger] | None = None,
    third_parameter_with_a_long_name: SomethingLong | SomethingLonger | SomethingLongest | None = None,
) -> None:
    """Docstring.

    With a second paragraph that is long enough to pass the limit of eighty-eight columns.
    """
    if first:
        return await endpoint.call(session, {{"first": first, "second": second_parameter_with_a_long_name}}, None)
    table = {{
        "key": Reply("json", Deferred(lambda: models.SomeModelName), error=errors.SomeErrorName),
        "a_key_long_enough_to_pass_the_limit_without_any_bracket_in_it_at_all": "value",
        "union": Reply(
            "json",
            models.SomeRatherLongModelName | models.AnotherRatherLongModelName | models.More,
        ),
    }}
'''


def test_only_long_statements_change_and_the_result_is_blacks() -> None:
    formatted = format_files({"pkg/a.py": SOURCE})["pkg/a.py"]
    assert formatted == format_source(SOURCE)
    assert formatted != SOURCE  # there was something to split
    assert "SHORT = call(1, 2)\n" in formatted


def test_other_files_pass_through() -> None:
    files = {"README.md": "x = {  'a':1 }\n", "pyproject.toml": "a = 1\n"}
    assert format_files(files) == files


def test_formatted_source_is_unchanged() -> None:
    formatted = format_source(SOURCE)
    assert format_files({"a.py": formatted}) == {"a.py": formatted}


def test_invalid_generated_python_names_the_file() -> None:
    # Files are parsed when black has work in them: here, a line over the limit.
    broken = "def (:\n    return call(" + "argument, " * 10 + ")\n"
    with pytest.raises(GeneratedCodeError, match="pkg/broken.py"):
        format_files({"pkg/broken.py": broken})


def test_generated_packages_equal_black_over_whole_files() -> None:
    from seawall.pipeline import GenerateOptions, generate_files

    for spec in sorted((REPO / "specs").glob("*.yaml")):
        files = generate_files(spec, GenerateOptions()).files
        for path, text in files.items():
            if path.endswith(".py"):
                assert format_source(text) == text, f"{spec.name}: {path}"
