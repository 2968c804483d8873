"""Where Mailproof keeps its data (``MAILPROOF_HOME``) and where its bundled resources lie."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ENV_HOME = "MAILPROOF_HOME"


def data_home() -> Path:
    """The data directory: ``$MAILPROOF_HOME`` or the platform's user data dir (XDG on Linux)."""
    configured = os.environ.get(ENV_HOME)
    if configured:
        home = Path(configured)
    elif sys.platform.startswith("linux"):
        # platformdirs' XDG rule, without its import on the path of `mailproof search`
        home = Path(os.environ.get("XDG_DATA_HOME", "").strip() or "~/.local/share") / "mailproof"
    else:
        import platformdirs

        home = Path(platformdirs.user_data_dir("mailproof"))
    return home.expanduser().resolve()


def resources_dir() -> Path:
    """The bundled ``resources/`` directory (icons, styles, demo archive)."""
    return Path(__file__).resolve().parent.parent / "resources"


def demo_archive() -> Path:
    return resources_dir() / "demo"
