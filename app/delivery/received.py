"""Received headers → hops in travel order (oldest first). A pure function over the header
strings: Postfix, Exim, Sendmail, qmail, Exchange/Office 365, Gmail, Dovecot LMTP, IPv6
literals, nested comments, obsolete dates. A header it cannot read is kept, never dropped.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_tz
from typing import Any

from app.mime.reader import HEADERS_ONLY, raw_header_text, read_message

MAX_HEADER = 64 * 1024  # longer values are cut before parsing (kept whole in ``raw``)

TLS_PROTOCOLS = {"ESMTPS", "ESMTPSA", "LMTPS", "SMTPS", "HTTPS", "UTF8SMTPS", "UTF8SMTPSA"}
PLAIN_PROTOCOLS = {"SMTP", "ESMTP", "ESMTPA", "LMTP", "LMTPA", "UTF8SMTP", "HTTP"}

_TLS_VERSION = re.compile(
    r"\b(TLS\s?v?1(?:[._]\d)?|TLS1_\d|SSLv3|TLS1\.\d)\b", re.IGNORECASE
)  # fmt: skip
_CIPHER = re.compile(r"cipher[=\s]+([A-Z0-9_\-]+(?:-[A-Z0-9_]+)*)", re.IGNORECASE)
_EXIM_TLS = re.compile(r"\btls\s+(TLS_[A-Z0-9_]+|[A-Z0-9]+(?:-[A-Z0-9]+)+)", re.IGNORECASE)
_EXIM_PROTO_TLS = re.compile(r"\((TLS1\.\d|TLSv1(?:\.\d)?)\)", re.IGNORECASE)
_IPV4 = re.compile(r"\b(\d{1,3}(?:\.\d{1,3}){3})\b")
_IPV6 = re.compile(r"\[(?:IPv6:)?([0-9a-fA-F:]+(?::\d{1,3}(?:\.\d{1,3}){3})?)\]")
_BARE_IPV6 = re.compile(r"\(([0-9a-fA-F]{1,4}(?::[0-9a-fA-F]{0,4}){2,7})\)")
_ZONE_COMMENT = re.compile(r"\([A-Za-z]{2,5}\)\s*$")


@dataclass(frozen=True)
class Hop:
    from_host: str | None
    from_ip: str | None
    by_host: str | None
    protocol: str | None
    id: str | None
    for_: str | None
    timestamp: str | None  # ISO 8601 UTC
    tls: dict[str, str | None] | bool | None
    delay_seconds: int | None
    parsed: bool
    raw: str
    warnings: tuple[str, ...] = field(default=())

    @property
    def tls_text(self) -> str:
        """What the hop says of TLS, for people: "TLSv1.3 TLS_AES_…", "TLS", "no TLS"."""
        if isinstance(self.tls, dict):
            return f"{self.tls.get('version') or 'TLS'} {self.tls.get('cipher') or ''}".strip()
        return {True: "TLS", False: "no TLS", None: "TLS unknown"}[self.tls]

    def to_json(self) -> dict[str, Any]:
        return {
            "from_host": self.from_host,
            "from_ip": self.from_ip,
            "by_host": self.by_host,
            "protocol": self.protocol,
            "id": self.id,
            "for": self.for_,
            "timestamp": self.timestamp,
            "tls": self.tls,
            "delay_seconds": self.delay_seconds,
            "parsed": self.parsed,
            "raw": self.raw,
            "warnings": list(self.warnings),
        }


def unfold(value: str) -> str:
    return " ".join(value.split())


def _strip_comments(text: str) -> tuple[str, list[str]]:
    """Text outside parentheses, and each top-level comment (nested ones kept inside)."""
    outside: list[str] = []
    comments: list[str] = []
    depth = 0
    current: list[str] = []
    for char in text:
        if char == "(":
            if depth == 0:
                current = []
            else:
                current.append(char)
            depth += 1
        elif char == ")" and depth > 0:
            depth -= 1
            if depth == 0:
                comments.append("".join(current))
                outside.append(" ")
            else:
                current.append(char)
        elif depth > 0:
            current.append(char)
        else:
            outside.append(char)
    if depth > 0:  # unbalanced: what is left open counts as a comment
        comments.append("".join(current))
    return "".join(outside), comments


def parse_date(text: str) -> dt.datetime | None:
    """RFC 5322 dates incl. obsolete forms (2-digit years, UT/GMT/EST, military zones, no
    seconds, no weekday); trailing zone comments like ``(UTC)`` are ignored."""
    cleaned = _ZONE_COMMENT.sub("", unfold(text)).strip().rstrip(";").strip()
    cleaned = re.sub(r"\([^)]*\)", " ", cleaned)
    if not cleaned:
        return None
    parts = parsedate_tz(cleaned)
    if parts is None:
        match = re.search(
            r"(\d{1,2})\s+([A-Za-z]{3})[a-z]*\s+(\d{2,4})\s+(\d{1,2}):(\d{2})(?::(\d{2}))?"
            r"(?:\s*([+-]\d{4}|[A-Za-z]{1,5}))?",
            cleaned,
        )
        if match is None:
            return None
        day, month, year, hour, minute, second, zone = match.groups()
        rebuilt = f"{day} {month} {year} {hour}:{minute}:{second or '00'} {zone or '-0000'}"
        parts = parsedate_tz(rebuilt)
        if parts is None:
            return None
    year = parts[0]
    if year < 50:
        year += 2000
    elif year < 100:
        year += 1900
    offset = parts[9] or 0  # unknown zones (and military letters) count as UTC
    try:
        moment = dt.datetime(year, parts[1], parts[2], parts[3], parts[4], parts[5])
    except ValueError:
        return None
    return (moment - dt.timedelta(seconds=offset)).replace(tzinfo=dt.UTC)


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ") if moment else None


def _clauses(text: str) -> dict[str, str]:
    """``from X (…) by Y (…) with Z id W for <V>`` → {keyword: value-with-its-comments}."""
    tokens = re.split(r"(?i)(?:^|\s)(from|by|via|with|id|for)\s+", " " + text)
    found: dict[str, str] = {}
    # tokens: ['', kw, value, kw, value, ...]; a keyword inside a comment was protected by
    # scanning comments out first (see parse_one), so splitting here is safe.
    for index in range(1, len(tokens) - 1, 2):
        keyword = tokens[index].lower()
        if keyword not in found:
            found[keyword] = tokens[index + 1].strip()
    return found


def _ip(candidate: str) -> str | None:
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


def _find_ip(text: str) -> str | None:
    for match in _IPV6.finditer(text):
        found = _ip(match.group(1))
        if found:
            return found
    for match in _BARE_IPV6.finditer(text):
        found = _ip(match.group(1))
        if found:
            return found
    for match in _IPV4.finditer(text):
        found = _ip(match.group(1))
        if found:
            return found
    for token in text.split():
        found = _ip(token.strip("[](),;").removeprefix("IPv6:").split("%")[0])
        if found:
            return found
    return None


def _tls(protocol: str | None, comments: str) -> dict[str, str | None] | bool | None:
    version = _TLS_VERSION.search(comments)
    cipher = _CIPHER.search(comments) or _EXIM_TLS.search(comments)
    named_version = version.group(1).replace(" ", "") if version else None
    if named_version or cipher:
        return {"version": named_version, "cipher": cipher.group(1) if cipher else None}
    if protocol in TLS_PROTOCOLS or (protocol or "").startswith("MICROSOFT SMTP SERVER (VER"):
        return True
    if "google transport security" in comments.lower():
        return True
    if protocol in PLAIN_PROTOCOLS:
        return False
    return None


def _protected(text: str) -> str:
    """Comments replaced by placeholders so keywords inside them do not split clauses."""
    out: list[str] = []
    depth = 0
    for char in text:
        if char == "(":
            depth += 1
            out.append("(" if depth == 1 else "\x01")
        elif char == ")" and depth > 0:
            depth -= 1
            out.append(")" if depth == 0 else "\x02")
        elif depth > 0 and char == " ":
            out.append("\x00")
        else:
            out.append(char)
    return "".join(out)


def _restore(text: str) -> str:
    return text.replace("\x00", " ").replace("\x01", "(").replace("\x02", ")")


def parse_one(value: str) -> Hop:
    """One Received header value (folded or not) → a Hop with ``delay_seconds`` unset."""
    raw = unfold(value)
    text = raw[:MAX_HEADER]
    body, _, date_text = text.rpartition(";")
    if not _:
        body, date_text = text, ""
    warnings: list[str] = []
    moment = parse_date(date_text) if date_text else None
    if date_text and moment is None:
        # a ";" inside a comment, or a date we cannot read
        warnings.append(f"date not readable: {date_text.strip()[:60]!r}")
    clauses = {k: _restore(v) for k, v in _clauses(_protected(body)).items()}
    _outside, comments = _strip_comments(body)
    all_comments = " ".join(comments)
    qmail = re.search(r"qmail \d+ invoked (?:by uid \d+|from network)", body)
    if not clauses and not qmail:
        return Hop(None, None, None, None, None, None, _iso(moment), None, None, False, raw,
                   ("not a Received header Mailproof can read",))  # fmt: skip
    from_value = clauses.get("from", "")
    from_host = from_value.split()[0].strip("[]") if from_value.split() else None
    if from_host and from_host.lower().startswith("ipv6:"):
        from_host = from_host[5:]
    if from_host and from_host.startswith("("):
        from_host = None
    # The address the receiving MTA saw sits in the comment; the HELO name may lie.
    from_outside, from_comments = _strip_comments(from_value)
    from_ip = (
        _find_ip(" ".join(from_comments))
        or _find_ip(from_outside)
        or (_ip(from_host) if from_host else None)
    )
    by_value = clauses.get("by", "")
    by_host = by_value.split()[0] if by_value.split() else None
    with_value = clauses.get("with", "")
    protocol = None
    if with_value:
        first = with_value.split()[0].upper()
        # Exchange writes "with Microsoft SMTP Server (version=…)"
        protocol = "SMTP" if first == "MICROSOFT" else first.rstrip(";")
    id_value = clauses.get("id", "")
    hop_id = id_value.split()[0].rstrip(";") if id_value.split() else None
    for_value = clauses.get("for", "")
    recipient = for_value.split()[0].strip("<>;") if for_value.split() else None
    if qmail and not by_host:
        warnings.append("qmail local hand-off (" + qmail.group(0) + ")")
    tls_source = all_comments + " " + with_value
    tls = _tls(protocol, tls_source)
    if protocol is None and "microsoft smtp server" in tls_source.lower():
        protocol = "SMTP"
    if moment is None and not date_text:
        warnings.append("this hop carries no date")
    return Hop(
        from_host=from_host,
        from_ip=from_ip,
        by_host=by_host,
        protocol=protocol,
        id=hop_id,
        for_=recipient or None,
        timestamp=_iso(moment),
        tls=tls,
        delay_seconds=None,
        parsed=bool(by_host or from_host or qmail),
        raw=raw,
        warnings=tuple(warnings),
    )


def _is_private(ip: str | None) -> bool:
    if not ip:
        return False
    address = ipaddress.ip_address(ip)
    return address.is_private or address.is_loopback or address.is_link_local


def parse_received(values: Sequence[str]) -> list[Hop]:
    """Header order (newest first, as ``get_all`` gives them) → hops in travel order."""
    hops = [parse_one(value) for value in reversed(list(values))]
    result: list[Hop] = []
    previous: dt.datetime | None = None
    seen_public = False
    for hop in hops:
        warnings = list(hop.warnings)
        moment = (
            dt.datetime.fromisoformat(hop.timestamp.replace("Z", "+00:00"))
            if hop.timestamp
            else None
        )
        delay = None
        if moment is not None and previous is not None:
            delay = int((moment - previous).total_seconds())
            if delay < 0:
                warnings.append(f"clock skew: this hop is dated {-delay} s before the previous one")
        if hop.from_ip and not _is_private(hop.from_ip):
            seen_public = True
        elif hop.from_ip and _is_private(hop.from_ip) and seen_public:
            warnings.append(
                f"private address {hop.from_ip} after the message crossed the public internet"
            )
        if moment is not None:
            previous = moment
        result.append(
            Hop(
                **{
                    **hop.__dict__,
                    "delay_seconds": delay,
                    "warnings": tuple(warnings),
                }
            )
        )
    return result


def received_values(raw: bytes) -> list[str]:
    """The Received header values of a raw message (8-bit bytes decoded leniently)."""
    message = read_message(raw, HEADERS_ONLY)
    return [raw_header_text(value) for value in message.get_all("Received") or []]


def hops_of(raw: bytes) -> list[Hop]:
    try:
        return parse_received(received_values(raw))
    except Exception:  # noqa: BLE001 - the parser must never take the trace down
        return []
