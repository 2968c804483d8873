"""The error tree: every failure a user may see is a MailproofError with a message fit to show."""

from __future__ import annotations


class MailproofError(Exception):
    """Base of every error shown to a user. ``str(err)`` is the one line to show."""

    exit_code = 2


class BadInput(MailproofError):
    """The user gave a path or value that cannot be used (exit 2)."""

    exit_code = 2


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

    exit_code = 3


class Cancelled(MailproofError):
    """Long work was cancelled by the user; whatever was committed before stays."""

    exit_code = 1


class EnvironmentUnavailable(MailproofError):
    """Something outside Mailproof is missing or down: a server, the keyring, a tool (exit 3)."""

    exit_code = 3


class ServerUnreachable(EnvironmentUnavailable):
    """The mail server cannot be reached (refused, timed out, name not found, dropped)."""


class TLSError(MailproofError):
    """The server's TLS was refused: bad certificate, wrong host, no STARTTLS (exit 1)."""

    exit_code = 1


class AuthError(MailproofError):
    """The server refused the login (exit 1)."""

    exit_code = 1
