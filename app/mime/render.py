"""A message made safe to show: decoded headers, text or sanitized HTML, attachments, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.mime.attachments import safe_filename
from app.mime.html import html_to_text, sanitize
from app.mime.reader import FOR_DISPLAY, header_text, part_text, read_message
from app.mime.summary import is_attachment


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


def _header_value(name: str, value: Any, source: Any, warnings: list[str]) -> str:
    """What the reader shows for one header: ``policy.default``'s typed value for well-formed
    mail; the shared decoder's reading when the header has raw 8-bit bytes or encoded-words
    the typed registry would not decode by the shared charset rules."""
    if isinstance(source, str) and (not source.isascii() or "=?" in source):
        problems: list[str] = []
        text = header_text(source, problems)
        if problems or not source.isascii():
            warnings.extend(problems)
            return text
    try:
        return " ".join(str(value).split())
    except Exception:  # a header the typed registry cannot even render  # noqa: BLE001
        warnings.append(f"unreadable {name} header")
        return header_text(str(source))


def render(raw: bytes) -> RenderedMessage:
    """Parse ``raw`` for display (typed headers) and build what a reader pane shows."""
    message = read_message(raw, FOR_DISPLAY)
    warnings: list[str] = []
    headers: list[tuple[str, str]] = []
    first: dict[str, str] = {}
    for (name, value), (_name, source) in zip(message.items(), message.raw_items(), strict=True):
        headers.append((name, _header_value(name, value, source, warnings)))
        first.setdefault(name.lower(), headers[-1][1])

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
            plain.append(part_text(part, warnings))
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
            html_parts.append(part_text(part, warnings))
        elif part.get_content_maintype() == "text":
            plain.append(part_text(part, warnings))

    html: str | None = None
    blocked: tuple[str, ...] = ()
    if html_parts:
        safe = sanitize("\n<hr>\n".join(html_parts))
        html, blocked = safe.html, safe.blocked
    text = "\n\n".join(plain) if plain else (html_to_text(html) if html else "")
    return RenderedMessage(
        headers=tuple(headers),
        subject=first.get("subject", ""),
        from_=first.get("from", ""),
        to=first.get("to", ""),
        cc=first.get("cc", ""),
        date=str(message.get("Date", "")),
        text=text,
        html=html,
        blocked_remote=blocked,
        attachments=tuple(attachments),
        warnings=tuple(dict.fromkeys(warnings)),
    )


def attachment_bytes(raw: bytes, index: int) -> bytes:
    """The decoded content of the part at ``index`` (as numbered in :func:`render`)."""
    message = read_message(raw, FOR_DISPLAY)
    for position, part in enumerate(message.walk()):
        if position == index:
            payload = part.get_payload(decode=True)
            return payload if isinstance(payload, bytes) else b""
    raise IndexError(index)
