"""Where are all the copies of a message? Every stored copy across accounts, folders and imports,
with provenance; a clearly labelled fuzzy fallback when no copy has the Message-ID."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.store.library import Library
from app.store.records import CopyLocation

FUZZY_WINDOW_SECONDS = 10 * 60
FUZZY_NOTE = (
    "no stored copy has this Message-ID; these copies only match by subject, sender and date "
    "within 10 minutes — they may be a different message"
)


@dataclass(frozen=True)
class LocateResult:
    """Every copy found, how they were matched, and what was searched."""

    query: dict[str, str]
    match: str  # "message-id" | "sha256" | "fuzzy" | "none"
    copies: tuple[CopyLocation, ...]
    searched: tuple[str, ...]  # "account/folder (N copies)" for every folder in the store
    note: str = ""
    warnings: tuple[str, ...] = field(default=())

    @property
    def versions(self) -> int:
        """How many different byte sequences the copies have (1: all byte-identical)."""
        return len({c.sha256 for c in self.copies})

    @property
    def identical(self) -> bool:
        return self.versions <= 1

    @property
    def summary(self) -> str:
        if not self.copies:
            return f"not found in the {len(self.searched)} folder(s) searched"
        places = len({c.where for c in self.copies})
        gone = sum(1 for c in self.copies if c.expunged_at)
        text = f"{len(self.copies)} cop{'y' if len(self.copies) == 1 else 'ies'} in {places} "
        text += "folder" if places == 1 else "folders"
        text += ", byte-identical" if self.identical else f", {self.versions} different versions"
        if gone:
            text += f"; {gone} deleted on the server but kept here"
        if self.match == "fuzzy":
            text += " (fuzzy match, not by Message-ID)"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "match": self.match,
            "summary": self.summary,
            "identical": self.identical,
            "versions": self.versions,
            "copies": [c.to_json() for c in self.copies],
            "searched": list(self.searched),
            "note": self.note,
            "warnings": list(self.warnings),
        }


def normalise_message_id(value: str) -> str:
    text = value.strip()
    return text if text.startswith("<") else f"<{text}>"


def searched_folders(library: Library) -> tuple[str, ...]:
    return tuple(
        f"{f.account}/{f.name} ({f.copies} copies)" for f in library.lookup.folder_counts()
    )


def _order(copies: list[CopyLocation]) -> tuple[CopyLocation, ...]:
    return tuple(sorted(copies, key=lambda c: (c.account, c.folder)))


def locate(
    library: Library,
    *,
    message_id: str | None = None,
    sha256: str | None = None,
    subject: str | None = None,
    from_addr: str | None = None,
    date_ts: int | None = None,
) -> LocateResult:
    """Copies by Message-ID (or by content hash); when none has the Message-ID and the
    message's subject, sender and date are known, a fuzzy match labelled as such."""
    query: dict[str, str] = {}
    searched = searched_folders(library)
    if sha256:
        query["sha256"] = sha256
        copies = library.lookup.copies_of(sha256)
        if copies:
            return LocateResult(query, "sha256", _order(copies), searched)
        message_id = message_id or None
    if message_id:
        query["message_id"] = normalise_message_id(message_id)
        copies = library.lookup.copies_with_message_id(query["message_id"])
        if copies:
            return LocateResult(query, "message-id", _order(copies), searched)
    if subject is not None and from_addr and date_ts is not None:
        query.update(subject=subject, from_addr=from_addr, date_ts=str(date_ts))
        copies = library.lookup.copies_alike(
            subject, from_addr, date_ts - FUZZY_WINDOW_SECONDS, date_ts + FUZZY_WINDOW_SECONDS
        )
        if copies:
            return LocateResult(query, "fuzzy", _order(copies), searched, FUZZY_NOTE)
    return LocateResult(query, "none", (), searched)
