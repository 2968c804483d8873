#!/usr/bin/env python3
"""Generate the bundled demo mail archive for Mailproof (``resources/demo/``).

The archive is a Maildir++ tree describing the mailbox of a fictional hospital
physician, Dr. Lena Hartmann, at the fictional "St.-Aurelia-Klinikum"
(``clinic.example``).  Every person, patient, organisation and domain in it is
invented; only reserved names are used (``*.example``, ``*.test``,
``example.org/.com/.net``) and documentation IP ranges (RFC 5737).

Layout
------
::

    resources/demo/                 INBOX   (the Maildir++ root)
        cur/ new/ tmp/
        .Sent/      cur/ new/ tmp/ maildirfolder
        .BACKUP/    cur/ new/ tmp/ maildirfolder
        .Junk/      cur/ new/ tmp/ maildirfolder

Nothing but messages and the empty ``maildirfolder`` markers lives in the
tree.  Messages sit in ``cur/`` as
``<unix-time>.M<n>P7311.demo,S=<size>:2,<flags>`` where ``<unix-time>`` is the
delivery time, ``<n>`` a running number, ``S=`` the exact file size in bytes
and ``<flags>`` the usual Maildir flags in ASCII order (``F`` flagged, ``P``
passed/forwarded, ``R`` replied, ``S`` seen; an empty flag list means unseen).
The three most recent INBOX messages have just been delivered and sit in
``new/`` as ``<unix-time>.M<n>P7311.demo,S=<size>`` (no info suffix).  All
``tmp/`` directories and the subfolders' ``new/`` are empty; git does not keep
empty directories, so a checkout lacks them and readers must treat them as
optional (or create them).  File mtimes are set to the delivery time.

Messages are built exclusively with :class:`email.message.EmailMessage` and
serialised with ``email.policy.default``, i.e. with LF line endings (the usual
on-disk Maildir convention).  Headers with non-ASCII text are RFC 2047 encoded
and non-ASCII attachment names RFC 2231 encoded by the ``email`` package.
Contents cover: ~17 threads (In-Reply-To/References chains, some spanning
INBOX, Sent and BACKUP), multipart/alternative and HTML-only mail (several
pulling remote content: tracking pixels, remote stylesheets, CSS
``background:url()``, ``@font-face``/``@import``), one multipart/related
message with a ``cid:`` image, a forwarded message/rfc822, attachments (PDF,
PNG, CSV, iCalendar, DOCX, text) including non-ASCII and hostile file names,
bodies in UTF-8 (quoted-printable, base64), ISO-8859-1, ISO-8859-7,
windows-1252 and ISO-2022-JP, mailing-list mail, mail with ~30 recipients and
phishing/spam in Junk.

Output is deterministic: a fixed random seed, fixed dates and explicit MIME
boundaries, so re-running produces byte-identical files.

What the messages say, who sends them and the everyday mail's templates are data, under
``resources/demo-source/`` (see the README there); this program turns them into messages.

Usage::

    python scripts/make_demo.py [OUTDIR]          # (re)generate, default resources/demo
    python scripts/make_demo.py --check [OUTDIR]  # verify an existing archive

Regeneration deletes and recreates OUTDIR only; it refuses to delete a
directory that holds anything other than the Maildir++ entries it writes.
"""

from __future__ import annotations

import argparse
import base64
import email
import email.policy
import email.utils
import io
import os
import random
import re
import shutil
import struct
import sys
import textwrap
import tomllib
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from email.headerregistry import Address, Group
from email.message import EmailMessage
from html import escape
from pathlib import Path
from typing import Any

SEED = 20240917
PID = 7311
HOST = "demo"
POLICY = email.policy.default  # LF line endings; RFC 2047 / RFC 2231 encoding
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "resources" / "demo"
SOURCE = ROOT / "resources" / "demo-source"
FOLDER_DIRS = {"INBOX": "", "Sent": ".Sent", "BACKUP": ".BACKUP", "Junk": ".Junk"}
EXPECTED = {"INBOX": 120, "Sent": 40, "BACKUP": 30, "Junk": 10}
MAX_TOTAL_BYTES = 3 * 1024 * 1024
FILENAME_RE = re.compile(
    r"^(?P<time>\d{10})\.M(?P<n>\d+)P(?P<pid>\d+)\.(?P<host>[A-Za-z0-9-]+)"
    r",S=(?P<size>\d+)(?::2,(?P<flags>[A-Z]*))?$"
)


def _load(path: Path) -> dict[str, Any]:
    return tomllib.loads(path.read_text(encoding="utf-8"))


FILLERS = _load(SOURCE / "fillers.toml")  # the everyday mail: plan, templates and tables


# --------------------------------------------------------------------------- time


def _last_sunday(year: int, month: int) -> date:
    nxt = date(year + month // 12, month % 12 + 1, 1)
    last = nxt - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - 6) % 7)


def _summer(naive: datetime) -> bool:
    """EU daylight-saving rule (last Sunday of March to last Sunday of October)."""
    start = datetime.combine(_last_sunday(naive.year, 3), time(2))
    end = datetime.combine(_last_sunday(naive.year, 10), time(3))
    return start <= naive < end


# zone kind -> (standard offset in minutes, observes EU-style DST)
_ZONES = {
    "eu": (60, True),
    "uk": (0, True),
    "gr": (120, True),
    "jp": (540, False),
    "cn": (480, False),
    "utc": (0, False),
    "us": (-300, False),
    "in": (330, False),
}


def at(zone: str, y: int, mo: int, d: int, h: int = 9, mi: int = 0, s: int = 0) -> datetime:
    """An aware datetime for a wall-clock time in one of the zones above."""
    naive = datetime(y, mo, d, h, mi, s)
    base, dst = _ZONES[zone]
    off = base + (60 if dst and _summer(naive) else 0)
    return naive.replace(tzinfo=timezone(timedelta(minutes=off)))


def in_zone(moment: datetime, zone: str) -> datetime:
    base, dst = _ZONES[zone]
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    off = base + (60 if dst and _summer(utc + timedelta(minutes=base)) else 0)
    return moment.astimezone(timezone(timedelta(minutes=off)))


def local_time(text: str, zone: str = "eu") -> datetime:
    """A "YYYY-MM-DD HH:MM" wall-clock time of the data files, in one of the zones above."""
    naive = datetime.strptime(text, "%Y-%m-%d %H:%M")
    return at(zone, naive.year, naive.month, naive.day, naive.hour, naive.minute)


# --------------------------------------------------------------------------- people


@dataclass(frozen=True)
class Person:
    name: str
    addr: str

    @property
    def address(self) -> Address:
        return Address(display_name=self.name, addr_spec=self.addr)

    @property
    def domain(self) -> str:
        return self.addr.rsplit("@", 1)[1]

    @property
    def first(self) -> str:
        parts = [p for p in self.name.split() if not p.endswith(".")]
        return parts[0] if parts else self.name


_PEOPLE_DATA = _load(SOURCE / "people.toml")
PEOPLE = {key: Person(**value) for key, value in _PEOPLE_DATA["people"].items()}
ME = PEOPLE["me"]
SIG_DASHES = "-- "  # the signature delimiter (dash, dash, space)
SIGNATURES = {
    key: SIG_DASHES + "\n" + value.removesuffix("\n")
    for key, value in _PEOPLE_DATA["signatures"].items()
}
PATIENT_FIRST: list[str] = _PEOPLE_DATA["patients"]["first"]
PATIENT_LAST: list[str] = _PEOPLE_DATA["patients"]["last"]
_TRANSLIT = str.maketrans(_PEOPLE_DATA["transliteration"])


def ascii_name(text: str) -> str:
    return text.translate(_TRANSLIT)


def staff(first: str, last: str) -> Person:
    local = f"{ascii_name(first)}.{ascii_name(last)}".lower()
    return Person(f"{first} {last}", f"{local}@clinic.example")


_STAFF = _PEOPLE_DATA["ward_staff"]
WARD_STAFF = [staff(f, ln) for f, ln in zip(_STAFF["first"], _STAFF["last"], strict=True)]
_WARD_STAFF_RE = re.compile(r"ward_staff\[:(\d+)\]")


def person(ref: str | Mapping[str, str] | Person) -> Person:
    """A person of the data files: a key of people.toml or a {name, addr} table."""
    if isinstance(ref, Person):
        return ref
    return PEOPLE[ref] if isinstance(ref, str) else Person(ref["name"], ref["addr"])


def people(refs: Sequence[Any]) -> list[Person]:
    """Persons by reference, where "ward_staff[:N]" stands for the first N of the ward staff."""
    found: list[Person] = []
    for ref in refs:
        staff_slice = _WARD_STAFF_RE.fullmatch(ref) if isinstance(ref, str) else None
        found += WARD_STAFF[: int(staff_slice[1])] if staff_slice else [person(ref)]
    return found


