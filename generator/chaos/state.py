"""Thread-safe shared state of a chaos proxy: the planner and the counters.

The server thread plans and counts; a test's thread reads the counters and
changes the faults. One lock guards both so a snapshot is consistent.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from seawall.chaos.faults import FaultSet, Outage, OutageKind
from seawall.chaos.planner import Clock, Plan, Planner

#: Distinct ``"METHOD /path"`` keys counted before the rest go under OTHER_ROUTES.
MAX_ROUTES = 10_000
OTHER_ROUTES = "(other)"


@dataclass(frozen=True)
class ChaosStats:
    """What the proxy saw since the start or the last reset (admin requests excluded).

    ``received``: requests that arrived. ``faults``: requests per action the plan
    chose (``forward``, ``error``, ``reset``, ``hang``, ``lost``, ``refuse``),
    plus ``delay`` for those that also got added latency. ``forwarded``:
    requests sent upstream; ``answered``: of those, how many got an upstream
    response; ``upstream_errors``: how many failed to reach it. ``requests``:
    received requests per ``"METHOD /path"`` (after ``MAX_ROUTES`` distinct
    ones, the rest are counted under ``"(other)"``). Connections refused while the
    listening socket is closed never reach the proxy and are not counted.
    """

    received: int = 0
    forwarded: int = 0
    answered: int = 0
    upstream_errors: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    requests: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        """A JSON-ready dict with the same field names."""
        return {
            "received": self.received,
            "forwarded": self.forwarded,
            "answered": self.answered,
            "upstream_errors": self.upstream_errors,
            "faults": dict(self.faults),
            "requests": dict(self.requests),
        }


class ChaosState:
    """The planner and counters behind one lock, with change notifications."""

    def __init__(self, faults: FaultSet | None = None, *, clock: Clock = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._planner = Planner(faults, clock=clock)
        self._counts: Counter[str] = Counter()
        self._faults: Counter[str] = Counter()
        self._requests: Counter[str] = Counter()
        self._listeners: list[Callable[[], None]] = []

    def plan(self, method: str, path: str) -> Plan:
        """Plan a request and count it."""
        with self._lock:
            plan = self._planner.plan(method, path)
            self._counts["received"] += 1
            route = f"{method.upper()} {path}"
            if route in self._requests or len(self._requests) < MAX_ROUTES:
                self._requests[route] += 1
            else:  # bounded memory for a long run over many distinct paths
                self._requests[OTHER_ROUTES] += 1
            self._faults[plan.action] += 1
            if plan.delay > 0:
                self._faults["delay"] += 1
        return plan

    def count(self, name: str) -> None:
        """Add one to ``forwarded``, ``answered`` or ``upstream_errors``."""
        with self._lock:
            self._counts[name] += 1

    def stats(self) -> ChaosStats:
        """A snapshot of the counters."""
        with self._lock:
            return ChaosStats(
                received=self._counts["received"],
                forwarded=self._counts["forwarded"],
                answered=self._counts["answered"],
                upstream_errors=self._counts["upstream_errors"],
                faults=dict(self._faults),
                requests=dict(self._requests),
            )

    def reset_stats(self) -> None:
        """Zero every counter."""
        with self._lock:
            self._counts.clear()
            self._faults.clear()
            self._requests.clear()

    @property
    def faults(self) -> FaultSet:
        """The fault set in force."""
        with self._lock:
            return self._planner.faults

    def set_faults(self, faults: FaultSet) -> None:
        """Replace the fault set (the random source restarts from its seed)."""
        with self._lock:
            self._planner.set_faults(faults)
        self._notify()

    def outage_now(self, duration: float, kind: OutageKind = 503) -> Outage:
        """Fail every request from now for ``duration`` seconds."""
        with self._lock:
            outage = self._planner.add_outage(duration, kind)
        self._notify()
        return outage

    def clear_outages(self) -> None:
        """End the outages started with :meth:`outage_now`."""
        with self._lock:
            self._planner.clear_outages()
        self._notify()

    def restart_clock(self) -> None:
        """Make now time zero for outage windows."""
        with self._lock:
            self._planner.restart()
        self._notify()

    def refusing(self) -> bool:
        """Whether the listening socket should be closed now."""
        with self._lock:
            return self._planner.refusing()

    def next_listener_change(self) -> float | None:
        """Seconds until the listening socket should next open or close."""
        with self._lock:
            return self._planner.next_listener_change()

    def subscribe(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Call ``listener`` after every change of faults; returns an unsubscribe."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                self._listeners.remove(listener)

        return unsubscribe

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()
