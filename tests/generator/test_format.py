"""The format stage runs black in process, deterministically."""

from __future__ import annotations

import pytest

from seawall.format import GeneratedCodeError, format_files


def test_formats_python_and_passes_other_files_through() -> None:
    files = {"a.py": "x = {  'a':1 }\n", "README.md": "x = {  'a':1 }\n"}
    formatted = format_files(files)
    assert formatted["a.py"] == 'x = {"a": 1}\n'
    assert formatted["README.md"] == files["README.md"]


def test_already_formatted_source_is_unchanged() -> None:
    assert format_files({"a.py": "x = 1\n"}) == {"a.py": "x = 1\n"}


def test_invalid_generated_python_names_the_file() -> None:
    with pytest.raises(GeneratedCodeError, match="pkg/broken.py"):
        format_files({"pkg/broken.py": "def (:\n"})
