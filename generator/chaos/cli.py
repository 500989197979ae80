"""``seawall chaos``: run the fault-injecting reverse proxy from the command line.

Grammar (every fault flag is optional; see docs/chaos.md)::

    seawall chaos --upstream URL [--listen PORT] [--host ADDR] [--admin-prefix PATH]
        [--error STATUS:RATE]... [--retry-after SECONDS]
        [--latency SECONDS] [--latency-jitter SECONDS]
        [--reset RATE] [--hang RATE] [--hang-limit SECONDS] [--lost RATE]
        [--outage START:END[:KIND]]... [--match 'METHOD[,METHOD] /glob']...
        [--seed N] [--faults FILE.json]

Bad values print what is wrong and where, and exit with status 2.
"""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import json
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn, TypeVar
from urllib.parse import urlsplit

from seawall.chaos.admin import check_admin_prefix
from seawall.chaos.faults import ErrorFault, FaultSet, Outage, RoutePattern, Rule, fault_set_from_json
from seawall.chaos.proxy import ProxyConfig, serve_proxy
from seawall.chaos.server import HttpServer
from seawall.chaos.state import ChaosState
from seawall.diagnostics import Diagnostic, Location, SpecError

T = TypeVar("T")


class UsageError(Exception):
    """A bad command line; the message names the option and the problem."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def _checked(parse: Callable[[str], T], what: str) -> Callable[[str], T]:
    """Wrap a value parser so that a ValueError reads as ``what: reason``."""

    def convert(text: str) -> T:
        try:
            return parse(text)
        except ValueError as err:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what} ({err})") from None

    return convert


def _seconds(text: str) -> float:
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise ValueError("must be a finite number >= 0")
    return value


def _rate(text: str) -> float:
    value = float(text)
    if not 0 <= value <= 1:
        raise ValueError("must be between 0 and 1")
    return value


def _error(text: str) -> ErrorFault:
    status, sep, rate = text.partition(":")
    if not sep:
        raise ValueError("expected STATUS:RATE, e.g. 503:0.2")
    return ErrorFault(int(status), _rate(rate))


def _outage(text: str) -> Outage:
    parts = text.split(":")
    if len(parts) not in (2, 3):
        raise ValueError("expected START:END[:KIND], e.g. 10:20 or 10:20:refuse")
    kind: int | str = parts[2] if len(parts) == 3 else 503
    if isinstance(kind, str) and kind.isdigit():
        kind = int(kind)
    return Outage(_seconds(parts[0]), _seconds(parts[1]), kind)  # type: ignore[arg-type]


def _upstream(text: str) -> str:
    url = urlsplit(text)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError("expected an http:// or https:// URL with a host")
    if url.query or url.fragment:
        raise ValueError("the upstream base URL cannot have a query or fragment")
    return text


def _port(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise ValueError("must be 0-65535 (0: any free port)")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for ``seawall chaos``."""
    parser = _Parser(
        prog="seawall chaos", description="Fault-injecting reverse proxy.", allow_abbrev=False
    )
    add = parser.add_argument
    add("--upstream", required=True, type=_checked(_upstream, "an upstream URL"),
        help="base URL to forward to, e.g. http://127.0.0.1:8000")
    add("--listen", type=_checked(_port, "a port"), default=0, metavar="PORT",
        help="port to listen on (default 0: any free port, printed at start)")
    add("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    add("--admin-prefix", default="/_chaos", metavar="PATH",
        type=_checked(check_admin_prefix, "an admin prefix"),
        help="reserved path prefix of the admin API (default /_chaos)")
    add("--error", action="append", default=[], type=_checked(_error, "STATUS:RATE"),
        metavar="STATUS:RATE", help="answer STATUS to a share RATE of requests (repeatable)")
    add("--retry-after", type=_checked(int, "whole seconds"), metavar="SECONDS",
        help="Retry-After header on injected errors")
    add("--latency", type=_checked(_seconds, "seconds"), default=0.0, metavar="SECONDS",
        help="delay added to every matching request")
    add("--latency-jitter", type=_checked(_seconds, "seconds"), default=0.0, metavar="SECONDS",
        help="extra delay, uniform between 0 and SECONDS")
    for name, what in [("reset", "reset the connection"), ("hang", "never answer"),
                       ("lost", "forward, then drop the answer")]:
        add(f"--{name}", type=_checked(_rate, "a rate"), default=0.0, metavar="RATE",
            help=f"{what} for a share RATE of requests")
    add("--hang-limit", type=_checked(_seconds, "seconds"), default=30.0, metavar="SECONDS",
        help="reset a hung request after this long (default 30)")
    add("--outage", action="append", default=[], type=_checked(_outage, "START:END[:KIND]"),
        metavar="START:END[:KIND]",
        help="fail everything between START and END seconds after start; KIND is a status "
        "(default 503), reset, hang or refuse (repeatable)")
    add("--match", action="append", default=[], type=_checked(RoutePattern.parse, "a route"),
        metavar="'METHOD /glob'", help="apply the faults only to matching requests (repeatable)")
    add("--seed", type=_checked(int, "an integer"), help="seed for deterministic faults")
    add("--faults", type=Path, metavar="FILE.json",
        help="a JSON fault set (as for PUT /_chaos/faults) instead of fault flags")
    return parser


