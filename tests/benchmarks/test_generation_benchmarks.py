"""Smoke tests: the generation benchmarks run on tiny inputs and print their figures.

No timing is asserted: the figures depend on the machine.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from seawall.load import load_document
from seawall.resolve import resolve
from seawall.validate import validate

# The scripts import each other (and _peers) as top-level modules, as when run from benchmarks/.
BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCHMARKS))

import generate  # noqa: E402
import scaling  # noqa: E402
import synthetic  # noqa: E402


def test_synthetic_spec_is_deterministic_and_sized() -> None:
    spec = synthetic.build_spec(20, seed=3)
    assert spec == synthetic.build_spec(20, seed=3)
    assert spec != synthetic.build_spec(20, seed=4)
    operations, schemas = synthetic.count(spec)
    assert operations == 20 and schemas > operations


@pytest.mark.parametrize("suffix", [".json", ".yaml"])
def test_synthetic_spec_is_valid_openapi_with_the_realistic_shapes(tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"spec{suffix}"
    synthetic.write_spec(synthetic.build_spec(10), path)
    spec = resolve(load_document(path))
    assert validate(spec, lenient=False) == []
    schemas = spec.document["components"]["schemas"]
    method = schemas["resource_1_method"]
    assert method["discriminator"]["propertyName"] == "type" and len(method["oneOf"]) == 3
    assert "allOf" in schemas["resource_1_kind_0"]
    expandable = schemas["resource_1"]["properties"]["resource_0_ref"]
    assert expandable["anyOf"][0] == {"type": "string", "maxLength": 5000} and expandable["nullable"] is True
    assert schemas["resource_1"]["properties"]["metadata"]["additionalProperties"] == {"type": "string", "maxLength": 500}


def test_measure_reports_peak_memory_and_failures(tmp_path: Path) -> None:
    allocate = [sys.executable, "-c", "block = bytearray(80 * 1024 * 1024); block[::4096] = b'x' * len(block[::4096])"]
    run = generate.measure(allocate, tmp_path, timeout=60)
    assert run.status == 0 and run.peak_mb >= 80 and run.seconds > 0
    failing = generate.measure([sys.executable, "-c", "raise SystemExit('no such spec')"], tmp_path, timeout=60)
    assert failing.status == 1 and failing.error == "no such spec"


def test_generate_benchmark_prints_a_row_per_spec(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = tmp_path / "tiny.yaml"
    synthetic.write_spec(synthetic.build_spec(5), spec)
    assert generate.main([str(spec), "--no-peers", "--no-synthetic", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    assert "machine: " in out and "Python " in out
    [row] = [line for line in out.splitlines() if line.startswith("| tiny.yaml")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert float(cells[2]) > 0 and float(cells[3]) > 0  # seawall's seconds and peak MB: it generated
    assert cells[4] == "-"  # no peers asked for


def test_scaling_benchmark_prints_the_curve(capsys: pytest.CaptureFixture[str]) -> None:
    assert scaling.main(["--sizes", "5", "10", "--repeat", "1"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("| 5 ") or line.startswith("| 10 ")]
    assert len(rows) == 2
    for row in rows:
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert float(cells[4]) > 0  # ms per operation
        assert "validate" in cells[6] and "format" in cells[6]  # the stage breakdown
    assert "largest over smallest size" in out


def test_a_spec_that_breaks_openapi_is_measured_lenient(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec_data = synthetic.build_spec(5)
    spec_data["servers"] = [{"url": "https://{host}", "variables": {"host": {"default": 80}}}]  # must be a string
    spec = tmp_path / "broken.json"
    synthetic.write_spec(spec_data, spec)
    assert generate.main([str(spec), "--no-peers", "--no-synthetic", "--repeat", "1"]) == 0
    [row] = [line for line in capsys.readouterr().out.splitlines() if line.startswith("| broken.json")]
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    assert cells[0] == "broken.json (lenient)" and float(cells[2]) > 0
