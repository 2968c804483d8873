"""Where are all the copies of a message? Every stored copy across accounts, folders and imports,
with provenance; a clearly labelled fuzzy fallback when no copy has the Message-ID."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any

from app.store.library import Library

FUZZY_WINDOW_SECONDS = 10 * 60
FUZZY_NOTE = (
    "no stored copy has this Message-ID; these copies only match by subject, sender and date "
    "within 10 minutes — they may be a different message"
)


@dataclass(frozen=True)
class CopyLocation:
    """One stored copy and where it came from."""

    account: str
    folder: str
    role: str | None  # "\\Sent", "\\Junk", "\\Trash", "\\Backup", … when known
    kind: str  # "imap", "maildir", "mbox", "eml"
    sha256: str
    message_id: str | None
    uid: int | None
    uidvalidity: int | None
    internaldate: str | None
    flags: str
    fetched_at: str | None
    imported_at: str | None
    source_path: str | None
    source_offset: int | None
    expunged_at: str | None
    remapped_from: str | None

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)

    @property
    def where(self) -> str:
        return f"{self.account}/{self.folder}"


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


_COPY_SQL = (
    "SELECT c.*, f.account, f.name AS folder, f.special_use, m.message_id "
    "FROM copies c JOIN folders f ON f.id=c.folder_id JOIN messages m ON m.sha256=c.sha256 "
)


def _location(row: sqlite3.Row) -> CopyLocation:
    return CopyLocation(
        account=row["account"],
        folder=row["folder"],
        role=row["special_use"],
        kind=row["kind"],
        sha256=row["sha256"],
        message_id=row["message_id"],
        uid=row["uid"],
        uidvalidity=row["uidvalidity"],
        internaldate=row["internaldate"],
        flags=row["flags"] or "",
        fetched_at=row["fetched_at"],
        imported_at=row["imported_at"],
        source_path=row["source_path"],
        source_offset=row["source_offset"],
        expunged_at=row["expunged_at"],
        remapped_from=row["remapped_from"],
    )


def normalise_message_id(value: str) -> str:
    text = value.strip()
    return text if text.startswith("<") else f"<{text}>"


def searched_folders(library: Library) -> tuple[str, ...]:
    rows = library.db.execute(
        "SELECT f.account, f.name, COUNT(c.id) AS n FROM folders f "
        "LEFT JOIN copies c ON c.folder_id=f.id GROUP BY f.id ORDER BY f.account, f.name"
    ).fetchall()
    return tuple(f"{r['account']}/{r['name']} ({r['n']} copies)" for r in rows)


def _order(rows: list[sqlite3.Row]) -> tuple[CopyLocation, ...]:
    return tuple(_location(r) for r in sorted(rows, key=lambda r: (r["account"], r["folder"])))


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
        rows = library.db.execute(_COPY_SQL + "WHERE c.sha256=?", (sha256,)).fetchall()
        if rows:
            return LocateResult(query, "sha256", _order(rows), searched)
        message_id = message_id or None
    if message_id:
        query["message_id"] = normalise_message_id(message_id)
        rows = library.db.execute(
            _COPY_SQL + "WHERE m.message_id=?", (query["message_id"],)
        ).fetchall()
        if rows:
            return LocateResult(query, "message-id", _order(rows), searched)
    if subject is not None and from_addr and date_ts is not None:
        query.update(subject=subject, from_addr=from_addr, date_ts=str(date_ts))
        rows = library.db.execute(
            _COPY_SQL + "WHERE m.subject=? AND lower(m.from_addr)=lower(?) "
            "AND m.date_ts BETWEEN ? AND ?",
            (subject, from_addr, date_ts - FUZZY_WINDOW_SECONDS, date_ts + FUZZY_WINDOW_SECONDS),
        ).fetchall()
        if rows:
            return LocateResult(query, "fuzzy", _order(rows), searched, FUZZY_NOTE)
    return LocateResult(query, "none", (), searched)
