"""The facts of a message the list and the store need, read fast (``compat32``) from raw bytes."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import Message
from email.utils import collapse_rfc2231_value, getaddresses, parsedate_to_datetime
from typing import Any

from app.mime.reader import FOR_INDEX, HEADERS_ONLY, filename, header_text, read_message


@dataclass(frozen=True)
class Address:
    name: str
    addr: str

    def display(self) -> str:
        if self.name and self.addr:
            return f"{self.name} <{self.addr}>"
        return self.name or self.addr


@dataclass(frozen=True)
class MessageSummary:
    sha256: str
    size: int
    message_id: str | None
    date: datetime | None
    from_: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    subject: str
    has_attachments: bool
    in_reply_to: str | None
    references: tuple[str, ...]
    is_encrypted: bool
    is_signed: bool
    defects: tuple[str, ...] = field(default=())

    @property
    def date_iso(self) -> str | None:
        return iso_utc(self.date)

    @property
    def thread_root(self) -> str | None:
        """The conversation's first Message-ID as far as this message knows it."""
        if self.references:
            return self.references[0]
        return self.in_reply_to or self.message_id

    def to_json(self) -> dict[str, Any]:
        return {
            "sha256": self.sha256,
            "size": self.size,
            "message_id": self.message_id,
            "date": self.date_iso,
            "from": ", ".join(a.display() for a in self.from_),
            "to": ", ".join(a.display() for a in self.to),
            "cc": ", ".join(a.display() for a in self.cc),
            "subject": self.subject,
            "has_attachments": self.has_attachments,
            "defects": list(self.defects),
        }


def iso_utc(moment: datetime | None) -> str | None:
    """ISO 8601 UTC; a time without zone is taken as UTC (RFC 5322 ``-0000``, IMAP servers)."""
    if not isinstance(moment, datetime):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _addresses(message: Message, name: str, defects: list[str]) -> tuple[Address, ...]:
    values = message.get_all(name) or []
    if not values:
        return ()
    decoded = [header_text(v, defects) for v in values]
    return tuple(
        Address(" ".join(display.split()), addr)
        for display, addr in getaddresses(decoded)
        if display or addr
    )


def _message_ids(value: str | None) -> tuple[str, ...]:
    if not value:
        return ()
    ids = []
    for token in value.replace("\n", " ").replace("\t", " ").split(">"):
        start = token.find("<")
        if start != -1 and token[start + 1 :].strip():
            ids.append("<" + token[start + 1 :].strip() + ">")
    return tuple(ids)


def parse_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # "-0000": the sender's zone is unknown; RFC 5322 says UTC
        moment = moment.replace(tzinfo=UTC)
    return moment


# Signature and PGP/MIME control parts are the envelope, not something the sender attached.
SECURITY_PARTS = frozenset(
    {
        "application/pkcs7-signature",
        "application/x-pkcs7-signature",
        "application/pgp-signature",
        "application/pgp-encrypted",
    }
)


def is_attachment(part: Message) -> bool:
    if part.is_multipart() or part.get_content_type() in SECURITY_PARTS:
        return False
    disposition = (part.get("Content-Disposition") or "").split(";")[0].strip().lower()
    if disposition == "attachment":
        return True
    if filename(part):
        return True
    return part.get_content_maintype() not in ("text", "multipart", "message") and (
        disposition != "inline"
    )


def _structure(raw: bytes, headers: Message, defects: list[str]) -> tuple[bool, bool, bool]:
    """(has_attachments, is_encrypted, is_signed) from the MIME structure."""
    content_type = headers.get_content_type()
    smime_param = headers.get_param("smime-type") if headers.get("Content-Type") else None
    smime_type = collapse_rfc2231_value(smime_param).lower() if smime_param else ""
    is_encrypted = content_type == "multipart/encrypted" or (
        content_type in ("application/pkcs7-mime", "application/x-pkcs7-mime")
        and smime_type != "signed-data"
    )
    is_signed = content_type == "multipart/signed" or smime_type == "signed-data"
    if is_encrypted:
        return False, True, is_signed
    if headers.get_content_maintype() != "multipart":
        if not headers.get("Content-Type"):
            return False, False, is_signed
        return is_attachment(headers), False, is_signed
    message = read_message(raw, FOR_INDEX)
    defects.extend(_defect_names(message))
    has_attachments = False
    for part in message.walk():
        if part is message:
            continue
        if part.get_content_type() == "multipart/encrypted":
            is_encrypted = True
        if is_attachment(part):
            has_attachments = True
    body = raw.split(b"\n\n", 1)[1] if b"\n\n" in raw else b""
    if b"-----BEGIN PGP MESSAGE-----" in body[:65536]:
        is_encrypted = True
    return has_attachments, is_encrypted, is_signed


def _defect_names(message: Message) -> list[str]:
    found = []
    for part in message.walk():
        for defect in getattr(part, "defects", []):
            text = defect.__doc__.strip().splitlines()[0] if defect.__doc__ else ""
            found.append(f"{type(defect).__name__}: {text}".rstrip(": "))
    return found


def summarize(raw: bytes, sha256: str | None = None) -> MessageSummary:
    """Read the list facts of ``raw``; never raises on malformed mail (problems → ``defects``)."""
    defects: list[str] = []
    size = len(raw)
    sha256 = sha256 or hashlib.sha256(raw).hexdigest()  # of the bytes as stored, BOM and all
    headers = read_message(raw, HEADERS_ONLY)
    defects.extend(_defect_names(headers))
    has_attachments, is_encrypted, is_signed = _structure(raw, headers, defects)
    message_id = _message_ids(headers.get("Message-ID"))
    date_header = headers.get("Date")
    date = parse_date(str(date_header)) if date_header else None
    if date_header and date is None:
        defects.append(f"unreadable Date header: {str(date_header)[:60]!r}")
    in_reply_to = _message_ids(headers.get("In-Reply-To"))
    return MessageSummary(
        sha256=sha256,
        size=size,
        message_id=message_id[0] if message_id else None,
        date=date,
        from_=_addresses(headers, "From", defects),
        to=_addresses(headers, "To", defects),
        cc=_addresses(headers, "Cc", defects),
        subject=header_text(headers.get("Subject"), defects),
        has_attachments=has_attachments,
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=_message_ids(headers.get("References")),
        is_encrypted=is_encrypted,
        is_signed=is_signed,
        defects=tuple(dict.fromkeys(defects)),
    )
