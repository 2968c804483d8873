"""Bounces: delivery-status notifications (RFC 3464) and the common non-standard formats
(through ``flufl.bounce``), each recipient's status explained in words, linked to the original.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from email.policy import compat32
from email.utils import parseaddr
from typing import Any

from flufl.bounce import all_failures

from app.mime.reader import header_text, part_text

# RFC 3463 / RFC 5248 enhanced status codes, subject.detail → words a user understands.
DETAILS = {
    "1.0": "the address was not accepted",
    "1.1": "the recipient's mailbox does not exist (unknown user)",
    "1.2": "the recipient's domain does not exist or takes no mail",
    "1.3": "the recipient address is malformed",
    "1.6": "the recipient has moved and left no forwarding address",
    "1.10": "the recipient's domain declares it accepts no mail (null MX)",
    "2.0": "the recipient's mailbox has a problem",
    "2.1": "the recipient's mailbox is disabled",
    "2.2": "the recipient's mailbox is full (over quota)",
    "2.3": "the message is larger than the recipient's mailbox accepts",
    "3.0": "the receiving mail system has a problem",
    "3.1": "the receiving mail system is full",
    "3.4": "the message is larger than the receiving system accepts",
    "4.0": "a network or routing problem",
    "4.1": "the receiving server did not answer",
    "4.2": "the connection to the receiving server broke",
    "4.4": "no route to the recipient's domain (no mail server found)",
    "4.6": "the message was forwarded in a loop",
    "4.7": "delivery took too long and the sending server gave up",
    "5.0": "the servers could not talk to each other properly (protocol error)",
    "5.3": "there were too many recipients",
    "6.0": "the message content was not accepted",
    "7.0": "the message was rejected by a security or policy rule",
    "7.1": "the recipient's server refused the message by policy (sender not allowed, "
    "or the message looked like spam)",
    "7.7": "the message failed an integrity check",
    "7.10": "the recipient's server requires an encrypted (TLS) connection, which was not "
    "available",
    "7.11": "encryption is required for the authentication method used",
    "7.23": "the sender's SPF record does not allow the server that sent it",
    "7.25": "the sending server's IP address has no matching reverse DNS name",
    "7.26": "the message failed the sender domain's authentication (DKIM/SPF/DMARC)",
    "7.27": "the sender's domain declares it sends no mail (null MX)",
}
TLS_HINTS = ("tls", "starttls", "encryption")
HEURISTICS = (
    (re.compile(r"user unknown|unknown user|no such user|does not exist|not found|invalid "
                r"recipient|recipient rejected|unrouteable|no mailbox", re.I), "1.1"),
    (re.compile(r"mailbox (is )?full|over ?quota|quota exceeded|insufficient storage", re.I),
     "2.2"),
    (re.compile(r"too (big|large)|size limit|message size", re.I), "3.4"),
    (re.compile(r"must use tls|requires? (starttls|tls|encryption)|tls required", re.I), "7.10"),
    (re.compile(r"spam|blocked|blacklist|denied|policy|not allowed|refused", re.I), "7.1"),
    (re.compile(r"host not found|domain not found|no mx|name service error", re.I), "1.2"),
    (re.compile(r"timed? ?out|expired|gave up|too long", re.I), "4.7"),
)  # fmt: skip
_STATUS = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_SMTP = re.compile(r"\b([245])\d\d\b")
_BOUNCE_SENDERS = re.compile(r"mailer-daemon|postmaster|mail delivery", re.I)
_BOUNCE_SUBJECTS = re.compile(
    r"undeliver|delivery status notification|failure notice|returned mail|"
    r"delivery (has )?failed|mail delivery failed|non.?delivery|could not be delivered",
    re.I,
)


@dataclass(frozen=True)
class BounceRecipient:
    recipient: str
    action: str | None  # failed | delayed | delivered | relayed | expanded (RFC 3464)
    status: str | None  # e.g. "5.1.1"
    diagnostic: str | None
    remote_mta: str | None
    permanent: bool | None
    explanation: str
    suggestion: str | None = None  # "did you mean …" for a near-miss address

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Bounce:
    format: str  # "rfc3464" | the flufl.bounce detector's findings ("heuristic")
    reporting_mta: str | None
    original_message_id: str | None
    original_subject: str | None
    original_from: str | None
    recipients: tuple[BounceRecipient, ...]
    summary: str
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["recipients"] = [r.to_json() for r in self.recipients]
        data["warnings"] = list(self.warnings)
        return data


def explain(status: str | None, diagnostic: str | None = None) -> tuple[str, bool | None]:
    """Words for an enhanced status code (or, without one, for the diagnostic text)."""
    text = diagnostic or ""
    code = _STATUS.search(status or "") or _STATUS.search(text)
    if code is None:
        for pattern, detail in HEURISTICS:
            if pattern.search(text):
                smtp = _SMTP.search(text)
                klass = smtp.group(1) if smtp else None
                permanent = None if klass is None else klass == "5"
                return DETAILS[detail] + _class_words(klass), permanent
        smtp = _SMTP.search(text)
        if smtp:
            return "the receiving server refused the message" + _class_words(smtp.group(1)), (
                smtp.group(1) == "5"
            )
        return "the reason was not given in a form Mailproof can read", None
    klass, subject, detail = code.groups()
    words = DETAILS.get(f"{subject}.{detail}") or DETAILS.get(f"{subject}.0") or "delivery failed"
    if subject == "7" and detail not in ("10", "11") and any(h in text.lower() for h in TLS_HINTS):
        words = DETAILS["7.10"]
    if klass == "2":
        return "delivered (the report confirms delivery)", False
    return words + _class_words(klass), klass == "5"


def _class_words(klass: str | None) -> str:
    if klass == "5":
        return " — a permanent failure: the message was not delivered"
    if klass == "4":
        return " — a temporary problem: the sending server keeps trying for a while"
    return ""


def did_you_mean(address: str, known: Iterable[str]) -> str | None:
    """A near-miss among known correspondents (a typo in the local part or the domain)."""
    address = address.lower()
    candidates = [k.lower() for k in known if k and k.lower() != address]
    close = difflib.get_close_matches(address, candidates, n=1, cutoff=0.85)
    return close[0] if close else None


def _clean_address(value: str | None) -> str:
    text = (value or "").strip()
    if ";" in text:  # "rfc822; bob@example.org"
        text = text.split(";", 1)[1]
    return parseaddr(text)[1] or text.strip().strip("<>")


def _original(message: Message) -> tuple[str | None, str | None, str | None]:
    """Message-ID, Subject and From of the returned original (message/rfc822 or headers)."""
    for part in message.walk():
        kind = part.get_content_type()
        inner: Message | None = None
        if kind == "message/rfc822":
            payload = part.get_payload()
            first = payload[0] if isinstance(payload, list) and payload else None
            inner = first if isinstance(first, Message) else None
        elif kind == "text/rfc822-headers":
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):
                inner = message_from_bytes(data, policy=compat32)
        if inner is not None and (inner.get("Message-ID") or inner.get("Subject")):
            mid = inner.get("Message-ID")
            return (
                str(mid).strip() if mid else None,
                header_text(inner.get("Subject")) or None,
                header_text(inner.get("From")) or None,
            )
    return None, None, None


def _dsn_blocks(message: Message) -> list[Message] | None:
    for part in message.walk():
        if part.get_content_type() == "message/delivery-status":
            payload = part.get_payload()
            if isinstance(payload, list):
                return [p for p in payload if isinstance(p, Message)]
            data = part.get_payload(decode=True)
            if isinstance(data, bytes):  # some writers base64 it: parse the blocks ourselves
                text = data.replace(b"\r\n", b"\n")
                return [
                    message_from_bytes(block + b"\n", policy=compat32)
                    for block in text.split(b"\n\n")
                    if block.strip()
                ]
    return None


def read_bounce(raw: bytes, known_addresses: Iterable[str] = ()) -> Bounce | None:
    """The bounce in ``raw``, or None when it is not a bounce. Never raises on bad input."""
    try:
        message = message_from_bytes(raw, policy=compat32)
        known = list(known_addresses)
        blocks = _dsn_blocks(message)
        if blocks:
            return _from_dsn(message, blocks, known)
        return _from_heuristics(message, known)
    except Exception:  # noqa: BLE001 - a damaged bounce is "not readable", never a crash
        return None


def _from_dsn(message: Message, blocks: list[Message], known: list[str]) -> Bounce:
    per_message, recipients_blocks = blocks[0], blocks[1:]
    reporting = _clean_address(per_message.get("Reporting-MTA")) or None
    recipients = []
    for block in recipients_blocks:
        recipient = _clean_address(block.get("Final-Recipient") or block.get("Original-Recipient"))
        if not recipient:
            continue
        status = (block.get("Status") or "").strip() or None
        diagnostic = " ".join(str(block.get("Diagnostic-Code") or "").split()) or None
        if diagnostic and ";" in diagnostic.split(" ", 1)[0]:
            diagnostic = diagnostic.split(";", 1)[1].strip()
        words, permanent = explain(status, diagnostic)
        suggestion = did_you_mean(recipient, known) if status and status[2:5] == "1.1" else None
        if suggestion:
            words += f"; did you mean {suggestion}?"
        recipients.append(
            BounceRecipient(
                recipient=recipient,
                action=(block.get("Action") or "").strip().lower() or None,
                status=status,
                diagnostic=diagnostic,
                remote_mta=_clean_address(block.get("Remote-MTA")) or None,
                permanent=permanent,
                explanation=words,
                suggestion=suggestion,
            )
        )
    return _bounce("rfc3464", message, reporting, recipients)


def _from_heuristics(message: Message, known: list[str]) -> Bounce | None:
    sender = str(message.get("From") or "")
    subject = header_text(message.get("Subject"))
    looks_like = bool(_BOUNCE_SENDERS.search(sender) or _BOUNCE_SUBJECTS.search(subject))
    temporary, permanent = all_failures(message)
    if not (temporary or permanent) or not looks_like:
        return None
    text = _plain_text(message)
    recipients = []
    for address, is_permanent in [(a, False) for a in temporary] + [(a, True) for a in permanent]:
        shown = address.decode("utf-8", "replace") if isinstance(address, bytes) else str(address)
        shown = _clean_address(shown)
        nearby = _line_about(text, shown)
        words, guessed = explain(None, nearby)
        suggestion = did_you_mean(shown, known) if "unknown user" in words else None
        if suggestion:
            words += f"; did you mean {suggestion}?"
        recipients.append(
            BounceRecipient(
                recipient=shown,
                action="failed" if is_permanent else "delayed",
                status=None,
                diagnostic=nearby or None,
                remote_mta=None,
                permanent=is_permanent if guessed is None else guessed,
                explanation=words,
                suggestion=suggestion,
            )
        )
    bounce = _bounce("heuristic", message, None, recipients)
    return Bounce(
        **{
            **bounce.__dict__,
            "warnings": (
                "not a standard delivery-status report: the recipients and reasons were read "
                "from the text and may be incomplete",
            ),
        }
    )


def _plain_text(message: Message) -> str:
    chunks = []
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            chunks.append(part_text(part))
    return "\n".join(chunks)


def _line_about(text: str, address: str) -> str:
    """The sentence around ``address`` in a free-text bounce (the server's own words)."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        if address.lower() in line.lower():
            window = " ".join(x.strip() for x in lines[index : index + 4] if x.strip())
            return window[:400]
    return ""


def _bounce(kind: str, message: Message, reporting: str | None, recipients: list[Any]) -> Bounce:
    mid, subject, sender = _original(message)
    failed = [r for r in recipients if r.permanent]
    delayed = [r for r in recipients if r.permanent is False and r.action != "delivered"]
    if failed:
        summary = (
            f"not delivered to {', '.join(r.recipient for r in failed)}: {failed[0].explanation}"
        )
    elif delayed:
        summary = f"delayed for {', '.join(r.recipient for r in delayed)}: {delayed[0].explanation}"
    elif recipients:
        summary = f"report for {', '.join(r.recipient for r in recipients)}"
    else:
        summary = "a delivery report that names no recipient"
    return Bounce(
        format=kind,
        reporting_mta=reporting,
        original_message_id=mid,
        original_subject=subject,
        original_from=sender,
        recipients=tuple(recipients),
        summary=summary,
    )
