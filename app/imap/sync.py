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
import ssl
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, ProtocolError
from imapclient.response_parser import parse_fetch_response

from app import audit
from app.errors import Cancelled, MailproofError, ServerUnreachable
from app.imap.account import Account
from app.imap.connection import connect
from app.imap.folders import RemoteFolder, list_folders
from app.mime.summary import iso_utc, summarize
from app.store.library import Library
from app.store.records import FolderState, ImapCopy
from app.store.transaction import Transaction
from app.tasks import CancelToken, Progress, no_progress

log = logging.getLogger(__name__)

BATCH_BYTES = 8 * 1024 * 1024
BATCH_MESSAGES = 200
META_CHUNK = 2000
REMAP_SAMPLE = 4096
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
    remapped: int = 0  # of ``new``: copies re-mapped after a UIDVALIDITY change, not downloaded

    def to_json(self) -> dict[str, Any]:
        optional = ("warnings", "remapped")
        return {k: v for k, v in asdict(self).items() if k not in optional or v}


@dataclass(frozen=True)
class FolderProgress:
    """Where one folder's sync stands, for a progress bar per folder (messages and bytes)."""

    account: str
    folder: str
    state: str  # "waiting" | "syncing" | "done" | "failed"
    messages_done: int = 0
    messages_total: int = 0
    bytes_done: int = 0
    bytes_total: int = 0
    error: str | None = None


FolderProgressCallback = Callable[[FolderProgress], None]


def _no_folder_progress(_progress: FolderProgress) -> None:
    """The default: report nothing."""


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


def announced_size(facts: dict[bytes, Any]) -> int | None:
    """RFC822.SIZE as the server announced it, or None when it is missing or not a number."""
    value = facts.get(b"RFC822.SIZE")
    if isinstance(value, bytes) and value.isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    return None


def flags_text(flags: Sequence[Any]) -> str:
    """The message's flags as stored: sorted, space-separated. ``\\Recent`` is left out: it
    belongs to one IMAP session, not to the message, and would look like a change each sync."""
    names = (f.decode("utf-8", "replace") if isinstance(f, bytes) else str(f) for f in flags)
    return " ".join(sorted(name for name in names if name.lower() != "\\recent"))


def _uid_set(text: str) -> set[int]:
    """``1:3,7,9:10`` → {1, 2, 3, 7, 9, 10}."""
    uids: set[int] = set()
    for part in text.split(","):
        if ":" in part:
            low, high = sorted(int(n) for n in part.split(":", 1))
            uids.update(range(low, high + 1))
        elif part:
            uids.add(int(part))
    return uids


def changed_since(client: Any, modseq: int) -> tuple[dict[int, str], set[int]]:
    """``UID FETCH 1:* (FLAGS) (CHANGEDSINCE m VANISHED)`` (RFC 7162, QRESYNC enabled):
    the flags of every message changed since ``modseq`` and the UIDs expunged since.

    imapclient's ``fetch`` cannot take ``1:*`` nor return VANISHED, so the command goes
    through its imaplib connection and is parsed with imapclient's own parser.
    """
    imap = client._imap
    imap.untagged_responses.pop("VANISHED", None)
    tag = imap._command("UID", "FETCH", "1:*", "(UID FLAGS)", f"(CHANGEDSINCE {modseq} VANISHED)")
    typ, data = imap._command_complete("FETCH", tag)
    client._checkok("fetch", typ, data)
    typ, data = imap._untagged_response(typ, data, "FETCH")
    parsed = parse_fetch_response([d for d in data if d], False, True)
    changed = {int(uid): flags_text(facts.get(b"FLAGS", ())) for uid, facts in parsed.items()}
    vanished: set[int] = set()
    for line in imap.untagged_responses.pop("VANISHED", []):
        text = line.decode("ascii", "replace") if isinstance(line, bytes) else str(line)
        vanished |= _uid_set(text.replace("(EARLIER)", "").strip())
    return changed, vanished


