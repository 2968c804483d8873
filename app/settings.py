"""User settings kept beside the store (``settings.json``); every change is in the audit log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app import audit
from app.config import data_home
from app.errors import BadInput
from app.store.atomic import write_atomic

DEFAULTS: dict[str, int] = {"lock-minutes": 15}
LIMITS: dict[str, tuple[int, int]] = {"lock-minutes": (0, 24 * 60)}
DESCRIPTIONS = {"lock-minutes": "idle minutes before the window locks (0 = never)"}


def _path() -> Path:
    return data_home() / "settings.json"


def load() -> dict[str, int]:
    """Every setting with its value (defaults for those never set; an unreadable file is
    treated as empty, never fatal)."""
    values = dict(DEFAULTS)
    try:
        stored: Any = json.loads(_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        stored = {}
    if isinstance(stored, dict):
        for name, value in stored.items():
            if name in DEFAULTS and isinstance(value, int):
                low, high = LIMITS[name]
                values[name] = min(max(value, low), high)
    return values


def get(name: str) -> int:
    return load()[name]


def set_value(name: str, value: int) -> int:
    if name not in DEFAULTS:
        raise BadInput(f"unknown setting {name!r}; settings: {', '.join(DEFAULTS)}")
    low, high = LIMITS[name]
    if not low <= value <= high:
        raise BadInput(f"{name} must be between {low} and {high}")
    values = load()
    old = values[name]
    values[name] = value
    path = _path()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, (json.dumps(values, indent=2) + "\n").encode())
    audit.record("settings changed", {"setting": name}, old=old, value=value)
    return value
