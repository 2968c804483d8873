"""Maildir reader: ``cur/`` and ``new/`` files, flags from the ``:2,`` info suffix."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

from app.sources.base import FolderRef, Provenance, RawMessage, unreadable

_FLAG_NAMES = {"S": "\\Seen", "R": "\\Answered", "F": "\\Flagged", "T": "\\Deleted", "D": "\\Draft"}


def is_maildir(path: Path) -> bool:
    """True for a directory with ``cur/`` or ``new/``; an unreadable one raises ``OSError``."""
    found = False
    for sub in ("cur", "new"):
        try:
            found = found or stat.S_ISDIR(os.stat(path / sub).st_mode)
        except (FileNotFoundError, NotADirectoryError):
            continue
    return found


def split_name(filename: str) -> tuple[str, tuple[str, ...]]:
    """``1700000000.M1P2.host,S=123:2,FS`` → (unique key, IMAP flags)."""
    key, sep, info = filename.partition(":")
    if not sep:  # Windows-safe Maildirs use "!" instead of ":"
        key, sep, info = filename.partition("!")
    flags: tuple[str, ...] = ()
    if info.startswith("2,"):
        flags = tuple(_FLAG_NAMES[c] for c in sorted(info[2:]) if c in _FLAG_NAMES)
    return key, flags


def message_files(folder: Path, errors: list[str] | None = None) -> list[tuple[str, str]]:
    """(name, path) of every message file in ``new/`` and ``cur/``, newest first.

    Maildir names start with the delivery time, so reverse name order reads the newest mail
    first: the window's newest-first list is right from the first batch. Plain strings, not
    ``Path`` objects: a 100k-message folder lists in a tenth of the time.
    """
    found: list[tuple[str, str]] = []
    for sub in ("new", "cur"):
        directory = os.path.join(folder, sub)
        try:
            entries = list(os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            continue
        except OSError as err:
            unreadable(directory, err, errors)
            continue
        for entry in entries:
            if not entry.name.startswith(".") and entry.is_file():
                found.append((entry.name, entry.path))
    found.sort(reverse=True)
    return found


def subfolders(root: Path, errors: list[str] | None = None) -> list[tuple[str, Path]]:
    """Maildir++ subfolders: ``.Sent`` → "Sent", ``.Archive.2023`` → "Archive/2023"."""
    result = []
    for entry in sorted(root.iterdir(), key=lambda p: p.name):
        if not entry.name.startswith(".") or entry.name in (".", ".."):
            continue
        try:
            if is_maildir(entry):
                result.append((entry.name[1:].replace(".", "/"), entry))
        except OSError as err:
            unreadable(entry, err, errors)
    return result


def read_folder(
    folder: FolderRef,
    files: list[tuple[str, str]] | None = None,
    errors: list[str] | None = None,
) -> Iterator[RawMessage]:
    """Yield the folder's messages (``files``: a listing from :func:`message_files`, or all)."""
    for name, path in message_files(folder.path, errors) if files is None else files:
        key, flags = split_name(name)
        try:
            with open(path, "rb") as handle:
                raw = handle.read()
        except OSError as err:
            unreadable(path, err, errors)
            continue
        provenance = Provenance(
            kind="maildir",
            folder=folder.name,
            source_path=path,
            source_key=key,
            flags=flags,
        )
        yield RawMessage(raw, provenance)
