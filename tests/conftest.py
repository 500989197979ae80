"""Suite-wide setup: black's formatted pieces are cached in a folder of this run's
own (see seawall.format), never in the user's cache."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_CACHE_KEY = "SEAWALL_CACHE_DIR"


def pytest_configure(config: pytest.Config) -> None:
    if _CACHE_KEY not in os.environ:
        folder = tempfile.mkdtemp(prefix="seawall-test-cache-")
        os.environ[_CACHE_KEY] = folder
        config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))
