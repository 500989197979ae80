"""The example order system: orders, inventory and payments services.

Each service implements one of the annotated specs in ``specs/`` on plain ASGI
with SQLite persistence. Start one with ``python -m seawall.examples.serve``,
all three as subprocesses with :func:`seawall.examples.processes.start_services`,
or in-process for tests with :mod:`seawall.examples.testing`; check the three
databases with :func:`seawall.examples.invariants.check_invariants`.
"""
