"""setuptools' build backend, plus mypyc as a build requirement when
``SEAWALL_RUNTIME_COMPILE=1`` asks for the compiled build (see setup.py)."""

from __future__ import annotations

import os

from setuptools import build_meta
from setuptools.build_meta import *  # noqa: F401,F403  (the rest of the backend, unchanged)

MYPYC_REQUIREMENT = "mypy>=2,<3"  # the mypyc the build is tested with (2.4)


def _requirements(ask_setuptools: str, config_settings: dict[str, object] | None) -> list[str]:
    if os.environ.get("SEAWALL_RUNTIME_COMPILE") == "1":
        # setuptools would run setup.py to ask, which needs mypyc already;
        # setup.py declares nothing else.
        return [MYPYC_REQUIREMENT]
    requirements: list[str] = getattr(build_meta, ask_setuptools)(config_settings)
    return requirements


def get_requires_for_build_wheel(config_settings: dict[str, object] | None = None) -> list[str]:
    return _requirements("get_requires_for_build_wheel", config_settings)


def get_requires_for_build_editable(config_settings: dict[str, object] | None = None) -> list[str]:
    return _requirements("get_requires_for_build_editable", config_settings)
