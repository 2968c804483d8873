"""The account's folders: LIST with SPECIAL-USE (and LIST-STATUS), roles by attribute or name."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from imapclient.imap_utf7 import decode as decode_utf7
from imapclient.response_parser import parse_response

log = logging.getLogger(__name__)

ROLE_ATTRIBUTES = ("\\Sent", "\\Junk", "\\Trash", "\\Archive", "\\Drafts", "\\All", "\\Flagged")

# Lower-cased last path component → role. English and the common localized names.
ROLE_NAMES = {
    "inbox": "\\Inbox",
    "sent": "\\Sent",
    "sent items": "\\Sent",
    "sent messages": "\\Sent",
    "sent mail": "\\Sent",
    "gesendet": "\\Sent",
    "gesendete elemente": "\\Sent",
    "gesendete objekte": "\\Sent",
    "envoyés": "\\Sent",
    "éléments envoyés": "\\Sent",
    "elementos enviados": "\\Sent",
    "enviados": "\\Sent",
    "posta inviata": "\\Sent",
    "verzonden items": "\\Sent",
    "junk": "\\Junk",
    "spam": "\\Junk",
    "junk e-mail": "\\Junk",
    "junk email": "\\Junk",
    "bulk mail": "\\Junk",
    "courrier indésirable": "\\Junk",
    "correo no deseado": "\\Junk",
    "trash": "\\Trash",
    "deleted items": "\\Trash",
    "deleted messages": "\\Trash",
    "bin": "\\Trash",
    "papierkorb": "\\Trash",
    "gelöschte elemente": "\\Trash",
    "corbeille": "\\Trash",
    "papelera": "\\Trash",
    "cestino": "\\Trash",
    "prullenbak": "\\Trash",
    "archive": "\\Archive",
    "archives": "\\Archive",
    "archiv": "\\Archive",
    "all mail": "\\All",
    "drafts": "\\Drafts",
    "entwürfe": "\\Drafts",
    "brouillons": "\\Drafts",
    "backup": "\\Backup",
    "backups": "\\Backup",
    "sicherung": "\\Backup",
}


@dataclass(frozen=True)
class FolderStatus:
    """What LIST-STATUS (RFC 5819) told about a folder without selecting it."""

    messages: int | None
    uidnext: int | None
    uidvalidity: int | None
    highestmodseq: int | None


@dataclass(frozen=True)
class RemoteFolder:
    name: str  # decoded from modified UTF-7
    delimiter: str | None
    attributes: tuple[str, ...]
    role: str | None  # "\\Sent", "\\Junk", "\\Trash", "\\Archive", "\\Backup", …
    status: FolderStatus | None = None


def role_of(name: str, delimiter: str | None, attributes: tuple[str, ...]) -> str | None:
    for attribute in attributes:
        if attribute in ROLE_ATTRIBUTES:
            return attribute
    if name.upper() == "INBOX":
        return "\\Inbox"
    last = name.rsplit(delimiter, 1)[-1] if delimiter else name
    return ROLE_NAMES.get(last.strip().lower())


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _list_with_status(client: Any) -> tuple[list[Any], dict[str, FolderStatus]]:
    """``LIST "" "*" RETURN (STATUS (...))``: every folder and its counters in one round trip.

    imapclient has no LIST-STATUS call, so this sends the command through its imaplib
    connection and parses the answers with imapclient's own response parser.
    """
    items = "MESSAGES UIDNEXT UIDVALIDITY"
    if b"CONDSTORE" in client.capabilities():
        items += " HIGHESTMODSEQ"
    imap = client._imap
    imap.untagged_responses.pop("STATUS", None)
    typ, data = imap._simple_command("LIST", '""', '"*"', "RETURN", f"(STATUS ({items}))")
    client._checkok("list", typ, data)
    typ, data = imap._untagged_response(typ, data, "LIST")
    listed = client._proc_folder_list(data)
    statuses: dict[str, FolderStatus] = {}
    answers = [item for item in imap.untagged_responses.pop("STATUS", []) if item]
    for raw_name, values in zip(*[iter(parse_response(answers))] * 2, strict=False):
        name = _text(raw_name)
        if client.folder_encode and isinstance(raw_name, bytes):
            name = decode_utf7(raw_name)
        facts = dict(zip(values[::2], values[1::2], strict=False))

        def number(key: bytes, facts: dict[Any, Any] = facts) -> int | None:
            value = facts.get(key)
            return int(value) if value is not None else None

        statuses[name] = FolderStatus(
            number(b"MESSAGES"),
            number(b"UIDNEXT"),
            number(b"UIDVALIDITY"),
            number(b"HIGHESTMODSEQ"),
        )
    return listed, statuses


def list_folders(client: Any) -> list[RemoteFolder]:
    """Every selectable folder (imapclient decodes modified UTF-7 names), with LIST-STATUS
    counters when the server offers it."""
    statuses: dict[str, FolderStatus] = {}
    listed = None
    if b"LIST-STATUS" in client.capabilities():
        try:
            listed, statuses = _list_with_status(client)
        except Exception:  # noqa: BLE001 - an odd answer: fall back to a plain LIST
            log.info("LIST-STATUS answer not understood; using LIST", exc_info=True)
            listed, statuses = None, {}
    if listed is None:
        listed = client.list_folders()
    folders = []
    for flags, delimiter, name in listed:
        attributes = tuple(_text(flag) for flag in flags)
        lowered = {a.lower() for a in attributes}
        if "\\noselect" in lowered or "\\nonexistent" in lowered:
            continue
        folder_name = _text(name)
        separator = _text(delimiter) if delimiter else None
        folders.append(
            RemoteFolder(
                folder_name,
                separator,
                attributes,
                role_of(folder_name, separator, attributes),
                statuses.get(folder_name),
            )
        )
    order = {
        "\\Inbox": 0,
        "\\Drafts": 1,
        "\\Sent": 2,
        "\\Archive": 3,
        "\\All": 3,
        "\\Backup": 4,
        "\\Junk": 5,
        "\\Trash": 6,
    }
    folders.sort(key=lambda f: (order.get(f.role or "", 3), f.name.lower()))
    return folders
