"""``seawall sagas list|recover``: look into a saga log and finish what crashed orchestrators left.

``recover`` needs the clients of the services involved: ``--invokers
package.module:name`` names a mapping of service name → invoker (or a function
without arguments returning one), the same mapping the application passes to
``SagaRunner.recover``. Exit status: 0 done, 1 some saga needs attention,
2 bad usage or an unreadable log.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import sys
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from seawall_runtime.saga import SagaOutcome, SagaRecord, SqliteSagaLog, StepRecord

STATES = ("running", "compensating", "completed", "compensated", "needs_attention")


class UsageError(Exception):
    """The command line cannot be acted on; the message says why."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="seawall sagas",
        description="Look into a saga log; finish the sagas crashed processes left.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="show sagas and their states")
    listing.add_argument("--log", required=True, help="the SQLite saga log")
    listing.add_argument(
        "--state", action="append", choices=STATES, help="only these states (repeatable)"
    )
    listing.add_argument("--steps", action="store_true", help="show each saga's steps")
    listing.add_argument("--json", action="store_true", help="print JSON lines instead of a table")
    recover = commands.add_parser("recover", help="drive every abandoned saga to an end")
    recover.add_argument("--log", required=True, help="the SQLite saga log")
    recover.add_argument(
        "--invokers",
        required=True,
        metavar="MODULE:NAME",
        help="mapping (or factory of one) from service name to invoker",
    )
    recover.add_argument(
        "--saga", action="append", metavar="ID", help="only this saga (repeatable)"
    )
    recover.add_argument(
        "--stale-after",
        type=float,
        metavar="SECONDS",
        help="also take over sagas of other hosts unchanged for this long",
    )
    recover.add_argument(
        "--retry-needs-attention",
        action="store_true",
        help="try the failed compensations of sagas that need attention again",
    )
    recover.add_argument("--json", action="store_true", help="print JSON lines instead of text")
    return parser


def main(argv: list[str] | None = None) -> int:
    arguments = build_parser().parse_args(argv)
    from seawall_runtime.saga import SagaLogError, SqliteSagaLog

    try:
        log = SqliteSagaLog(arguments.log, create=False)
    except SagaLogError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    try:
        if arguments.command == "list":
            return list_sagas(log, arguments.state, steps=arguments.steps, as_json=arguments.json)
        return recover(log, arguments)
    except (SagaLogError, UsageError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    finally:
        log.close()


# -- list -----------------------------------------------------------------------------


def _when(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).strftime("%Y-%m-%d %H:%M:%S")


def _step_line(step: StepRecord) -> str:
    line = f"    {step.index}. {step.service}.{step.operation}: {step.state}"
    if step.status is not None:
        line += f" (HTTP {step.status})"
    if step.last_error:
        line += f" - {step.last_error}"
    return line


def _saga_json(record: SagaRecord, steps: list[StepRecord] | None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "saga_id": record.saga_id,
        "name": record.name,
        "state": record.state,
        "owner": record.owner,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
        "detail": dict(record.detail),
    }
    if steps is not None:
        data["steps"] = [
            {
                "index": s.index,
                "service": s.service,
                "operation": s.operation,
                "state": s.state,
                "status": s.status,
                "idempotency_key": s.idempotency_key,
                "compensation_key": s.compensation_key,
                "last_error": s.last_error,
            }
            for s in steps
        ]
    return data


def list_sagas(
    log: SqliteSagaLog, states: Sequence[str] | None, *, steps: bool, as_json: bool
) -> int:
    records = log.sagas(states)
    for record in records:
        record_steps = log.load(record.saga_id)[1] if steps or as_json else None
        if as_json:
            print(json.dumps(_saga_json(record, record_steps)))
            continue
        reason = record.detail.get("reason") or record.detail.get("cause") or ""
        print(
            f"{record.saga_id}  {record.name}  {record.state}  {_when(record.updated_at)}  {reason}".rstrip()
        )
        for step in record_steps if steps and record_steps else []:
            print(_step_line(step))
    if not as_json:
        counts = {state: sum(r.state == state for r in records) for state in STATES}
        print(", ".join(f"{n} {state}" for state, n in counts.items() if n) or "no sagas")
    return 0


# -- recover --------------------------------------------------------------------------


def load_invokers(spec: str) -> Mapping[str, Any]:
    """Import ``module:name`` and return the invoker mapping it names (or makes)."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise UsageError(f"--invokers {spec!r}: expected MODULE:NAME, e.g. myapp.sagas:invokers")
    if "" not in sys.path:
        sys.path.insert(0, "")  # like `python -m`: the application's own modules
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UsageError(f"--invokers {spec!r}: cannot import {module_name!r} ({error})") from None
    try:
        value = getattr(module, attribute)
    except AttributeError:
        raise UsageError(f"--invokers {spec!r}: {module_name} has no {attribute!r}") from None
    if callable(value) and not isinstance(value, Mapping):
        try:
            value = value()
        except Exception as error:  # noqa: BLE001 - the user's factory: say so, no traceback
            raise UsageError(
                f"--invokers {spec!r}: {attribute}() failed: {type(error).__name__}: {error}"
            ) from None
    if not isinstance(value, Mapping) or not all(hasattr(v, "invoke") for v in value.values()):
        raise UsageError(f"--invokers {spec!r}: expected a mapping of service name to invoker")
    return value


def _outcome_line(outcome: SagaOutcome) -> str:
    from seawall_runtime.saga import Compensated, NeedsAttention

    if isinstance(outcome, Compensated):
        return f"{outcome.saga_id}: compensated ({outcome.cause})"
    if isinstance(outcome, NeedsAttention):
        where = f" at {outcome.step.service}.{outcome.step.operation}" if outcome.step else ""
        last = f"; last error: {outcome.last_error}" if outcome.last_error else ""
        return f"{outcome.saga_id}: NEEDS ATTENTION{where}: {outcome.reason}{last}"
    return f"{outcome.saga_id}: completed"


def recover(log: SqliteSagaLog, arguments: argparse.Namespace) -> int:
    from seawall_runtime.saga import AsyncSagaRunner, NeedsAttention, SagaRunner

    invokers = load_invokers(arguments.invokers)
    options: dict[str, Any] = {
        "saga_ids": arguments.saga,
        "stale_after": arguments.stale_after,
        "retry_needs_attention": arguments.retry_needs_attention,
    }
    if any(inspect.iscoroutinefunction(v.invoke) for v in invokers.values()):
        import anyio

        async def run() -> list[SagaOutcome]:
            return await AsyncSagaRunner(log).recover(invokers, **options)

        outcomes = anyio.run(run)
    else:
        outcomes = SagaRunner(log).recover(invokers, **options)
    for outcome in outcomes:
        if arguments.json:
            print(
                json.dumps(
                    {
                        "saga_id": outcome.saga_id,
                        "outcome": type(outcome).__name__,
                        "detail": dict(log.load(outcome.saga_id)[0].detail),
                    }
                )
            )
        else:
            print(_outcome_line(outcome))
    if not arguments.json:
        print(f"recovered {len(outcomes)} saga(s)")
    return 1 if any(isinstance(o, NeedsAttention) for o in outcomes) else 0
