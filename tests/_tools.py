"""Command-line tools some tests run (installed by `pip install -e '.[test]'`): a missing one skips
the test on a developer's machine and fails it in CI (CI=true)."""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest


def require_tool(name: str) -> str:
    path = shutil.which(name, path=str(Path(sys.executable).parent))
    if path is None:
        message = f"{name} is not installed in this venv (pip install -e '.[test]')"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return path