def recipients(to: Any) -> Sequence[Person] | Group:
    """A To: list, or a {group, members} table for a group address."""
    if isinstance(to, Mapping):
        return Group(to["group"], [p.address for p in people(to.get("members", []))])
    return people(to)


# --------------------------------------------------------------------------- text helpers

_LIST_LINE = re.compile(r"^(\s*[-*•]\s|\s*\d+[.)]\s|\s{2,}\S|>)")


def txt(source: str) -> str:
    """Reflow a dedented text: paragraphs wrap at 72 columns, lists stay as they are.

    A paragraph whose first line starts with ``|`` is kept verbatim (``| `` stripped);
    so are lists, quotes, aligned tables and blocks of short lines (greetings,
    signatures).  A word hyphenated at a source line break is re-joined.
    """
    paragraphs = re.split(r"\n\s*\n", textwrap.dedent(source).strip("\n"))
    out: list[str] = []
    for para in paragraphs:
        lines = para.split("\n")
        if lines[0].startswith("|"):
            out.append("\n".join(line[2:] if line.startswith("| ") else line[1:] for line in lines))
        elif (
            all(_LIST_LINE.match(line) for line in lines)
            or any(re.search(r"\S {2,}\S", line) for line in lines)
            or all(len(line.strip()) < 48 for line in lines)
        ):
            out.append("\n".join(line.strip() for line in lines))  # list, table, signature
        else:
            joined = ""
            for line in (s.strip() for s in lines):
                if joined.endswith("-") and line[:1].islower():
                    joined += line  # re-join a word hyphenated at the line break
                else:
                    joined += (" " if joined else "") + line
            out.append(textwrap.fill(joined, width=72))
    return "\n\n".join(out) + "\n"


def with_sig(text: str, sig: str) -> str:
    return text.rstrip("\n") + "\n\n" + sig + "\n"


def quote(text: str) -> str:
    lines = text.rstrip("\n").split("\n")
    if "-- " in lines:
        lines = lines[: lines.index("-- ")]
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(
        ">" + ("" if not line or line.startswith(">") else " ") + line for line in lines
    )


_ATTRIBUTION = {  # the line above a quoted message, by language of the reply
    "de": "Am {when:%d.%m.%Y} um {when:%H:%M} schrieb {name}:",
    "fr": "Le {when:%d/%m/%Y} à {when:%H:%M}, {name} a écrit :",
    "pl": "W dniu {when:%d.%m.%Y} o {when:%H:%M}, {name} pisze:",
    "el": "Στις {when:%d/%m/%Y} {when:%H:%M}, ο/η {name} έγραψε:",
    "ja": "{when:%Y/%m/%d %H:%M}、{name} さんは書きました:",
    "zh": "在 {when:%Y-%m-%d %H:%M}，{name} 写道：",
    "en": "On {when:%a, %d %b %Y} at {when:%H:%M}, {name} wrote:",
}


def attribution(lang: str, when: datetime, who: Person) -> str:
    return _ATTRIBUTION.get(lang, _ATTRIBUTION["en"]).format(when=when, name=who.name)


def html_page(body: str, *, head: str = "", title: str = "") -> str:
    return (
        '<!DOCTYPE html>\n<html><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>{head}</head>\n"
        f'<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px">\n{body}\n'
        "</body></html>\n"
    )


_BULLET = re.compile(r"^\s*[-*•]\s")


def html_from_text(text: str) -> str:
    """Simple HTML rendering of a plain-text body (paragraphs, lists, signature)."""
    blocks = []
    for para in text.rstrip("\n").split("\n\n"):
        lines = para.split("\n")
        if all(re.match(r"^\s*[-*•]\s", line) for line in lines):
            items = "".join(f"<li>{escape(_BULLET.sub('', li))}</li>" for li in lines)
            blocks.append(f"<ul>{items}</ul>")
        elif lines[0] == "-- ":
            sig = "<br>".join(escape(li) for li in lines[1:])
            blocks.append(f'<p style="color:#666;font-size:12px">{sig}</p>')
        else:
            blocks.append("<p>" + "<br>\n".join(escape(li) for li in lines) + "</p>")
    return "\n".join(blocks)


# --------------------------------------------------------------------------- attachments


def _stored_deflate(data: bytes) -> bytes:
    """A zlib stream made of stored (uncompressed) blocks: identical on every zlib build."""
    out = bytearray(b"\x78\x01")
    chunks = [data[i : i + 65535] for i in range(0, len(data), 65535)] or [b""]
    for i, chunk in enumerate(chunks):
        out.append(1 if i == len(chunks) - 1 else 0)
        out += struct.pack("<HH", len(chunk), len(chunk) ^ 0xFFFF)
        out += chunk
    out += struct.pack(">I", zlib.adler32(data))
    return bytes(out)


def png(width: int, height: int, pixels: bytes, *, colour: bool = False) -> bytes:
    """A valid PNG (8-bit greyscale or RGB) from raw row-major pixel bytes."""
    bpp = 3 if colour else 1
    assert len(pixels) == width * height * bpp
    rows = b"".join(
        b"\x00" + pixels[y * width * bpp : (y + 1) * width * bpp] for y in range(height)
    )

    def chunk(kind: bytes, payload: bytes) -> bytes:
        crc = zlib.crc32(kind + payload) & 0xFFFFFFFF
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2 if colour else 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", _stored_deflate(rows))
        + chunk(b"IEND", b"")
    )


def ecg_png(rng: random.Random, width: int = 180, height: int = 48) -> bytes:
    """A greyscale 'ECG strip': grid plus a trace with QRS spikes."""
    px = bytearray([250] * (width * height))
    for y in range(height):
        for x in range(width):
            if x % 10 == 0 or y % 10 == 0:
                px[y * width + x] = 215
    base = height * 2 // 3
    period = rng.randint(34, 44)
    for x in range(width):
        phase = x % period
        y = base
        if phase in (10, 11):
            y = base - 3
        elif phase == 15:
            y = base + 4
        elif phase == 16:
            y = 4
        elif phase == 17:
            y = base + 6
        elif 24 <= phase <= 28:
            y = base - 4
        for dy in (0, 1):
            yy = min(height - 1, max(0, y + dy))
            px[yy * width + x] = 20
    return png(width, height, bytes(px))


def echo_png(rng: random.Random, width: int = 96, height: int = 72) -> bytes:
    """A greyscale 'ultrasound still': noisy cone on black."""
    px = bytearray(width * height)
    cx = width // 2
    for y in range(height):
        half = int(y * 0.75)
        for x in range(width):
            if abs(x - cx) <= half:
                px[y * width + x] = max(0, min(255, 60 + rng.randint(0, 120) - y))
    return png(width, height, bytes(px))


def logo_png(rgb: tuple[int, int, int], size: int = 32) -> bytes:
    """An RGB 'logo': coloured square with a white cross."""
    px = bytearray()
    lo, hi = size * 3 // 8, size * 5 // 8
    for y in range(size):
        for x in range(size):
            cross = (lo <= x < hi and 4 <= y < size - 4) or (lo <= y < hi and 4 <= x < size - 4)
            px += bytes((255, 255, 255)) if cross else bytes(rgb)
    return png(size, size, bytes(px), colour=True)


def _pdf_string(text: str) -> bytes:
    raw = text.encode("cp1252", errors="replace")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


def pdf(title: str, lines: Sequence[str], when: datetime) -> bytes:
    """A tiny valid one-page PDF 1.4 (Helvetica, WinAnsiEncoding) with a correct xref table."""
    content = bytearray(b"BT\n/F1 16 Tf\n56 780 Td\n18 TL\n" + _pdf_string(title) + b" Tj\n")
    content += b"/F1 11 Tf\n14 TL\nT*\n"
    for line in lines:
        content += _pdf_string(line) + b" '\n"
    content += b"ET\n"
    stamp = when.strftime("D:%Y%m%d%H%M%S") + "+00'00'"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Length "
        + str(len(content)).encode()
        + b" >>\nstream\n"
        + bytes(content)
        + b"endstream",
        b"<< /Title " + _pdf_string(title) + b" /Producer (Mailproof demo generator) "
        b"/CreationDate (" + stamp.encode() + b") >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n".encode() + b"0000000000 65535 f \n"
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (
        f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R /Info 6 0 R >>\n"
        f"startxref\n{xref}\n%%EOF\n"
    ).encode()
    return bytes(out)


def docx(paragraphs: Sequence[str]) -> bytes:
    """A minimal but valid WordprocessingML (.docx) package, stored (uncompressed)."""
    body = "".join(
        f'<w:p><w:r><w:t xml:space="preserve">{escape(p)}</w:t></w:r></w:p>' for p in paragraphs
    )
    files = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" '
            'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/word/document.xml" ContentType="application/'
            'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
        ),
        "_rels/.rels": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
            '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>'
        ),
        "word/document.xml": (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
            f"<w:body>{body}</w:body></w:document>"
        ),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for name, text in files.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = 0o644 << 16
            zf.writestr(info, text.encode("utf-8"))
    return buf.getvalue()


def _ics_fold(line: str) -> str:
    out, cur = [], ""
    for ch in line:
        if len((cur + ch).encode("utf-8")) > (75 if not out else 74):
            out.append(cur)
            cur = ""
        cur += ch
    out.append(cur)
    return "\r\n ".join(out)


def ics(
    uid: str,
    summary: str,
    start: datetime,
    minutes: int,
    location: str,
    organizer: Person,
    attendees: Sequence[Person],
    stamp: datetime,
    description: str = "",
) -> bytes:
    """An iCalendar REQUEST (RFC 5545, CRLF line ends, UTC times, folded lines)."""

    def utc(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")

    lines = [
        "BEGIN:VCALENDAR",
        "PRODID:-//St. Aurelia//Mailproof demo//EN",
        "VERSION:2.0",
        "CALSCALE:GREGORIAN",
        "METHOD:REQUEST",
        "BEGIN:VEVENT",
        f"UID:{uid}",
        f"DTSTAMP:{utc(stamp)}",
        f"DTSTART:{utc(start)}",
        f"DTEND:{utc(start + timedelta(minutes=minutes))}",
        f"SUMMARY:{summary}",
        f"LOCATION:{location}",
        f'ORGANIZER;CN="{organizer.name}":mailto:{organizer.addr}',
    ]
    lines += [
        f'ATTENDEE;CN="{a.name}";ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;'
        f"RSVP=TRUE:mailto:{a.addr}"
        for a in attendees
    ]
    if description:
        lines.append("DESCRIPTION:" + description.replace("\n", "\\n").replace(",", "\\,"))
    lines += ["STATUS:CONFIRMED", "SEQUENCE:0", "END:VEVENT", "END:VCALENDAR"]
    return ("\r\n".join(_ics_fold(line) for line in lines) + "\r\n").encode("utf-8")


@dataclass
class Att:
    data: bytes | str
    ctype: str
    filename: str | None
    charset: str = "utf-8"
    cte: str | None = None
    params: dict[str, str] | None = None
    inline: bool = False


_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


def image(rng: random.Random, spec: Mapping[str, Any]) -> bytes:
    """An "ecg" strip or "echo" still (random, of an optional size), or a "logo"."""
    if spec["image"] == "logo":
        return logo_png(tuple(spec["colour"]), spec.get("size", 32))
    draw = ecg_png if spec["image"] == "ecg" else echo_png
    return draw(rng, *spec.get("size", ()))


def attachment(rng: random.Random, spec: Mapping[str, Any], when: datetime) -> Att:
    """An attachment described in the data files; PDF and iCalendar files are dated ``when``."""
    kind, name = spec["type"], spec["name"]
    if kind == "pdf":
        return Att(pdf(spec["title"], spec["lines"], when), "application/pdf", name)
    if kind == "png":
        cid = {"cid": spec["cid"]} if "cid" in spec else None
        return Att(image(rng, spec), "image/png", name, params=cid)
    if kind == "docx":
        ctype = "application/octet-stream" if spec.get("octet") else _DOCX
        return Att(docx(spec["paragraphs"]), ctype, name)
    if kind == "ics":
        start = spec["start"]
        data = ics(
            spec["uid"],
            spec["summary"],
            start if isinstance(start, datetime) else local_time(start),
            spec["minutes"],
            spec["location"],
            person(spec["organizer"]),
            people(spec["attendees"]),
            when,
            spec.get("description", ""),
        )
        return Att(data, "text/calendar", name, params={"method": "REQUEST", "charset": "utf-8"})
    if kind in ("csv", "text"):
        text = spec.get("text")
        if text is None:  # lab results, made up now
            lab = spec["lab"]
            source = random.Random(lab["seed"]) if "seed" in lab else rng
            text = lab_csv(
                source,
                lab["rows"],
                when,
                german=lab.get("german", True),
                bad_row=lab.get("bad_row"),
                charset=lab.get("charset", "utf-8"),
            )
        ctype = "text/csv" if kind == "csv" else "text/plain"
        cte = spec.get("cte", "quoted-printable")
        return Att(text, ctype, name, charset=spec.get("charset", "utf-8"), cte=cte)
    assert kind == "file", kind
    return Att(spec["data"].encode("utf-8"), spec["ctype"], name)


# --------------------------------------------------------------------------- messages


@dataclass
class Mail:
    folder: str
    msg: EmailMessage
    msgid: str
    refs: list[str]
    subject: str
    sender: Person
    text: str
    date: datetime
    delivered: datetime
    lang: str
    flags: set[str] = field(default_factory=set)
    unseen: bool = False


def _cte_for(text: str, charset: str, preferred: str | None) -> str:
    if preferred:
        return preferred
    if text.isascii() and max((len(li) for li in text.split("\n")), default=0) < 900:
        return "7bit"
    return "quoted-printable"


def _norm_subject(subject: str) -> str:
    return re.sub(r"^(?:(?:re|aw|wg|fwd?|tr|odp|回复|答复)\s*:\s*)+", "", subject, flags=re.I)


class Archive:
    """Collects the demo messages; every random choice comes from one seeded RNG."""

    def __init__(self, seed: int = SEED) -> None:
        self.rng = random.Random(seed)
        self.mails: list[Mail] = []
        self._ids: set[str] = set()

    # -- identifiers -----------------------------------------------------------------
    def token(self, n: int = 10, alphabet: str = "0123456789abcdef") -> str:
        return "".join(self.rng.choice(alphabet) for _ in range(n))

    def msgid(self, when: datetime, domain: str) -> str:
        while True:
            mid = f"<{when.astimezone(UTC):%Y%m%d%H%M%S}.{self.token()}@{domain}>"
            if mid not in self._ids:
                self._ids.add(mid)
                return mid

    # -- headers ---------------------------------------------------------------------
    def _trace(
        self,
        msg: EmailMessage,
        sender: Person,
        rcpt: str,
        when: datetime,
        delivered: datetime,
        *,
        spam: bool = False,
    ) -> None:
        local = in_zone(delivered, "eu")
        lmtp = email.utils.format_datetime(local + timedelta(seconds=1))
        edge = email.utils.format_datetime(local)
        qid = self.token(12, "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz")
        lid = self.token(16, "abcdefghijklmnopqrstuvwxyz0123456789")
        set_text(msg, "Return-Path", f"<{sender.addr}>")
        set_text(msg, "Delivered-To", ME.addr)
        set_text(
            msg,
            "Received",
            f"from mx1.clinic.example (mx1.clinic.example [192.0.2.25]) by "
            f"mail.clinic.example (Dovecot) with LMTP id {lid} for <{ME.addr}>; {lmtp}",
        )
        if sender.domain.endswith("clinic.example"):
            set_text(
                msg,
                "Received",
                f"from groupware.clinic.example (groupware.clinic.example [192.0.2.40]) "
                f"by mx1.clinic.example (Postfix) with ESMTPS id {qid} for <{rcpt}>; {edge}",
            )
            return
        octet = self.rng.randint(2, 250)
        net = self.rng.choice(["198.51.100", "203.0.113"])
        host = f"mail{self.rng.randint(1, 4)}.{sender.domain}"
        set_text(
            msg,
            "Received",
            f"from {host} ({host} [{net}.{octet}]) by mx1.clinic.example "
            f"(Postfix) with ESMTPS id {qid} for <{rcpt}>; {edge}",
        )
        if spam:
            set_text(
                msg,
                "Authentication-Results",
                f"mx1.clinic.example; spf=softfail smtp.mailfrom={sender.domain}; "
                f"dkim=none; dmarc=fail header.from={sender.domain}",
            )
            set_text(msg, "X-Spam-Flag", "YES")
            set_text(
                msg,
                "X-Spam-Status",
                f"Yes, score={self.rng.randint(72, 190) / 10:.1f} "
                "required=5.0 tests=BAYES_99,HTML_MESSAGE,URIBL_BLACK",
            )
        else:
            set_text(
                msg,
                "Authentication-Results",
                f"mx1.clinic.example; spf=pass smtp.mailfrom={sender.domain}; "
                f"dkim=pass header.d={sender.domain}; dmarc=pass header.from={sender.domain}",
            )

    # -- the builder -------------------------------------------------------------------
    def mail(
        self,
        folder: str,
        sender: Person,
        to: Sequence[Person] | Group,
        subject: str | None,
        when: datetime,
        text: str | None = None,
        *,
        html: str | None = None,
        cc: Sequence[Person] = (),
        reply_to: Person | None = None,
        parent: Mail | None = None,
        quote_parent: bool = True,
        lang: str = "en",
        charset: str = "utf-8",
        cte: str | None = None,
        attachments: Sequence[Att] = (),
        related: Sequence[Att] = (),
        forward: Mail | None = None,
        list_info: tuple[str, str] | None = None,
        headers: Sequence[tuple[str, str]] = (),
        spam: bool = False,
        flagged: bool = False,
        unseen: bool = False,
        mailer: str | None = None,
        sender_header: Person | None = None,
    ) -> Mail:
        if parent is not None and subject is None:
            base = _norm_subject(parent.subject)
            subject = {"de": "AW: ", "pl": "Odp: ", "zh": "回复："}.get(lang, "Re: ") + base
        assert subject is not None
        if parent is not None and quote_parent and text is not None:
            body = text.rstrip("\n")
            body += "\n\n" + attribution(lang, parent.date, parent.sender) + "\n"
            body += quote(parent.text) + "\n"
            text = body
        msg = EmailMessage(policy=POLICY)
        delivered = when + timedelta(seconds=self.rng.randint(3, 95))
        recipients = [to] if isinstance(to, Group) else list(to)
        rcpt = list_info[1] if list_info else ME.addr
        if sender != ME:
            self._trace(msg, sender, rcpt, when, delivered, spam=spam)
        msg["Date"] = email.utils.format_datetime(when)
        set_addresses(msg, "From", [sender.address])
        if sender_header is not None:
            set_addresses(msg, "Sender", [sender_header.address])
        set_addresses(msg, "To", [r if isinstance(r, Group) else r.address for r in recipients])
        if cc:
            set_addresses(msg, "Cc", [c.address for c in cc])
        if reply_to is not None:
            set_addresses(msg, "Reply-To", [reply_to.address])
        set_subject(msg, subject)
        mid = self.msgid(when, sender.domain)
        msg["Message-ID"] = mid
        refs: list[str] = []
        if parent is not None:
            refs = [*parent.refs, parent.msgid]
            msg["In-Reply-To"] = parent.msgid
            set_text(msg, "References", " ".join(refs))
        elif forward is not None:
            refs = [forward.msgid]
            set_text(msg, "References", forward.msgid)
        if list_info is not None:
            name, addr = list_info
            local, dom = addr.split("@")
            set_text(msg, "List-Id", f"{name} <{local}.{dom}>")
            set_text(msg, "List-Post", f"<mailto:{addr}>")
            set_text(
                msg,
                "List-Unsubscribe",
                f"<mailto:{local}-leave@{dom}>, <https://{dom}/mailman/options/{local}>",
            )
            set_text(msg, "List-Archive", f"<https://{dom}/archives/{local}/>")
            set_text(msg, "Precedence", "list")
        for name, value in headers:
            set_text(msg, name, value)
        if mailer is None:
            mailer = "ClinicMail 4.2" if sender.domain.endswith("clinic.example") else None
        if mailer:
            set_text(msg, "X-Mailer", mailer)
        if sender == ME:
            set_text(msg, "User-Agent", "ClinicMail 4.2 (Groupware)")

        if text is not None:
            msg.set_content(text, charset=charset, cte=_cte_for(text, charset, cte))
            if html is not None:
                msg.add_alternative(
                    html,
                    subtype="html",
                    charset="utf-8",
                    cte=_cte_for(html, "utf-8", "quoted-printable"),
                )
        elif html is not None:
            msg.set_content(
                html,
                subtype="html",
                charset="utf-8",
                cte=_cte_for(html, "utf-8", "quoted-printable"),
            )
        if related:
            html_part = msg if text is None else msg.get_payload()[-1]
            for rel in related:
                maintype, subtype = rel.ctype.split("/")
                html_part.add_related(
                    rel.data,
                    maintype,
                    subtype,
                    cid=f"<{rel.params['cid']}>",
                    filename=rel.filename,
                    disposition="inline",
                )
        for att in attachments:
            maintype, subtype = att.ctype.split("/")
            disp = "inline" if att.inline else "attachment"
            if isinstance(att.data, str):
                msg.add_attachment(
                    att.data,
                    subtype=subtype,
                    charset=att.charset,
                    cte=_cte_for(att.data, att.charset, att.cte),
                    filename=att.filename,
                    disposition=disp,
                    params=att.params,
                )
            else:
                msg.add_attachment(
                    att.data,
                    maintype=maintype,
                    subtype=subtype,
                    filename=att.filename,
                    disposition=disp,
                    params=att.params or {},
                )
        if forward is not None:
            inner = email.message_from_bytes(_serialise(forward.msg), policy=POLICY)
            msg.add_attachment(inner, cte="7bit")
        _finalise(msg, mid)
        m = Mail(
            folder,
            msg,
            mid,
            refs,
            subject,
            sender,
            text or _strip_html(html or ""),
            when,
            delivered,
            lang,
            unseen=unseen,
        )
        if flagged:
            m.flags.add("F")
        self.mails.append(m)
        return m


# Python 3.11's header folder has quirks that would spoil the archive: in a folded
# address list a separating comma that lands at the line end is turned into an encoded
# word ("=?utf-8?q?=2C?="), and an ASCII unstructured value of ~60-77 characters is moved
# wholesale onto a continuation line ("Subject:\n Re: ..."), which parses back with a
# leading blank.  So address lists and ASCII unstructured headers are folded here - each
# address is still rendered (RFC 2047-encoded where needed) by the email package itself -
# and stored with Message.set_raw(), which the generator writes out unchanged.


def set_addresses(msg: EmailMessage, name: str, items: Sequence[Address | Group]) -> None:
    maxlen = POLICY.max_line_length
    lines = [f"{name}:"]
    for i, item in enumerate(items):
        folded = POLICY.header_factory(name, [item]).fold(policy=POLICY)
        pieces = folded[len(name) + 1 :].rstrip("\n").split("\n")
        pieces = [p.strip() for p in pieces if p.strip()]
        if i < len(items) - 1:
            pieces[-1] += ","
        if len(pieces) == 1 and " <" in pieces[0] and len(lines[-1]) + 1 + len(pieces[0]) > maxlen:
            # fold between display name and <addr-spec> rather than leave a line too long:
            # lines longer than maxlen would be refolded (badly) by the generator
            pieces = pieces[0].rsplit(" <", 1)
            pieces[1] = "<" + pieces[1]
        for piece in pieces:
            if lines[-1] != f"{name}:" and len(lines[-1]) + 1 + len(piece) > maxlen:
                lines.append("")
            lines[-1] += " " + piece
    msg.set_raw(name, "\n".join(lines)[len(name) + 2 :])


def set_text(msg: EmailMessage, name: str, value: str) -> None:
    """Add an unstructured header, folding long ASCII values at spaces."""
    maxlen = POLICY.max_line_length
    if not value.isascii() or len(name) + 2 + len(value) <= maxlen:
        msg[name] = value
        return
    lines = [f"{name}:"]
    for word in value.split(" "):
        if len(lines[-1]) + 1 + len(word) > maxlen and lines[-1] != f"{name}:":
            lines.append("")
        lines[-1] += " " + word
    msg.set_raw(name, "\n".join(lines)[len(name) + 2 :])


def set_subject(msg: EmailMessage, subject: str) -> None:
    set_text(msg, "Subject", subject)


def _finalise(part: EmailMessage, seed: str, path: str = "0", *, is_message: bool = True) -> None:
    """Fix MIME boundaries (deterministic) and drop MIME-Version from body parts."""
    if not is_message and "MIME-Version" in part:
        del part["MIME-Version"]
    if part.get_content_maintype() == "multipart":
        tag = re.sub(r"[^0-9a-z]", "", seed.split("@")[0].lower())[-12:]
        part.set_boundary(f"=_mp{path.replace('.', '_')}_{tag}")
        for i, sub in enumerate(part.iter_parts()):
            _finalise(sub, seed, f"{path}.{i}", is_message=False)  # type: ignore[arg-type]
    elif part.get_content_type() == "message/rfc822":
        for sub in part.get_payload():
            _finalise(sub, seed + "fwd", f"{path}.m", is_message=True)


def _serialise(msg: EmailMessage) -> bytes:
    return msg.as_bytes(policy=POLICY)


def _strip_html(html: str) -> str:
    return re.sub(r"\s+\n", "\n", re.sub(r"<[^>]+>", "", html)).strip() + "\n"


# --------------------------------------------------------------------------- content


def _fits(text: str, charset: str) -> bool:
    try:
        text.encode(charset)
    except UnicodeEncodeError:
        return False
    return True


def lab_csv(
    rng: random.Random,
    rows: int,
    when: datetime,
    *,
    german: bool = True,
    bad_row: int | None = None,
    charset: str = "utf-8",
) -> str:
    analytes = FILLERS["lab_csv"]["analytes"]  # German, English, unit, low, high, decimals
    sep = ";" if german else ","
    head = FILLERS["lab_csv"]["columns_de" if german else "columns_en"]
    out = [sep.join(head)]
    for i in range(rows):
        first = rng.choice([n for n in PATIENT_FIRST if _fits(n, charset)])
        last = rng.choice([n for n in PATIENT_LAST if _fits(n, charset)])
        de, en, unit, lo, hi, dec = rng.choice(analytes)
        span = hi - lo
        value = rng.uniform(lo - span * 0.3, hi + span * 0.5)
        if bad_row is not None and i == bad_row:
            de, en, unit, lo, hi, dec, value = "HbA1c", "HbA1c", "%", 4.0, 5.6, 1, 21.4
        flag = "H" if value > hi else ("L" if value < lo else "")
        val = f"{value:.{dec}f}"
        ref = f"{lo}-{hi}"
        if german:
            val, ref = val.replace(".", ","), ref.replace(".", ",")
        dob = date(rng.randint(1931, 2004), rng.randint(1, 12), rng.randint(1, 28))
        taken = when - timedelta(hours=rng.randint(3, 30))
        out.append(
            sep.join(
                [
                    f"{rng.randint(100000, 999999):07d}",
                    f"{last}, {first}",
                    dob.strftime("%d.%m.%Y" if german else "%Y-%m-%d"),
                    de if german else en,
                    val,
                    unit,
                    ref,
                    flag,
                    taken.strftime("%d.%m.%Y %H:%M" if german else "%Y-%m-%d %H:%M"),
                ]
            )
        )
    return "\n".join(out) + "\n"


def patient(rng: random.Random) -> tuple[str, str]:
    return rng.choice(PATIENT_FIRST), rng.choice(PATIENT_LAST)


def remote_newsletter_html(
    title: str,
    intro: str,
    items: Sequence[tuple[str, str]],
    *,
    tracker: str,
    unsubscribe: str,
    head: str = "",
    hero: str | None = None,
    footer: str = "",
) -> str:
    cards = "\n".join(
        f'<tr><td style="padding:12px 0;border-bottom:1px solid #ddd">'
        f'<h3 style="margin:0 0 6px">{escape(h)}</h3><p style="margin:0">{escape(b)}</p>'
        f"</td></tr>"
        for h, b in items
    )
    hero_row = ""
    if hero:
        hero_row = (
            f'<tr><td style="background:url({hero}) center/cover no-repeat;'
            f'height:120px;color:#fff;padding:20px"><h1>{escape(title)}</h1></td></tr>'
        )
    else:
        hero_row = f'<tr><td><h1 style="color:#0b5394">{escape(title)}</h1></td></tr>'
    body = (
        f'<table width="600" align="center" cellpadding="0" cellspacing="0">\n{hero_row}\n'
        f"<tr><td><p>{escape(intro)}</p></td></tr>\n{cards}\n"
        f'<tr><td style="font-size:11px;color:#888;padding-top:16px">{footer}'
        f'<a href="{unsubscribe}">Abmelden / Unsubscribe</a></td></tr>\n</table>\n'
        f'<img src="{tracker}" width="1" height="1" alt="">'
    )
    return html_page(body, head=head, title=title)


# --------------------------------------------------------------------------- composing

_HTML_PARTS = ("body", "before", "after")


def fill(template: Any, values: Mapping[str, Any], key: str = "") -> Any:
    """``template`` with every string in it formatted with ``values`` (``str.format``);
    values are HTML-escaped in the HTML parts, and an html ``head`` is left as it is."""
    if isinstance(template, str):
        if key == "head":
            return template
        if key in _HTML_PARTS:
            values = {k: escape(v) if isinstance(v, str) else v for k, v in values.items()}
        return template.format_map(values)
    if isinstance(template, Mapping):
        return {k: fill(v, values, k) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(v, values, key) for v in template]
    return template


def _html(spec: str | Mapping[str, Any], text: str | None) -> str:
    """An HTML part: given whole, or a page around a body (by default the text, rendered)."""
    if isinstance(spec, str):
        return spec
    body = spec.get("body")
    if body is None:
        assert text is not None
        rendered = html_from_text(text)
        if "replace" in spec:
            rendered = rendered.replace(*spec["replace"], 1)
        body = spec.get("before", "") + rendered + spec.get("after", "")
    return html_page(body, head=spec.get("head", ""), title=spec.get("title", ""))


def compose(
    a: Archive,
    spec: Mapping[str, Any],
    when: datetime,
    *,
    start: datetime | None = None,
    mails: Mapping[str, Mail] | None = None,
) -> Mail:
    """The message a [[mail]] table of the data files describes (keys as in their README).

    ``parent`` and ``forward`` name earlier messages in ``mails`` (or are Mail objects);
    PDF and iCalendar attachments are dated ``start`` (the conversation's first message).
    """

    def earlier(ref: str | Mail | None) -> Mail | None:
        return ref if ref is None or isinstance(ref, Mail) else (mails or {})[ref]

    text = spec.get("text")
    if text is not None:
        text = txt(text) + ("\n" + spec["footer"] if "footer" in spec else "")
        if "signature" in spec:
            text = with_sig(text, SIGNATURES[spec["signature"]])
    dated = start or when
    return a.mail(
        spec["folder"],
        person(spec["from"]),
        recipients(spec["to"]),
        spec.get("subject"),
        when,
        text,
        html=_html(spec["html"], text) if "html" in spec else None,
        cc=people(spec.get("cc", [])),
        reply_to=person(spec["reply_to"]) if "reply_to" in spec else None,
        parent=earlier(spec.get("parent")),
        quote_parent=spec.get("quote", True),
        lang=spec.get("lang", "en"),
        charset=spec.get("charset", "utf-8"),
        cte=spec.get("cte"),
        attachments=[attachment(a.rng, att, dated) for att in spec.get("attachments", [])],
        related=[attachment(a.rng, att, dated) for att in spec.get("related", [])],
        forward=earlier(spec.get("forward")),
        list_info=tuple(spec["list"]) if "list" in spec else None,
        headers=[tuple(header) for header in spec.get("headers", [])],
        spam=spec.get("spam", False),
        flagged=spec.get("flagged", False),
        unseen=spec.get("unseen", False),
        mailer=spec.get("mailer"),
        sender_header=person(spec["sender"]) if "sender" in spec else None,
    )


def scripted_messages(a: Archive) -> None:
    """The conversations (threads/*.toml, in name order), special.toml and junk.toml."""
    paths = [*sorted((SOURCE / "threads").glob("*.toml")), SOURCE / "special.toml"]
    for path in [*paths, SOURCE / "junk.toml"]:
        mails: dict[str, Mail] = {}
        start = None
        for spec in _load(path)["mail"]:
            when = local_time(spec["date"], spec.get("zone", "eu"))
            start = start or when
            mail = compose(a, spec, when, start=start, mails=mails)
            if "id" in spec:
                mails[spec["id"]] = mail


# --------------------------------------------------------------------------- everyday mail


def _work_time(
    rng: random.Random,
    start: date,
    end: date,
    zone: str = "eu",
    weekend: bool = False,
    slot: tuple[int, int] = (0, 1),
) -> datetime:
    """A random working-hours moment in slot ``i`` of ``n`` equal slices of [start, end]."""
    i, n = slot
    width = (end - start).days / n
    start = start + timedelta(days=int(i * width))
    span = max(int(width) - 1, 6)
    while True:
        day = start + timedelta(days=rng.randint(0, span))
        if weekend or day.weekday() < 5:
            break
    return at(
        zone,
        day.year,
        day.month,
        day.day,
        rng.randint(7, 18),
        rng.randint(0, 59),
        rng.randint(0, 59),
    )


Filler = Callable[[Archive, str, datetime, int], Mail]


def _filler(
    a: Archive,
    folder: str,
    when: datetime,
    values: Mapping[str, Any],
    *parts: Mapping[str, Any],
    attachments: Sequence[Mapping[str, Any]] = (),
    **fields: Any,
) -> Mail:
    """A message from parts of a fillers.toml table (later parts win), their strings filled
    with ``values`` and ``when``; ``fields``, the caller's own choices, are taken as they are."""
    spec: dict[str, Any] = {}
    for part in parts:
        spec.update(part)
    spec["attachments"] = [*spec.get("attachments", []), *attachments]
    spec = fill(spec, {"when": when, **values})
    return compose(a, {**spec, **fields, "folder": folder}, when)


def f_lab_result(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s = FILLERS["lab_result"]
    first, last = patient(a.rng)
    pid = f"{a.rng.randint(40000, 99999):07d}"
    german = i % 3 != 2
    charset = "windows-1252" if i % 4 == 1 else "utf-8"
    lab = {"rows": a.rng.randint(4, 12), "german": german, "charset": charset}
    csv = {**s["csv"], "lab": lab, "charset": charset}
    csv["cte"] = "quoted-printable" if i % 2 else "base64"
    v = {"first": first, "last": last, "last_ascii": ascii_name(last), "pid": pid}
    atts = [csv, s["pdf"]] if i % 2 == 0 else [csv]
    return _filler(a, folder, when, v, s["mail"], s["de" if german else "en"], attachments=atts)


def f_radiology(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s = FILLERS["radiology"]
    first, last = patient(a.rng)
    exam, finding = s["exams"][i % len(s["exams"])]
    v = {"first": first, "last": last, "exam": exam, "finding": finding, "i": i}
    atts = [s["pdf"], s["image"]] if i % 2 == 1 else [s["pdf"]]
    return _filler(a, folder, when, {**v, "modality": exam.split()[0]}, s["mail"], attachments=atts)


def f_appointment(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s, rng = FILLERS["appointment"], a.rng
    first, last = patient(rng)
    slot = when + timedelta(days=rng.randint(2, 14))
    slot = slot.replace(hour=rng.choice(s["hours"]), minute=rng.choice(s["minutes"]))
    v = {"first": first, "last": last, "slot": slot, "clinic": rng.choice(s["clinics"]), "i": i}
    v["room"] = rng.choice(s["rooms"])
    atts = [{**s["ics"], "start": slot}] if i % 3 == 0 else []
    return _filler(a, folder, when, v, s["mail"], attachments=atts)


def f_it_notice(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s = FILLERS["it_notice"]
    title, para = s["notices"][i % len(s["notices"])]
    icon = base64.b64encode(logo_png((11, 83, 148), 16)).decode()  # a data: image, not remote
    v = {"title": title, "para": para, "icon": icon}
    return _filler(a, folder, when, v, s["mail"], {"html": s["html"][i % 3]})


def _pick_items(a: Archive, s: Mapping[str, Any], v: dict[str, Any]) -> list[list[str]]:
    """Three items of a newsletter at random; their text and the first's heading go in ``v``."""
    items: list[list[str]] = a.rng.sample(s["items"], 3)
    v["items"] = "\n\n".join(f"* {h}\n  {b}" for h, b in items)
    v["headline"] = items[0][0]
    return items


def f_weekly(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s = FILLERS["weekly"]
    v: dict[str, Any] = {"when": when, "issue": f"{when:%Y}/{int(when.strftime('%W')):02d}"}
    items = _pick_items(a, s, v)
    n = fill(s["newsletter"], v)
    html = remote_newsletter_html(
        n["title"],
        n["intro"],
        items,
        tracker=n["trackers"][i % 2],
        unsubscribe=n["unsubscribe"],
        head=n["head"],
        hero=n["hero"] if i % 3 == 0 else None,
    )
    return _filler(a, folder, when, v, s["mail"], html=html)


def f_digest(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s = FILLERS["digest"]
    v: dict[str, Any] = {"when": when}
    items = _pick_items(a, s, v)
    v["token"] = a.token(16)
    n = fill(s["newsletter"], v)
    html = remote_newsletter_html(
        n["title"],
        n["intro"],
        items,
        tracker=n["tracker"],
        unsubscribe=n["unsubscribe"],
        head=n["head"] + (n["head_import"] if i % 2 else ""),
        hero=n["hero"],
        footer=n["footer"],
    )
    return _filler(a, folder, when, v, s["mail"], html=html)


def f_vendor_html_only(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s = FILLERS["vendor_html_only"]
    product = s["products"][i % len(s["products"])]
    return _filler(a, folder, when, {"product": product}, s["mail"])


def f_ward_post(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s = FILLERS["ward_post"]
    subject, para = s["posts"][i % len(s["posts"])]
    sender = a.rng.choice(people(s["senders"]))
    atts = [s["pdf"]] if i % 4 == 2 else [s["handover"]] if i % 4 == 0 else []
    v = {"subject": subject, "para": para, "first": sender.first}
    return _filler(a, folder, when, v, s["mail"], {"from": sender}, attachments=atts)


def f_pharmacy(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s = FILLERS["pharmacy"]
    subject, para = s["notes"][i % len(s["notes"])]
    v = {
        "subject": subject,
        "para": para,
        "topic": subject.split(":")[0],
        "para_more": para[90:180],
    }
    charset = "iso-8859-1" if i % 2 == 0 else "utf-8"
    atts = [s["pdf"]] if i % 2 == 1 else []
    return _filler(a, folder, when, v, s["mail"], attachments=atts, charset=charset)


def f_hr(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s, rng = FILLERS["hr"], a.rng
    kind = i % 5
    v: dict[str, Any] = {"due": when + timedelta(days=30)}
    if kind == 0:  # leave approved
        v["start"] = when + timedelta(days=rng.randint(20, 60))
        v["end"] = v["start"] + timedelta(days=11)
        v["left"] = rng.randint(3, 18)
    elif kind == 3:  # training budget
        v["course"] = rng.choice(s["courses"])
        v["amount"] = rng.randint(350, 1200)
    return _filler(a, folder, when, v, s["kinds"][kind])


def f_gp_referral(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s = FILLERS["gp_referral"]
    first, last = patient(a.rng)
    gp = person(s["gps"][i % 2])
    diagnosis, request = a.rng.choice(s["reasons"])
    v = {"first": first, "last": last, "last_ascii": ascii_name(last), "gp": gp.name}
    v |= {"diagnosis": diagnosis, "request": request}
    atts = [s["pdf"], s["docx"] if i % 2 == 0 else s["ecg"]]
    cte = "base64" if i % 3 == 0 else None
    return _filler(a, folder, when, v, s["mail"], {"from": gp}, attachments=atts, cte=cte)


def f_patient(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s, rng = FILLERS["patient"], a.rng
    first, last = patient(rng)
    v = {"first": first, "last": last, "number": rng.randint(1, 99)}
    v |= {"first_local": ascii_name(first).lower(), "last_local": ascii_name(last).lower()}
    questions = s["questions"]
    v["subject"], v["para"] = questions[i % len(questions)]
    atts = []
    if i % len(questions) == 2:  # the blood-pressure question, with a fortnight's diary
        v["rows"] = "\n".join(
            f"{(when - timedelta(days=d)):%d.%m.}  {rng.randint(135, 162)}/"
            f"{rng.randint(80, 96)}  Puls {rng.randint(58, 80)}"
            for d in range(14, 0, -1)
        )
        atts.append(s["diary"])
    charset = "windows-1252" if i % len(questions) == 1 else "utf-8"
    return _filler(a, folder, when, v, s["mail"], attachments=atts, charset=charset)


def f_conference(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s = FILLERS["conference"]
    year = when.year + (1 if when.month >= 6 else 0)  # the summit is held every May
    v: dict[str, Any] = {"year": year, "name": f"Heart Rhythm Summit {year}"}
    season = 0 if when.month <= 3 else 1 if when.month <= 5 else 2 if when.month <= 9 else 3
    v["subject"], v["lead"] = fill(s["seasons"][season], v)
    v["token"] = a.token(8)
    atts = [s["pdf"]] if i % 2 == 0 else []
    return _filler(a, folder, when, v, s["mail"], attachments=atts)


def f_insurer_query(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    first, last = patient(a.rng)
    v = {"first": first, "last": last, "case": f"MD-{when:%Y}-{a.rng.randint(10000, 99999)}"}
    v |= {"stay": when - timedelta(days=40), "due": when + timedelta(days=21)}
    return _filler(a, folder, when, v, FILLERS["insurer_query"]["mail"])


def f_qm(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s = FILLERS["qm"]
    subject, para = s["notes"][i % len(s["notes"])]
    atts = [s["pdf"]] if i % 3 == 2 else []
    return _filler(a, folder, when, {"subject": subject, "para": para}, s["mail"], attachments=atts)


def f_colleague(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s = FILLERS["colleague"]
    note = s["notes"][i % len(s["notes"])]
    v = {"para": note["para"], "first": person(note["from"]).first}
    head = {key: note[key] for key in ("from", "subject", "lang")}
    return _filler(a, folder, when, v, s["mail"], s[note["lang"]], head)


def f_reply_to(a: Archive, folder: str, when: datetime, i: int, parent: Mail) -> Mail:
    s = FILLERS["reply_to"]
    reply = s["replies"][i % len(s["replies"])]
    text = s["english"] if parent.lang == "en" and reply["lang"] != "en" else reply["text"]
    fields = {"to": [parent.sender], "parent": parent, "lang": parent.lang}
    return _filler(a, folder, when, {"reply": text}, s["mail"], **fields)


def f_my_referral(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s = FILLERS["my_referral"]
    first, last = patient(a.rng)
    target = s["targets"][i % len(s["targets"])]
    v = {"first": first, "last": last, "what": target["what"], "note": target["note"]}
    atts = [s["pdf"], s["docx"]] if i % 2 == 1 else [s["pdf"]]
    return _filler(a, folder, when, v, s["mail"], attachments=atts, to=[target["to"]])


def f_my_docs(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    return _filler(a, folder, when, {}, FILLERS["my_docs"][i % 3])


def f_my_leave(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    start = when + timedelta(days=35 + 7 * i)
    v = {"start": start, "end": start + timedelta(days=11)}
    return _filler(a, folder, when, v, FILLERS["my_leave"]["mail"])


def f_my_team_note(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s = FILLERS["my_team_note"]
    subject, para = s["notes"][i % len(s["notes"])]
    return _filler(a, folder, when, {"subject": subject, "para": para}, s["mail"])


def f_my_it_ticket(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    s = FILLERS["my_it_ticket"]
    subject, para = s["issues"][i % len(s["issues"])]
    return _filler(a, folder, when, {"subject": subject, "para": para}, s["mail"])


FILLER_KINDS: dict[str, Filler] = {
    function.__name__.removeprefix("f_"): function
    for function in (
        f_lab_result,
        f_radiology,
        f_appointment,
        f_it_notice,
        f_weekly,
        f_digest,
        f_vendor_html_only,
        f_ward_post,
        f_pharmacy,
        f_hr,
        f_gp_referral,
        f_patient,
        f_conference,
        f_insurer_query,
        f_qm,
        f_colleague,
        f_my_referral,
        f_my_docs,
        f_my_leave,
        f_my_team_note,
        f_my_it_ticket,
    )
}


def build_archive(seed: int = SEED) -> Archive:
    a = Archive(seed)
    rng = a.rng
    scripted_messages(a)
    plan = FILLERS["plan"]
    colleague_msgs: list[Mail] = []
    for kind, count in plan["inbox"].items():
        for i in range(count):
            weekend = kind in plan["weekend"]
            when = _work_time(rng, *plan["dates"], slot=(i, count), weekend=weekend)
            m = FILLER_KINDS[kind](a, "INBOX", when, i)
            if kind == "colleague":
                colleague_msgs.append(m)
    for i, parent in enumerate(colleague_msgs[:6]):
        delay = timedelta(minutes=rng.randint(4, 180))
        f_reply_to(a, "Sent", in_zone(parent.date + delay, "eu"), i, parent)
    for kind, count in plan["sent"].items():
        for i in range(count):
            FILLER_KINDS[kind](a, "Sent", _work_time(rng, *plan["dates"], slot=(i, count)), i)
    for kind, count in plan["backup"].items():
        for i in range(count):
            when = _work_time(rng, *plan["backup_dates"], slot=(i, count))
            FILLER_KINDS[kind](a, "BACKUP", when, i + 10)
    _assign_flags(a)
    return a


def _assign_flags(a: Archive) -> None:
    rng = a.rng
    by_id = {m.msgid: m for m in a.mails}
    in_thread: set[str] = set()
    for m in a.mails:
        in_thread.update(m.refs)
        if m.refs:
            in_thread.add(m.msgid)
        if m.sender == ME and m.msg["In-Reply-To"]:
            target = by_id.get(str(m.msg["In-Reply-To"]))
            if target is not None and target.sender != ME:
                target.flags.add("R")
        elif m.sender == ME and m.refs and m.subject.startswith("WG:"):
            by_id[m.refs[0]].flags.add("P")  # forwarded ("passed")
    inbox = sorted((m for m in a.mails if m.folder == "INBOX"), key=lambda m: m.delivered)
    for pos, m in enumerate(inbox):
        recent = pos >= len(inbox) - 6
        lone = m.msgid not in in_thread
        if "R" not in m.flags and (recent or (lone and rng.random() < 0.2)):
            m.unseen = True
        elif rng.random() < 0.07:
            m.flags.add("F")
    for m in a.mails:
        if m.folder == "BACKUP" and rng.random() < 0.1:
            m.flags.add("F")
        if not m.unseen:
            m.flags.add("S")
        if m.unseen:
            m.flags.discard("S")


# --------------------------------------------------------------------------- writing

# .Secure holds the encrypted and signed samples made by scripts/make-demo-crypto (run it
# again after regenerating): real openssl/gpg output, CRLF, outside this generator's checks.
SECURE_FOLDER = ".Secure"
_OWN_ENTRIES = {"cur", "new", "tmp", ".Sent", ".BACKUP", ".Junk", SECURE_FOLDER}


def _safe_reset(out: Path) -> None:
    out = out.resolve()
    if out in (Path("/"), Path.home().resolve(), ROOT) or len(out.parts) < 3:
        raise SystemExit(f"refusing to use {out} as output directory")
    if out.exists():
        if not out.is_dir():
            raise SystemExit(f"{out} exists and is not a directory")
        foreign = sorted(p.name for p in out.iterdir() if p.name not in _OWN_ENTRIES)
        if foreign:
            raise SystemExit(
                f"refusing to delete {out}: it contains {foreign[:5]} "
                "which this generator did not write"
            )
        shutil.rmtree(out)
    out.mkdir(parents=True)


def write_archive(a: Archive, out: Path) -> dict[str, int]:
    _safe_reset(out)
    for folder, sub in FOLDER_DIRS.items():
        base = out / sub if sub else out
        for d in ("cur", "new", "tmp"):
            (base / d).mkdir(parents=True, exist_ok=True)
        if folder != "INBOX":
            (base / "maildirfolder").write_bytes(b"")
    ordered = sorted(a.mails, key=lambda m: (m.delivered, m.msgid))
    inbox = [m for m in ordered if m.folder == "INBOX"]
    newest = {m.msgid for m in inbox[-3:] if m.unseen}
    counts = dict.fromkeys(FOLDER_DIRS, 0)
    for n, m in enumerate(ordered, start=1):
        raw = _serialise(m.msg)
        ts = int(m.delivered.timestamp())
        stem = f"{ts}.M{n}P{PID}.{HOST},S={len(raw)}"
        sub = FOLDER_DIRS[m.folder]
        base = out / sub if sub else out
        if m.msgid in newest:
            path = base / "new" / stem
        else:
            path = base / "cur" / f"{stem}:2,{''.join(sorted(m.flags))}"
        path.write_bytes(raw)
        os.utime(path, (ts, ts))
        counts[m.folder] += 1
    return counts


# --------------------------------------------------------------------------- checking

_REMOTE_RE = re.compile(
    r"(?:<(?:img|link|script|iframe|video|audio|source|input|embed|object)\b[^>]*?"
    r"\b(?:src|href|srcset|poster|data)\s*=\s*[\"']?https?://)"
    r"|(?:\bbackground\s*=\s*[\"']?https?://)"
    r"|(?:url\(\s*[\"']?https?://)|(?:@import\s+[\"']https?://)",
    re.I,
)


def _folder_of(root: Path, path: Path) -> str:
    rel = path.relative_to(root).parts
    if len(rel) == 2:
        return "INBOX"
    for name, sub in FOLDER_DIRS.items():
        if sub == rel[0]:
            return name
    raise AssertionError(f"unexpected file {path}")


def check_archive(root: Path) -> list[str]:  # noqa: C901 - one linear list of checks
    """Verify an archive; return a list of problems (empty = fine) and print statistics."""
    problems: list[str] = []
    root = root.resolve()
    for name, sub in FOLDER_DIRS.items():
        base = root / sub if sub else root
        # git keeps no empty directories: a checkout has cur/ (and INBOX new/) but may lack the
        # empty new/ and tmp/, which Maildir readers create when they need them.
        if not (base / "cur").is_dir():
            problems.append(f"{name}: missing cur/")
        marker = base / "maildirfolder"
        if name != "INBOX" and (not marker.is_file() or marker.stat().st_size):
            problems.append(f"{name}: maildirfolder missing or not empty")
    counts = dict.fromkeys(FOLDER_DIRS, 0)
    ids: dict[str, str] = {}
    parsed: list[tuple[str, str, email.message.EmailMessage]] = []
    total = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        if path.relative_to(root).parts[0] == SECURE_FOLDER:
            continue
        total += path.stat().st_size
        if path.name == "maildirfolder":
            continue
        folder = _folder_of(root, path)
        where = str(path.relative_to(root))
        m = FILENAME_RE.match(path.name)
        if path.parent.name not in ("cur", "new") or m is None:
            problems.append(f"{where}: not a Maildir message name / location")
            continue
        if path.parent.name == "cur" and m["flags"] is None:
            problems.append(f"{where}: cur/ file without :2, info")
        if path.parent.name == "new" and m["flags"] is not None:
            problems.append(f"{where}: new/ file with info suffix")
        flags = m["flags"] or ""
        if flags != "".join(sorted(set(flags))) or set(flags) - set("DFPRST"):
            problems.append(f"{where}: bad flags {flags!r}")
        raw = path.read_bytes()
        if int(m["size"]) != len(raw):
            problems.append(f"{where}: S={m['size']} but file has {len(raw)} bytes")
        if b"\r\n" in raw:
            problems.append(f"{where}: CRLF line ending (archive uses LF)")
        msg = email.message_from_bytes(raw, policy=POLICY)
        assert isinstance(msg, email.message.EmailMessage)
        counts[folder] += 1
        for h in ("Message-ID", "Date", "From", "Subject"):
            if msg[h] is None:
                problems.append(f"{where}: missing {h}")
        for h, v in msg.items():
            if str(v) != str(v).strip() or "=?utf-8?q?=2C?=" in str(v):
                problems.append(f"{where}: header {h} badly folded: {str(v)[:40]!r}")
        for part in msg.walk():
            if part.defects:
                problems.append(f"{where}: {part.get_content_type()} defects {part.defects}")
            for key, value in part.items():
                header_defects = getattr(value, "defects", ())
                if header_defects:
                    problems.append(f"{where}: header {key} defects {header_defects}")
            if part.get_content_maintype() == "text":
                try:
                    content = part.get_content()
                    charset = part.get_content_charset("us-ascii")
                    payload = part.get_payload(decode=True)
                    payload.decode(charset)  # strict: no replacement characters
                    assert isinstance(content, str)
                except Exception as exc:  # noqa: BLE001 - report every failure
                    problems.append(f"{where}: text part does not decode: {exc!r}")
        try:
            when = msg["Date"].datetime
            if not (2023 <= when.year <= 2025):
                problems.append(f"{where}: Date {when} outside 2023-2025")
            if abs(int(m["time"]) - when.timestamp()) > 600:
                problems.append(f"{where}: file time far from Date header")
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{where}: bad Date: {exc!r}")
        mid = str(msg["Message-ID"] or "")
        if mid in ids:
            problems.append(f"{where}: duplicate Message-ID {mid} (also {ids[mid]})")
        ids[mid] = where
        parsed.append((folder, where, msg))

    for folder, expected in EXPECTED.items():
        if counts[folder] != expected:
            problems.append(f"{folder}: {counts[folder]} messages, expected {expected}")
    if total > MAX_TOTAL_BYTES:
        problems.append(f"archive is {total} bytes (> {MAX_TOTAL_BYTES})")

    # threads: every reference must resolve; union-find into conversations
    parent: dict[str, str] = {mid: mid for mid in ids}

    def find(x: str) -> str:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for _folder, where, msg in parsed:
        refs = str(msg["References"] or "").split() + str(msg["In-Reply-To"] or "").split()
        for ref in dict.fromkeys(refs):
            if ref not in ids:
                problems.append(f"{where}: reference {ref} not in archive")
            else:
                parent[find(ref)] = find(str(msg["Message-ID"]))
        subj = str(msg["Subject"])
        if msg["In-Reply-To"] and not re.match(r"^(Re|AW|Odp|回复)\s*[:：]", subj):
            problems.append(f"{where}: reply without Re:-style subject: {subj!r}")
    convs: dict[str, list[str]] = {}
    for folder, _where, msg in parsed:
        convs.setdefault(find(str(msg["Message-ID"])), []).append(folder)
    threads = [f for f in convs.values() if len(f) >= 3]
    long_threads = [f for f in threads if len(f) <= 8]
    crossing = [f for f in threads if len(set(f)) > 1]
    if len(long_threads) < 10:
        problems.append(f"only {len(long_threads)} threads with 3-8 messages")
    if not any({"INBOX", "Sent"} <= set(f) for f in threads):
        problems.append("no thread spans INBOX and Sent")
    if not any("BACKUP" in f and len(set(f)) > 1 for f in threads):
        problems.append("no thread spans BACKUP and another folder")

    # statistics
    stats = dict.fromkeys(
        [
            "multipart/alternative",
            "html-only",
            "remote-content",
            "cid-inline",
            "attachments",
            "non-ascii-attachment-names",
            "hostile-attachment-names",
            "non-ascii-headers",
            "non-ascii-bodies",
            "mailing-list",
            "with-cc",
            "30+-recipients",
        ],
        0,
    )
    charsets: dict[str, int] = {}
    ctes: dict[str, int] = {}
    att_types: dict[str, int] = {}
    for _folder, _where, msg in parsed:
        types = [p.get_content_type() for p in msg.walk()]
        if "multipart/alternative" in types:
            stats["multipart/alternative"] += 1
        if "text/html" in types and "text/plain" not in [
            p.get_content_type() for p in msg.walk() if not p.is_attachment()
        ]:
            stats["html-only"] += 1
        htmls = [p.get_content() for p in msg.walk() if p.get_content_type() == "text/html"]
        if any(_REMOTE_RE.search(h) for h in htmls):
            stats["remote-content"] += 1
        if any("cid:" in h for h in htmls) and "multipart/related" in types:
            stats["cid-inline"] += 1
        atts = list(msg.iter_attachments())
        if atts:
            stats["attachments"] += 1
        for p in atts:
            att_types[p.get_content_type()] = att_types.get(p.get_content_type(), 0) + 1
        names = [p.get_filename() or "" for p in atts]
        if any(not n.isascii() for n in names):
            stats["non-ascii-attachment-names"] += 1
        if any(".." in n or "/" in n or "\\" in n or "\u202e" in n for n in names):
            stats["hostile-attachment-names"] += 1
        rawhead = msg.as_string().split("\n\n", 1)[0]
        if "=?" in rawhead:
            stats["non-ascii-headers"] += 1
        body_non_ascii = False
        for p in msg.walk():
            if p.get_content_maintype() == "text" and not p.is_attachment():
                cs = p.get_content_charset("us-ascii")
                charsets[cs] = charsets.get(cs, 0) + 1
                cte = p.get("Content-Transfer-Encoding", "7bit").lower()
                ctes[cte] = ctes.get(cte, 0) + 1
                if not p.get_content().isascii():
                    body_non_ascii = True
        stats["non-ascii-bodies"] += body_non_ascii
        if msg["List-Id"]:
            stats["mailing-list"] += 1
        if msg["Cc"]:
            stats["with-cc"] += 1
        rcpts = sum(len(msg[h].addresses) for h in ("To", "Cc") if msg[h] is not None)
        if rcpts >= 30:
            stats["30+-recipients"] += 1
    minimum = {
        "multipart/alternative": 20,
        "html-only": 3,
        "remote-content": 5,
        "cid-inline": 1,
        "attachments": 25,
        "non-ascii-attachment-names": 3,
        "hostile-attachment-names": 2,
        "mailing-list": 3,
        "30+-recipients": 2,
    }
    for key, low in minimum.items():
        if stats[key] < low:
            problems.append(f"only {stats[key]} messages with {key} (want >= {low})")

    print(f"folders: {counts}  total messages: {sum(counts.values())}")
    print(f"total size: {total} bytes ({total / 1024:.0f} KiB)")
    print(
        f"conversations with >=3 messages: {len(threads)} (3-8: {len(long_threads)}, "
        f"spanning folders: {len(crossing)}); sizes "
        f"{sorted((len(f) for f in threads), reverse=True)}"
    )
    for key, value in stats.items():
        print(f"  {key}: {value}")
    print(f"  body charsets: {dict(sorted(charsets.items()))}")
    print(f"  body transfer encodings: {dict(sorted(ctes.items()))}")
    print(f"  attachment types: {dict(sorted(att_types.items()))}")
    return problems


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "outdir",
        nargs="?",
        type=Path,
        default=DEFAULT_OUT,
        help="Maildir++ root to (re)create (default: resources/demo)",
    )
    parser.add_argument(
        "--check", action="store_true", help="verify an existing archive instead of generating one"
    )
    args = parser.parse_args(argv)
    if args.check:
        problems = check_archive(args.outdir)
        for problem in problems:
            print("PROBLEM:", problem, file=sys.stderr)
        print("check: OK" if not problems else f"check: {len(problems)} problem(s)")
        return 1 if problems else 0
    archive = build_archive()
    counts = write_archive(archive, args.outdir)
    print(f"wrote {sum(counts.values())} messages to {args.outdir}: {counts}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
