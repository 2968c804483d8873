"""One write transaction of the store: messages and the copies pointing at them, one time stamp."""

from __future__ import annotations

import sqlite3

from app.mime.summary import MessageSummary
from app.sources.base import Provenance
from app.store.records import ImapCopy


class Transaction:
    """The rows one batch writes; given out by ``Library.transaction()``, valid inside it only."""

    def __init__(self, connection: sqlite3.Connection, stamp: str) -> None:
        self._connection = connection
        self.stamp = stamp  # when this batch was stored: added_at, fetched_at, imported_at

    def add_message(self, summary: MessageSummary) -> int:
        """Record the facts of a message's bytes once (1 if new, 0 if already known)."""
        date_ts = int(summary.date.timestamp()) if summary.date else None
        exists = self._connection.execute(
            "SELECT 1 FROM messages WHERE sha256=?", (summary.sha256,)
        ).fetchone()
        if exists:
            return 0
        thread_id = self._thread_for(summary)
        self._connection.execute(
            "INSERT INTO messages(sha256, size, message_id, date_utc, date_ts, from_addr, "
            "from_display, to_display, cc_display, subject, has_attachments, in_reply_to, "
            "refs, thread_id, is_encrypted, is_signed, defects, added_at) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                summary.sha256,
                summary.size,
                summary.message_id,
                summary.date_iso,
                date_ts,
                summary.from_[0].addr if summary.from_ else None,
                ", ".join(a.display() for a in summary.from_),
                ", ".join(a.display() for a in summary.to),
                ", ".join(a.display() for a in summary.cc),
                summary.subject,
                int(summary.has_attachments),
                summary.in_reply_to,
                " ".join(summary.references),
                thread_id,
                int(summary.is_encrypted),
                int(summary.is_signed),
                "\n".join(summary.defects),
                self.stamp,
            ),
        )
        return 1

    def _thread_for(self, summary: MessageSummary) -> str:
        """Join the conversation of any known ancestor; adopt known descendants into it."""
        thread_id = summary.thread_root or summary.sha256
        for candidate in (*summary.references, summary.in_reply_to):
            if not candidate:
                continue
            row = self._connection.execute(
                "SELECT thread_id FROM messages WHERE message_id=? AND thread_id IS NOT NULL",
                (candidate,),
            ).fetchone()
            if row:
                thread_id = row["thread_id"]
                break
        if summary.message_id and summary.message_id != thread_id:
            self._connection.execute(
                "UPDATE messages SET thread_id=? WHERE thread_id=?", (thread_id, summary.message_id)
            )
        return thread_id

    def message_date(self, sha256: str) -> int | None:
        """The stored message's date (Unix time), None when it has none."""
        row = self._connection.execute(
            "SELECT date_ts FROM messages WHERE sha256=?", (sha256,)
        ).fetchone()
        return None if row["date_ts"] is None else int(row["date_ts"])

    def add_local_copy(
        self, folder_id: int, provenance: Provenance, summary: MessageSummary
    ) -> None:
        """The copy of a message in a local folder (Maildir, mbox, .eml), new or changed."""
        date_ts = int(summary.date.timestamp()) if summary.date else None
        self._connection.execute(
            "INSERT INTO copies(sha256, folder_id, kind, source_key, date_ts, flags, source_path, "
            "source_offset, imported_at) VALUES (?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(folder_id, source_key) DO UPDATE SET sha256=excluded.sha256, "
            "date_ts=excluded.date_ts, flags=excluded.flags, source_path=excluded.source_path, "
            "expunged_at=NULL",
            (
                summary.sha256,
                folder_id,
                provenance.kind,
                provenance.source_key,
                date_ts,
                " ".join(provenance.flags),
                provenance.source_path,
                provenance.source_offset,
                self.stamp,
            ),
        )

    def add_imap_copy(self, copy: ImapCopy) -> int:
        """The copy of a message at one UID of an IMAP folder: 1 if new, 0 if already stored."""
        cursor = self._connection.execute(
            "INSERT INTO copies(sha256, folder_id, kind, source_key, date_ts, uid, "
            "uidvalidity, internaldate, flags, fetched_at, source_path, rfc822_size, "
            "remapped_from) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT(folder_id, source_key) DO NOTHING",
            (
                copy.sha256,
                copy.folder_id,
                "imap",
                f"{copy.uidvalidity}/{copy.uid}",
                copy.date_ts,
                copy.uid,
                copy.uidvalidity,
                copy.internaldate,
                copy.flags,
                self.stamp,
                copy.server,
                copy.rfc822_size,
                copy.remapped_from,
            ),
        )
        return int(cursor.rowcount)
