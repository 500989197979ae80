"""How generation cost grows with the size of the spec: it should be near-linear.

Synthetic specs (``benchmarks/synthetic.py``, same seed) with 10, 100, 1,000
and 5,000 operations and matching schemas are generated with the ``seawall``
CLI as a subprocess, ``--repeat`` times each, in a fresh wrapper process per run
(see ``generate.py``). The curve gives the median wall time, the time per
operation (flat means linear) and peak memory; a second run of each size in
process gives the time of each pipeline stage, to show which stage bends the
curve.

    python benchmarks/scaling.py
    python benchmarks/scaling.py --sizes 10 100 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from _peers import header, median, table
from generate import compile_seawall, measure, seawall_command
from synthetic import build_spec, count, write_spec

SIZES = (10, 100, 1000, 5000)

# Runs the pipeline in process (no writing) and prints each stage's seconds as JSON.
_STAGES = """
import json, sys, time
from pathlib import Path
from seawall import pipeline
seconds, current = {}, [None, time.perf_counter()]
def progress(stage):
    now = time.perf_counter()
    if current[0] is not None:
        seconds[current[0]] = now - current[1]
    current[0], current[1] = stage, now
pipeline.generate_files(Path(sys.argv[1]), pipeline.GenerateOptions(package_version="1.0.0"), progress)
progress(None)
print(json.dumps(seconds))
"""


def stage_seconds(spec: Path, timeout: float) -> dict[str, float]:
    """Seconds spent in each pipeline stage for ``spec`` (empty if the run failed)."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _STAGES, str(spec)], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return {}
    if done.returncode != 0:
        return {}
    stages: dict[str, float] = json.loads(done.stdout)
    return stages


def curve(sizes: list[int], times: int, timeout: float, seed: int) -> list[list[str]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="seawall-scaling-") as scratch:
        work = Path(scratch)
        for size in sizes:
            spec_data = build_spec(size, seed)
            operations, schemas = count(spec_data)
            spec = work / f"synthetic-{size}.json"
            write_spec(spec_data, spec)
            del spec_data
            runs = [measure(seawall_command(spec, work / "out"), work, timeout) for _ in range(times)]
            good = [run for run in runs if run.status == 0]
            stages = stage_seconds(spec, timeout)
            stage_text = ", ".join(f"{name} {seconds:.2f}" for name, seconds in stages.items()) or "-"
            if not good:
                rows.append([str(operations), str(schemas), f"{spec.stat().st_size / 1e6:.1f}", "fails", "-", "-", runs[0].error])
                continue
            seconds = median([run.seconds for run in good])
            peak = median([run.peak_mb for run in good])
            per_operation = 1000 * seconds / operations
            rows.append([str(operations), str(schemas), f"{spec.stat().st_size / 1e6:.1f}", f"{seconds:.2f}",
                         f"{per_operation:.1f}", f"{peak:.0f}", stage_text])  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES), help="operation counts")
    parser.add_argument("--repeat", type=int, default=3, help="runs per size; medians are reported")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds before one run is given up")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    compile_seawall()
    header("Generation cost against spec size", f"{args.repeat} runs each, medians; seed {args.seed}")
    rows = curve(sorted(args.sizes), args.repeat, args.timeout, args.seed)
    print(table(["operations", "schemas", "MB", "seconds", "ms/operation", "peak MB", "stages (s, one in-process run)"], rows))
    per_operation = [float(row[4]) for row in rows if row[3] != "fails"]
    if len(per_operation) >= 2:
        print(f"\nms/operation, largest over smallest size: {per_operation[-1] / per_operation[0]:.2f}"
              " (about 1 or less: linear; start-up weighs on the smallest sizes)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
