"""The account's folders: LIST with SPECIAL-USE, roles by attribute or by (localized) name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

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
class RemoteFolder:
    name: str  # decoded from modified UTF-7
    delimiter: str | None
    attributes: tuple[str, ...]
    role: str | None  # "\\Sent", "\\Junk", "\\Trash", "\\Archive", "\\Backup", …


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


def list_folders(client: Any) -> list[RemoteFolder]:
    """Every selectable folder (imapclient decodes modified UTF-7 names)."""
    folders = []
    for flags, delimiter, name in client.list_folders():
        attributes = tuple(_text(flag) for flag in flags)
        lowered = {a.lower() for a in attributes}
        if "\\noselect" in lowered or "\\nonexistent" in lowered:
            continue
        folder_name = _text(name)
        separator = _text(delimiter) if delimiter else None
        folders.append(
            RemoteFolder(
                folder_name, separator, attributes, role_of(folder_name, separator, attributes)
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
