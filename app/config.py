"""Where Mailproof keeps its data (``MAILPROOF_HOME``) and where its bundled resources lie."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

ENV_HOME = "MAILPROOF_HOME"


def data_home() -> Path:
    """The data directory: ``$MAILPROOF_HOME`` or the platform's user data dir (XDG on Linux)."""
    configured = os.environ.get(ENV_HOME)
    home = Path(configured) if configured else Path(platformdirs.user_data_dir("mailproof"))
    return home.expanduser().resolve()


def resources_dir() -> Path:
    """The bundled ``resources/`` directory (icons, styles, demo archive)."""
    return Path(__file__).resolve().parent.parent / "resources"


def demo_archive() -> Path:
    return resources_dir() / "demo"
