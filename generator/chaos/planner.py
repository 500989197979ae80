"""The fault planner: for each request, decide which fault applies.

Pure apart from its clock and a random source seeded from the fault set, so a
given seed and request sequence always gives the same plans. It does no I/O;
the middleware and the server carry the plans out.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from seawall.chaos.faults import FaultSet, Outage, OutageKind, Rule

Clock = Callable[[], float]
Action = Literal["forward", "error", "reset", "hang", "lost", "refuse"]
ACTIONS: tuple[Action, ...] = ("forward", "error", "reset", "hang", "lost", "refuse")


@dataclass(frozen=True)
class Plan:
    """What to do with one request: wait ``delay`` seconds, then ``action``.

    ``status``/``retry_after`` are set for ``error``; ``hang_limit`` bounds a hang.
    """

    action: Action = "forward"
    delay: float = 0.0
    status: int | None = None
    retry_after: int | None = None
    hang_limit: float = FaultSet.hang_limit


class Planner:
    """Seeded, clock-driven fault decisions for a :class:`FaultSet`.

    Times in outage windows are seconds since :meth:`restart` (the proxy's
    start). Every request a rule matches consumes exactly two random draws (the
    fault and the latency jitter), whatever happens to it, so the sequence of
    plans depends only on the seed and the order of requests.
    """

    def __init__(self, faults: FaultSet | None = None, *, clock: Clock = time.monotonic) -> None:
        self._clock = clock
        self._epoch = clock()
        self._faults = FaultSet()
        self._random = random.Random()
        self._adhoc: list[Outage] = []
        self.set_faults(faults or FaultSet())

    @property
    def faults(self) -> FaultSet:
        """The fault set in force."""
        return self._faults

    def restart(self) -> None:
        """Make now time zero for outage windows."""
        self._epoch = self._clock()

    def elapsed(self) -> float:
        """Seconds since the start."""
        return self._clock() - self._epoch

    def set_faults(self, faults: FaultSet) -> None:
        """Replace the fault set; the random source restarts from its seed."""
        self._faults = faults
        self._random = random.Random(faults.seed)

    def add_outage(self, duration: float, kind: OutageKind = 503) -> Outage:
        """Start an outage for every request, now, lasting ``duration`` seconds."""
        start = self.elapsed()
        outage = Outage(start=start, end=start + duration, kind=kind)
        self._adhoc.append(outage)
        return outage

    def clear_outages(self) -> None:
        """Forget the outages started with :meth:`add_outage`."""
        self._adhoc.clear()

    def plan(self, method: str, path: str) -> Plan:
        """Decide what happens to a request for ``method path``."""
        elapsed = self.elapsed()
        rule = self._faults.rule_for(method, path)
        if rule is None:
            outage = self._outage(elapsed, self._adhoc)
            return Plan() if outage is None else self._outage_plan(outage, None)
        fault_draw, jitter_draw = self._random.random(), self._random.random()
        outage = self._outage(elapsed, [*self._adhoc, *rule.outages])
        if outage is not None:
            return self._outage_plan(outage, rule.retry_after)
        delay = rule.latency + rule.latency_jitter * jitter_draw
        return self._rate_plan(rule, fault_draw, delay)

    def refusing(self) -> bool:
        """Whether the listening socket should be closed now."""
        elapsed = self.elapsed()
        return any(o.covers(elapsed) for o in self._refuse_windows())

    def next_listener_change(self) -> float | None:
        """Seconds until a 'refuse' window opens or closes, or None if none will."""
        elapsed = self.elapsed()
        edges = [t for o in self._refuse_windows() for t in (o.start, o.end) if t > elapsed]
        return min(edges) - elapsed if edges else None

    def _refuse_windows(self) -> list[Outage]:
        unmatched = [o for r in self._faults.rules if not r.match for o in r.outages]
        return [o for o in [*self._adhoc, *unmatched] if o.kind == "refuse"]

    @staticmethod
    def _outage(elapsed: float, outages: list[Outage]) -> Outage | None:
        return next((o for o in outages if o.covers(elapsed)), None)

    def _outage_plan(self, outage: Outage, retry_after: int | None) -> Plan:
        hang_limit = self._faults.hang_limit
        if isinstance(outage.kind, int):
            return Plan("error", status=outage.kind, retry_after=retry_after, hang_limit=hang_limit)
        return Plan(outage.kind, hang_limit=hang_limit)

    def _rate_plan(self, rule: Rule, draw: float, delay: float) -> Plan:
        hang_limit = self._faults.hang_limit
        threshold = 0.0
        for error in rule.errors:
            threshold += error.rate
            if draw < threshold:
                return Plan("error", delay, error.status, rule.retry_after, hang_limit)
        rated: tuple[tuple[Action, float], ...] = (
            ("reset", rule.reset),
            ("hang", rule.hang),
            ("lost", rule.lost),
        )
        for action, rate in rated:
            threshold += rate
            if draw < threshold:
                return Plan(action, delay, hang_limit=hang_limit)
        return Plan("forward", delay, hang_limit=hang_limit)
