"""What the search index hands its callers: hits, update and check reports, and its errors."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.errors import Exit, MailproofError


class CorruptIndex(MailproofError):
    """The index files cannot be read (exit 3)."""

    exit_code = Exit.ENVIRONMENT


class OutdatedIndex(CorruptIndex):
    """The index has an older layout: it is rebuilt, not repaired."""


class IndexBusy(MailproofError):
    """Another Mailproof process is writing the index (exit 3)."""

    exit_code = Exit.ENVIRONMENT


@dataclass(frozen=True)
class Hit:
    sha256: str
    message_id: str | None
    subject: str
    from_: str
    date: str | None
    folders: tuple[str, ...]
    places: tuple[tuple[str, str], ...]  # (account, folder) of every live copy
    score: float
    snippet: str = ""
    highlights: tuple[tuple[int, int], ...] = ()
    preview: bytes = field(default=b"", repr=False, compare=False)  # for the snippet only

    def to_json(self) -> dict[str, Any]:
        return {
            "message_id": self.message_id,
            "subject": self.subject,
            "from": self.from_,
            "date": self.date,
            "folders": list(self.folders),
            "places": [{"account": a, "folder": f} for a, f in self.places],
            "sha256": self.sha256,
            "snippet": self.snippet,
            "highlights": [list(span) for span in self.highlights],
            "score": round(self.score, 4),
        }


@dataclass
class UpdateReport:
    indexed: int = 0
    removed: int = 0
    unchanged: int = 0
    problems: list[str] = field(default_factory=list)
    rebuilt_because: str | None = None


@dataclass(frozen=True)
class CheckReport:
    documents: int
    expected: int
    missing: tuple[str, ...]  # in the store, not in the index
    extra: tuple[str, ...]  # in the index, no longer in the store
    stale: tuple[str, ...]  # indexed from an older state of their copies

    @property
    def clean(self) -> bool:
        return not (self.missing or self.extra or self.stale)

    def to_json(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "expected": self.expected,
            "missing": len(self.missing),
            "extra": len(self.extra),
            "stale": len(self.stale),
            "clean": self.clean,
        }
