"""What the search index needs from a message, read in one ``compat32`` parse of its bytes.

Never raises on malformed mail: what can be read is returned and the rest is named in
``problems``, so an unparsable message is still found by what it does show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from email.message import Message
from email.utils import getaddresses

from app.mime.html import html_to_text
from app.mime.reader import FOR_INDEX, filename, header_text, part_text, read_message
from app.mime.summary import Address, _defect_names, _message_ids, is_attachment, parse_date

MAX_BODY_CHARS = 256 * 1024  # text indexed per message; the rest of a huge log is not words
MAX_PART_BYTES = 4 * 1024 * 1024  # a text part larger than this is read only this far
MAX_PARTS = 500

_ENCRYPTED_TYPES = ("application/pkcs7-mime", "application/x-pkcs7-mime")
_DKIM_RESULT = re.compile(r"\bdkim\s*=\s*([a-z]+)", re.IGNORECASE)


@dataclass(frozen=True)
class Facts:
    message_id: str | None
    in_reply_to: str | None
    references: tuple[str, ...]
    date: datetime | None
    from_: tuple[Address, ...]
    to: tuple[Address, ...]
    cc: tuple[Address, ...]
    bcc: tuple[Address, ...]
    subject: str
    body: str
    attachments: tuple[tuple[str, str], ...]  # (file name, content type)
    is_encrypted: bool
    is_signed: bool
    dkim: str | None  # pass | fail | none (no signature) | None when not known
    problems: tuple[str, ...]


def _addresses(message: Message, name: str, problems: list[str]) -> tuple[Address, ...]:
    values = message.get_all(name) or []
    if not values:
        return ()
    decoded = [header_text(v, problems) for v in values]
    try:
        pairs = getaddresses(decoded)
    except (ValueError, IndexError) as err:  # pragma: no cover - stdlib oddities
        problems.append(f"unreadable {name} header: {err}")
        return ()
    return tuple(
        Address(" ".join(display.split()), addr.strip().lower())
        for display, addr in pairs
        if display or addr
    )


def _dkim_claim(message: Message) -> str | None:
    """DKIM as the receiving server reported it (the topmost Authentication-Results), or
    ``none`` when the message carries no DKIM-Signature. Not a verification of ours."""
    if message.get("DKIM-Signature") is None:
        return "none"
    results = message.get_all("Authentication-Results") or []
    if not results:
        return None
    found = _DKIM_RESULT.findall(str(results[0]))
    if not found:
        return None
    verdicts = {v.lower() for v in found}
    if "pass" in verdicts:
        return "pass"
    if verdicts & {"fail", "permerror", "neutral", "policy"}:
        return "fail"
    return None


def read_facts(raw: bytes) -> Facts:
    """The searchable facts of ``raw``."""
    problems: list[str] = []
    message = read_message(raw, FOR_INDEX)
    problems.extend(_defect_names(message))
    content_type = message.get_content_type()
    smime_type = str(message.get_param("smime-type") or "").lower()
    is_encrypted = content_type == "multipart/encrypted" or (
        content_type in _ENCRYPTED_TYPES and smime_type != "signed-data"
    )
    is_signed = content_type == "multipart/signed" or smime_type == "signed-data"
    texts: list[str] = []
    size = 0
    attachments: list[tuple[str, str]] = []
    for count, part in enumerate(message.walk()):
        if count >= MAX_PARTS:
            problems.append(f"more than {MAX_PARTS} MIME parts; the rest is not indexed")
            break
        part_type = part.get_content_type()
        if part.is_multipart():
            if part_type == "multipart/encrypted":
                is_encrypted = True
            elif part_type == "multipart/signed":
                is_signed = True
            continue
        if is_attachment(part):
            name = filename(part, problems)
            attachments.append((name, part_type))
            continue
        if is_encrypted or size >= MAX_BODY_CHARS:
            continue
        if part_type == "text/plain":
            text = part_text(part, problems, MAX_PART_BYTES)
            if "-----BEGIN PGP MESSAGE-----" in text:
                is_encrypted = True
                continue
            if "-----BEGIN PGP SIGNED MESSAGE-----" in text:
                is_signed = True
        elif part_type == "text/html":
            text = html_to_text(part_text(part, problems, MAX_PART_BYTES))
        else:
            continue
        texts.append(text)
        size += len(text)
    message_ids = _message_ids(message.get("Message-ID"))
    in_reply_to = _message_ids(message.get("In-Reply-To"))
    date_header = message.get("Date")
    date = parse_date(str(date_header)) if date_header else None
    if date_header and date is None:
        problems.append(f"unreadable Date header: {str(date_header)[:60]!r}")
    return Facts(
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=in_reply_to[0] if in_reply_to else None,
        references=_message_ids(message.get("References")),
        date=date,
        from_=_addresses(message, "From", problems),
        to=_addresses(message, "To", problems),
        cc=_addresses(message, "Cc", problems),
        bcc=_addresses(message, "Bcc", problems),
        subject=header_text(message.get("Subject"), problems),
        body="\n".join(texts)[:MAX_BODY_CHARS],
        attachments=tuple(attachments),
        is_encrypted=is_encrypted,
        is_signed=is_signed,
        dkim=_dkim_claim(message),
        problems=tuple(dict.fromkeys(problems)),
    )
