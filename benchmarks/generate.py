"""Generation speed and memory: seawall against openapi-python-client and datamodel-code-generator.

For every spec (the shared corpus, plus a synthetic Stripe-sized one unless
``--no-synthetic``) each tool runs as a subprocess, ``--repeat`` times, each run
inside a fresh wrapper process that reports its wall time and the peak resident
memory of everything it waited for (``getrusage(RUSAGE_CHILDREN).ru_maxrss``).
The table gives medians, the ratio of the peer's time to seawall's (above 1:
seawall is faster) and which tool could generate the spec at all.
datamodel-code-generator generates models only, so its figures are a lower
bound on what a client generator has to do.

    python benchmarks/generate.py                    # corpus + synthetic, peers included
    python benchmarks/generate.py --no-peers --repeat 1 some.yaml

The peers live in ``benchmarks/.venv-peers`` (created on first use), never in
the project's venv.
"""

from __future__ import annotations

import argparse
import compileall
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from _peers import REPO, ensure_peers, header, median, table

CORPUS = REPO.parent / "shared" / "corpus" / "specs"
PEERS = ("openapi-python-client", "datamodel-code-generator")
# Aims from the "Generator" issue.
SYNTHETIC_OPERATIONS = 450
SYNTHETIC_SECONDS, SYNTHETIC_MB = 10.0, 1024.0
BIG_SPEC_BYTES, BIG_SPEC_SPEEDUP = 100_000, 3.0

# Runs one command, then prints its wall time, peak memory and exit status as JSON.
_WRAPPER = """
import json, resource, subprocess, sys, time
started = time.perf_counter()
done = subprocess.run(sys.argv[2:], cwd=sys.argv[1], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
seconds = time.perf_counter() - started
peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
tail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:]
print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024, "status": done.returncode, "error": tail}))
"""


@dataclass
class Run:
    """One measured run of one command."""

    seconds: float
    peak_mb: float
    status: int
    error: str


def measure(command: Sequence[str], cwd: Path, timeout: float) -> Run:
    """Run ``command`` in a fresh wrapper process and measure it."""
    try:
        done = subprocess.run(
            [sys.executable, "-c", _WRAPPER, str(cwd), *command],
            capture_output=True, text=True, timeout=timeout, check=True,
        )  # fmt: skip
    except subprocess.TimeoutExpired:
        return Run(timeout, float("nan"), -1, f"timed out after {timeout:.0f} s")
    report = json.loads(done.stdout)
    return Run(report["seconds"], report["peak_mb"], report["status"], " ".join(report["error"]))


@dataclass
class Summary:
    """Medians over the repeated runs of one tool on one spec; ``ok`` only if every run succeeded."""

    seconds: float
    peak_mb: float
    ok: bool
    error: str
    status: int = 0


def repeat(command: Sequence[str], cwd: Path, times: int, timeout: float) -> Summary:
    runs: list[Run] = []
    for _ in range(times):
        run = measure(command, cwd, timeout)
        if run.status != 0:  # a failure (or a time-out) is not worth repeating
            return Summary(run.seconds, run.peak_mb, False, run.error, run.status)
        runs.append(run)
    return Summary(median([r.seconds for r in runs]), median([r.peak_mb for r in runs]), True, "")


def compile_seawall() -> None:
    """Byte-compile seawall's own modules, as pip does when it installs a package.

    The peers are installed, so their modules are compiled; seawall runs from
    an editable checkout, whose modules Python compiles on every start when
    PYTHONDONTWRITEBYTECODE is set (as on CI machines). Compiling them first
    measures both as installed tools.
    """
    root = Path(__file__).resolve().parents[1]
    for folder in (root / "generator", root / "runtime" / "seawall_runtime"):
        compileall.compile_dir(folder, quiet=1)


def seawall_command(spec: Path, out: Path, *, lenient: bool = False) -> list[str]:
    executable = Path(sys.executable).parent / "seawall"
    program = [str(executable)] if executable.exists() else [sys.executable, "-m", "seawall"]
    # A fixed package version: some real specs' info.version has no PEP 440 form.
    command = [*program, "generate", str(spec), "--out", str(out), "--package-version", "1.0.0"]
    return command + ["--lenient"] if lenient else command


def seawall_summary(spec: Path, work: Path, times: int, timeout: float) -> tuple[Summary, str]:
    """seawall's figures, and a note: a spec that breaks OpenAPI is rejected (exit status 2),
    so it is measured again with ``--lenient``, which generates anyway, as the peers do."""
    strict = repeat(seawall_command(spec, work / "seawall"), work, times, timeout)
    if strict.ok or strict.status != 2:
        return strict, ""
    return repeat(seawall_command(spec, work / "seawall", lenient=True), work, times, timeout), " (lenient)"


def peer_commands(peers_bin: Path, spec: Path, out: Path) -> dict[str, list[str]]:
    return {
        "openapi-python-client": [
            str(peers_bin / "openapi-python-client"), "generate", "--path", str(spec),
            "--output-path", str(out / "opc"), "--overwrite",
        ],
        "datamodel-code-generator": [
            str(peers_bin / "datamodel-codegen"), "--input", str(spec), "--input-file-type", "openapi",
            "--output", str(out / "models.py"),
        ],
    }  # fmt: skip


def cell(summary: Summary | None) -> tuple[str, str]:
    if summary is None:
        return "-", "-"
    if not summary.ok:
        return "fails", "-"
    return f"{summary.seconds:.2f}", f"{summary.peak_mb:.0f}"


def ratio(peer: Summary | None, ours: Summary) -> str:
    if peer is None or not peer.ok or not ours.ok:
        return "-"
    return f"{peer.seconds / ours.seconds:.1f}x"


def benchmark(specs: Sequence[Path], times: int, peers: bool, timeout: float) -> list[str]:
    """Print the table; return the aims that were missed (empty when all were met)."""
    peers_bin = ensure_peers(PEERS).parent if peers else None
    rows, missed, failures = [], [], []
    for spec in specs:
        print(f"measuring {spec.name}", file=sys.stderr)
        with tempfile.TemporaryDirectory(prefix="seawall-bench-") as scratch:
            work = Path(scratch)
            ours, note = seawall_summary(spec, work, times, timeout)
            others: dict[str, Summary] = {}
            if peers_bin is not None:
                for name, command in peer_commands(peers_bin, spec, work).items():
                    others[name] = repeat(command, work, times, timeout)
        opc, dmcg = others.get("openapi-python-client"), others.get("datamodel-code-generator")
        size = spec.stat().st_size
        rows.append([spec.name + note, f"{size / 1000:.0f}", *cell(ours), *cell(opc), ratio(opc, ours), *cell(dmcg), ratio(dmcg, ours)])
        for name, summary in [("seawall", ours), *others.items()]:
            if not summary.ok:
                failures.append(f"{name} on {spec.name}: {summary.error}")
        missed += _missed_aims(spec, size, ours, opc)
    print(table(
        ["spec", "KB", "seawall s", "MB", "openapi-python-client s", "MB", "ratio", "datamodel-codegen s", "MB", "ratio"],
        rows,
    ))  # fmt: skip
    print("\nratio: the peer's median time over seawall's (above 1x: seawall is faster); MB: peak RSS;"
          " (lenient): the spec breaks OpenAPI, seawall rejects it unless run with --lenient")  # fmt: skip
    if failures:
        print("\nfailed runs (last line of stderr):")
        print("\n".join(f"- {failure}" for failure in failures))
    return missed


def _missed_aims(spec: Path, size: int, ours: Summary, opc: Summary | None) -> list[str]:
    missed = []
    if not ours.ok:
        return [f"seawall cannot generate {spec.name}"]
    if spec.name.startswith("synthetic-") and (ours.seconds > SYNTHETIC_SECONDS or ours.peak_mb > SYNTHETIC_MB):
        missed.append(f"{spec.name}: {ours.seconds:.1f} s / {ours.peak_mb:.0f} MB, aim < {SYNTHETIC_SECONDS:.0f} s / 1 GB")
    if opc is not None and opc.ok:
        aim = BIG_SPEC_SPEEDUP if size > BIG_SPEC_BYTES else 1.0
        if opc.seconds / ours.seconds < aim:
            missed.append(f"{spec.name}: {opc.seconds / ours.seconds:.1f}x openapi-python-client's speed, aim {aim:.0f}x")
    return missed


def synthetic_spec(folder: Path, operations: int) -> Path:
    from synthetic import build_spec, write_spec

    path = folder / f"synthetic-{operations}-operations.json"
    write_spec(build_spec(operations), path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("specs", nargs="*", type=Path, help=f"spec files (default: every file in {CORPUS})")
    parser.add_argument("--repeat", type=int, default=3, help="runs per tool and spec; medians are reported")
    parser.add_argument("--no-peers", dest="peers", action="store_false", help="measure seawall only")
    parser.add_argument("--no-synthetic", dest="synthetic", action="store_false",
                        help=f"leave out the synthetic {SYNTHETIC_OPERATIONS}-operation spec")  # fmt: skip
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds before one run is given up")
    args = parser.parse_args(argv)
    specs = list(args.specs) or (sorted(CORPUS.iterdir()) if CORPUS.is_dir() else [])
    compile_seawall()
    header("Generation speed and memory", f"{args.repeat} runs each, medians; timeout {args.timeout:.0f} s")
    with tempfile.TemporaryDirectory(prefix="seawall-synthetic-") as scratch:
        if args.synthetic:
            specs.append(synthetic_spec(Path(scratch), SYNTHETIC_OPERATIONS))
        if not specs:
            parser.error(f"no specs given and no corpus at {CORPUS}")
        missed = benchmark(specs, args.repeat, args.peers, args.timeout)
    checked = "with the peers" if args.peers else "seawall alone, no peers measured"
    print(f"\naims ({checked}): " + ("all met" if not missed else "missed"))
    print("\n".join(f"- {aim}" for aim in missed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
