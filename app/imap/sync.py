"""Sync an account's folders into the store: byte-exact, incremental, provenance on every copy.

Per folder: SELECT (read-only, so nothing is marked \\Seen), list the UIDs, download the new
ones with ``BODY.PEEK[]`` in batches under a byte budget, record flag changes (CHANGEDSINCE
when the server has CONDSTORE) and mark copies gone from the server ``expunged_at`` — never
delete them. The folder's UIDVALIDITY/UIDNEXT/HIGHESTMODSEQ are saved last, so a kill -9 or a
dropped connection only means the next sync lists again and skips the UIDs already stored.
"""

from __future__ import annotations

import logging
import socket
import sqlite3
import ssl
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from app.errors import Cancelled, MailproofError, ServerUnreachable
from app.imap.account import Account
from app.imap.connection import connect
from app.imap.folders import RemoteFolder, list_folders
from app.mime.summary import iso_utc, summarize
from app.store.library import Library, now_iso
from app.tasks import CancelToken, Progress, no_progress

log = logging.getLogger(__name__)

BATCH_BYTES = 8 * 1024 * 1024
BATCH_MESSAGES = 200
META_CHUNK = 2000
Connector = Callable[[Account, str], tuple[Any, Any]]


@dataclass
class FolderResult:
    folder: str
    new: int = 0
    changed: int = 0
    expunged: int = 0
    bytes_downloaded: int = 0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "warnings" or v}


@dataclass
class SyncReport:
    account: str
    folders: list[FolderResult] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return any(f.error for f in self.folders)

    def to_json(self) -> dict[str, Any]:
        return {"account": self.account, "folders": [f.to_json() for f in self.folders]}


def _uid_ranges(uids: Sequence[int]) -> list[list[int]]:
    ordered = sorted(uids)
    return [ordered[i : i + META_CHUNK] for i in range(0, len(ordered), META_CHUNK)]


def flags_text(flags: Sequence[Any]) -> str:
    return " ".join(
        sorted(f.decode("utf-8", "replace") if isinstance(f, bytes) else str(f) for f in flags)
    )


