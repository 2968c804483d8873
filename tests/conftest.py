"""Suite-wide settings: a private MAILPROOF_HOME and the offscreen Qt platform."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

_HOME = tempfile.mkdtemp(prefix="mailproof-home-")


def pytest_configure(config: pytest.Config) -> None:
    # Nothing a test does may touch the real user's data directory.
    os.environ["MAILPROOF_HOME"] = _HOME
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_HOME, ignore_errors=True)
