"""The typed values the store hands out: a frozen dataclass per kind of row, never a cursor row."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AccountRecord:
    """An account's settings as stored (never its password)."""

    name: str
    host: str
    port: int
    security: str
    user: str
    ca_file: str | None
    allow_insecure: bool
    folders: tuple[str, ...] | None  # None: every folder
