"""Circuit breaker (after resilience4j and Polly): closed → open → half-open.

Closed: calls pass; outcomes land in a sliding time window. When the window
holds at least ``minimum_calls`` calls and the share of failures reaches
``failure_ratio``, the breaker opens. The window is kept as counts in
``WINDOW_BUCKETS`` time buckets (as resilience4j does; a call at ``now`` falls
in bucket ``now // (window / WINDOW_BUCKETS)``), so its memory does not
grow with the call rate: it holds the current bucket and the ones before it,
so a call leaves it between 95 % and 100 % of ``window`` after it ended. Open: calls are refused until
``open_for`` has passed, then the breaker is half-open and lets up to
``half_open_probes`` calls through at once. A successful probe closes it (with
an empty window), a failed one opens it again.

Outcomes of calls that began in an earlier state are ignored for
transitions (each permit carries the generation it was issued in), so a slow
call from before an opening cannot close the breaker.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

from seawall_runtime.clock import Clock
from seawall_runtime.policies import BreakerPolicy

BreakerState = Literal["closed", "open", "half-open"]
WINDOW_BUCKETS = 20
StateListener = Callable[[str, BreakerState, BreakerState], None]  # key, old, new


@dataclass(frozen=True, slots=True)
class Permit:
    """Leave to make one call; hand it back with :meth:`CircuitBreaker.record`."""

    generation: int
    probe: bool


def counts_as_failure(status: int) -> bool:
    """Statuses that count against the breaker: 5xx, 408 and 429."""
    return status >= 500 or status in (408, 429)


class CircuitBreaker:
    """One breaker (per host, or per host and operation). Thread-safe."""

    def __init__(
        self,
        policy: BreakerPolicy,
        clock: Clock,
        key: str = "",
        on_change: StateListener | None = None,
    ) -> None:
        self.policy = policy
        self.key = key
        self._clock = clock
        self._on_change = on_change
        self._lock = threading.Lock()
        self._state: BreakerState = "closed"
        self._generation = 0
        # Permits are immutable, so every ordinary call of one generation can
        # share one: no allocation per call while the breaker is closed.
        self._closed_permit = Permit(0, probe=False)
        self._opened_at = 0.0
        self._probes_in_flight = 0
        self._bucket_width = policy.window / WINDOW_BUCKETS
        # [bucket number (now // width), calls, failures], oldest first; at
        # most WINDOW_BUCKETS.
        self._buckets: deque[list[int]] = deque()
        self._calls = 0
        self._failures = 0

    @property
    def state(self) -> BreakerState:
        """The state now (an open breaker whose time is up reads as half-open)."""
        with self._lock:
            if self._state == "open" and self._open_elapsed(self._clock.now()):
                return "half-open"
            return self._state

    def counts(self) -> tuple[int, int]:
        """(calls, failures) in the current window."""
        with self._lock:
            self._expire(int(self._clock.now() // self._bucket_width))
            return self._calls, self._failures

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a probe through (0 if not open)."""
        with self._lock:
            if self._state != "open":
                return 0.0
            return max(0.0, self._opened_at + self.policy.open_for - self._clock.now())

    def acquire(self) -> Permit | None:
        """A permit for one call, or ``None`` when the call must fail fast."""
        # Closed is the common state: read without the lock (attribute reads are
        # atomic). Racing a change of state (closed → open, or half-open →
        # closed), the permit read may be of the generation before: its
        # outcome is then ignored, like that of any call that began before.
        permit: Permit | None = self._closed_permit
        unlocked_state = self._state  # a local: the locked check below reads it again
        if unlocked_state == "closed":
            return permit
        change = None
        with self._lock:
            if self._state == "closed":
                return self._closed_permit
            if self._state == "open" and self._open_elapsed(self._clock.now()):
                change = self._move("half-open")
            permit = None
            if self._state == "half-open" and self._probes_in_flight < self.policy.half_open_probes:
                self._probes_in_flight += 1
                permit = Permit(self._generation, probe=True)
        self._announce(change)
        return permit

    def record(self, permit: Permit, failed: bool) -> None:
        """The call made under ``permit`` succeeded or failed."""
        change = None
        with self._lock:
            if permit.generation != self._generation:
                return
            now = self._clock.now()
            if permit.probe:
                self._probes_in_flight -= 1
                change = self._move("open" if failed else "closed", now)
            elif self._state == "closed":
                bucket = int(now // self._bucket_width)
                buckets = self._buckets
                if buckets and buckets[-1][0] == bucket:
                    counts = buckets[-1]  # the same bucket as the last call: nothing expired
                    counts[1] += 1
                    counts[2] += failed
                else:
                    self._expire(bucket)
                    buckets.append([bucket, 1, int(failed)])
                self._calls += 1
                self._failures += failed
                calls = self._calls
                if calls >= self.policy.minimum_calls and (
                    self._failures >= self.policy.failure_ratio * calls
                ):
                    change = self._move("open", now)
        self._announce(change)

    def release(self, permit: Permit) -> None:
        """The call ended without a verdict (cancelled, or not the server's fault)."""
        with self._lock:
            if permit.probe and permit.generation == self._generation:
                self._probes_in_flight -= 1

    def _open_elapsed(self, now: float) -> bool:
        return now >= self._opened_at + self.policy.open_for

    def _expire(self, bucket: int) -> None:
        """Drop the buckets older than the last WINDOW_BUCKETS, ``bucket`` (the
        current one) included."""
        oldest = bucket - (WINDOW_BUCKETS - 1)
        buckets = self._buckets
        while buckets and buckets[0][0] < oldest:
            _, calls, failures = buckets.popleft()
            self._calls -= calls
            self._failures -= failures

    def _move(
        self, new: BreakerState, now: float | None = None
    ) -> tuple[BreakerState, BreakerState]:
        old = self._state
        self._state = new
        self._generation += 1
        self._closed_permit = Permit(self._generation, probe=False)
        self._probes_in_flight = 0
        if new == "open":
            self._opened_at = self._clock.now() if now is None else now
        if new != "half-open":
            self._buckets.clear()
            self._calls = 0
            self._failures = 0
        return old, new

    def _announce(self, change: tuple[BreakerState, BreakerState] | None) -> None:
        if change is not None and self._on_change is not None:
            self._on_change(self.key, *change)
