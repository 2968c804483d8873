"""Attachment file names that cannot escape a folder, and saving attachments atomically."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from pathlib import Path

from app import audit
from app.errors import BadInput
from app.store.atomic import write_atomic

_RESERVED = {
    "CON",
    "PRN",
    "AUX",
    "NUL",
    *(f"COM{i}" for i in range(1, 10)),
    *(f"LPT{i}" for i in range(1, 10)),
}
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"|?*]')
_MAX_BYTES = 200


def safe_filename(name: str | None, fallback: str = "attachment") -> str:
    """A plain file name from a sender-chosen one: no directories, no control or reserved names.

    ``../../etc/passwd`` → ``passwd``; ``..\\evil.bat`` → ``evil.bat``; ``CON.txt`` → ``_CON.txt``;
    bidi overrides are removed, so the real extension shows.
    """
    text = unicodedata.normalize("NFC", name or "")
    # Format characters such as U+202E (right-to-left override) disguise "fdp.exe" as "exe.pdf".
    text = "".join(c for c in text if unicodedata.category(c) not in ("Cc", "Cf"))
    text = re.split(r"[/\\]", text)[-1]
    text = _UNSAFE.sub("_", text).strip().strip(".").strip()
    if not text:
        return fallback
    stem = text.split(".")[0].upper()
    if stem in _RESERVED:
        text = "_" + text
    while len(text.encode("utf-8")) > _MAX_BYTES:
        stem_part, dot, ext = text.rpartition(".")
        keep_extension = dot and len(ext) < 16 and stem_part
        text = stem_part[:-1] + "." + ext if keep_extension else text[:-1]
    return text


def save_into(directory: Path, filename: str | None, data: bytes) -> Path:
    """Write ``data`` as a new file inside ``directory``; never outside it, never over a file."""
    folder = directory.resolve()
    if not folder.is_dir():
        raise BadInput(f"{directory} is not a folder")
    name = safe_filename(filename)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    candidate = folder / name
    counter = 1
    while candidate.exists():
        candidate = folder / (f"{stem} ({counter}).{ext}" if ext else f"{stem} ({counter})")
        counter += 1
    if candidate.resolve().parent != folder:
        raise BadInput(f"refusing to write {filename!r} outside {folder}")
    write_atomic(candidate, data)
    _record_saved(candidate, data)
    return candidate


def save_as(target: Path, data: bytes) -> Path:
    """Write ``data`` to the file the user chose in a save dialog (which already asked before
    replacing one); audited like :func:`save_into`."""
    if not target.parent.is_dir():
        raise BadInput(f"{target.parent} is not a folder")
    write_atomic(target, data)
    _record_saved(target, data)
    return target


def _record_saved(path: Path, data: bytes) -> None:
    audit.record(
        "attachment saved",
        {"file": str(path)},
        sha256=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )
