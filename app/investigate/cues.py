"""Tracking and phishing cues, read from the message alone (nothing is ever fetched):
tracking pixels, tracked links, read-receipt requests, addresses hidden in display names,
a Reply-To elsewhere, and look-alike, mixed-script or punycode sender domains."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.message import Message
from email.utils import getaddresses
from enum import StrEnum
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from confusable_homoglyphs import confusables

from app.delivery.dkim import organisational
from app.mime.reader import FOR_INDEX, header_text, part_text, read_message

TOKEN = re.compile(r"^[A-Za-z0-9_\-=.%]{20,}$")
TRACK_PATH = re.compile(r"/(click|track|trk|open|redirect|r|c|l|ls|e)/", re.IGNORECASE)
RECEIPT_HEADERS = ("Disposition-Notification-To", "Return-Receipt-To", "X-Confirm-Reading-To")


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"


@dataclass(frozen=True)
class Cue:
    kind: str  # tracking-pixel | tracked-links | read-receipt | display-name-address |
    #            reply-to-elsewhere | mixed-script-domain | punycode-domain | lookalike-domain
    severity: Severity
    explanation: str

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _Html(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pixels: list[str] = []
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k.lower(): (v or "") for k, v in attrs}
        if tag == "img":
            src = values.get("src", "")
            if not src.lower().startswith(("http://", "https://", "//")):
                return
            style = values.get("style", "").replace(" ", "").lower()
            tiny = any(values.get(d, "").strip().rstrip("px") in ("0", "1") for d in ("width",
                       "height")) or "width:1px" in style or "height:1px" in style  # fmt: skip
            hidden = "display:none" in style or "visibility:hidden" in style
            if tiny or hidden:
                self.pixels.append(src)
        elif tag == "a":
            href = values.get("href", "")
            if href.lower().startswith(("http://", "https://")):
                self.links.append(href)


def _html_parts(message: Message) -> list[str]:
    texts = []
    for part in message.walk():
        if part.get_content_type() == "text/html":
            texts.append(part_text(part))
    return texts


def _tracked(url: str) -> bool:
    parts = urlsplit(url)
    if any(TOKEN.match(value) for _, value in parse_qsl(parts.query)):
        return True
    segments = [s for s in parts.path.split("/") if s]
    return bool(TRACK_PATH.search(parts.path)) and any(TOKEN.match(s) for s in segments)


def _unicode_domain(domain: str) -> str:
    labels = []
    for label in domain.split("."):
        if label.lower().startswith("xn--"):
            try:
                labels.append(label.encode("ascii").decode("idna"))
            except UnicodeError:
                labels.append(label)
        else:
            labels.append(label)
    return ".".join(labels)


def _distance_one(a: str, b: str) -> bool:
    """True when ``a`` and ``b`` differ by one edit (a typo-squat such as c1inic/clinic)."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    shorter, longer = sorted((a, b), key=len)
    return any(longer[:i] + longer[i + 1 :] == shorter for i in range(len(longer)))


def _skeleton(text: str) -> str:
    """``text`` with each non-ASCII look-alike replaced by the Latin letter it imitates."""
    found = confusables.is_confusable(text, greedy=True, preferred_aliases=["latin"]) or []
    swap = {
        item["character"]: item["homoglyphs"][0]["c"]
        for item in found
        if item.get("homoglyphs") and ord(item["character"]) > 127
    }
    return "".join(swap.get(c, c) for c in text)


def _html_links(message: Message) -> tuple[list[str], list[str]]:
    pixels: list[str] = []
    links: list[str] = []
    for html in _html_parts(message):
        parser = _Html()
        with contextlib.suppress(Exception):  # broken HTML: what was read counts
            parser.feed(html)
        pixels += parser.pixels
        links += parser.links
    return pixels, links


def cues(raw: bytes, known_domains: Iterable[str] = ()) -> list[Cue]:
    """Every cue found; a message without any gives an empty list. Never raises."""
    try:
        message = read_message(raw, FOR_INDEX)
    except Exception:  # noqa: BLE001
        return []
    found: list[Cue] = []

    def add(kind: str, severity: Severity, text: str) -> None:
        found.append(Cue(kind, severity, text))

    pixels, links = _html_links(message)
    if pixels:
        hosts = sorted({urlsplit(p if "//" in p else "http:" + p).hostname or "?" for p in pixels})
        add(
            "tracking-pixel",
            Severity.INFO,
            f"{len(pixels)} tracking pixel(s) from {', '.join(hosts)}: tiny or hidden remote "
            "images that tell the sender when the mail is opened — Mailproof never loads them",
        )
    tracked = [link for link in links if _tracked(link)]
    if tracked:
        hosts = sorted({urlsplit(link).hostname or "?" for link in tracked})
        add(
            "tracked-links",
            Severity.INFO,
            f"{len(tracked)} link(s) carry per-recipient tokens or go through a redirector "
            f"({', '.join(hosts)}): clicking tells the sender who clicked",
        )
    if any(message.get(header) for header in RECEIPT_HEADERS):
        add(
            "read-receipt",
            Severity.INFO,
            "the sender asked for a read receipt — Mailproof never sends one",
        )
    senders = getaddresses([header_text(v) for v in message.get_all("From") or []])
    display, address = senders[0] if senders else ("", "")
    address = address.lower()
    hidden = re.findall(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", display)
    if any(h.lower() != address for h in hidden):
        add(
            "display-name-address",
            Severity.WARNING,
            f"the sender's name shows the address {hidden[0]}, but the mail comes from "
            f"{address or 'an unknown address'}",
        )
    domain = address.rsplit("@", 1)[1] if "@" in address else ""
    for _, reply in getaddresses([header_text(v) for v in message.get_all("Reply-To") or []]):
        reply_domain = reply.rsplit("@", 1)[1].lower() if "@" in reply else ""
        if domain and reply_domain and organisational(reply_domain) != organisational(domain):
            add(
                "reply-to-elsewhere",
                Severity.WARNING,
                f"replies go to {reply} at {reply_domain}, not to the sender's domain {domain}",
            )
            break
    if domain:
        found += _domain_cues(domain, {d.lower() for d in known_domains})
    return found


def _domain_cues(domain: str, ours: set[str]) -> list[Cue]:
    found = []
    shown = _unicode_domain(domain)
    if shown != domain:
        found.append(
            Cue(
                "punycode-domain",
                Severity.WARNING,
                f"the sender's domain {domain} is really {shown} (an internationalized name)",
            )
        )
    if confusables.is_mixed_script(shown.replace(".", "").replace("-", "")):
        found.append(
            Cue(
                "mixed-script-domain",
                Severity.WARNING,
                f"the sender's domain {shown} mixes alphabets (e.g. Latin and Cyrillic letters "
                "that look the same)",
            )
        )
    if domain not in ours and shown not in ours:
        skeleton = _skeleton(shown)
        for known in sorted(ours):
            if _distance_one(domain, known) or skeleton == known:
                found.append(
                    Cue(
                        "lookalike-domain",
                        Severity.WARNING,
                        f"the sender's domain {shown} looks like {known}, a domain you "
                        "correspond with — but it is a different domain",
                    )
                )
                break
    return found
