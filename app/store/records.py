"""The typed values the store hands out: a frozen dataclass per kind of row, never a cursor row."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FolderInfo:
    id: int
    account: str
    name: str
    special_use: str | None
    total: int
    unread: int


@dataclass(frozen=True)
class FolderState:
    """A folder as recorded, with the IMAP numbering its last complete sync saw."""

    id: int
    account: str
    name: str
    special_use: str | None
    source_kind: str | None
    source_path: str | None
    delimiter: str | None
    uidvalidity: int | None
    uidnext: int | None
    highestmodseq: int | None
    synced_at: str | None


@dataclass(frozen=True)
class FolderCount:
    """A folder and how many copies it holds, expunged ones included."""

    account: str
    name: str
    copies: int


@dataclass(frozen=True)
class MessageRow:
    copy_id: int
    sha256: str
    date_ts: int | None
    from_display: str
    subject: str
    size: int
    flags: str
    has_attachments: bool
    thread_id: str | None
    depth: int


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
class SyncedCopy:
    """A copy in a synced folder with its message's header facts, as ``mailproof list`` shows it."""

    sha256: str
    folder: str
    uid: int | None
    uidvalidity: int | None
    internaldate: str | None
    flags: str
    fetched_at: str | None
    expunged_at: str | None
    date_utc: str | None
    from_display: str | None
    to_display: str | None
    subject: str | None
    size: int
    has_attachments: bool
    message_id: str | None


@dataclass(frozen=True)
class CopyFacts:
    """A stored copy with the facts of its message that a "where is my message?" search scores."""

    account: str
    folder: str
    special_use: str | None
    sha256: str
    message_id: str | None
    from_addr: str | None
    to_display: str | None
    cc_display: str | None
    subject: str | None
    date_utc: str | None
    date_ts: int | None
    uid: int | None
    flags: str
    expunged_at: str | None


@dataclass(frozen=True)
class ImapCopy:
    """A copy of a message in an IMAP folder, as sync records it."""

    sha256: str
    date_ts: int | None
    folder_id: int
    uidvalidity: int
    uid: int
    internaldate: str | None
    flags: str
    server: str  # imap://user@host:port, kept as the copy's source_path
    rfc822_size: int | None
    remapped_from: str | None = None  # "old-uidvalidity/old-uid" when re-mapped, not downloaded


@dataclass(frozen=True)
class RetiredCopy:
    """A live copy under a UIDVALIDITY the server has given up: a candidate to re-map."""

    sha256: str
    uid: int
    size: int


@dataclass(frozen=True)
class AccountRecord:
    """An account's settings as stored (never its password)."""

    name: str
    host: str
    port: int
    security: str
    user: str
    ca_file: str | None
    allow_insecure: bool
    folders: tuple[str, ...] | None  # None: every folder