class FolderSync:
    """Brings one folder of one account up to date on an open, logged-in client."""

    def __init__(
        self,
        library: Library,
        account: Account,
        client: Any,
        folder: RemoteFolder,
        progress: Progress,
        cancel: CancelToken | None,
    ) -> None:
        self.library = library
        self.account = account
        self.client = client
        self.folder = folder
        self.progress = progress
        self.cancel = cancel
        self.result = FolderResult(folder.name)
        self.server = f"imap://{account.user}@{account.host}:{account.port}"

    @property
    def db(self) -> sqlite3.Connection:
        return self.library.db

    def _folder_row(self) -> sqlite3.Row:
        return self.library.ensure_folder(
            self.account.name,
            self.folder.name,
            kind="imap",
            path=self.server,
            special_use=self.folder.role,
            delimiter=self.folder.delimiter,
        )

    def run(self) -> FolderResult:
        row = self._folder_row()
        folder_id = int(row["id"])
        selected = self.client.select_folder(self.folder.name, readonly=True)
        uidvalidity = int(selected[b"UIDVALIDITY"])
        uidnext = int(selected.get(b"UIDNEXT", 0) or 0)
        modseq = selected.get(b"HIGHESTMODSEQ")
        highestmodseq = int(modseq) if modseq is not None else None

        if row["uidvalidity"] is not None and int(row["uidvalidity"]) != uidvalidity:
            self._uidvalidity_changed(folder_id, int(row["uidvalidity"]), uidvalidity)

        known = {
            int(r["uid"]): r["flags"]
            for r in self.db.execute(
                "SELECT uid, flags FROM copies WHERE folder_id=? AND uidvalidity=? "
                "AND expunged_at IS NULL",
                (folder_id, uidvalidity),
            )
        }
        unchanged = (
            row["uidvalidity"] == uidvalidity
            and row["uidnext"] == uidnext
            and highestmodseq is not None
            and row["highestmodseq"] == highestmodseq
        )
        if unchanged:
            server_uids = set(known)  # nothing new, nothing changed: no need to list
            count = selected.get(b"EXISTS")
            if count is not None and int(count) != len(known):
                server_uids = set(self.client.search("ALL"))
        else:
            server_uids = set(self.client.search("ALL"))

        new_uids = sorted(server_uids - set(known))
        self._download(folder_id, uidvalidity, new_uids)
        if not unchanged:
            self._update_flags(folder_id, uidvalidity, known, server_uids, row["highestmodseq"])
        gone = set(known) - server_uids
        if gone:
            stamp = now_iso()
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(
                "UPDATE copies SET expunged_at=? WHERE folder_id=? AND uidvalidity=? AND uid=? "
                "AND expunged_at IS NULL",
                [(stamp, folder_id, uidvalidity, uid) for uid in gone],
            )
            self.db.execute("COMMIT")
            self.result.expunged = len(gone)
        # Saved last: only a completed folder sync may claim to be up to date.
        self.db.execute(
            "UPDATE folders SET uidvalidity=?, uidnext=?, highestmodseq=?, synced_at=? WHERE id=?",
            (uidvalidity, uidnext, highestmodseq, now_iso(), folder_id),
        )
        return self.result

    def _uidvalidity_changed(self, folder_id: int, old: int, new: int) -> None:
        stamp = now_iso()
        self.db.execute(
            "UPDATE copies SET expunged_at=? WHERE folder_id=? AND uidvalidity=? "
            "AND expunged_at IS NULL",
            (stamp, folder_id, old),
        )
        self.db.execute(
            "UPDATE folders SET uidnext=NULL, highestmodseq=NULL WHERE id=?", (folder_id,)
        )
        self.result.warnings.append(
            f"UIDVALIDITY changed from {old} to {new}: the folder was renumbered on the server; "
            "earlier copies are kept (marked gone under their old UIDs) and the folder is re-read"
        )

    def _download(self, folder_id: int, uidvalidity: int, uids: Sequence[int]) -> None:
        total = len(uids)
        done = 0
        self.progress(0, total)
        for chunk in _uid_ranges(uids):
            meta = self.client.fetch(chunk, [b"RFC822.SIZE", b"INTERNALDATE", b"FLAGS"])
            batch: list[int] = []
            batch_bytes = 0
            for uid in chunk:
                facts = meta.get(uid)
                if facts is None:
                    continue  # expunged between SEARCH and FETCH
                size = int(facts.get(b"RFC822.SIZE", 0) or 0)
                if batch and (batch_bytes + size > BATCH_BYTES or len(batch) >= BATCH_MESSAGES):
                    done += self._fetch_batch(folder_id, uidvalidity, batch, meta)
                    self.progress(done, total)
                    batch, batch_bytes = [], 0
                batch.append(uid)
                batch_bytes += size
            if batch:
                done += self._fetch_batch(folder_id, uidvalidity, batch, meta)
                self.progress(done, total)

    def _fetch_batch(
        self, folder_id: int, uidvalidity: int, uids: list[int], meta: dict[int, Any]
    ) -> int:
        if self.cancel is not None:
            self.cancel.check()
        bodies = self.client.fetch(uids, [b"BODY.PEEK[]"])
        records = []
        for uid in uids:
            response = bodies.get(uid)
            if response is None or b"BODY[]" not in response:
                continue
            raw = response[b"BODY[]"] or b""
            facts = meta.get(uid, {})
            size = int(facts.get(b"RFC822.SIZE", len(raw)) or 0)
            if size != len(raw):
                self.result.warnings.append(
                    f"UID {uid}: the server announced {size} bytes but sent {len(raw)}; "
                    "the bytes received are stored"
                )
            if not raw:
                self.result.warnings.append(f"UID {uid} is an empty (0-byte) message")
            records.append((uid, raw, summarize(raw), facts))
            self.result.bytes_downloaded += len(raw)

        def rows(connection: sqlite3.Connection, stamp: str) -> int:
            added = 0
            for uid, _raw, summary, facts in records:
                self.library.insert_message(connection, summary, stamp)
                date_ts = int(summary.date.timestamp()) if summary.date else None
                cursor = connection.execute(
                    "INSERT INTO copies(sha256, folder_id, kind, source_key, date_ts, uid, "
                    "uidvalidity, internaldate, flags, fetched_at, source_path, rfc822_size) "
                    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?) "
                    "ON CONFLICT(folder_id, source_key) DO NOTHING",
                    (
                        summary.sha256,
                        folder_id,
                        "imap",
                        f"{uidvalidity}/{uid}",
                        date_ts,
                        uid,
                        uidvalidity,
                        iso_utc(facts.get(b"INTERNALDATE")),
                        flags_text(facts.get(b"FLAGS", ())),
                        stamp,
                        self.server,
                        facts.get(b"RFC822.SIZE"),
                    ),
                )
                added += cursor.rowcount
            return added

        added = self.library.store_batch([raw for _, raw, _, _ in records], rows)
        self.result.new += added
        return len(uids)

    def _update_flags(
        self,
        folder_id: int,
        uidvalidity: int,
        known: dict[int, str],
        server_uids: set[int],
        previous_modseq: int | None,
    ) -> None:
        still_there = sorted(set(known) & server_uids)
        if not still_there:
            return
        changes = []
        condstore = previous_modseq is not None and b"CONDSTORE" in self.client.capabilities()
        for chunk in _uid_ranges(still_there):
            if condstore:
                response = self.client.fetch(
                    chunk, [b"FLAGS"], modifiers=[f"CHANGEDSINCE {previous_modseq}"]
                )
            else:
                response = self.client.fetch(chunk, [b"FLAGS"])
            for uid, facts in response.items():
                flags = flags_text(facts.get(b"FLAGS", ()))
                if uid in known and flags != known[uid]:
                    changes.append((flags, folder_id, uidvalidity, uid))
        if changes:
            self.db.execute("BEGIN IMMEDIATE")
            self.db.executemany(
                "UPDATE copies SET flags=? WHERE folder_id=? AND uidvalidity=? AND uid=?", changes
            )
            self.db.execute("COMMIT")
        self.result.changed = len(changes)