def prepare(client: Any) -> Any:
    """Session settings every sync connection needs: raw INTERNALDATE, CONDSTORE/QRESYNC on."""
    client.normalise_times = False
    capabilities = client.capabilities()
    if b"QRESYNC" in capabilities:
        client.enable("QRESYNC")  # implies CONDSTORE; must come before any SELECT
    elif b"CONDSTORE" in capabilities:
        client.enable("CONDSTORE")
    return client


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
        on_folder: FolderProgressCallback = _no_folder_progress,
    ) -> None:
        self.library = library
        self.account = account
        self.client = client
        self.folder = folder
        self.progress = progress
        self.on_folder = on_folder
        self.cancel = cancel
        self._bytes_total = 0
        self.result = FolderResult(folder.name)
        self.server = f"imap://{account.user}@{account.host}:{account.port}"
        # After a UIDVALIDITY change: size → [(sha256, "old-uidvalidity/old-uid")] of the
        # copies stored under the old numbering, candidates to re-map without downloading.
        self.remap: dict[int, list[tuple[str, str]]] = {}
        self.failed_uids: list[int] = []  # messages whose answer could not be read

    def _folder_state(self) -> FolderState:
        return self.library.ensure_folder(
            self.account.name,
            self.folder.name,
            kind="imap",
            path=self.server,
            special_use=self.folder.role,
            delimiter=self.folder.delimiter,
        )

    def _unchanged_by_status(self, state: FolderState) -> bool:
        """LIST-STATUS counters equal to the last complete sync's: no need to SELECT at all."""
        status = self.folder.status
        if status is None or status.highestmodseq is None or status.uidvalidity is None:
            return False
        return (
            state.uidvalidity == status.uidvalidity
            and state.uidnext == status.uidnext
            and state.highestmodseq == status.highestmodseq
            and status.messages == self.library.sync_state.live_count(state.id, status.uidvalidity)
        )

    def run(self) -> FolderResult:
        state = self._folder_state()
        folder_id = state.id
        sync_state = self.library.sync_state
        if self._unchanged_by_status(state):
            sync_state.mark_checked(folder_id)
            return self.result
        selected = self.client.select_folder(self.folder.name, readonly=True)
        uidvalidity = int(selected[b"UIDVALIDITY"])
        uidnext = int(selected.get(b"UIDNEXT", 0) or 0)
        modseq = selected.get(b"HIGHESTMODSEQ")
        highestmodseq = int(modseq) if modseq is not None else None

        same_numbering = state.uidvalidity is not None and state.uidvalidity == uidvalidity
        if state.uidvalidity is not None and not same_numbering:
            self._uidvalidity_changed(folder_id, state.uidvalidity, uidvalidity)
        previous_modseq = state.highestmodseq if same_numbering else None
        previous_uidnext = state.uidnext if same_numbering else None

        known = sync_state.live_flags(folder_id, uidvalidity)
        if previous_modseq is not None and previous_uidnext is not None and self._qresync:
            new_uids, gone = self._changes_by_qresync(
                folder_id, uidvalidity, known, previous_uidnext, previous_modseq
            )
        else:
            unchanged = (
                same_numbering
                and state.uidnext == uidnext
                and highestmodseq is not None
                and state.highestmodseq == highestmodseq
            )
            server_uids = set(known)  # nothing new, nothing changed: no need to list
            count = selected.get(b"EXISTS")
            if not unchanged or (count is not None and int(count) != len(known)):
                server_uids = set(self.client.search("ALL"))
            new_uids = sorted(server_uids - set(known))
            if not unchanged:
                self._update_flags(folder_id, uidvalidity, known, server_uids, previous_modseq)
            gone = set(known) - server_uids
        self._download(folder_id, uidvalidity, new_uids)
        if gone:
            sync_state.mark_expunged(folder_id, uidvalidity, gone)
            self.result.expunged = len(gone)
        if self.failed_uids:
            shown = ", ".join(str(u) for u in self.failed_uids[:10])
            self.result.error = (
                f"the server answered unexpectedly: its answer for UID {shown} is not valid "
                "IMAP; the other messages were stored — run sync again to retry"
            )
            return self.result  # not up to date: the next sync lists the folder again
        # Saved last: only a completed folder sync may claim to be up to date.
        sync_state.save_numbering(folder_id, uidvalidity, uidnext, highestmodseq)
        return self.result

    @property
    def _qresync(self) -> bool:
        return b"QRESYNC" in self.client.capabilities()

    def _changes_by_qresync(
        self,
        folder_id: int,
        uidvalidity: int,
        known: dict[int, str],
        previous_uidnext: int,
        previous_modseq: int,
    ) -> tuple[list[int], set[int]]:
        """RFC 7162: one FETCH gives the flags changed and the UIDs expunged since the last
        sync, so the folder is never listed in full. New UIDs are those from the last UIDNEXT
        on (plus none already stored by an interrupted earlier run)."""
        changed, vanished = changed_since(self.client, previous_modseq)
        updates = {
            uid: flags for uid, flags in changed.items() if uid in known and flags != known[uid]
        }
        self.library.sync_state.set_flags(folder_id, uidvalidity, updates)
        self.result.changed = len(updates)
        # "n:*" always names the highest UID, even when it is below n: filter.
        recent = self.client.search(["UID", f"{previous_uidnext}:*"])
        new_uids = sorted(uid for uid in recent if uid >= previous_uidnext and uid not in known)
        return new_uids, vanished & set(known)

    def _uidvalidity_changed(self, folder_id: int, old: int, new: int) -> None:
        for copy in self.library.sync_state.retire_numbering(folder_id, old):
            self.remap.setdefault(copy.size, []).append((copy.sha256, f"{old}/{copy.uid}"))
        self.result.warnings.append(
            f"UIDVALIDITY changed from {old} to {new}: the folder was renumbered on the server; "
            "copies already stored are re-mapped to their new UIDs without downloading them "
            "again (same size, byte-identical header and first 4 KB of body); the old "
            "numbering stays on record"
        )

    def report(self, state: str, done: int = 0, total: int = 0) -> None:
        self.on_folder(
            FolderProgress(
                self.account.name,
                self.folder.name,
                state,
                done,
                total,
                self.result.bytes_downloaded,
                self._bytes_total,
            )
        )

    def _download(self, folder_id: int, uidvalidity: int, uids: Sequence[int]) -> None:
        total = len(uids)
        done = 0
        # Sizes first (a few bytes per message), so the byte total is known from the start.
        metas = [
            (chunk, self.client.fetch(chunk, [b"RFC822.SIZE", b"INTERNALDATE", b"FLAGS"]))
            for chunk in _uid_ranges(uids)
        ]
        self._bytes_total = sum(
            announced_size(facts) or 0 for _, meta in metas for facts in meta.values()
        )
        self.progress(0, total)
        self.report("syncing", 0, total)
        for chunk, meta in metas:
            if self.remap:
                remapped = self._remap(folder_id, uidvalidity, chunk, meta)
                done += len(remapped)
                chunk = [uid for uid in chunk if uid not in remapped]
            batch: list[int] = []
            batch_bytes = 0
            for uid in chunk:
                facts = meta.get(uid)
                if facts is None:
                    continue  # expunged between SEARCH and FETCH
                size = announced_size(facts) or 0
                if batch and (batch_bytes + size > BATCH_BYTES or len(batch) >= BATCH_MESSAGES):
                    done += self._fetch_batch(folder_id, uidvalidity, batch, meta)
                    self.progress(done, total)
                    self.report("syncing", done, total)
                    batch, batch_bytes = [], 0
                batch.append(uid)
                batch_bytes += size
            if batch:
                done += self._fetch_batch(folder_id, uidvalidity, batch, meta)
                self.progress(done, total)
                self.report("syncing", done, total)

    def _remap(
        self, folder_id: int, uidvalidity: int, uids: Sequence[int], meta: dict[int, Any]
    ) -> set[int]:
        """After a UIDVALIDITY change: new UIDs whose message is already stored get a copy
        row pointing at the stored bytes. Identity needs the same RFC822.SIZE and
        byte-identical header and first 4 KB of body (so a message under 4 KB of body is
        compared whole), fetched in one batch instead of the messages; never just a
        Message-ID. The copy records ``remapped_from`` = ``old-uidvalidity/old-uid``."""
        candidates = [
            uid for uid in uids if uid in meta and announced_size(meta[uid]) in self.remap
        ]
        if not candidates:
            return set()
        if self.cancel is not None:
            self.cancel.check()
        sample = f"BODY.PEEK[TEXT]<0.{REMAP_SAMPLE}>"
        answers = self.client.fetch(candidates, [b"BODY.PEEK[HEADER]", sample.encode()])
        matched: list[tuple[int, str, str]] = []
        for uid in candidates:
            answer = answers.get(uid) or {}
            header = answer.get(b"BODY[HEADER]")
            body_start = answer.get(b"BODY[TEXT]<0>")
            if not header or body_start is None:
                continue
            self.result.bytes_downloaded += len(header) + len(body_start)
            pool = self.remap[announced_size(meta[uid]) or 0]
            for index, (sha256, old) in enumerate(pool):
                stored = self.library.raw(sha256)
                if stored.startswith(header + body_start):
                    matched.append((uid, sha256, old))
                    del pool[index]
                    break
        if not matched:
            return set()
        with self.library.transaction() as transaction:
            for uid, sha256, old in matched:
                date_ts = transaction.message_date(sha256)
                copy = self._copy(sha256, date_ts, folder_id, uidvalidity, uid, meta[uid], old)
                transaction.add_imap_copy(copy)
        self.result.new += len(matched)
        self.result.remapped += len(matched)
        return {uid for uid, _, _ in matched}

    def _copy(
        self,
        sha256: str,
        date_ts: int | None,
        folder_id: int,
        uidvalidity: int,
        uid: int,
        facts: dict[bytes, Any],
        remapped_from: str | None = None,
    ) -> ImapCopy:
        """The copy record of the message at ``uid``, from what the server said about it."""
        return ImapCopy(
            sha256=sha256,
            date_ts=date_ts,
            folder_id=folder_id,
            uidvalidity=uidvalidity,
            uid=uid,
            internaldate=iso_utc(facts.get(b"INTERNALDATE")),
            flags=flags_text(facts.get(b"FLAGS", ())),
            server=self.server,
            rfc822_size=announced_size(facts),
            remapped_from=remapped_from,
        )

    def _fetch_batch(
        self, folder_id: int, uidvalidity: int, uids: list[int], meta: dict[int, Any]
    ) -> int:
        if self.cancel is not None:
            self.cancel.check()
        bodies = self._fetch_bodies(uids)
        records = []
        for uid in uids:
            response = bodies.get(uid)
            if response is None or b"BODY[]" not in response:
                continue
            raw = response[b"BODY[]"] or b""
            facts = meta.get(uid, {})
            size = announced_size(facts)
            if size is None:
                self.result.warnings.append(
                    f"UID {uid}: the server announced no valid size "
                    f"({str(facts.get(b'RFC822.SIZE'))[:20]!r}); the {len(raw)} bytes received "
                    "are stored"
                )
            elif size != len(raw):
                self.result.warnings.append(
                    f"UID {uid}: the server announced {size} bytes but sent {len(raw)}; "
                    "the bytes received are stored"
                )
            if not raw:
                self.result.warnings.append(f"UID {uid} is an empty (0-byte) message")
            records.append((uid, raw, summarize(raw), facts))
            self.result.bytes_downloaded += len(raw)

        def rows(transaction: Transaction) -> int:
            added = 0
            for uid, _raw, summary, facts in records:
                transaction.add_message(summary)
                date_ts = int(summary.date.timestamp()) if summary.date else None
                copy = self._copy(summary.sha256, date_ts, folder_id, uidvalidity, uid, facts)
                added += transaction.add_imap_copy(copy)
            return added

        added = self.library.store_batch([raw for _, raw, _, _ in records], rows)
        self.result.new += added
        return len(uids)

    def _fetch_bodies(self, uids: list[int]) -> dict[int, Any]:
        """The batch's bodies; when the server's answer cannot be parsed, each UID again on
        its own, so one garbled message costs only that message (noted in ``failed_uids``)."""
        try:
            bodies: dict[int, Any] = self.client.fetch(uids, [b"BODY.PEEK[]"])
            return bodies
        except ProtocolError:
            if len(uids) == 1:
                self.failed_uids.append(uids[0])
                log.info("UID %s: unparsable FETCH answer", uids[0], exc_info=True)
                return {}
        bodies = {}
        for uid in uids:
            try:
                bodies.update(self.client.fetch([uid], [b"BODY.PEEK[]"]))
            except ProtocolError:
                log.info("UID %s: unparsable FETCH answer", uid, exc_info=True)
                self.failed_uids.append(uid)
        return bodies

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
        changes: dict[int, str] = {}
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
                    changes[uid] = flags
        self.library.sync_state.set_flags(folder_id, uidvalidity, changes)
        self.result.changed = len(changes)


