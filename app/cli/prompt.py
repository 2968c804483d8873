"""The one way the CLI reads a secret: from standard input when asked to, else on the terminal
without echo; never from a pipe it did not ask for."""

from __future__ import annotations

import getpass
import os
import sys

from app.errors import BadInput


def read_secret(
    question: str,
    *,
    what: str,
    from_stdin: bool,
    option: str = "--password-stdin",
    confirm: str | None = None,
    required: bool = True,
) -> str | None:
    """The secret ``what`` ("the password"), or None when it may be empty (``required=False``)
    and is.

    ``confirm``: ask again with this question and refuse when the two differ. Without a terminal
    and without ``from_stdin``, an optional secret is None and a required one is a usage error
    naming ``option``."""
    if from_stdin:
        secret = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        secret = getpass.getpass(question)
        if confirm is not None and getpass.getpass(confirm) != secret:
            raise BadInput(f"the two entries of {what} differ; nothing was changed")
    elif required:
        raise BadInput(f"no terminal to ask for {what}: use {option}")
    else:
        return None
    if not secret and required:
        raise BadInput(f"{what} is empty")
    return secret or None


def master_password() -> str:
    """The CLI's source of the encrypted keyring's master password (its environment variable,
    else the terminal)."""
    from app import secrets

    from_env = os.environ.get(secrets.ENV_MASTER)
    if from_env:
        return from_env
    if sys.stdin.isatty():
        return getpass.getpass("Master password of Mailproof's encrypted keyring: ")
    raise secrets.KeyringUnavailable(
        f"the encrypted keyring is locked and there is no terminal to ask for its master "
        f"password: set {secrets.ENV_MASTER}"
    )
