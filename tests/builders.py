"""Builders of small test messages and Maildirs, shared by the unit and CLI tests."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path

DEFAULT_DATE = "Mon, 01 Jan 2024 10:00:00 +0000"


def make_message(
    subject: str = "Hello",
    *,
    sender: str = "Alice <alice@example.org>",
    to: str = "Bob <bob@example.org>",
    date: str | None = DEFAULT_DATE,
    body: str = "Hello there.\n",
    message_id: str | None = None,
    in_reply_to: str | None = None,
    references: str | None = None,
) -> bytes:
    """A small, valid RFC 5322 message as bytes (LF line ends)."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    if date is not None:
        message["Date"] = date
    if message_id is not None:
        message["Message-ID"] = message_id
    if in_reply_to is not None:
        message["In-Reply-To"] = in_reply_to
    if references is not None:
        message["References"] = references
    message.set_content(body)
    return message.as_bytes()


def make_maildir(root: Path, files: dict[str, bytes] | None = None) -> Path:
    """A Maildir at ``root``; ``files`` maps ``cur/NAME`` or ``new/NAME`` to the raw bytes."""
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for relative, raw in (files or {}).items():
        (root / relative).write_bytes(raw)
    return root
