"""Retry budget (after Finagle's and Envoy's): retries limited to a share of traffic.

Over a sliding window, the retries granted may not exceed
``floor + ratio × requests`` (requests are logical calls, first attempts
only). Under a total outage the extra load from retries therefore stays near
``ratio``, whatever the number of attempts allowed per call.
"""

from __future__ import annotations

import threading
from collections import deque

from seawall_runtime.clock import Clock
from seawall_runtime.policies import BudgetPolicy


class RetryBudget:
    """One budget, shared by every operation of a client towards one host.

    Thread-safe; the lock is never held across an ``await``, so asyncio tasks
    sharing it are safe too.
    """

    def __init__(self, policy: BudgetPolicy, clock: Clock) -> None:
        self.policy = policy
        self._clock = clock
        self._lock = threading.Lock()
        self._requests: deque[float] = deque()
        self._retries: deque[float] = deque()

    def _expire(self, now: float) -> None:
        horizon = now - self.policy.window
        for times in (self._requests, self._retries):
            while times and times[0] <= horizon:
                times.popleft()

    def record_request(self) -> None:
        """Count a new logical call (its first attempt)."""
        with self._lock:
            now = self._clock.now()
            # Only this deque grows here; retries expire when one is asked for.
            requests, horizon = self._requests, now - self.policy.window
            while requests and requests[0] <= horizon:
                requests.popleft()
            requests.append(now)

    def try_retry(self) -> bool:
        """Take one retry from the budget; ``False`` when it is spent."""
        with self._lock:
            now = self._clock.now()
            self._expire(now)
            allowed = self.policy.floor + self.policy.ratio * len(self._requests)
            if len(self._retries) + 1 > allowed:
                return False
            self._retries.append(now)
            return True

    def counts(self) -> tuple[int, int]:
        """(requests, retries) inside the current window."""
        with self._lock:
            self._expire(self._clock.now())
            return len(self._requests), len(self._retries)
