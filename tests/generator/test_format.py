"""The format stage runs black in process, deterministically."""

from __future__ import annotations

from pathlib import Path

import pytest

from seawall.format import GeneratedCodeError, format_files, format_source, split_top_level

REPO = Path(__file__).resolve().parents[2]


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


TRICKY = '''"""Module docstring."""
def right_after_docstring():
    pass
import os

X = 1
class A:
    """Doc."""
    y: int = 1
# a comment that belongs to B
class B(A):
    pass



@decorator
def decorated(a,b):
    return a+b
from typing import overload
@overload
def f(x: int) -> int: ...
@overload
def f(x: str) -> str: ...
def f(x):
    return x
Y = {  'k':1 }
async def g():
    await   h()
class   C: pass
'''


def _pieces_formatted(source: str, target: int) -> str:
    return "\n\n".join(format_source(piece) for piece in split_top_level(source, target))


@pytest.mark.parametrize("target", [1, 50, 10_000])
def test_formatting_pieces_equals_formatting_the_whole(target: int) -> None:
    pieces = split_top_level(TRICKY, target)
    assert "".join(pieces) == TRICKY
    if target == 1:
        assert len(pieces) > 3, "expected several cuts"
    assert _pieces_formatted(TRICKY, target) == format_source(TRICKY)


def test_generated_client_formats_the_same_in_pieces(tmp_path: Path) -> None:
    from seawall.pipeline import GenerateOptions, generate_files

    files = generate_files(REPO / "specs" / "orders.yaml", GenerateOptions()).files
    for path, text in files.items():
        if path.endswith(".py"):
            assert _pieces_formatted(text, 1) == text, path


def test_large_projects_are_formatted_in_parallel_pieces_identically(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Shrink the thresholds rather than the machine: a few KB take the parallel path.
    monkeypatch.setattr("seawall.format._PARALLEL_THRESHOLD_BYTES", 1_000)
    monkeypatch.setattr("seawall.format._MIN_PIECE_BYTES", 500)
    many = "\n".join(f"def f{i}(a,b):\n    return {{ 'a':a, 'b':b }}\n" for i in range(200))
    files = {"big.py": many, "small.py": "x = {  'a':1 }\n"}
    assert len(split_top_level(many, 500)) > 4
    formatted = format_files(files)
    assert formatted["big.py"] == format_source(many)
    assert formatted["small.py"] == 'x = {"a": 1}\n'


def test_formatted_pieces_are_cached_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEAWALL_CACHE_DIR", str(tmp_path / "cache"))
    files = {"a.py": "x = {  'a':1 }\n"}
    assert format_files(files)["a.py"] == 'x = {"a": 1}\n'
    cached = list((tmp_path / "cache").rglob("*"))
    assert any(p.is_file() for p in cached)

    calls: list[str] = []
    monkeypatch.setattr("seawall.format.format_source", lambda s: calls.append(s) or s)
    assert format_files(files)["a.py"] == 'x = {"a": 1}\n'
    assert calls == [], "a cached piece was formatted again"
    assert format_files({"b.py": "y = 2\n"})["b.py"] == "y = 2\n"
    assert calls == ["y = 2\n"]


def test_unusable_cache_folder_is_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SEAWALL_CACHE_DIR", str(blocker / "cache"))
    assert format_files({"a.py": "x = {  'a':1 }\n"})["a.py"] == 'x = {"a": 1}\n'


def test_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEAWALL_CACHE_DIR", "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    format_files({"a.py": "x = 1\n"})
    assert not list(tmp_path.iterdir())
