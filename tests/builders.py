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


def own_domain_forgery() -> bytes:
    """A message claiming the account's own domain (clinic.example) whose DKIM signature
    cannot verify, with a reply-to cue and one TLS hop: every line the delivery presenter has."""
    return (
        b"Received: from mail.elsewhere.example (mail.elsewhere.example [192.0.2.10]) (using "
        b"TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) by mx.clinic.example "
        b"(Postfix) with ESMTPS id 4VXk2t for <bob@clinic.example>; "
        b"Fri, 3 May 2024 09:15:04 +0000\r\n"
        b"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d=clinic.example; s=mail; "
        b"h=from:to:subject; bh=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=; b=AAAA\r\n"
        b"From: Alice <alice@clinic.example>\r\nTo: bob@clinic.example\r\n"
        b"Reply-To: alice@payments-elsewhere.example\r\nSubject: Invoice\r\n"
        b"Date: Fri, 03 May 2024 09:15:00 +0000\r\nMessage-ID: <faces@clinic.example>\r\n"
        b"\r\nPlease pay.\r\n"
    )