def sync_account(
    library: Library,
    account: Account,
    password: str,
    *,
    only_folders: Sequence[str] | None = None,
    progress: Progress = no_progress,
    cancel: CancelToken | None = None,
    connector: Connector = connect,
) -> SyncReport:
    """Sync every folder (or ``only_folders``); one folder's failure does not stop the others."""
    report = SyncReport(account.name)
    client, _info = connector(account, password)
    try:
        client.normalise_times = False
        if b"CONDSTORE" in client.capabilities():
            client.enable("CONDSTORE")
        folders = list_folders(client)
        if only_folders:
            wanted = set(only_folders)
            missing = wanted - {f.name for f in folders}
            for name in sorted(missing):
                report.folders.append(FolderResult(name, error="no such folder on the server"))
            folders = [f for f in folders if f.name in wanted]
        for folder in folders:
            try:
                report.folders.append(
                    FolderSync(library, account, client, folder, progress, cancel).run()
                )
            except Cancelled:
                raise
            except (TimeoutError, IMAPClientError, OSError, ssl.SSLError) as err:
                log.info("sync of %s/%s failed", account.name, folder.name, exc_info=True)
                report.folders.append(FolderResult(folder.name, error=_describe(err)))
                _rollback(library)
                client = _reconnect(client, account, password, connector)
            except MailproofError as err:
                report.folders.append(FolderResult(folder.name, error=str(err)))
                _rollback(library)
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - the connection may already be gone
            log.debug("logout failed", exc_info=True)
    return report


def _describe(err: BaseException) -> str:
    if isinstance(
        err, (IMAPClientAbortError, ConnectionError, socket.timeout, TimeoutError, ssl.SSLError)
    ):
        return (
            f"the connection to the server broke during the sync ({err}); what was downloaded "
            "is kept — run sync again to continue"
        )
    return f"the server answered unexpectedly: {err}"


def _rollback(library: Library) -> None:
    if library.db.in_transaction:
        library.db.execute("ROLLBACK")


def _reconnect(client: Any, account: Account, password: str, connector: Connector) -> Any:
    try:
        client.noop()
        return client
    except Exception:  # noqa: BLE001 - a dead connection: make a new one
        try:
            new_client, _ = connector(account, password)
        except ServerUnreachable:
            return client  # the next folders will fail with their own error
        new_client.normalise_times = False
        if b"CONDSTORE" in new_client.capabilities():
            new_client.enable("CONDSTORE")
        return new_client
