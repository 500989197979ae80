"""An in-process httpx transport that plays a script of answers (unit tests only)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Union

import httpx

from seawall_runtime import FakeClock

Step = Union[int, httpx.Response, Exception, Callable[[httpx.Request], httpx.Response]]


class Script:
    """Answers each request with the next step; records what was sent.

    ``cost`` seconds pass on the fake clock for each attempt, so deadlines
    can be exercised without sleeping.
    """

    def __init__(self, steps: Iterable[Step], clock: FakeClock | None = None, cost: float = 0.0):
        self.steps = list(steps)
        self.requests: list[httpx.Request] = []
        self.clock = clock
        self.cost = cost

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.clock is not None:
            self.clock.advance(self.cost)
        step = self.steps.pop(0) if len(self.steps) > 1 else self.steps[0]
        if isinstance(step, Exception):
            raise step
        if isinstance(step, int):
            return httpx.Response(step, request=request)
        if isinstance(step, httpx.Response):
            return step
        return step(request)

    @property
    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self)
