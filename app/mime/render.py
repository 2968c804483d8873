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


def _has_raw_8bit(value: str) -> bool:
    """The parser keeps undeclared 8-bit header bytes as surrogate escapes (U+DC80–U+DCFF)."""
    return any("\udc80" <= char <= "\udcff" for char in value)


def _from_raw_8bit(value: str) -> str:
    """A header sent as raw 8-bit bytes (no RFC 2047): UTF-8 if it is, else Windows-1252 —
    what mail clients do — instead of replacement marks; encoded-words are still decoded."""
    data = value.encode("utf-8", "surrogateescape")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    return decode_text(text)


def _header_value(message: Message, name: str, raw_value: Any, warnings: list[str]) -> str:
    try:
        return " ".join(str(raw_value).split())
    except Exception:  # a header the typed registry cannot even render  # noqa: BLE001
        warnings.append(f"unreadable {name} header")
        return decode_text(str(message.get(name, "")))


def _shown(message: Message, raw_values: dict[str, Any], name: str, warnings: list[str]) -> str:
    raw_value = raw_values.get(name)
    if isinstance(raw_value, str) and _has_raw_8bit(raw_value):
        return _from_raw_8bit(raw_value)
    return _header_value(message, name, message.get(name, ""), warnings)


def render(raw: bytes) -> RenderedMessage:
    """Parse ``raw`` with ``policy.default`` and build what a reader pane shows."""
    message = message_from_bytes(strip_bom(raw), policy=default)
    warnings: list[str] = []
    headers: list[tuple[str, str]] = []
    raw_values = dict(message.raw_items())
    for (name, value), (_name, source) in zip(message.items(), message.raw_items(), strict=True):
        shown = (
            _from_raw_8bit(source) if isinstance(source, str) and _has_raw_8bit(source) else None
        )
        headers.append((name, shown or _header_value(message, name, value, warnings)))

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
        subject=_shown(message, raw_values, "Subject", warnings),
        from_=_shown(message, raw_values, "From", warnings),
        to=_shown(message, raw_values, "To", warnings),
        cc=_shown(message, raw_values, "Cc", warnings),
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
