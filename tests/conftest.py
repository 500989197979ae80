"""Which runtime the tests import: ``runtime/`` from source (pytest's
``pythonpath``), or the build installed in the directory that
``SEAWALL_RUNTIME_BUILD`` names (``./dev test`` runs the runtime's suite on
the mypyc-compiled build that way too)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

RUNTIME_BUILD = os.environ.get("SEAWALL_RUNTIME_BUILD")
if RUNTIME_BUILD:
    sys.path.insert(0, str(Path(RUNTIME_BUILD).resolve()))
