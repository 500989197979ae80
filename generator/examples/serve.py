"""``python -m seawall.examples.serve SERVICE --port N --db PATH``: run one example service.

Prints ``SERVICE ready on http://127.0.0.1:PORT`` on stdout once it accepts
connections (``--port 0`` picks a free port) and stops cleanly on SIGINT or
SIGTERM, or, with ``--exit-with-parent``, when its standard input reaches its
end: a parent that keeps the other end open is gone (even killed outright).
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

READY_MARK = "ready on"


def ready_line(service: str, url: str) -> str:
    """The line printed once a service accepts connections."""
    return f"{service} {READY_MARK} {url}"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line, with clear messages for bad values."""
    from seawall.examples.apps import SERVICE_NAMES

    parser = argparse.ArgumentParser(
        prog="python -m seawall.examples.serve", description="Run one example service on 127.0.0.1."
    )
    parser.add_argument("service", choices=SERVICE_NAMES)
    parser.add_argument("--port", type=int, default=0, help="TCP port; 0 picks a free one")
    parser.add_argument("--db", type=Path, required=True, help="SQLite database file")
    parser.add_argument(
        "--stock", type=int, default=100, help="inventory only: initial units per catalogue item"
    )
    parser.add_argument(
        "--exit-with-parent",
        action="store_true",
        help="stop when standard input closes (the parent holds it open while it lives)",
    )
    args = parser.parse_args(argv)
    if not 0 <= args.port <= 65535:
        parser.error(f"--port must be 0..65535, not {args.port}")
    if args.stock < 0:
        parser.error(f"--stock must be >= 0, not {args.stock}")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the service until interrupted; 0 on a clean stop, 1 if it could not start."""
    args = parse_args(argv)
    from seawall.examples.apps import create_app
    from seawall.examples.server import LOOPBACK, bind_loopback, make_server

    try:
        sock = bind_loopback(args.port)
    except OSError as error:
        print(
            f"{args.service}: cannot listen on {LOOPBACK}:{args.port}: {error.strerror}",
            file=sys.stderr,
        )
        return 1
    port = sock.getsockname()[1]
    try:
        app = create_app(args.service, args.db, stock=args.stock)
    except Exception as error:  # a bad --db path and the like: say so, no traceback
        print(f"{args.service}: cannot open database {args.db}: {error}", file=sys.stderr)
        sock.close()
        return 1
    url = f"http://{LOOPBACK}:{port}"
    server = make_server(app, on_ready=lambda: print(ready_line(args.service, url), flush=True))
    if args.exit_with_parent:

        def stop_at_end_of_input() -> None:
            sys.stdin.read()  # returns at end of file: the parent closed it or died
            server.should_exit = True

        threading.Thread(target=stop_at_end_of_input, daemon=True).start()
    try:
        server.run(sockets=[sock])
    finally:
        sock.close()
    return 0 if server.started else 1


if __name__ == "__main__":
    raise SystemExit(main())
