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


def unreadable(path: str | Path, err: OSError, errors: list[str] | None) -> None:
    """A file that vanished is skipped; one that cannot be read is recorded in ``errors``.

    With no ``errors`` list the caller wants the first failure raised.
    """
    from app.errors import SourceUnreadable

    if isinstance(err, FileNotFoundError):
        return  # moved or deleted by another client between listing and reading
    message = f"cannot read {path}: {err.strerror or err}"
    if errors is None:
        raise SourceUnreadable(message) from err
    errors.append(message)


@dataclass(frozen=True)
class FolderRef:
    """One folder of a source: a Maildir directory, an mbox file, or a set of .eml files."""

    name: str
    kind: str  # "maildir" | "mbox" | "eml"
    path: Path
    files: tuple[Path, ...] = ()  # the .eml files of an "eml" folder