def sync_account(
    library: Library,
    account: Account,
    password: str,
    *,
    only_folders: Sequence[str] | None = None,
    progress: Progress = no_progress,
    on_folder: FolderProgressCallback = _no_folder_progress,
    cancel: CancelToken | None = None,
    connector: Connector = connect,
) -> SyncReport:
    """Sync the account's chosen folders (all by default), or ``only_folders`` when given;
    one folder's failure does not stop the others. ``progress`` counts the messages of the
    folder being synced; ``on_folder`` gets each folder's state, messages and bytes."""
    report = SyncReport(account.name)
    client, _info = connector(account, password)
    try:
        try:
            prepare(client)
            folders = list_folders(client)
        except (IMAPClientError, OSError, ssl.SSLError) as err:
            raise ServerUnreachable(
                f"{account.host}:{account.port}: the server's folder list could not be read "
                f"({_short(err, 80)}); nothing was synced"
            ) from None
        chosen = only_folders or account.folders
        if chosen is not None:
            wanted = set(chosen)
            missing = wanted - {f.name for f in folders}
            for name in sorted(missing):
                report.folders.append(FolderResult(name, error="no such folder on the server"))
                on_folder(FolderProgress(account.name, name, "failed", error="not on the server"))
            folders = [f for f in folders if f.name in wanted]
        for folder in folders:
            on_folder(FolderProgress(account.name, folder.name, "waiting"))
        for folder in folders:
            job = FolderSync(library, account, client, folder, progress, cancel, on_folder)
            try:
                result = job.run()
            except Cancelled:
                raise
            except (TimeoutError, IMAPClientError, OSError, ssl.SSLError, ValueError) as err:
                log.info("sync of %s/%s failed", account.name, folder.name, exc_info=True)
                result = FolderResult(folder.name, error=_describe(err))
                client = _reconnect(client, account, password, connector)
            except MailproofError as err:
                result = FolderResult(folder.name, error=str(err))
            report.folders.append(result)
            if result.error:
                on_folder(FolderProgress(account.name, folder.name, "failed", error=result.error))
            else:
                job.report("done", result.new, result.new)
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - the connection may already be gone
            log.debug("logout failed", exc_info=True)
    audit.record(
        "sync",
        {"account": account.name},
        "failed" if report.failed else "ok",
        folders={f.folder: {"new": f.new, "error": f.error} for f in report.folders},
    )
    return report


def _short(err: BaseException, limit: int = 120) -> str:
    """An error's text for a user: one line, bounded (a parser error can quote a message)."""
    text = " ".join(str(err).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(err: BaseException) -> str:
    if isinstance(
        err, (IMAPClientAbortError, ConnectionError, socket.timeout, TimeoutError, ssl.SSLError)
    ):
        return (
            f"the connection to the server broke during the sync ({_short(err)}); anything "
            "downloaded before is kept — run sync again to continue"
        )
    if isinstance(err, ProtocolError):
        # imapclient's parser text quotes the raw reply — possibly mail content: not shown
        return (
            "the server answered unexpectedly: its reply is not valid IMAP; anything "
            "downloaded before is kept — run sync again to retry"
        )
    return f"the server answered unexpectedly: {_short(err)}"


def _reconnect(client: Any, account: Account, password: str, connector: Connector) -> Any:
    try:
        client.noop()
        return client
    except Exception:  # noqa: BLE001 - a dead connection: make a new one
        try:
            new_client, _ = connector(account, password)
        except ServerUnreachable:
            return client  # the next folders will fail with their own error
        return prepare(new_client)
