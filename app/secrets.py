"""Passwords and keys in the OS keyring (``keyring``): never in config, logs or SQLite.

Where no OS keyring is usable, the user may choose instead an encrypted file keyring
(``keyrings.cryptfile``: Argon2id key derivation, AES-GCM per entry) protected by a master
password that is asked for, never stored. Plaintext backends are always refused.
"""

from __future__ import annotations

import configparser
import os
import threading
from collections.abc import Callable
from pathlib import Path

import keyring
import keyring.errors
from keyring.backend import KeyringBackend
from keyrings.cryptfile.cryptfile import CryptFileKeyring

from app import audit
from app.config import data_home
from app.errors import BadInput, EnvironmentUnavailable, Exit, MailproofError
from app.store.atomic import write_atomic

SERVICE = "mailproof"
FILE_CHOICE = "encrypted-file"
ENV_MASTER = "MAILPROOF_MASTER_PASSWORD"

_GUIDANCE = (
    "unlock or install an OS keyring (GNOME Keyring or KWallet via Secret Service, the macOS "
    "Keychain, the Windows Credential Locker), or keep the secrets in an encrypted file "
    "protected by a master password: `mailproof keyring use-file`"
)


class KeyringUnavailable(EnvironmentUnavailable):
    """No usable, safe keyring: Mailproof then stores no password at all."""


class PasswordMissing(MailproofError):
    """The keyring holds no password for an account."""


class MasterPasswordWrong(MailproofError):
    """The master password does not open the encrypted file keyring (exit 1)."""

    exit_code = Exit.PROBLEMS


MasterPasswordSource = Callable[[], str]
_lock = threading.Lock()
_unlocked: CryptFileKeyring | None = None
_master_source: MasterPasswordSource | None = None


def _choice_path() -> Path:
    return data_home() / "keyring-choice"


def file_keyring_path() -> Path:
    return data_home() / "keyring" / "secrets.cfg"


def file_keyring_chosen() -> bool:
    try:
        return _choice_path().read_text(encoding="utf-8").strip() == FILE_CHOICE
    except FileNotFoundError:
        return False


def set_master_password_source(source: MasterPasswordSource | None) -> None:
    """Who is asked for the master password when the file keyring must be opened: the CLI
    asks on the terminal (or reads ``MAILPROOF_MASTER_PASSWORD``), the window shows a dialog."""
    global _master_source
    _master_source = source


def _open_file_keyring(master: str) -> CryptFileKeyring:
    if not master.strip():
        raise BadInput("the master password is empty")
    store = CryptFileKeyring()
    store.file_path = str(file_keyring_path())
    try:
        store.keyring_key = master  # creates the file, or checks the password against it
    except ValueError as err:
        raise MasterPasswordWrong(
            f"the master password does not open the encrypted keyring {file_keyring_path()}"
        ) from err
    return store


def unlock(master: str) -> None:
    """Open the chosen encrypted file keyring for this process."""
    global _unlocked
    try:
        store = _open_file_keyring(master)
    except MasterPasswordWrong:
        audit.record("keyring unlocked", {"keyring": str(file_keyring_path())}, "failed")
        raise
    with _lock:
        _unlocked = store
    audit.record("keyring unlocked", {"keyring": str(file_keyring_path())})


def lock() -> None:
    global _unlocked
    with _lock:
        _unlocked = None


def is_locked() -> bool:
    return file_keyring_chosen() and _unlocked is None


def unlock_os_keyring() -> None:
    """Ask the OS keyring to unlock (its own prompt: GNOME Keyring, KWallet, Keychain)."""
    store = backend()
    collection = getattr(store, "get_preferred_collection", None)
    if callable(collection):
        keyring_call("unlock the keyring", collection)
    else:
        keyring_call("unlock the keyring", store.get_password, SERVICE, "__unlock_check__")


