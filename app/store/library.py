"""The library: ingest local sources into the store, and the queries the window and CLI need."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from app import audit
from app.errors import AmbiguousId, MessageNotFound, StoreError
from app.mime.summary import MessageSummary, summarize
from app.sources import MailSource, RawMessage, maildir
from app.sources.base import FolderRef
from app.store import db
from app.store.accounts import Accounts
from app.store.blobs import BlobStore
from app.store.lookup import Lookup
from app.store.records import FolderInfo, FolderState, MessageRow, SyncedCopy
from app.store.sync_state import SyncState
from app.store.transaction import Transaction
from app.tasks import CancelToken, Progress, no_progress

FIRST_BATCH_MESSAGES = 50  # small, so the window paints the first messages at once
BATCH_MESSAGES = 400
BATCH_BYTES = 64 * 1024 * 1024

SORT_COLUMNS = {
    "date": "c.date_ts",
    "from": "m.from_display COLLATE NOCASE",
    "subject": "m.subject COLLATE NOCASE",
    "size": "m.size",
}


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class IngestReport:
    added: int = 0  # messages (distinct bytes) new to the store
    known: int = 0  # copies already stored from this same place
    copies: int = 0  # copy records written (new here, or changed since the last read)
    problems: list[str] = field(default_factory=list)
    folder_ids: list[int] = field(default_factory=list)


def local_account(root: Path) -> str:
    return f"local:{root}"


class Library:
    """The store under one data home. Each thread gets its own SQLite connection; only the
    store runs SQL: everyone else calls these methods and those of ``accounts``,
    ``sync_state`` and ``lookup``."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.blobs = BlobStore(home / "blobs")
        self._db_path = home / "mailproof.sqlite"
        self._local = threading.local()
        self.accounts = Accounts(lambda: self.db)
        self.sync_state = SyncState(lambda: self.db, now_iso)
        self.lookup = Lookup(lambda: self.db)
        _ = self.db  # create and migrate now, so errors surface at open time

    @property
    def db(self) -> sqlite3.Connection:
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is None:
            connection = db.connect(self._db_path)
            self._local.connection = connection
        return connection

    def close(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    # ---- ingest -------------------------------------------------------------------------

    def ensure_folder(
        self,
        account: str,
        name: str,
        *,
        kind: str,
        path: str,
        special_use: str | None,
        delimiter: str | None = None,
    ) -> FolderState:
        """The folder as recorded, created on first sight; its role and delimiter kept current."""
        self.db.execute(
            "INSERT INTO folders(account, name, special_use, source_kind, source_path, delimiter) "
            "VALUES (?,?,?,?,?,?) ON CONFLICT(account, name) DO UPDATE SET "
            "special_use=excluded.special_use, delimiter=excluded.delimiter",
            (account, name, special_use, kind, path, delimiter),
        )
        row = self.db.execute(
            "SELECT * FROM folders WHERE account=? AND name=?", (account, name)
        ).fetchone()
        return FolderState(
            id=int(row["id"]),
            account=row["account"],
            name=row["name"],
            special_use=row["special_use"],
            source_kind=row["source_kind"],
            source_path=row["source_path"],
            delimiter=row["delimiter"],
            uidvalidity=row["uidvalidity"],
            uidnext=row["uidnext"],
            highestmodseq=row["highestmodseq"],
            synced_at=row["synced_at"],
        )

    def _folder_id(self, account: str, folder: FolderRef) -> int:
        from app.imap.folders import role_of  # here: a search need not load imapclient

        state = self.ensure_folder(
            account,
            folder.name,
            kind=folder.kind,
            path=str(folder.path),
            special_use=role_of(folder.name, "/", ()),
        )
        return state.id

    def ingest(
        self,
        source: MailSource,
        progress: Progress = no_progress,
        cancel: CancelToken | None = None,
    ) -> IngestReport:
        """Copy every message of ``source`` into the store (byte-exact) and record its copy.

        Batches are committed as they fill, so a cancel or a crash keeps every batch before it.
        Re-ingesting the same source stores nothing twice.
        """
        report = IngestReport(problems=list(source.problems))
        account = local_account(source.root)
        plan = []
        complete: set[int] = set()  # Maildir folders listed without error
        for folder in source.folders:
            folder_id = self._folder_id(account, folder)
            report.folder_ids.append(folder_id)
            known: dict[str, sqlite3.Row] = {
                row["source_key"]: row
                for row in self.db.execute(
                    "SELECT source_key, sha256, source_path, flags, expunged_at FROM copies "
                    "WHERE folder_id=?",
                    (folder_id,),
                )
            }
            files = None
            if folder.kind == "maildir":
                problems_before = len(report.problems)
                files = maildir.message_files(folder.path, report.problems)
                if len(report.problems) == problems_before:
                    complete.add(folder_id)  # only a full listing proves a file gone
            plan.append((folder, folder_id, known, files))
        total = sum(
            len(files) if files is not None else len(folder.files) for folder, _, _, files in plan
        )
        done = 0
        batch_limit = FIRST_BATCH_MESSAGES
        progress(0, total)
        for folder, folder_id, known, files in plan:
            seen: set[str] = set()
            batch: list[tuple[RawMessage, MessageSummary]] = []
            batch_bytes = 0
            if files is not None:
                to_read = self._note_known_files(folder_id, files, known, seen)
                report.known += len(files) - len(to_read)
                done += len(files) - len(to_read)
                messages = maildir.read_folder(folder, files=to_read, errors=report.problems)
            else:
                messages = source.read(folder, report.problems)
            for message in messages:
                if cancel is not None:
                    cancel.check()
                seen.add(message.provenance.source_key)
                summary = summarize(message.raw)
                for problem in message.problems + summary.defects:
                    report.problems.append(f"{folder.name}: {_where(message)}: {problem}")
                previous = known.get(message.provenance.source_key)
                if previous is not None and previous["sha256"] == summary.sha256:
                    report.known += 1
                    done += 1
                    continue
                batch.append((message, summary))
                batch_bytes += len(message.raw)
                if len(batch) >= batch_limit or batch_bytes >= BATCH_BYTES:
                    report.added += self._commit(folder_id, batch)
                    report.copies += len(batch)
                    done += len(batch)
                    batch, batch_bytes = [], 0
                    batch_limit = BATCH_MESSAGES
                    progress(done, total)
            if batch:
                report.added += self._commit(folder_id, batch)
                report.copies += len(batch)
                done += len(batch)
            progress(done, total)
            if folder.kind == "maildir" and folder_id in complete:
                self._mark_gone(folder_id, set(known) - seen)
        progress(total or done, total or done)
        audit.record(
            "archive imported",
            {"source": str(source.root)},
            "ok" if not report.problems else "with problems",
            copies=report.copies,
            new_messages=report.added,
            problems=len(report.problems),
        )
        return report

    def _note_known_files(
        self,
        folder_id: int,
        files: list[tuple[str, str]],
        known: dict[str, sqlite3.Row],
        seen: set[str],
    ) -> list[tuple[str, str]]:
        """Files already stored are not read again; a rename (new flags, new → cur) is recorded.

        Returns the files still to read.
        """
        to_read = []
        changed = []
        for name, path in files:
            key, flags = maildir.split_name(name)
            previous = known.get(key)
            if previous is None:
                to_read.append((name, path))
                continue
            seen.add(key)
            flag_text = " ".join(flags)
            if (
                previous["source_path"] != path
                or previous["flags"] != flag_text
                or previous["expunged_at"]
            ):
                changed.append((flag_text, path, folder_id, key))
        if changed:
            with db.transaction(self.db) as connection:
                connection.executemany(
                    "UPDATE copies SET flags=?, source_path=?, expunged_at=NULL "
                    "WHERE folder_id=? AND source_key=?",
                    changed,
                )
        return to_read

    def _commit(self, folder_id: int, batch: Sequence[tuple[RawMessage, MessageSummary]]) -> int:
        def rows(transaction: Transaction) -> int:
            added = 0
            for message, summary in batch:
                added += transaction.add_message(summary)
                transaction.add_local_copy(folder_id, message.provenance, summary)
            return added

        return self.store_batch([message.raw for message, _ in batch], rows)

    def store_batch(self, raws: Sequence[bytes], write_rows: Callable[[Transaction], int]) -> int:
        """Write the blobs, sync them to disk, then run ``write_rows`` in one transaction.

        The one write path of every source (local files, IMAP): a crash before the commit
        leaves only unreferenced blobs, never a row pointing at a missing file.
        """
        try:
            for raw in raws:
                self.blobs.put(raw, durable=False)
        except OSError as err:
            raise StoreError(
                f"cannot write to the store in {self.home}: {err.strerror or err}; "
                "messages stored before this batch are kept"
            ) from err
        os.sync()  # the files the rows point at are on disk before the rows commit
        with self.transaction() as transaction:
            return write_rows(transaction)

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        """One write transaction: everything written in it commits together or not at all."""
        with db.transaction(self.db) as connection:
            yield Transaction(connection, now_iso())

    def _mark_gone(self, folder_id: int, keys: set[str]) -> None:
        if not keys:
            return
        stamp = now_iso()
        with db.transaction(self.db) as connection:
            connection.executemany(
                "UPDATE copies SET expunged_at=? WHERE folder_id=? AND source_key=? "
                "AND expunged_at IS NULL",
                [(stamp, folder_id, key) for key in keys],
            )

    # ---- queries ------------------------------------------------------------------------

    def folders(self, account: str | None = None) -> list[FolderInfo]:
        sql = (
            "SELECT f.id, f.account, f.name, f.special_use, "
            "COUNT(c.id) AS total, "
            "SUM(CASE WHEN c.id IS NOT NULL AND instr(c.flags, '\\Seen') = 0 THEN 1 ELSE 0 END) "
            "AS unread FROM folders f LEFT JOIN copies c ON c.folder_id = f.id "
            "AND c.expunged_at IS NULL "
        )
        params: tuple[str, ...] = ()
        if account is not None:
            sql += "WHERE f.account=? "
            params = (account,)
        sql += "GROUP BY f.id ORDER BY f.account, f.id"
        return [
            FolderInfo(
                r["id"], r["account"], r["name"], r["special_use"], r["total"], r["unread"] or 0
            )
            for r in self.db.execute(sql, params)
        ]

    def _where(self, folder_id: int, text: str) -> tuple[str, list[object]]:
        where = "c.folder_id=? AND c.expunged_at IS NULL"
        params: list[object] = [folder_id]
        if text:
            where += " AND (m.subject LIKE ? OR m.from_display LIKE ? OR m.to_display LIKE ?)"
            pattern = "%" + text.replace("%", "").replace("_", "") + "%"
            params += [pattern, pattern, pattern]
        return where, params

    def count(self, folder_id: int, text: str = "") -> int:
        if not text:  # no join: a 100k-message folder counts from the index alone
            row = self.db.execute(
                "SELECT COUNT(*) FROM copies WHERE folder_id=? AND expunged_at IS NULL",
                (folder_id,),
            ).fetchone()
            return int(row[0])
        where, params = self._where(folder_id, text)
        row = self.db.execute(
            f"SELECT COUNT(*) FROM copies c JOIN messages m ON m.sha256=c.sha256 WHERE {where}",
            params,
        ).fetchone()
        return int(row[0])

    def page(
        self,
        folder_id: int,
        *,
        sort: str = "date",
        descending: bool = True,
        offset: int = 0,
        limit: int = 200,
        text: str = "",
        threaded: bool = False,
    ) -> list[MessageRow]:
        """One page of a folder's message list, sorted in SQL so nothing else is loaded."""
        where, params = self._where(folder_id, text)
        direction = "DESC" if descending else "ASC"
        order = f"{SORT_COLUMNS[sort]} {direction}, c.id {direction}"
        if threaded:
            # Conversations ordered by their newest message; oldest first inside each.
            order = (
                "(SELECT MAX(c2.date_ts) FROM copies c2 JOIN messages m2 ON m2.sha256=c2.sha256 "
                f"WHERE c2.folder_id=c.folder_id AND m2.thread_id=m.thread_id) {direction}, "
                "m.thread_id, c.date_ts ASC, c.id ASC"
            )
        rows = self.db.execute(
            "SELECT c.id, c.sha256, c.date_ts, c.flags, m.from_display, m.subject, m.size, "
            "m.has_attachments, m.thread_id, m.refs, m.message_id, m.in_reply_to "
            f"FROM copies c JOIN messages m ON m.sha256=c.sha256 WHERE {where} "
            f"ORDER BY {order} LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        return [
            MessageRow(
                copy_id=r["id"],
                sha256=r["sha256"],
                date_ts=r["date_ts"],
                from_display=r["from_display"] or "",
                subject=r["subject"] or "",
                size=r["size"],
                flags=r["flags"],
                has_attachments=bool(r["has_attachments"]),
                thread_id=r["thread_id"],
                depth=_depth(r) if threaded else 0,
            )
            for r in rows
        ]

    def find_folder(self, account: str, name: str) -> int | None:
        row = self.db.execute(
            "SELECT id FROM folders WHERE account=? AND name=?", (account, name)
        ).fetchone()
        return int(row["id"]) if row else None

    def imap_folder(self, folder_id: int) -> tuple[str, str] | None:
        """``(account, folder name)`` when the folder was synced from IMAP, else None."""
        row = self.db.execute(
            "SELECT account, name FROM folders WHERE id=? AND source_kind='imap'", (folder_id,)
        ).fetchone()
        return (str(row["account"]), str(row["name"])) if row else None

    def folder_copies(self, folder_id: int) -> list[SyncedCopy]:
        """Every copy ever seen in a folder (expunged ones too), oldest UID first."""
        rows = self.db.execute(
            "SELECT c.*, m.date_utc, m.from_display, m.to_display, m.subject, m.size, "
            "m.has_attachments, m.message_id, f.name AS folder FROM copies c "
            "JOIN messages m ON m.sha256=c.sha256 JOIN folders f ON f.id=c.folder_id "
            "WHERE c.folder_id=? ORDER BY c.uidvalidity, c.uid, c.id",
            (folder_id,),
        )
        return [
            SyncedCopy(
                sha256=r["sha256"],
                folder=r["folder"],
                uid=r["uid"],
                uidvalidity=r["uidvalidity"],
                internaldate=r["internaldate"],
                flags=r["flags"],
                fetched_at=r["fetched_at"],
                expunged_at=r["expunged_at"],
                date_utc=r["date_utc"],
                from_display=r["from_display"],
                to_display=r["to_display"],
                subject=r["subject"],
                size=r["size"],
                has_attachments=bool(r["has_attachments"]),
                message_id=r["message_id"],
            )
            for r in rows
        ]

    def raw(self, sha256: str) -> bytes:
        return self.blobs.get(sha256)

    def resolve(self, identifier: str) -> str:
        """A SHA-256 (or unique prefix) or a Message-ID → the stored message's SHA-256."""
        ident = identifier.strip()
        if ident.startswith("<") or "@" in ident:
            mid = ident if ident.startswith("<") else f"<{ident}>"
            rows = self.db.execute(
                "SELECT DISTINCT sha256 FROM messages WHERE message_id=?", (mid,)
            ).fetchall()
        else:
            rows = self.db.execute(
                "SELECT sha256 FROM messages WHERE sha256 LIKE ? LIMIT 5", (ident.lower() + "%",)
            ).fetchall()
        return _one(identifier, [r["sha256"] for r in rows])


def _depth(row: sqlite3.Row) -> int:
    if row["message_id"] == row["thread_id"]:
        return 0
    return min(len((row["refs"] or "").split()) or (1 if row["in_reply_to"] else 0), 8)


def _one(identifier: str, matches: Sequence[str]) -> str:
    unique = list(dict.fromkeys(matches))
    if not unique:
        raise MessageNotFound(f"no message matches {identifier!r}")
    if len(unique) > 1:
        raise AmbiguousId(
            f"{identifier!r} matches {len(unique)} messages "
            f"({', '.join(s[:12] for s in unique[:3])}…); give more characters"
        )
    return unique[0]


def _where(message: RawMessage) -> str:
    provenance = message.provenance
    if provenance.kind == "mbox":
        return f"byte {provenance.source_offset} of {Path(provenance.source_path).name}"
    return Path(provenance.source_path).name
