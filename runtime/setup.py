"""Builds seawall-runtime; with ``SEAWALL_RUNTIME_COMPILE=1``, compiles the
modules every call runs through with mypyc (a C compiler is then needed).

The compiled build behaves as the source does (the same tests pass on both:
``./dev test`` runs the runtime's suite on each) and makes the runtime's own
work on a call about half as costly; see docs/performance.md. The other
modules (policies, errors, hooks, sagas, codegen) stay Python: they run once
per client or on failures only.
"""

from __future__ import annotations

import os

from setuptools import setup

COMPILE_VARIABLE = "SEAWALL_RUNTIME_COMPILE"
COMPILED_MODULES = (
    "_value",
    "outcome",
    "operation",
    "controller",
    "breaker",
    "budget",
    "keyed",
    "transport",
    "client",
)


def extension_modules() -> list[object]:
    if os.environ.get(COMPILE_VARIABLE) != "1":
        return []
    from mypyc.build import mypycify

    return list(mypycify([f"seawall_runtime/{name}.py" for name in COMPILED_MODULES]))


setup(ext_modules=extension_modules())
