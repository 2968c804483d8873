"""Secret Service (gnome-keyring) checks for the D-Bus session made by run-tests-in-session.sh.

Nothing is started here: the session script owns the bus and the keyring daemon.
"""

from __future__ import annotations

import os
from contextlib import closing

from keyring.backends import SecretService

HOW_TO_RUN = (
    "run the suite through the session script: "
    "dbus-run-session -- bash scripts/run-tests-in-session.sh [pytest args]"
)
APT_HINT = "apt-get install dbus gnome-keyring libsecret-tools"


class SecretServiceUnavailable(RuntimeError):
    """The Secret Service cannot be used in this process's D-Bus session."""


def check_secret_service() -> None:
    """Raise ``SecretServiceUnavailable`` unless an unlocked default collection is reachable."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        raise SecretServiceUnavailable(f"DBUS_SESSION_BUS_ADDRESS is not set; {HOW_TO_RUN}")
    try:
        import secretstorage
        from jeepney.wrappers import DBusErrorResponse
        from secretstorage.exceptions import SecretStorageException
    except ImportError as exc:  # keyring's SecretService backend needs it
        raise SecretServiceUnavailable(f"python package secretstorage missing: {exc}") from exc
    try:
        with closing(secretstorage.dbus_init()) as conn:
            if not secretstorage.check_service_availability(conn):
                raise SecretServiceUnavailable(
                    "no org.freedesktop.secrets service on the session bus "
                    f"({APT_HINT}); {HOW_TO_RUN}"
                )
            collection = secretstorage.get_default_collection(conn)
            if collection.is_locked():
                raise SecretServiceUnavailable(
                    f"the default keyring collection is locked; {HOW_TO_RUN} "
                    "(it starts gnome-keyring-daemon with --unlock)"
                )
    except SecretServiceUnavailable:
        raise
    except (SecretStorageException, DBusErrorResponse) as exc:
        # E.g. a keyring auto-started by D-Bus activation: no login keyring, "Prompt dismissed".
        raise SecretServiceUnavailable(f"Secret Service not usable: {exc}; {HOW_TO_RUN}") from exc


def secret_service_keyring() -> SecretService.Keyring:
    """Return ``keyring.backends.SecretService.Keyring()`` after ``check_secret_service()``."""
    check_secret_service()
    backend = SecretService.Keyring()
    backend.priority  # noqa: B018 - raises if the backend cannot work here
    return backend
