"""A message made safe to show: decoded headers, text or sanitized HTML, attachments, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import default
from typing import Any

from app.mime.attachments import safe_filename
from app.mime.html import html_to_text, sanitize
from app.mime.summary import decode_text, is_attachment, strip_bom


@dataclass(frozen=True)
class AttachmentInfo:
    index: int  # position in the walk of the message's parts
    filename: str  # as the sender named it (decoded), "" when none
    safe_name: str  # what we would save it as
    content_type: str
    size: int
    inline: bool
    content_id: str | None

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "filename": self.filename,
            "safe_filename": self.safe_name,
            "content_type": self.content_type,
            "size": self.size,
            "inline": self.inline,
        }


@dataclass(frozen=True)
class RenderedMessage:
    headers: tuple[tuple[str, str], ...]
    subject: str
    from_: str
    to: str
    cc: str
    date: str
    text: str
    html: str | None
    blocked_remote: tuple[str, ...]
    attachments: tuple[AttachmentInfo, ...]
    warnings: tuple[str, ...] = field(default=())

    def header(self, name: str) -> str:
        lowered = name.lower()
        return next((value for key, value in self.headers if key.lower() == lowered), "")

    def to_json(self) -> dict[str, Any]:
        return {
            "headers": [[k, v] for k, v in self.headers],
            "subject": self.subject,
            "from": self.from_,
            "to": self.to,
            "cc": self.cc,
            "date": self.date,
            "text": self.text,
            "html": self.html,
            "blocked_remote": list(self.blocked_remote),
            "attachments": [a.to_json() for a in self.attachments],
            "warnings": list(self.warnings),
        }


def decode_part_text(part: Message, warnings: list[str]) -> str:
    """Decode a text part; unknown or wrong charsets become a warning, never an exception."""
    payload = part.get_payload(decode=True)
    data = payload if isinstance(payload, bytes) else b""
    charset = part.get_content_charset() or "us-ascii"
    try:
        return data.decode(charset)
    except LookupError:
        warnings.append(
            f"unknown charset {charset!r}: shown as UTF-8, some characters may be wrong"
        )
        return data.decode("utf-8", errors="replace")
    except UnicodeDecodeError:
        if charset in ("us-ascii", "ascii"):
            try:  # 8-bit text labelled ASCII is nearly always UTF-8
                return data.decode("utf-8")
            except UnicodeDecodeError:
                pass
        warnings.append(
            f"some bytes are not valid {charset}: they are shown as \N{REPLACEMENT CHARACTER}"
        )
        return data.decode(charset, errors="replace")


def _header_value(message: Message, name: str, raw_value: Any, warnings: list[str]) -> str:
    try:
        return " ".join(str(raw_value).split())
    except Exception:  # a header the typed registry cannot even render  # noqa: BLE001
        warnings.append(f"unreadable {name} header")
        return decode_text(str(message.get(name, "")))


def render(raw: bytes) -> RenderedMessage:
    """Parse ``raw`` with ``policy.default`` and build what a reader pane shows."""
    message = message_from_bytes(strip_bom(raw), policy=default)
    warnings: list[str] = []
    headers: list[tuple[str, str]] = []
    for name, value in message.items():
        headers.append((name, _header_value(message, name, value, warnings)))

    plain: list[str] = []
    html_parts: list[str] = []
    attachments: list[AttachmentInfo] = []
    for index, part in enumerate(message.walk()):
        for defect in part.defects:
            warnings.append(f"MIME problem: {type(defect).__name__}")
        if part.is_multipart():
            continue
        content_type = part.get_content_type()
        if part.get_content_maintype() == "multipart":
            # A multipart without a usable boundary: its body is all there is, show it as text.
            warnings.append(f"{content_type} part without a boundary: shown as plain text")
            plain.append(decode_part_text(part, warnings))
            continue
        if content_type not in ("text/plain", "text/html") or is_attachment(part):
            payload = part.get_payload(decode=True)
            filename = ""
            try:
                filename = part.get_filename() or ""
            except Exception:  # noqa: BLE001 - a broken RFC 2231 parameter
                warnings.append("an attachment has an unreadable file name")
            attachments.append(
                AttachmentInfo(
                    index=index,
                    filename=filename,
                    safe_name=safe_filename(filename, fallback=f"part-{index}"),
                    content_type=content_type,
                    size=len(payload) if isinstance(payload, bytes) else 0,
                    inline=(part.get_content_disposition() or "inline") == "inline",
                    content_id=(part.get("Content-ID") or "").strip("<> ") or None,
                )
            )
            continue
        if content_type == "text/html":
            html_parts.append(decode_part_text(part, warnings))
        elif part.get_content_maintype() == "text":
            plain.append(decode_part_text(part, warnings))

    html: str | None = None
    blocked: tuple[str, ...] = ()
    if html_parts:
        safe = sanitize("\n<hr>\n".join(html_parts))
        html, blocked = safe.html, safe.blocked
    text = "\n\n".join(plain) if plain else (html_to_text(html) if html else "")
    return RenderedMessage(
        headers=tuple(headers),
        subject=decode_text(message.get("Subject", "")),
        from_=_header_value(message, "From", message.get("From", ""), warnings),
        to=_header_value(message, "To", message.get("To", ""), warnings),
        cc=_header_value(message, "Cc", message.get("Cc", ""), warnings),
        date=str(message.get("Date", "")),
        text=text,
        html=html,
        blocked_remote=blocked,
        attachments=tuple(attachments),
        warnings=tuple(dict.fromkeys(warnings)),
    )


def attachment_bytes(raw: bytes, index: int) -> bytes:
    """The decoded content of the part at ``index`` (as numbered in :func:`render`)."""
    message = message_from_bytes(strip_bom(raw), policy=default)
    for position, part in enumerate(message.walk()):
        if position == index:
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else b""
    raise IndexError(index)
