"""The load stage: YAML/JSON parsing, string keys, duplicate keys and locations."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from seawall.diagnostics import SpecError
from seawall.load import load_document, split_pointer

CORPUS = Path(__file__).parents[2] / ".." / "shared" / "corpus" / "specs"


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load_error(path: Path) -> SpecError:
    with pytest.raises(SpecError) as caught:
        load_document(path)
    return caught.value


def test_yaml_keys_become_strings_and_dates_stay_text(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "a.yaml",
        "responses:\n  200:\n    description: ok\n  404: {}\nexample: 1981-12-15\nwhen: 2020-01-02T03:04:05Z\nn: 7\nf: 1.5\nb: yes\nz: ~\n",
    )
    data = load_document(path).data
    assert list(data["responses"]) == ["200", "404"]
    assert data["example"] == "1981-12-15"
    assert data["when"] == "2020-01-02T03:04:05Z"
    assert (data["n"], data["f"], data["b"], data["z"]) == (7, 1.5, True, None)


def test_yaml_anchors_and_merge_keys(tmp_path: Path) -> None:
    path = write(tmp_path, "m.yaml", "base: &b\n  type: string\n  format: x\nuse:\n  <<: *b\n  format: y\nalias: *b\n")
    document = load_document(path)
    assert document.data["use"] == {"type": "string", "format": "y"}
    assert document.data["alias"] == {"type": "string", "format": "x"}
    # a merged key is placed where the anchor defined it, an own key at itself
    assert (document.locate("/use/type").line, document.locate("/use/format").line) == (2, 6)


def test_yaml_locations_follow_pointers(tmp_path: Path) -> None:
    path = write(tmp_path, "l.yaml", "paths:\n  /a~b/c:\n    get:\n      tags: [x, y]\n")
    document = load_document(path)
    location = document.locate("/paths/~1a~0b~1c/get/tags/1")
    assert (location.file, location.line, location.column) == (str(path), 4, 17)
    # an unknown tail falls back to the deepest node that exists
    assert document.locate("/paths/~1a~0b~1c/get/nothing/here").line == 3


def test_yaml_duplicate_key_reported_with_both_lines(tmp_path: Path) -> None:
    error = load_error(write(tmp_path, "d.yaml", "a:\n  b: 1\n  c: 2\n  b: 3\n"))
    [problem] = error.diagnostics
    assert problem.message == "duplicate key 'b' (first defined on line 2)"
    assert (problem.location.pointer, problem.location.line, problem.location.column) == ("/a/b", 4, 3)


def test_invalid_yaml_has_line_and_column(tmp_path: Path) -> None:
    error = load_error(write(tmp_path, "bad.yaml", "a: [1, 2\nb: 3\n"))
    [problem] = error.diagnostics
    assert problem.message.startswith("invalid YAML: ")
    assert "did not find expected ',' or ']'" in problem.message
    assert problem.location.line == 2


def test_unsupported_yaml_tag_is_an_error(tmp_path: Path) -> None:
    error = load_error(write(tmp_path, "t.yaml", "a: !!python/object:os.system x\n"))
    assert error.diagnostics[0].message == "unsupported YAML tag 'tag:yaml.org,2002:python/object:os.system'"
    assert error.diagnostics[0].location.pointer == "/a"


def test_empty_file(tmp_path: Path) -> None:
    error = load_error(write(tmp_path, "e.yaml", "# nothing\n"))
    assert error.diagnostics[0].message == "file is empty"


def test_json_loads_with_surrogate_pairs_and_locates_lazily(tmp_path: Path) -> None:
    path = write(tmp_path, "a.json", '{\n  "s": "\\ud83d\\ude00",\n  "list": [1, {"k\\"ey": true}]\n}\n')
    document = load_document(path)
    assert document.data["s"] == "\U0001f600"
    location = document.locate('/list/1/k"ey')
    assert (location.line, location.column) == (3, 16)
    assert document.locate("/list/0").column == 12
    assert document.locate("").line == 1


def test_invalid_json_has_line_and_column(tmp_path: Path) -> None:
    error = load_error(write(tmp_path, "bad.json", '{\n  "a": 1,\n  "b": }\n'))
    [problem] = error.diagnostics
    assert problem.message == "invalid JSON: Expecting value"
    assert (problem.location.line, problem.location.column) == (3, 8)


def test_json_duplicate_key(tmp_path: Path) -> None:
    error = load_error(write(tmp_path, "d.json", '{"a": {"x": 1,\n  "x": 2}}'))
    [problem] = error.diagnostics
    assert problem.message == "duplicate key 'x' (first defined on line 1)"
    assert (problem.location.pointer, problem.location.line, problem.location.column) == ("/a/x", 2, 3)


def test_json_nan_rejected(tmp_path: Path) -> None:
    error = load_error(write(tmp_path, "n.json", '{"a": NaN}'))
    assert error.diagnostics[0].message == "invalid JSON: NaN is not allowed"


def test_missing_file_and_bad_encoding(tmp_path: Path) -> None:
    missing = load_error(tmp_path / "nope.yaml")
    assert str(missing.diagnostics[0]) == f"{tmp_path / 'nope.yaml'}: error: file not found"
    bad = tmp_path / "latin.yaml"
    bad.write_bytes(b"a: 1\nb: caf\xe9\n")
    problem = load_error(bad).diagnostics[0]
    assert problem.message == "file is not valid UTF-8 (byte 0xe9)"
    assert (problem.location.line, problem.location.column) == (2, 7)


def test_display_keeps_the_path_as_given(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path, "s.yaml", "a: 1\n")
    monkeypatch.chdir(tmp_path)
    document = load_document("s.yaml")
    assert document.display == "s.yaml"
    assert document.path == tmp_path.resolve() / "s.yaml"


def test_split_pointer() -> None:
    assert split_pointer("") == []
    assert split_pointer("/a~1b/c~0d/") == ["a/b", "c~d", ""]
    with pytest.raises(ValueError):
        split_pointer("a/b")


def corpus_file(name: str) -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not present at {CORPUS}")
    return CORPUS / name


@pytest.mark.corpus
def test_corpus_quirks_unquoted_codes_and_dates() -> None:
    fake = load_document(corpus_file("oag-petstore-with-fake-endpoints-models-for-testing.yaml"))
    codes = {code for item in fake.data["paths"].values() for op in item.values() if isinstance(op, dict)
             for code in op.get("responses", {})}
    assert "200" in codes and all(isinstance(code, str) for code in codes)
    spotify = load_document(corpus_file("real-spotify-web-api.yml"))
    text = spotify.path.read_text(encoding="utf-8")
    assert "example: 1981-12-15" in text
    assert _contains(spotify.data, "1981-12-15")


def _contains(data: object, wanted: str) -> bool:
    if isinstance(data, dict):
        return any(_contains(value, wanted) for value in data.values())
    if isinstance(data, list):
        return any(_contains(value, wanted) for value in data)
    return data == wanted


@pytest.mark.corpus
def test_biggest_corpus_specs_load_times() -> None:
    """Prints load times of the three biggest files (figures for the report, not assertions)."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not present at {CORPUS}")
    for path in sorted(CORPUS.iterdir(), key=lambda p: p.stat().st_size)[-3:]:
        started = time.perf_counter()
        document = load_document(path)
        print(f"{path.name}: {(time.perf_counter() - started) * 1000:.0f} ms")
        assert isinstance(document.data, dict)