def _fault_set(args: argparse.Namespace) -> FaultSet:
    if args.faults is not None:
        return _read_fault_file(args.faults)
    try:
        rule = Rule(
            match=tuple(args.match),
            errors=tuple(args.error),
            retry_after=args.retry_after,
            latency=args.latency,
            latency_jitter=args.latency_jitter,
            reset=args.reset,
            hang=args.hang,
            lost=args.lost,
            outages=tuple(args.outage),
        )
        return FaultSet((rule,), seed=args.seed, hang_limit=args.hang_limit)
    except ValueError as err:
        raise UsageError(str(err)) from None


def _read_fault_file(path: Path) -> FaultSet:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise UsageError(f"cannot read {path}: {err}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        where = Location(str(path), line=err.lineno, column=err.colno)
        raise SpecError([Diagnostic(f"not valid JSON: {err.msg}", where)]) from None
    return fault_set_from_json(data, str(path))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _without_userinfo(url: str) -> str:
    """The URL with any ``user:password@`` removed, for printing."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=host).geturl()


async def _serve(config: ProxyConfig, state: ChaosState) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)

    def ready(server: HttpServer) -> None:
        print(
            f"seawall chaos: listening on http://{config.host}:{server.port}, "
            f"forwarding to {_without_userinfo(config.upstream)}; "
            f"admin API at {config.admin_prefix}",
            flush=True,
        )

    await serve_proxy(config, state, stop, ready)


def main(argv: list[str] | None = None) -> int:
    """Run ``seawall chaos``; returns the exit status (2 for bad input)."""
    try:
        args = build_parser().parse_args(argv)
        if args.faults is not None and _has_fault_flags(argv if argv is not None else sys.argv[1:]):
            raise UsageError("--faults cannot be combined with fault flags")
        faults = _fault_set(args)
        config = ProxyConfig(args.upstream, args.host, args.listen, args.admin_prefix)
        state = ChaosState(faults)
    except (UsageError, SpecError) as err:
        print(f"seawall chaos: error: {err}", file=sys.stderr)
        return 2
    if not _is_loopback(config.host):
        print(
            f"seawall chaos: warning: listening on {config.host}; the admin API has no "
            "authentication, so anyone who can reach it can change the faults",
            file=sys.stderr,
        )
    try:
        asyncio.run(_serve(config, state))
    except OSError as err:
        print(f"seawall chaos: cannot listen on {config.host}:{config.port}: {err}", file=sys.stderr)
        return 1
    return 0


_FAULT_FLAGS = (
    "--error", "--retry-after", "--latency", "--latency-jitter", "--reset", "--hang",
    "--hang-limit", "--lost", "--outage", "--match", "--seed",
)


def _has_fault_flags(argv: Sequence[str]) -> bool:
    return any(arg.split("=", 1)[0] in _FAULT_FLAGS for arg in argv)