def lock_minutes() -> int:
    """Idle minutes before the window locks: the ``lock-minutes`` setting (default 15, 0 = off);
    ``MAILPROOF_LOCK_MINUTES`` overrides it for scripts and tests."""
    from app import settings

    configured = os.environ.get("MAILPROOF_LOCK_MINUTES")
    if configured is not None:
        try:
            return max(0, int(configured))
        except ValueError:
            pass
    return settings.get("lock-minutes")


def use_file_keyring(master: str) -> Path:
    """Choose the encrypted file keyring; create it with ``master`` (or open an existing one
    with it). Passwords already in the OS keyring are not moved: add the accounts again."""
    path = file_keyring_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    unlock(master)
    path.chmod(0o600)
    write_atomic(_choice_path(), (FILE_CHOICE + "\n").encode())
    audit.record("settings changed", {"setting": "keyring"}, value="encrypted-file")
    return path


def use_os_keyring() -> None:
    """Go back to the OS keyring; the encrypted file stays (and stays encrypted)."""
    lock()
    _choice_path().unlink(missing_ok=True)
    audit.record("settings changed", {"setting": "keyring"}, value="os")


def describe() -> dict[str, object]:
    """What holds the secrets now, for `mailproof keyring status`."""
    if file_keyring_chosen():
        return {
            "backend": "encrypted-file",
            "path": str(file_keyring_path()),
            "locked": _unlocked is None,
            "usable": True,
        }
    try:
        chosen = backend()
    except KeyringUnavailable as err:
        return {"backend": None, "usable": False, "error": str(err)}
    return {"backend": f"{type(chosen).__module__}.{type(chosen).__name__}", "usable": True}


def _file_backend() -> KeyringBackend:
    with _lock:
        if _unlocked is not None:
            opened: KeyringBackend = _unlocked
            return opened
    if _master_source is None:
        raise KeyringUnavailable(
            f"the encrypted keyring {file_keyring_path()} is locked: give its master password "
            f"(asked in a terminal, or set {ENV_MASTER})"
        )
    unlock(_master_source())
    with _lock:
        if _unlocked is None:
            raise KeyringUnavailable("the encrypted keyring was locked again while opening it")
        store: KeyringBackend = _unlocked
    return store


def backend() -> KeyringBackend:
    """The keyring in use; refuse the ones that would keep secrets in plain text or nowhere."""
    if file_keyring_chosen():
        return _file_backend()
    chosen = keyring.get_keyring()
    name = f"{type(chosen).__module__}.{type(chosen).__name__}"
    lowered = name.lower()
    if "plaintext" in lowered or "uncrypted" in lowered:
        raise KeyringUnavailable(
            f"the keyring backend {name} stores secrets unencrypted; {_GUIDANCE}"
        )
    if lowered.startswith("keyring.backends.fail") or "null" in lowered:
        raise KeyringUnavailable(f"no OS keyring is usable; {_GUIDANCE}")
    return chosen


def keyring_call(action: str, function: object, *args: str) -> object:
    """Run a keyring call; its failures become ``KeyringUnavailable`` with what to do."""
    try:
        return function(*args)  # type: ignore[operator]
    except keyring.errors.KeyringLocked as err:
        raise KeyringUnavailable(
            f"the keyring is locked, cannot {action}; unlock it and retry"
        ) from err
    except keyring.errors.PasswordDeleteError:
        return None
    except (keyring.errors.KeyringError, RuntimeError, ValueError, configparser.Error) as err:
        raise KeyringUnavailable(f"the keyring failed to {action}: {err}; {_GUIDANCE}") from err


def set_password(account: str, password: str) -> None:
    store = backend()
    keyring_call("store the password", store.set_password, SERVICE, account, password)


def get_password(account: str) -> str:
    store = backend()
    value = keyring_call("read the password", store.get_password, SERVICE, account)
    if not isinstance(value, str):
        raise PasswordMissing(
            f"no password for account {account!r} in the keyring; "
            f"set it again with `mailproof account add {account} …`"
        )
    return value


def delete_password(account: str) -> None:
    store = backend()
    keyring_call("delete the password", store.delete_password, SERVICE, account)
