"""Finding copies and messages across the whole store, for locate, investigate and the delivery
verdict: every folder of every account and import, expunged copies included."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from app.store.records import CopyFacts, CopyLocation, FolderCount

_LOCATION_SQL = (
    "SELECT c.*, f.account, f.name AS folder, f.special_use, m.message_id "
    "FROM copies c JOIN folders f ON f.id=c.folder_id JOIN messages m ON m.sha256=c.sha256 "
)
_FACTS_SQL = (
    "SELECT m.*, c.uid, c.flags, c.expunged_at, f.account, f.name AS folder, f.special_use "
    "FROM copies c JOIN messages m ON m.sha256=c.sha256 JOIN folders f ON f.id=c.folder_id "
)
# What a non-delivery report looks like from its sender or subject (a cheap first filter).
_BOUNCE_SQL = (
    "SELECT DISTINCT m.sha256, m.date_ts FROM messages m WHERE "
    "lower(m.from_addr) LIKE 'mailer-daemon@%' OR lower(m.from_addr) LIKE 'postmaster@%' "
    "OR lower(m.subject) LIKE '%undeliver%' OR lower(m.subject) LIKE '%delivery status%' "
    "OR lower(m.subject) LIKE '%failure notice%' OR lower(m.subject) LIKE '%returned mail%' "
    "OR lower(m.subject) LIKE '%delivery failed%' OR lower(m.subject) LIKE '%not delivered%' "
    "LIMIT ?"
)


class Lookup:
    """Store-wide searches on the calling thread's connection."""

    def __init__(self, connection: Callable[[], sqlite3.Connection]) -> None:
        self._connection = connection

    def _locations(self, where: str, params: tuple[object, ...]) -> list[CopyLocation]:
        rows = self._connection().execute(_LOCATION_SQL + where, params).fetchall()
        return [_location(row) for row in rows]

    def copies_of(self, sha256: str) -> list[CopyLocation]:
        """Every copy of these exact bytes, in the order they were stored."""
        return self._locations("WHERE c.sha256=? ORDER BY c.id", (sha256,))

    def copy(self, copy_id: int) -> CopyLocation | None:
        found = self._locations("WHERE c.id=?", (copy_id,))
        return found[0] if found else None

    def copies_with_message_id(self, message_id: str) -> list[CopyLocation]:
        return self._locations("WHERE m.message_id=?", (message_id,))

    def copies_alike(
        self, subject: str, from_addr: str, earliest: int, latest: int
    ) -> list[CopyLocation]:
        """Copies with this subject and sender (any case), dated between the two Unix times."""
        return self._locations(
            "WHERE m.subject=? AND lower(m.from_addr)=lower(?) AND m.date_ts BETWEEN ? AND ?",
            (subject, from_addr, earliest, latest),
        )

    def folder_counts(self) -> list[FolderCount]:
        """Every folder in the store, by account and name."""
        rows = self._connection().execute(
            "SELECT f.account, f.name, COUNT(c.id) AS n FROM folders f "
            "LEFT JOIN copies c ON c.folder_id=f.id GROUP BY f.id ORDER BY f.account, f.name"
        )
        return [FolderCount(row["account"], row["name"], int(row["n"])) for row in rows]

    def copy_facts(
        self,
        *,
        message_id: str | None = None,
        dated_between: tuple[float, float] | None = None,
        from_ends_with: str | None = None,
        to_or_cc_contains: str | None = None,
        limit: int | None = None,
    ) -> list[CopyFacts]:
        """Copies matching ANY of the conditions given (all copies when none is), at most
        ``limit``; addresses compare in lower case."""
        clauses: list[str] = []
        values: list[object] = []
        if message_id is not None:
            clauses.append("m.message_id=?")
            values.append(message_id)
        if dated_between is not None:
            clauses.append("m.date_ts BETWEEN ? AND ?")
            values += list(dated_between)
        if from_ends_with is not None:
            clauses.append("lower(m.from_addr) LIKE ?")
            values.append("%" + from_ends_with)
        if to_or_cc_contains is not None:
            clauses.append("(lower(m.to_display) LIKE ? OR lower(m.cc_display) LIKE ?)")
            values += ["%" + to_or_cc_contains + "%"] * 2
        # the clauses are fixed text with ? placeholders; only the values come from the caller
        sql = _FACTS_SQL + "WHERE " + (" OR ".join(clauses) if clauses else "1=1")
        if limit is not None:
            sql += " LIMIT ?"
            values.append(limit)
        rows = self._connection().execute(sql, values).fetchall()
        return [_facts(row) for row in rows]

    def bounce_like(self, limit: int) -> list[tuple[str, int | None]]:
        """``(sha256, date_ts)`` of messages whose sender or subject looks like a bounce."""
        rows = self._connection().execute(_BOUNCE_SQL, (limit,))
        return [(row["sha256"], row["date_ts"]) for row in rows]

    def sender_addresses(self) -> list[str]:
        """Every distinct sender address of the stored messages."""
        rows = self._connection().execute("SELECT DISTINCT from_addr FROM messages")
        return [row[0] for row in rows if row[0]]

    def sender_domains(self, limit: int) -> list[str]:
        """Distinct domains of the stored messages' senders, as written (not lower-cased)."""
        rows = self._connection().execute(
            "SELECT DISTINCT substr(from_addr, instr(from_addr, '@') + 1) FROM messages "
            "WHERE from_addr LIKE '%@%' LIMIT ?",
            (limit,),
        )
        return [row[0] for row in rows if row[0]]


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


def _facts(row: sqlite3.Row) -> CopyFacts:
    return CopyFacts(
        account=row["account"],
        folder=row["folder"],
        special_use=row["special_use"],
        sha256=row["sha256"],
        message_id=row["message_id"],
        from_addr=row["from_addr"],
        to_display=row["to_display"],
        cc_display=row["cc_display"],
        subject=row["subject"],
        date_utc=row["date_utc"],
        date_ts=row["date_ts"],
        uid=row["uid"],
        flags=row["flags"],
        expunged_at=row["expunged_at"],
    )
