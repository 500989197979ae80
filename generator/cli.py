"""The ``seawall`` command line.

Exit status: 0 success, 1 ``--check`` found differences, 2 bad input (the
problems are printed with file, line and JSON pointer), 3 an internal error.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from seawall import __version__
from seawall.diagnostics import Diagnostic, SpecError

EXIT_OK, EXIT_DIFF, EXIT_USAGE, EXIT_INTERNAL = 0, 1, 2, 3
# Specs at least this large get a progress line on a terminal.
_PROGRESS_MIN_BYTES = 500_000


def _print_diagnostics(diagnostics: Sequence[Diagnostic]) -> None:
    for diagnostic in diagnostics:
        print(diagnostic, file=sys.stderr)


class _Progress:
    """One self-overwriting status line on stderr, only when it is a terminal."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()

    def __call__(self, stage: str) -> None:
        if self.enabled:
            elapsed = time.monotonic() - self.started
            sys.stderr.write(f"\r\x1b[Kseawall: {stage}… ({elapsed:.1f} s)")
            sys.stderr.flush()

    def done(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def _overlay_paths(args: argparse.Namespace) -> tuple[Path, ...]:
    return tuple(Path(p) for p in args.overlay or ())


def _cmd_generate(args: argparse.Namespace) -> int:
    from seawall import pipeline, write

    spec_path = Path(args.spec)
    large = spec_path.is_file() and spec_path.stat().st_size >= _PROGRESS_MIN_BYTES
    progress = _Progress(enabled=large and sys.stderr.isatty())
    options = pipeline.GenerateOptions(
        package_name=args.package_name,
        package_version=args.package_version,
        lenient=args.lenient,
        overlays=_overlay_paths(args),
    )
    try:
        result = pipeline.generate_files(spec_path, options, progress)
    finally:
        progress.done()
    _print_diagnostics(result.warnings)
    out = Path(args.out)
    if args.check:
        diff = write.diff_project(result.files, out)
        if diff:
            sys.stdout.write(diff)
            print(f"seawall: {out} is out of date with {spec_path}", file=sys.stderr)
            return EXIT_DIFF
        return EXIT_OK
    write.write_project(result.files, out)
    print(f"seawall: wrote {len(result.files)} files to {out}", file=sys.stderr)
    return EXIT_OK


def _cmd_policies(args: argparse.Namespace) -> int:
    from seawall import load, policies, policy_report, resolve, upgrade, validate

    source = load.load_document(Path(args.spec))
    warnings: list[Diagnostic] = []
    if args.overlay:
        from seawall.overlay import apply_overlays

        source, warnings = apply_overlays(source, _overlay_paths(args))
    spec = resolve.resolve(source)
    warnings += validate.validate(spec, lenient=args.lenient)
    policy_set, policy_warnings = policies.extract_policies(upgrade.upgrade(spec))
    _print_diagnostics(warnings + policy_warnings)
    render = policy_report.render_json if args.json else policy_report.render_table
    sys.stdout.write(render(policy_set))
    return EXIT_OK


# Subcommands with parsers of their own: the rest of the command line goes to them.
_FORWARDED = {
    "chaos": ("seawall.chaos.cli", "run a fault-injecting reverse proxy"),
    "sagas": ("seawall.sagas_cmd", "list sagas or recover unfinished ones"),
    "demo": ("seawall.examples.demo", "run the example order system under faults"),
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seawall",
        description="Generate resilient, typed Python clients from OpenAPI documents.",
    )
    parser.add_argument("--version", action="version", version=f"seawall {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    generate = commands.add_parser(
        "generate", help="generate a client package from an OpenAPI document"
    )
    generate.add_argument("spec", metavar="SPEC", help="OpenAPI 3.0/3.1 or Swagger 2.0 file")
    generate.add_argument("--out", required=True, metavar="DIR", help="project directory")
    generate.add_argument("--package-name", metavar="NAME", help="default: info.title")
    generate.add_argument(
        "--package-version", metavar="V", help="default: info.version as PEP 440"
    )
    generate.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 and print a diff if DIR is out of date",
    )
    generate.add_argument(
        "--lenient",
        action="store_true",
        help="report validation problems as warnings and skip what cannot be generated",
    )
    generate.add_argument(
        "--overlay", action="append", metavar="FILE", help="OpenAPI Overlay to apply first"
    )
    generate.set_defaults(handler=_cmd_generate)

    policies = commands.add_parser(
        "policies", help="print each operation's effective resilience policy"
    )
    policies.add_argument("spec", metavar="SPEC")
    policies.add_argument("--overlay", action="append", metavar="FILE")
    policies.add_argument("--json", action="store_true", help="machine-readable output")
    policies.add_argument("--lenient", action="store_true")
    policies.set_defaults(handler=_cmd_policies)

    for name, (_module, text) in _FORWARDED.items():
        commands.add_parser(name, help=text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in _FORWARDED:
        import importlib

        module, _help = _FORWARDED[arguments[0]]
        return int(importlib.import_module(module).main(arguments[1:]))
    args = _parser().parse_args(arguments)
    try:
        return int(args.handler(args))
    except SpecError as error:
        _print_diagnostics(error.diagnostics)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("seawall: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # a bug in seawall: say so, keep the trace on request
        if os.environ.get("SEAWALL_DEBUG"):
            raise
        print(
            f"seawall: internal error: {type(error).__name__}: {error}\n"
            "This is a bug in seawall; rerun with SEAWALL_DEBUG=1 for the traceback.",
            file=sys.stderr,
        )
        return EXIT_INTERNAL
