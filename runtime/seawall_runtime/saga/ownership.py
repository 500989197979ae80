"""Who drives a saga, and when a saga's driver is gone so that recovery may take it over."""

from __future__ import annotations

import os
import socket
import uuid

from seawall_runtime.saga.model import SagaRecord


def _start_time(pid: int) -> str:
    """The process's start time in clock ticks since boot (Linux), or "" where unknown.

    Part of the owner id so that a recycled pid is not mistaken for the owner.
    """
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            fields = stat.read().rpartition(")")[2].split()
    except OSError:
        return ""
    return fields[19] if len(fields) > 19 else ""


def new_owner() -> str:
    """An owner id for this process: ``host:pid:start:nonce`` (the nonce tells runners apart)."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{_start_time(pid)}:{uuid.uuid4().hex[:12]}"


def _process_alive(pid: int, start: str) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # exists, owned by someone else
    return not start or _start_time(pid) in ("", start)


def abandoned(saga: SagaRecord, *, now: float, stale_after: float | None) -> bool:
    """Whether recovery may take ``saga`` over.

    A saga that needs attention has no driver any more. Otherwise its owner must
    be a process on this host that no longer exists (a recycled pid does not
    count: the start time differs), or, for owners elsewhere, the saga must not
    have changed for ``stale_after`` seconds.
    """
    if saga.state == "needs_attention":
        return True
    if stale_after is not None and now - saga.updated_at >= stale_after:
        return True
    host, pid_text, start = (saga.owner.split(":") + ["", ""])[:3]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    return not _process_alive(int(pid_text), start)
