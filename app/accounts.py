"""Adding, testing, removing and syncing IMAP accounts: the one service behind ``mailproof
account …`` and ``sync`` and the window's Accounts dialog and Sync button. Settings go to the
store, passwords only to the keyring."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from app import secrets
from app.errors import BadInput, Exit, MailproofError
from app.imap.account import Account, load, load_all
from app.imap.account import delete as delete_settings
from app.imap.account import save as save_settings
from app.tasks import CancelToken, Progress, no_progress

if TYPE_CHECKING:
    from app.imap.connection import ConnectionInfo
    from app.imap.folders import RemoteFolder
    from app.imap.sync import FolderProgressCallback, SyncReport
    from app.store.library import Library

Stage = Callable[[str], None]
"""Told "keyring", "login" or "store" before each step, so a face can say which one failed."""


def _no_stage(_stage: str) -> None:
    pass


class PasswordNotDeleted(MailproofError):
    """The account is gone from the store but its keyring entry could not be deleted."""

    exit_code = Exit.ENVIRONMENT


def test_login(
    account: Account, password: str | None = None, stage: Stage = _no_stage
) -> ConnectionInfo:
    """Log in with ``password`` (default: the one in the keyring); nothing is stored."""
    from app.imap.connection import check_login

    stage("keyring")
    secret = password or secrets.get_password(account.name)
    stage("login")
    return check_login(account, secret)


def add_account(
    library: Library,
    account: Account,
    password: str | None,
    *,
    test: bool = True,
    stage: Stage = _no_stage,
) -> ConnectionInfo | None:
    """Add or update ``account``: log in first (unless ``test`` is False) and store nothing
    when that fails; then the password (None: keep the keyring's) and the settings."""
    stage("keyring")
    secrets.backend()  # no usable keyring: say so before contacting the server
    info = test_login(account, password, stage) if test else None
    if password:
        stage("keyring")
        secrets.set_password(account.name, password)
    stage("store")
    save_settings(library, account)
    return info


def server_folder_list(account: Account) -> list[RemoteFolder]:
    """The account's folders on the server, with their roles (Sent, Junk, …)."""
    from app.imap.connection import server_folders

    return server_folders(account, secrets.get_password(account.name))


def choose_folders(
    library: Library, account: Account, names: Sequence[str] | None, on_server: Sequence[str]
) -> Account:
    """Sync only ``names`` (each must be in ``on_server``), or every folder (None): saved."""
    if names is None:
        chosen = replace(account, folders=None)
    else:
        unknown = [name for name in names if name not in on_server]
        if unknown:
            raise BadInput(
                f"{account.name} has no folder {', '.join(map(repr, unknown))} on the server "
                f"(it has: {', '.join(on_server)})"
            )
        chosen = replace(account, folders=tuple(dict.fromkeys(names)))
    save_settings(library, chosen)
    return chosen


def set_flags(
    library: Library, copy_id: int, *, add: Sequence[str] = (), remove: Sequence[str] = ()
) -> str:
    """Change \\Seen or \\Flagged of a synced copy on its server (with its account's password);
    returns the flags the server now has. Local archives are read-only."""
    from app.imap.flags import change_flags, imap_account_of

    name = imap_account_of(library, copy_id)
    if name is None:
        raise BadInput("local archives are read-only: flags are changed only on IMAP servers")
    account = load(library, name)
    return change_flags(
        library, account, secrets.get_password(name), copy_id, add=add, remove=remove
    )


def watch_folder(
    account: Account,
    folder: str,
    on_change: Callable[[], None],
    cancel: CancelToken,
    on_status: Callable[[str], None] = lambda _text: None,
) -> None:
    """IMAP IDLE on ``folder`` with the account's password: ``on_change()`` at each change,
    until ``cancel``."""
    from app.imap.idle import watch

    watch(
        account,
        secrets.get_password(account.name),
        folder,
        on_change=on_change,
        cancel=cancel,
        on_status=on_status,
    )


def remove_account(library: Library, name: str) -> Account:
    """Forget the settings, then the password; synced messages stay in the store."""
    account = load(library, name)
    delete_settings(library, account.name)
    try:
        secrets.delete_password(account.name)
    except MailproofError as err:
        raise PasswordNotDeleted(
            f"account {account.name} removed, but its password could not be deleted from the "
            f"keyring: {err}"
        ) from err
    return account


def sync_accounts(
    library: Library,
    names: Sequence[str] | None = None,
    *,
    only_folders: Sequence[str] | None = None,
    progress_for: Callable[[Account], Progress] = lambda _account: no_progress,
    on_folder: FolderProgressCallback = lambda _folder: None,
    cancel: CancelToken | None = None,
) -> Iterator[tuple[Account, SyncReport]]:
    """Sync the named accounts (default: every account), one after the other, each with its
    report as soon as it is done; one account's failure is in its report, not raised."""
    from app.imap.sync import sync_account

    accounts = [load(library, name) for name in names] if names else load_all(library)
    for account in accounts:
        yield (
            account,
            sync_account(
                library,
                account,
                secrets.get_password(account.name),
                only_folders=only_folders,
                progress=progress_for(account),
                on_folder=on_folder,
                cancel=cancel,
            ),
        )
