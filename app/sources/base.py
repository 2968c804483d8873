"""Values every source reader yields: a raw message and where exactly it came from."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class Provenance:
    """Where one copy came from. ``source_key`` is stable while the copy stays in place."""

    kind: str  # "maildir" | "mbox" | "eml"
    folder: str
    source_path: str
    source_key: str
    source_offset: int | None = None
    flags: tuple[str, ...] = ()


@dataclass(frozen=True)
class RawMessage:
    raw: bytes
    provenance: Provenance
    problems: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class FolderRef:
    """One folder of a source: a Maildir directory, an mbox file, or a set of .eml files."""

    name: str
    kind: str  # "maildir" | "mbox" | "eml"
    path: Path
    files: tuple[Path, ...] = ()  # the .eml files of an "eml" folder
