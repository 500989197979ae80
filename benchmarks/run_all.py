"""Run every benchmark and write the figures into docs/performance.md.

Each benchmark script runs in its own process, one after the other (they
measure time, so they must not compete for the cores). What a script prints
on stdout replaces the text between its two markers in docs/performance.md::

    <!-- results: outage.py -->
    ...
    <!-- /results: outage.py -->

so the prose around the figures stays as written. A script that is missing or
fails is reported in its place, and the others still run.

Usage: python benchmarks/run_all.py [--quick] [--only SCRIPT ...] [--output FILE]
"""

from __future__ import annotations

import argparse
import datetime
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import _peers  # noqa: E402

#: The benchmarks in the order of docs/performance.md, each with the options
#: that make it a quick run (a few seconds, figures not meaningful).
SCRIPTS: dict[str, list[str]] = {
    "generate.py": [
        "--repeat",
        "1",
        "--no-peers",
        "--no-synthetic",
        str(_peers.REPO / "specs" / "orders.yaml"),
    ],
    "scaling.py": ["--sizes", "5", "--repeat", "1"],
    "runtime_overhead.py": ["--calls", "50", "--rounds", "1"],
    "runtime_instructions.py": ["--calls", "3"],
    "client_overhead.py": ["--quick"],
    "outage.py": ["--quick"],
    "partial_failure.py": ["--quick"],
    "recovery.py": ["--quick"],
}
#: Seconds per script, so that one stuck benchmark cannot hold up the rest.
TIME_LIMIT = 600.0
#: The generation benchmarks run whole generators many times over: they get longer.
LONG_LIMITS = {"generate.py": 2400.0, "scaling.py": 2400.0}


def _end(process: subprocess.Popen[str]) -> None:
    """Kill a script and everything it started."""
    os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def run(script: str, quick: bool) -> str:
    """The script's stdout, or a note saying why there are no figures."""
    path = _peers.BENCHMARKS / script
    if not path.exists():
        return f"({script} is not in benchmarks/ yet: no figures)"
    command = [sys.executable, str(path), *(SCRIPTS[script] if quick else [])]
    limit = TIME_LIMIT if quick else LONG_LIMITS.get(script, TIME_LIMIT)
    print(f"running {script}", file=sys.stderr, flush=True)
    start = time.monotonic()
    # Its own process group, so that a timeout also ends what it started; stderr
    # (progress) goes straight to the terminal.
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, text=True, cwd=_peers.REPO, start_new_session=True
    )
    try:
        stdout, _ = process.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        _end(process)
        return f"({script} did not finish within {limit:.0f} s: no figures)"
    except BaseException:  # Ctrl-C reaches only our group: end the script's too
        _end(process)
        raise
    print(f"  {script}: {time.monotonic() - start:.0f} s", file=sys.stderr, flush=True)
    if process.returncode:
        return f"({script} failed with exit status {process.returncode}; its output:)\n\n{stdout}"
    return stdout


def fill(document: str, script: str, figures: str) -> str:
    """``document`` with ``script``'s marked block replaced (appended if it has none)."""
    block = (
        f"<!-- results: {script} -->\n```text\n{figures.strip()}\n```\n<!-- /results: {script} -->"
    )
    pattern = re.compile(
        rf"<!-- results: {re.escape(script)} -->.*?<!-- /results: {re.escape(script)} -->",
        re.DOTALL,
    )
    if pattern.search(document):
        return pattern.sub(lambda _match: block, document)
    return f"{document.rstrip()}\n\n## {script}\n\n{block}\n"


def stamp(document: str, quick: bool, scripts: list[str]) -> str:
    """``document`` with the run's date, scripts and machine in its ``run`` block."""
    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    kind = "a quick run (tiny settings: figures are not meaningful)" if quick else "a full run"
    if scripts != list(SCRIPTS):
        kind += f" of {', '.join(scripts)} (the other blocks are older)"
    return fill(
        document, "run_all.py", f"last written by {kind} on {when}\nmachine: {_peers.machine()}"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny settings, to check it all runs")
    parser.add_argument("--only", nargs="+", choices=sorted(SCRIPTS), help="run only these")
    parser.add_argument("--output", type=Path, default=_peers.REPO / "docs" / "performance.md")
    args = parser.parse_args(argv)

    document = args.output.read_text() if args.output.exists() else "# Performance\n"
    scripts = [script for script in SCRIPTS if not args.only or script in args.only]
    for script in scripts:
        figures = run(script, args.quick)
        print(figures)
        document = fill(document, script, figures)
        # Written after each script, so that an interrupted run keeps what it measured.
        args.output.write_text(stamp(document, args.quick, scripts))
    print(f"wrote {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
