"""Change a synced copy's flags (\\Seen, \\Flagged) on the server, then record what it says."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from app import audit
from app.errors import BadInput, Exit, MailproofError
from app.imap.account import Account
from app.imap.connection import connect
from app.imap.sync import Connector, flags_text
from app.store.library import Library

log = logging.getLogger(__name__)

CHANGEABLE = ("\\Seen", "\\Flagged")


class FolderChanged(MailproofError):
    """The server renumbered the folder (UIDVALIDITY) or the message is gone: sync first."""

    exit_code = Exit.PROBLEMS


def imap_account_of(library: Library, copy_id: int) -> str | None:
    """The IMAP account a copy was synced from, or None for a local copy."""
    copy = library.lookup.copy(copy_id)
    return copy.account if copy is not None and copy.kind == "imap" else None


def change_flags(
    library: Library,
    account: Account,
    password: str,
    copy_id: int,
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    connector: Connector = connect,
) -> str:
    """Add/remove flags of one IMAP copy on its server; returns the flags the server now has."""
    for flag in (*add, *remove):
        if flag not in CHANGEABLE:
            raise BadInput(f"flag {flag} cannot be changed here (only {', '.join(CHANGEABLE)})")
    copy = library.lookup.copy(copy_id)
    if copy is None or copy.kind != "imap" or copy.uid is None or copy.account != account.name:
        raise BadInput("only messages synced from this IMAP account can have their flags changed")
    if copy.expunged_at:
        raise FolderChanged("this message is no longer on the server; its flags cannot change")
    client: Any
    client, _info = connector(account, password)
    try:
        selected = client.select_folder(copy.folder)
        if int(selected[b"UIDVALIDITY"]) != copy.uidvalidity:
            raise FolderChanged(
                f"{copy.folder} was renumbered on the server (UIDVALIDITY); sync it first"
            )
        uid = copy.uid
        if add:
            client.add_flags([uid], [f.encode() for f in add])
        if remove:
            client.remove_flags([uid], [f.encode() for f in remove])
        answer = client.fetch([uid], [b"FLAGS"]).get(uid)
        if answer is None:
            library.sync_state.mark_copy_expunged(copy_id)
            raise FolderChanged("the message was deleted on the server meanwhile")
        flags = flags_text(answer.get(b"FLAGS", ()))
        library.sync_state.set_copy_flags(copy_id, flags)
        audit.record(
            "flags changed",
            {"account": account.name, "folder": copy.folder, "uid": uid},
            added=list(add),
            removed=list(remove),
            now=flags,
        )
        return flags
    finally:
        try:
            client.logout()
        except Exception:  # noqa: BLE001 - the flags are already changed or the error raised
            log.debug("logout after flag change failed", exc_info=True)
