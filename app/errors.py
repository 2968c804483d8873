"""The error tree: every failure a user may see is a MailproofError with a message fit to show."""

from __future__ import annotations

from enum import IntEnum


class Exit(IntEnum):
    """The exit codes of every ``mailproof`` command (the README's CLI reference)."""

    OK = 0
    PROBLEMS = 1  # done, but a check failed or the input had problems (each named on stderr)
    USAGE = 2  # bad usage or unusable input
    ENVIRONMENT = 3  # store, keyring, server, display or tool unavailable
    INTERRUPTED = 130


class MailproofError(Exception):
    """Base of every error shown to a user. ``str(err)`` is the one line to show."""

    exit_code: int = Exit.USAGE


class BadInput(MailproofError):
    """The user gave a path or value that cannot be used (exit 2)."""

    exit_code = Exit.USAGE


class NotMail(BadInput):
    """A file or folder that holds no recognisable mail."""


class SourceUnreadable(BadInput):
    """A path that does not exist or cannot be read."""


class MessageNotFound(BadInput):
    """No message matches the identifier given."""


class AmbiguousId(BadInput):
    """An identifier prefix matches more than one message."""


class StoreError(MailproofError):
    """The local store is unusable (corrupt database, missing blob, full disk)."""

    exit_code = Exit.ENVIRONMENT


class Cancelled(MailproofError):
    """Long work was cancelled by the user; whatever was committed before stays."""

    exit_code = Exit.PROBLEMS


class EnvironmentUnavailable(MailproofError):
    """Something outside Mailproof is missing or down: a server, the keyring, a tool (exit 3)."""

    exit_code = Exit.ENVIRONMENT


class ServerUnreachable(EnvironmentUnavailable):
    """The mail server cannot be reached (refused, timed out, name not found, dropped)."""


class TLSError(MailproofError):
    """The server's TLS was refused: bad certificate, wrong host, no STARTTLS (exit 1)."""

    exit_code = Exit.PROBLEMS


class AuthError(MailproofError):
    """The server refused the login (exit 1)."""

    exit_code = Exit.PROBLEMS
