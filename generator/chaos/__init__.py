"""Fault injection in front of HTTP services: ``seawall chaos``.

A seeded :class:`Planner` decides per request which fault applies; the
:class:`ChaosMiddleware` carries the plan out in front of any ASGI app; the
:class:`ChaosProxy` is a reverse proxy with the middleware, on a small HTTP
server that can reset connections and close its listening socket. See
docs/chaos.md.
"""

from seawall.chaos.faults import ErrorFault, FaultSet, Outage, RoutePattern, Rule, fault_set_from_json
from seawall.chaos.planner import Plan, Planner
from seawall.chaos.state import ChaosState, ChaosStats

__all__ = [
    "ChaosState",
    "ChaosStats",
    "ErrorFault",
    "FaultSet",
    "Outage",
    "Plan",
    "Planner",
    "RoutePattern",
    "Rule",
    "fault_set_from_json",
]
