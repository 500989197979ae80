"""Who drives a saga, and when a saga's driver is gone so that recovery may take it over."""

from __future__ import annotations

import os
import socket
import uuid

from seawall_runtime.saga.model import SagaRecord


def new_owner() -> str:
    """An owner id for this process: ``host:pid:nonce`` (the nonce tells runners apart)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:12]}"


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    return True


def abandoned(saga: SagaRecord, *, now: float, stale_after: float | None) -> bool:
    """Whether recovery may take ``saga`` over.

    A saga that needs attention has no driver any more. Otherwise its owner must
    be a process on this host that no longer exists, or (for owners elsewhere)
    the saga must not have changed for ``stale_after`` seconds.
    """
    if saga.state == "needs_attention":
        return True
    if stale_after is not None and now - saga.updated_at >= stale_after:
        return True
    host, _, rest = saga.owner.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    return not _process_alive(int(pid_text))
