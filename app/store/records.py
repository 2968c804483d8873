"""The typed values the store hands out: a frozen dataclass per kind of row, never a cursor row."""

from __future__ import annotations

from dataclasses import dataclass


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
