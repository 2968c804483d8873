"""Passwords and keys in the OS keyring (``keyring``): never in config, logs or SQLite."""

from __future__ import annotations

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

from app.errors import EnvironmentUnavailable, MailproofError

SERVICE = "mailproof"

_GUIDANCE = (
    "unlock or install an OS keyring (GNOME Keyring or KWallet via Secret Service, the macOS "
    "Keychain, the Windows Credential Locker), or choose the encrypted file keyring protected "
    "by a master password: pip install keyrings.cryptfile and set "
    "PYTHON_KEYRING_BACKEND=keyrings.cryptfile.cryptfile.CryptFileKeyring"
)


class KeyringUnavailable(EnvironmentUnavailable):
    """No usable, safe keyring: Mailproof then stores no password at all."""


class PasswordMissing(MailproofError):
    """The keyring holds no password for an account."""


def backend() -> KeyringBackend:
    """The keyring in use; refuse the ones that would keep secrets in plain text or nowhere."""
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


def _call(action: str, function: object, *args: str) -> object:
    try:
        return function(*args)  # type: ignore[operator]
    except keyring.errors.KeyringLocked as err:
        raise KeyringUnavailable(
            f"the keyring is locked, cannot {action}; unlock it and retry"
        ) from err
    except keyring.errors.PasswordDeleteError:
        return None
    except (keyring.errors.KeyringError, RuntimeError) as err:
        raise KeyringUnavailable(f"the keyring failed to {action}: {err}; {_GUIDANCE}") from err


def set_password(account: str, password: str) -> None:
    store = backend()
    _call("store the password", store.set_password, SERVICE, account, password)


def get_password(account: str) -> str:
    store = backend()
    value = _call("read the password", store.get_password, SERVICE, account)
    if not isinstance(value, str):
        raise PasswordMissing(
            f"no password for account {account!r} in the keyring; "
            f"set it again with `mailproof account add {account} …`"
        )
    return value


def delete_password(account: str) -> None:
    store = backend()
    _call("delete the password", store.delete_password, SERVICE, account)
