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
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, timezone
from email.headerregistry import Address, Group
from email.message import EmailMessage
from html import escape
from pathlib import Path

SEED = 20240917
PID = 7311
HOST = "demo"
POLICY = email.policy.default  # LF line endings; RFC 2047 / RFC 2231 encoding
ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "resources" / "demo"
FOLDER_DIRS = {"INBOX": "", "Sent": ".Sent", "BACKUP": ".BACKUP", "Junk": ".Junk"}
EXPECTED = {"INBOX": 120, "Sent": 40, "BACKUP": 30, "Junk": 10}
MAX_TOTAL_BYTES = 3 * 1024 * 1024
FILENAME_RE = re.compile(
    r"^(?P<time>\d{10})\.M(?P<n>\d+)P(?P<pid>\d+)\.(?P<host>[A-Za-z0-9-]+)"
    r",S=(?P<size>\d+)(?::2,(?P<flags>[A-Z]*))?$"
)

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


# --------------------------------------------------------------------------- people


@dataclass(frozen=True)
class Person:
    name: str
    addr: str
    zone: str = "eu"

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


ME = Person("Dr. Lena Hartmann", "lena.hartmann@clinic.example")
MUELLER = Person("Dr. Jürgen Müller", "juergen.mueller@clinic.example")
ZMUDA = Person("Łukasz Żmuda", "lukasz.zmuda@clinic.example")
VOGEL = Person("Katrin Vogel", "katrin.vogel@clinic.example")
KRAUSE = Person("Sabine Krause (Dienstplanung)", "dienstplan@clinic.example")
OKAFOR = Person("Dr. Chidi Okafor", "chidi.okafor@clinic.example")
BERG = Person("Dr. Ines Berg", "ines.berg@clinic.example")
SCHOLZ = Person("Felix Scholz", "felix.scholz@clinic.example")
SERVICEDESK = Person("IT-Servicedesk St. Aurelia", "servicedesk@it.clinic.example")
PHARMACY = Person("Krankenhausapotheke", "apotheke@clinic.example")
HR = Person("Personalabteilung", "personal@clinic.example")
QM = Person("Qualitäts- und Hygienemanagement", "qm@clinic.example")
SCHEDULER = Person("Terminvergabe St. Aurelia", "no-reply@termine.clinic.example")
WEEKLY = Person("Aurelia Weekly", "newsletter@news.clinic.example")
OLSEN = Person("Dr. Marta Olsen", "m.olsen@lindenhof-praxis.example")
ADEYEMI = Person("Dr. Tunde Adeyemi", "praxis@hausarzt-adeyemi.example.com")
BRANDT = Person("Dr. Tobias Brandt", "tobias.brandt@labs.example.org")
LAB = Person("Zentrallabor Befundservice", "befunde@labs.example.org")
RADIOLOGY = Person("Radiologie am Park – Befundversand", "befunde@radiology.example.com")
INSURER = Person("Nordstern Krankenversicherung – Leistungsprüfung", "vorab@insurer.example.net")
FOURNIER = Person("Élodie Fournier", "elodie.fournier@hopital-sud.example", "eu")
WISNIEWSKA = Person("Zofia Wiśniewska", "z.wisniewska@szpital.example.org", "eu")
PAPADAKIS = Person("Γιώργος Παπαδάκης", "g.papadakis@uni-hospital.example", "gr")
YAMADA = Person("山田 花子", "hanako.yamada@med-univ.example", "jp")
WANG = Person("王芳", "wang.fang@hospital-partner.example.com", "cn")
NOVAK = Person("Prof. Dr. Helena Novák", "ethik@university-hospital.example")
AKADEMIE = Person("Akademie für ärztliche Fortbildung", "kurse@akademie.example.org")
DIGEST = Person("Cardiology Digest", "digest@newsletter.example.org", "uk")
SUMMIT = Person("Heart Rhythm Summit", "events@rhythm-summit.example.com", "uk")
MEDTECH = Person("MedTech Briefing", "briefing@medtech-news.example.net", "utc")
LINDQVIST = Person("Peter Lindqvist", "p.lindqvist@mail.example.net")
DEVICE = Person("Holter Export Service", "holter-export@devices.clinic.example")
WARD_LIST = Person("Station 7B", "station-7b@lists.clinic.example")
RESIDENTS_LIST = Person("Assistenzärztinnen und -ärzte Innere", "residents@lists.clinic.example")
SIG_DASHES = "-- "  # the signature delimiter (dash, dash, space)
ME_SIG = (
    SIG_DASHES
    + """
Dr. med. Lena Hartmann
Oberärztin, Klinik für Innere Medizin und Kardiologie
St.-Aurelia-Klinikum · Parkallee 12 · 10999 Berlin
Tel. +49 30 5550 1234 · Fax +49 30 5550 1299"""
)
ME_SIG_EN = (
    SIG_DASHES
    + """
Dr Lena Hartmann, MD
Consultant, Dept. of Internal Medicine and Cardiology
St. Aurelia Hospital, Berlin
+49 30 5550 1234"""
)

OLSEN_SIG = (
    SIG_DASHES
    + """
Dr. med. Marta Olsen
General Practitioner, Lindenhof Practice
Lindenhofstr. 4, 10997 Berlin · Tel. +49 30 5550 8870"""
)

STAFF_FIRST = [
    "Anna",
    "Ben",
    "Carla",
    "Deniz",
    "Emil",
    "Frieda",
    "Gökhan",
    "Hannah",
    "Ilja",
    "Jana",
    "Kai",
    "Lotta",
    "Malte",
    "Nadia",
    "Ole",
    "Paula",
    "Quentin",
    "Rania",
    "Sören",
    "Tara",
    "Uwe",
    "Vera",
    "Wiktor",
    "Xenia",
    "Yasemin",
    "Zoe",
    "Milena",
    "Henrike",
    "Jonte",
    "Amira",
]
STAFF_LAST = [
    "Albrecht",
    "Bauer",
    "Claßen",
    "Dietz",
    "Ebert",
    "Fuchs",
    "Günther",
    "Haas",
    "Iwanowa",
    "Jahn",
    "Kühn",
    "Lorenz",
    "Marx",
    "Nagel",
    "Otto",
    "Peters",
    "Quast",
    "Roth",
    "Schäfer",
    "Thiel",
    "Unger",
    "Voigt",
    "Winkler",
    "Yıldız",
    "Zimmer",
    "Brückner",
    "Seidel",
    "Hahn",
    "Lang",
    "Franke",
]
PATIENT_FIRST = [
    "Henrik",
    "Renate",
    "Aylin",
    "Marek",
    "Greta",
    "Ingrid",
    "Yusuf",
    "Helga",
    "Dragan",
    "Nele",
    "Konstantin",
    "Wiebke",
    "Emre",
    "Ludmila",
    "Bernd",
    "Sevgi",
    "Jonas",
    "Irmgard",
    "Piotr",
    "Gisela",
    "Rüdiger",
    "Małgorzata",
    "Björn",
    "Leyla",
]
PATIENT_LAST = [
    "Keller",
    "Müller",
    "Jäger",
    "Öztürk",
    "Grabowski",
    "Schröder",
    "Kowalczyk",
    "Weißenborn",
    "Hoffmann",
    "Dąbrowski",
    "Lindner",
    "Yılmaz",
    "Böhm",
    "Krüger",
    "Pawlak",
    "Vössing",
    "Scholl",
    "Rahimi",
    "Fährmann",
    "Ziegler",
]

_TRANSLIT = str.maketrans(
    {
        "ä": "ae",
        "ö": "oe",
        "ü": "ue",
        "ß": "ss",
        "Ä": "Ae",
        "Ö": "Oe",
        "Ü": "Ue",
        "ł": "l",
        "Ł": "L",
        "ą": "a",
        "ę": "e",
        "ś": "s",
        "ż": "z",
        "ź": "z",
        "ć": "c",
        "ń": "n",
        "ó": "o",
        "ı": "i",
        "é": "e",
        "è": "e",
        "à": "a",
        "ç": "c",
        "ğ": "g",
        "ş": "s",
    }
)


def ascii_name(text: str) -> str:
    return text.translate(_TRANSLIT)


def staff(first: str, last: str) -> Person:
    local = f"{ascii_name(first)}.{ascii_name(last)}".lower()
    return Person(f"{first} {last}", f"{local}@clinic.example")


WARD_STAFF = [staff(f, ln) for f, ln in zip(STAFF_FIRST, STAFF_LAST, strict=True)]

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


def with_sig(text: str, sig: str = ME_SIG) -> str:
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


def attribution(lang: str, when: datetime, who: Person) -> str:
    if lang == "de":
        return f"Am {when:%d.%m.%Y} um {when:%H:%M} schrieb {who.name}:"
    if lang == "fr":
        return f"Le {when:%d/%m/%Y} à {when:%H:%M}, {who.name} a écrit :"
    if lang == "pl":
        return f"W dniu {when:%d.%m.%Y} o {when:%H:%M}, {who.name} pisze:"
    if lang == "el":
        return f"Στις {when:%d/%m/%Y} {when:%H:%M}, ο/η {who.name} έγραψε:"
    if lang == "ja":
        return f"{when:%Y/%m/%d %H:%M}、{who.name} さんは書きました:"
    if lang == "zh":
        return f"在 {when:%Y-%m-%d %H:%M}，{who.name} 写道："
    return f"On {when:%a, %d %b %Y} at {when:%H:%M}, {who.name} wrote:"


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


def att_pdf(filename: str, title: str, lines: Sequence[str], when: datetime) -> Att:
    return Att(pdf(title, lines, when), "application/pdf", filename)


def att_csv(filename: str, text: str, charset: str = "utf-8", cte: str = "quoted-printable") -> Att:
    return Att(text, "text/csv", filename, charset=charset, cte=cte)


def att_ics(filename: str, data: bytes) -> Att:
    return Att(data, "text/calendar", filename, params={"method": "REQUEST", "charset": "utf-8"})


def att_docx(filename: str, paragraphs: Sequence[str], *, octet: bool = False) -> Att:
    ctype = (
        "application/octet-stream"
        if octet
        else "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    )
    return Att(docx(paragraphs), ctype, filename)


def att_png(filename: str, data: bytes) -> Att:
    return Att(data, "image/png", filename)


def att_text(
    filename: str, text: str, charset: str = "utf-8", cte: str = "quoted-printable"
) -> Att:
    return Att(text, "text/plain", filename, charset=charset, cte=cte)


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
    analytes = [  # German name, English name, unit, low, high, decimals
        ("Natrium", "Sodium", "mmol/l", 135, 145, 1),
        ("Kalium", "Potassium", "mmol/l", 3.5, 5.1, 1),
        ("Kreatinin", "Creatinine", "mg/dl", 0.5, 1.1, 2),
        ("eGFR", "eGFR", "ml/min/1,73m²", 60, 120, 0),
        ("CRP", "CRP", "mg/l", 0, 5, 1),
        ("Hämoglobin", "Haemoglobin", "g/dl", 12, 16, 1),
        ("Leukozyten", "WBC", "G/l", 4, 10, 1),
        ("Troponin T hs", "hs-Troponin T", "ng/l", 0, 14, 0),
        ("NT-proBNP", "NT-proBNP", "pg/ml", 0, 125, 0),
        ("HbA1c", "HbA1c", "%", 4.0, 5.6, 1),
    ]
    sep = ";" if german else ","
    head = (
        [
            "Patienten-ID",
            "Name",
            "Geburtsdatum",
            "Analyt",
            "Wert",
            "Einheit",
            "Referenzbereich",
            "Flag",
            "Entnahme",
        ]
        if german
        else [
            "patient_id",
            "name",
            "dob",
            "analyte",
            "value",
            "unit",
            "ref_range",
            "flag",
            "collected",
        ]
    )
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


# ---- threads ---------------------------------------------------------------------------


def build_threads(a: Archive) -> None:  # noqa: C901 - a long list of scripted conversations
    rng = a.rng

    # A. GP referral -> clinic -> cardiology (INBOX/Sent, 6)
    t1 = at("eu", 2024, 2, 5, 9, 13)
    a1 = a.mail(
        "INBOX",
        OLSEN,
        [ME],
        "Referral: exertional chest pain – Mr Henrik Keller (DOB 12.03.1958)",
        t1,
        with_sig(
            txt("""
        Dear Dr Hartmann,

        I would be grateful if you could see Mr Henrik Keller, 65, in your chest pain
        clinic. He reports a three-month history of tightness across the chest when
        walking uphill or carrying shopping, settling within five minutes of rest. No
        symptoms at rest, no syncope. He is an ex-smoker (30 pack-years, stopped 2015)
        with treated hypertension and hypercholesterolaemia.

        Current medication:
        - Ramipril 5 mg once daily
        - Atorvastatin 20 mg at night
        - Aspirin 100 mg once daily (started by me last week)

        Resting ECG from this morning is attached (sinus rhythm 72/min, no acute ST
        changes, possible old inferior Q waves). Referral letter attached as PDF.

        Kind regards,
        Marta Olsen
        """),
            OLSEN_SIG,
        ),
        attachments=[
            att_pdf(
                "Referral_Keller_H.pdf",
                "Referral - Chest pain clinic",
                [
                    "Patient: Henrik Keller, DOB 12.03.1958",
                    "Referring physician: Dr. M. Olsen, Lindenhof Practice",
                    "Question: stable angina? Please assess and advise.",
                    "BP 148/86 mmHg, BMI 29.1, HbA1c 5.9 %",
                ],
                t1,
            ),
            att_png("ECG_2024-02-05.png", ecg_png(rng)),
        ],
        flagged=True,
    )
    a2 = a.mail(
        "Sent",
        ME,
        [OLSEN],
        None,
        at("eu", 2024, 2, 5, 14, 2),
        with_sig(
            txt("""
        Dear Dr Olsen,

        Thank you for the referral. We can see Mr Keller in the chest pain clinic on
        Tuesday 20 February at 10:30 (Building C, 2nd floor). Could you ask him to bring
        a list of his current medication and, if available, the lipid panel from January?

        Best wishes,
        Lena Hartmann
        """),
            ME_SIG_EN,
        ),
        parent=a1,
    )
    a3 = a.mail(
        "INBOX",
        OLSEN,
        [ME],
        None,
        at("eu", 2024, 2, 6, 8, 41),
        txt("""
        Thank you, he has confirmed the appointment. Lipid panel from 15 January attached.

        Marta
        """),
        parent=a2,
        attachments=[
            att_csv(
                "Lipids_Keller_2024-01.csv",
                txt("""
        |analyte,value,unit,reference
        |Total cholesterol,238,mg/dl,<200
        |LDL cholesterol,161,mg/dl,<116
        |HDL cholesterol,41,mg/dl,>40
        |Triglycerides,182,mg/dl,<150
        |Lp(a),74,nmol/l,<75
        """),
            )
        ],
    )
    a4 = a.mail(
        "Sent",
        ME,
        [OLSEN],
        None,
        at("eu", 2024, 2, 20, 16, 25),
        with_sig(
            txt("""
        Dear Marta,

        I saw Mr Keller today. His exercise ECG was positive at 7 METs with 1.5 mm
        horizontal ST depression in V4–V6 and typical chest tightness. I have increased
        atorvastatin to 80 mg, added bisoprolol 2.5 mg and GTN spray, and booked a
        coronary CT angiogram. Jürgen Müller (cc) will report it.

        A formal letter follows by post.

        Best wishes,
        Lena
        """),
            ME_SIG_EN,
        ),
        parent=a3,
        cc=[MUELLER],
    )
    a5 = a.mail(
        "INBOX",
        MUELLER,
        [ME],
        None,
        at("eu", 2024, 2, 28, 17, 48),
        txt("""
        Hi Lena,

        CCTA for Mr Keller done today: calcium score 412, ~70 % stenosis of the
        proximal LAD, non-obstructive plaque in the RCA. I would go straight to invasive
        angiography with FFR; he is on my list for Monday 4 March.

        Jürgen
        """),
        parent=a4,
        cc=[OLSEN],
    )
    a.mail(
        "INBOX",
        OLSEN,
        [ME, MUELLER],
        None,
        at("eu", 2024, 3, 5, 12, 7),
        txt("""
        Many thanks to you both for the quick work-up. I have seen the discharge note
        (stent to the proximal LAD, FFR 0.71) and will continue dual antiplatelet therapy
        as recommended.

        Marta
        """),
        parent=a5,
    )

    # B. Rota change to a ward list with ~30 recipients (INBOX/Sent, 6, branching)
    tb = at("eu", 2024, 9, 9, 7, 55)
    b1 = a.mail(
        "INBOX",
        KRAUSE,
        WARD_STAFF[:29] + [ME],
        "Dienstplanänderung Wochenende 14./15. September (KW 37)",
        tb,
        txt("""
        Liebe Kolleginnen und Kollegen,

        wegen zweier kurzfristiger Krankmeldungen müssen wir den Dienstplan für das
        Wochenende 14./15. September anpassen. Offen sind aktuell:

        - Samstag 14.09., Nachtdienst Innere (20:00–08:00)
        - Sonntag 15.09., Frühdienst Station 7B (06:30–14:30)
        - Sonntag 15.09., Hintergrunddienst Kardiologie

        Bitte meldet euch bis Mittwoch 12:00 Uhr per Antwort an alle, wer tauschen oder
        übernehmen kann. Der aktuelle Entwurf hängt als PDF an.

        Viele Grüße
        Sabine Krause
        Dienstplanung Innere Medizin
        """),
        lang="de",
        attachments=[
            att_pdf(
                "Dienstplan_KW37_Entwurf.pdf",
                "Dienstplan KW 37 (Entwurf)",
                [
                    "Sa 14.09. Nacht: OFFEN",
                    "So 15.09. Frueh 7B: OFFEN",
                    "So 15.09. HG Kardiologie: OFFEN",
                    "Stand: 09.09.2024 07:50",
                ],
                tb,
            )
        ],
        flagged=True,
    )
    b2 = a.mail(
        "INBOX",
        ZMUDA,
        [KRAUSE],
        None,
        at("eu", 2024, 9, 9, 9, 12),
        txt("""
        Hallo Sabine,

        ich kann den Nachtdienst am Samstag übernehmen, wenn jemand meinen Frühdienst am
        Montag 16.09. tauscht (ich komme sonst nicht auf meine Ruhezeit).

        Grüße
        Łukasz
        """),
        parent=b1,
        lang="de",
        cc=WARD_STAFF[:29] + [ME],
    )
    a.mail(
        "INBOX",
        VOGEL,
        [KRAUSE],
        None,
        at("eu", 2024, 9, 9, 10, 30),
        txt("""
        Hallo Sabine,

        für den Sonntag-Frühdienst auf 7B brauchen wir zusätzlich eine zweite
        Pflegekraft, wir haben zwei Patienten mit Isolationspflicht. Kann die Pflege-
        dienstleitung jemanden aus dem Pool schicken?

        Katrin
        """),
        parent=b1,
        lang="de",
        cc=[ME],
    )
    b4 = a.mail(
        "Sent",
        ME,
        [ZMUDA],
        None,
        at("eu", 2024, 9, 9, 12, 47),
        with_sig(
            txt("""
        Hallo Łukasz,

        ich nehme deinen Frühdienst am Montag 16.09., dann hast du die Nacht am Samstag.
        Den Hintergrund am Sonntag übernehme ich auch.
        """)
        ),
        parent=b2,
        lang="de",
        cc=[KRAUSE],
    )
    b5 = a.mail(
        "INBOX",
        KRAUSE,
        [ME, ZMUDA],
        None,
        at("eu", 2024, 9, 10, 8, 5),
        txt("""
        Danke euch beiden, ist eingetragen. Den aktualisierten Plan findet ihr im Anhang
        und ab heute Mittag auch im Intranet.

        Sabine
        """),
        parent=b4,
        lang="de",
        attachments=[
            att_pdf(
                "Dienstplan_KW37_v2.pdf",
                "Dienstplan KW 37 (Version 2)",
                [
                    "Sa 14.09. Nacht: L. Zmuda",
                    "So 15.09. HG Kardiologie: Dr. L. Hartmann",
                    "Mo 16.09. Frueh: Dr. L. Hartmann (Tausch)",
                    "Stand: 10.09.2024 08:00",
                ],
                tb,
            )
        ],
    )
    a.mail(
        "INBOX",
        ZMUDA,
        [KRAUSE, ME],
        None,
        at("eu", 2024, 9, 10, 8, 31),
        "Danke! 👍 Dann bis Montag.\n\nŁukasz\n",
        parent=b5,
        lang="de",
        quote_parent=False,
    )

    # C. Lab batch with a query (INBOX/Sent, 4)
    tc = at("eu", 2024, 3, 18, 11, 2)
    c1 = a.mail(
        "INBOX",
        BRANDT,
        [ME],
        "HbA1c results – diabetes outpatient batch 2024-03",
        tc,
        txt("""
        Dear Dr Hartmann,

        please find attached the HbA1c results for the outpatient batch collected on
        14 and 15 March (24 samples). The results have also been released to the
        clinical information system.

        Kind regards,
        Tobias Brandt
        Head of Clinical Chemistry, Zentrallabor
        """),
        attachments=[
            att_csv("HbA1c_batch_2024-03.csv", lab_csv(rng, 24, tc, german=False, bad_row=13))
        ],
    )
    c2 = a.mail(
        "Sent",
        ME,
        [BRANDT],
        None,
        at("eu", 2024, 3, 18, 15, 20),
        with_sig(
            txt("""
        Dear Dr Brandt,

        thank you. Row 14 looks implausible (HbA1c 21.4 %) – could you check for a
        transcription error or a haemoglobin variant before we act on it?
        """),
            ME_SIG_EN,
        ),
        parent=c1,
    )
    c3 = a.mail(
        "INBOX",
        BRANDT,
        [ME],
        None,
        at("eu", 2024, 3, 19, 9, 46),
        txt("""
        Good catch – the sample was haemolysed and the analyser flag was overridden by
        mistake. We have requested a repeat sample; the corrected file (row 14 now
        "pending") is attached. I have filed an internal incident report (IR-2024-0219).

        Tobias
        """),
        parent=c2,
        attachments=[
            att_csv("HbA1c_batch_2024-03_v2.csv", lab_csv(random.Random(7), 24, tc, german=False))
        ],
    )
    a.mail(
        "Sent",
        ME,
        [BRANDT],
        None,
        at("eu", 2024, 3, 19, 10, 3),
        "Thanks a lot, received.\n\nLena\n",
        parent=c3,
        quote_parent=False,
    )

    # D. CME course, ISO-8859-1 bodies, all in BACKUP (incl. my sent mail), 4
    td = at("eu", 2023, 8, 21, 10, 15)
    d1 = a.mail(
        "BACKUP",
        AKADEMIE,
        [ME],
        "Anmeldebestätigung: Refresherkurs Notfallmedizin (12.–14. Oktober 2023)",
        td,
        txt("""
        Sehr geehrte Frau Dr. Hartmann,

        vielen Dank für Ihre Anmeldung zum Refresherkurs Notfallmedizin. Wir bestätigen
        Ihren Platz für den Kurs vom 12. bis 14. Oktober 2023 im Tagungszentrum am
        Müggelsee.

        Die Kursgebühr von 480,00 EUR wird nach Kursende in Rechnung gestellt. Bitte
        bringen Sie Ihren Arztausweis und festes Schuhwerk für die Übungen mit.

        Mit freundlichen Grüßen
        Ihr Team der Akademie für ärztliche Fortbildung
        """),
        lang="de",
        charset="iso-8859-1",
        cte="quoted-printable",
    )
    d2 = a.mail(
        "BACKUP",
        ME,
        [AKADEMIE],
        None,
        at("eu", 2023, 8, 22, 19, 40),
        with_sig(
            txt("""
        Sehr geehrte Damen und Herren,

        vielen Dank für die Bestätigung. Gibt es für die Kursteilnehmer ein Zimmer-
        kontingent im Tagungshotel, oder muss ich selbst buchen?
        """)
        ),
        parent=d1,
        lang="de",
        charset="iso-8859-1",
        cte="quoted-printable",
    )
    d3 = a.mail(
        "BACKUP",
        AKADEMIE,
        [ME],
        None,
        at("eu", 2023, 8, 23, 9, 5),
        txt("""
        Sehr geehrte Frau Dr. Hartmann,

        ja, im Seehotel gibt es bis zum 15. September ein Abrufkontingent unter dem
        Stichwort "NOTARZT23" (Einzelzimmer 119,00 EUR inkl. Frühstück). Ihre
        Teilnahmebestätigung für den Arbeitgeber finden Sie im Anhang.

        Mit freundlichen Grüßen
        Jörg Weidemann
        """),
        parent=d2,
        lang="de",
        charset="iso-8859-1",
        cte="quoted-printable",
        attachments=[
            att_pdf(
                "Teilnahmebestätigung_Hartmann.pdf",
                "Teilnahmebestaetigung",
                [
                    "Dr. med. Lena Hartmann",
                    "Refresherkurs Notfallmedizin, 12.-14.10.2023",
                    "24 Fortbildungspunkte (beantragt)",
                ],
                td,
            )
        ],
    )
    a.mail(
        "BACKUP",
        AKADEMIE,
        [ME],
        None,
        at("eu", 2023, 10, 16, 13, 30),
        txt("""
        Sehr geehrte Frau Dr. Hartmann,

        anbei erhalten Sie Ihr Zertifikat über 24 CME-Punkte. Wir würden uns freuen,
        wenn Sie an unserer kurzen Evaluation teilnehmen (5 Minuten).

        Mit freundlichen Grüßen
        Akademie für ärztliche Fortbildung
        """),
        parent=d3,
        quote_parent=False,
        lang="de",
        charset="iso-8859-1",
        cte="base64",
        attachments=[
            att_pdf(
                "Zertifikat_Notfallmedizin_2023.pdf",
                "Zertifikat",
                [
                    "Dr. med. Lena Hartmann hat am Refresherkurs",
                    "Notfallmedizin (12.-14.10.2023) teilgenommen.",
                    "Anerkannt: 24 CME-Punkte, Kategorie C",
                ],
                td,
            )
        ],
    )

    # E. French exchange agreement, windows-1252 (INBOX/Sent, 4)
    te = at("eu", 2024, 5, 13, 10, 20)
    e1 = a.mail(
        "INBOX",
        FOURNIER,
        [ME],
        "Échange d’internes – convention 2024/2025",
        te,
        txt("""
        Chère Lena,

        suite à notre échange téléphonique, je vous confirme que notre service de
        cardiologie souhaite renouveler la convention d’échange d’internes pour
        l’année 2024/2025. Nous pourrions accueillir deux internes de votre service
        entre novembre et avril ; l’hébergement à l’internat coûte 450 € par mois.

        Vous trouverez ci-joint le projet de convention. Pourriez-vous le faire
        relire par votre direction des affaires médicales ?

        Bien cordialement,
        Élodie Fournier
        Cheffe de clinique – Cardiologie, Hôpital Sud
        """),
        lang="fr",
        charset="windows-1252",
        cte="quoted-printable",
        attachments=[
            att_docx(
                "Convention_échange_2024-2025.docx",
                [
                    "Convention d’échange d’internes 2024/2025",
                    "Entre l’Hôpital Sud et le St.-Aurelia-Klinikum, Berlin.",
                    "Article 1 – Objet : accueil réciproque de deux internes.",
                    "Article 2 – Durée : du 4 novembre 2024 au 30 avril 2025.",
                ],
            )
        ],
    )
    e2 = a.mail(
        "Sent",
        ME,
        [FOURNIER],
        None,
        at("eu", 2024, 5, 14, 18, 2),
        with_sig(
            txt("""
        Chère Élodie,

        merci beaucoup ! J’ai transmis le projet à notre direction médicale ; ils
        demandent seulement de préciser l’assurance responsabilité civile (article 5).
        Sinon, tout nous convient. Deux de nos internes sont déjà très intéressés.

        Bien à vous,
        Lena
        """),
            ME_SIG_EN,
        ),
        parent=e1,
        lang="fr",
    )
    e3 = a.mail(
        "INBOX",
        FOURNIER,
        [ME],
        None,
        at("eu", 2024, 6, 3, 9, 7),
        txt("""
        Chère Lena,

        parfait, l’article 5 a été complété. Je vous envoie la version signée par notre
        directeur ; merci de nous retourner un exemplaire contresigné.

        Bien cordialement,
        Élodie
        """),
        parent=e2,
        lang="fr",
        charset="windows-1252",
        cte="quoted-printable",
        attachments=[
            att_pdf(
                "Convention_signée_Hôpital_Sud.pdf",
                "Convention d'echange 2024/2025 (signee)",
                [
                    "Signe a Montpellier, le 31 mai 2024",
                    "Pour l'Hopital Sud : le Directeur general",
                ],
                te,
            )
        ],
    )
    a.mail(
        "Sent",
        ME,
        [FOURNIER],
        None,
        at("eu", 2024, 6, 3, 11, 30),
        "Merci Élodie, c’est transmis pour signature. À bientôt !\n\nLena\n",
        parent=e3,
        lang="fr",
        quote_parent=False,
    )

    # F. Polish visit, base64 UTF-8 (INBOX/Sent, 3)
    tf = at("eu", 2024, 11, 4, 13, 45)
    f1 = a.mail(
        "INBOX",
        WISNIEWSKA,
        [ME],
        "Wymiana doświadczeń – wizyta zespołu z Łodzi",
        tf,
        txt("""
        Szanowna Pani Doktor,

        dziękujemy za zaproszenie. Nasz zespół z oddziału kardiologii w Łodzi chętnie
        odwiedzi Państwa klinikę w dniach 2–4 grudnia. Przyjedzie pięć osób: dwóch
        lekarzy, dwie pielęgniarki i technik echokardiografii.

        (English below)

        Dear Dr Hartmann, thank you for the invitation. Our cardiology team from Łódź
        would be glad to visit on 2–4 December: two physicians, two nurses and one
        echocardiography technician. Could you suggest a programme?

        Z poważaniem / Kind regards
        Zofia Wiśniewska
        """),
        lang="pl",
        cte="base64",
    )
    f2 = a.mail(
        "Sent",
        ME,
        [WISNIEWSKA],
        None,
        at("eu", 2024, 11, 5, 8, 50),
        with_sig(
            txt("""
        Dear Dr Wiśniewska,

        wonderful news. A first suggestion: Monday morning introduction and ward round,
        Monday afternoon echo lab (TEE and stress echo), Tuesday cath lab and heart
        team meeting, Wednesday morning nursing workshop on heart-failure education.
        Accommodation can be arranged in our guest house.

        Kind regards,
        Lena Hartmann
        """),
            ME_SIG_EN,
        ),
        parent=f1,
    )
    a.mail(
        "INBOX",
        WISNIEWSKA,
        [ME],
        None,
        at("eu", 2024, 11, 6, 10, 12),
        txt("""
        Dziękuję bardzo! The programme is perfect. I attach our final list of
        participants and an invitation for the heart team meeting for your calendar.

        Pozdrawiam serdecznie
        Zofia
        """),
        parent=f2,
        lang="pl",
        cte="base64",
        attachments=[
            att_pdf(
                "Program_wizyty_Łódź_grudzień.pdf",
                "Program wizyty - Berlin, 2-4.12.2024",
                [
                    "Uczestnicy: dr Z. Wisniewska, dr M. Lis, B. Kaczmarek,",
                    "A. Zielinska, T. Nowicki",
                ],
                tf,
            ),
            att_ics(
                "Heart_team_meeting.ics",
                ics(
                    "heartteam-20241203@szpital.example.org",
                    "Heart team meeting – wizyta z Łodzi",
                    at("eu", 2024, 12, 3, 14, 0),
                    90,
                    "St. Aurelia, Konferenzraum K2",
                    ME,
                    [WISNIEWSKA, MUELLER],
                    tf,
                ),
            ),
        ],
    )

    # G. Greek protocol comments, ISO-8859-7 (INBOX/Sent, 3)
    tg = at("gr", 2025, 1, 14, 16, 30)
    g1 = a.mail(
        "INBOX",
        PAPADAKIS,
        [ME],
        "Πρωτόκολλο μελέτης HF-REG: σχόλια / protocol comments",
        tg,
        txt("""
        Αγαπητή Lena,

        σας ευχαριστώ για το προσχέδιο του πρωτοκόλλου. Έχω μερικά σχόλια για τα
        κριτήρια ένταξης.

        (In English:) thank you for the draft protocol. Two comments: (1) we should
        allow patients with an ejection fraction up to 45 %, otherwise our site will
        recruit very slowly; (2) the six-minute walk test at month 3 is hard to
        schedule, could it be optional?

        Με εκτίμηση,
        Γιώργος Παπαδάκης
        """),
        lang="el",
        charset="iso-8859-7",
        cte="quoted-printable",
    )
    g2 = a.mail(
        "Sent",
        ME,
        [PAPADAKIS],
        None,
        at("eu", 2025, 1, 15, 9, 10),
        with_sig(
            txt("""
        Dear Giorgos,

        thank you, both points are reasonable. I will propose EF up to 45 % to the steering
        committee and make the month-3 walk test optional (month 6 stays mandatory).
        """),
            ME_SIG_EN,
        ),
        parent=g1,
    )
    a.mail(
        "INBOX",
        PAPADAKIS,
        [ME],
        None,
        at("gr", 2025, 1, 15, 12, 0),
        txt("""
        Ευχαριστώ πολύ! Perfect, then we are ready to submit to our ethics committee.

        Γιώργος
        """),
        parent=g2,
        lang="el",
        charset="iso-8859-7",
        cte="quoted-printable",
    )

    # H. Japanese co-author request, ISO-2022-JP (INBOX/Sent, 4)
    th = at("jp", 2024, 6, 10, 17, 5)
    h1 = a.mail(
        "INBOX",
        YAMADA,
        [ME],
        "学会発表の共同演者について (co-author request)",
        th,
        txt("""
        |Hartmann 先生
        |
        |いつもお世話になっております。医科大学循環器内科の山田です。
        |先日の共同研究の結果を、秋の学術集会で発表したいと考えております。
        |先生に共同演者として加わっていただけないでしょうか。
        |抄録の締め切りは7月1日です。
        |
        |(English) Dear Dr Hartmann, we would like to present the results of our joint
        |study at the autumn meeting and would be honoured to list you as co-author.
        |The abstract deadline is 1 July.
        |
        |よろしくお願いいたします。
        |山田 花子
        """),
        lang="ja",
        charset="iso-2022-jp",
        cte="7bit",
    )
    h2 = a.mail(
        "Sent",
        ME,
        [YAMADA],
        None,
        at("eu", 2024, 6, 11, 8, 30),
        with_sig(
            txt("""
        Dear Dr Yamada,

        thank you very much, I would be delighted to be a co-author. Please send me the
        draft abstract when it is ready; I can comment within two or three days.
        """),
            ME_SIG_EN,
        ),
        parent=h1,
    )
    h3 = a.mail(
        "INBOX",
        YAMADA,
        [ME],
        None,
        at("jp", 2024, 6, 24, 10, 20),
        txt("""
        |Hartmann 先生
        |
        |ご快諾いただき、ありがとうございます。
        |抄録の草案を添付いたしますので、ご確認をお願いいたします。
        |(Draft abstract attached.)
        |
        |山田
        """),
        parent=h2,
        lang="ja",
        charset="iso-2022-jp",
        cte="7bit",
        attachments=[
            att_docx(
                "抄録_草案_v1.docx",
                [
                    "Long-term outcome after transcatheter edge-to-edge repair:",
                    "a German-Japanese registry comparison (draft v1)",
                    "Authors: H. Yamada, L. Hartmann, et al.",
                ],
            )
        ],
    )
    a.mail(
        "Sent",
        ME,
        [YAMADA],
        None,
        at("eu", 2024, 6, 25, 21, 14),
        with_sig(
            txt("""
        Dear Dr Yamada,

        the abstract reads very well. Two small suggestions: give the median follow-up
        in the results sentence, and write "TEER" out in full once. Otherwise fine with
        me – good luck with the submission!
        """),
            ME_SIG_EN,
        ),
        parent=h3,
    )

    # I. Chinese tele-consultation, UTF-8 base64 (INBOX/Sent, 3)
    ti = at("cn", 2025, 3, 10, 15, 0)
    i1 = a.mail(
        "INBOX",
        WANG,
        [ME],
        "远程会诊安排 / Tele-consultation schedule",
        ti,
        txt("""
        |Hartmann 医生，您好！
        |
        |感谢您同意参加我们的远程会诊。我们计划于3月20日（星期四）北京时间下午4点
        |（柏林时间上午9点）讨论两例复杂的二尖瓣反流病例。
        |
        |Dear Dr Hartmann, thank you for agreeing to join our tele-consultation on
        |Thursday 20 March, 16:00 Beijing time (09:00 Berlin), two complex mitral
        |regurgitation cases. Anonymised echo loops will be shared in the video call.
        |
        |此致
        |王芳
        """),
        lang="zh",
        cte="base64",
    )
    i2 = a.mail(
        "Sent",
        ME,
        [WANG],
        None,
        at("eu", 2025, 3, 11, 8, 15),
        with_sig(
            txt("""
        Dear Dr Wang,

        confirmed for 20 March, 09:00 Berlin time. Please send the meeting link a day
        in advance; I will join from our echo lab.
        """),
            ME_SIG_EN,
        ),
        parent=i1,
    )
    a.mail(
        "INBOX",
        WANG,
        [ME],
        None,
        at("cn", 2025, 3, 19, 11, 30),
        txt("""
        |好的，谢谢！Meeting invitation attached.
        |
        |王芳
        """),
        parent=i2,
        lang="zh",
        cte="base64",
        attachments=[
            att_ics(
                "远程会诊.ics",
                ics(
                    "telecons-20250320@hospital-partner.example.com",
                    "远程会诊 / Tele-consultation MR",
                    at("eu", 2025, 3, 20, 9, 0),
                    60,
                    "Video call",
                    WANG,
                    [ME],
                    ti,
                ),
            )
        ],
    )

    # J. IT maintenance notice with reply (INBOX/Sent, 3) - HTML alternative
    tj = at("eu", 2024, 7, 12, 14, 0)
    j_text = txt("""
        Sehr geehrte Kolleginnen und Kollegen,

        am Donnerstag, 18.07.2024, zwischen 22:00 und 02:00 Uhr wird der PACS-Viewer
        auf Version 8.4 aktualisiert. In dieser Zeit stehen Bilder nur über den
        Notfall-Viewer (Intranet > Radiologie > Notfallzugang) zur Verfügung.

        Ticket bei Fragen: https://servicedesk.clinic.example/ticket/new

        Ihr IT-Servicedesk
        """)
    j1 = a.mail(
        "INBOX",
        SERVICEDESK,
        [RESIDENTS_LIST, ME],
        "Geplante Wartung PACS-Viewer am 18.07. / Planned PACS viewer downtime",
        tj,
        j_text,
        html=html_page(
            '<div style="background:#fff3cd;padding:10px;border:1px solid #e0c36c">'
            "<b>Geplante Wartung / Planned maintenance</b></div>\n" + html_from_text(j_text),
            head='<link rel="stylesheet" href="https://cdn.example.net/it/notice.css">',
            title="PACS-Wartung",
        ),
        lang="de",
    )
    j2 = a.mail(
        "Sent",
        ME,
        [SERVICEDESK],
        None,
        at("eu", 2024, 7, 12, 15, 31),
        with_sig(
            txt("""
        Hallo Servicedesk,

        gilt der Notfallzugang auch für die Echo-Loops aus dem Herzkatheterlabor? Wir
        haben am 18.07. abends Rufbereitschaft.
        """)
        ),
        parent=j1,
        lang="de",
    )
    a.mail(
        "INBOX",
        SERVICEDESK,
        [ME],
        None,
        at("eu", 2024, 7, 15, 9, 2),
        txt("""
        Sehr geehrte Frau Dr. Hartmann,

        ja, der Notfall-Viewer zeigt auch Katheter- und Echo-Serien (ohne Messwerkzeuge).
        Wir haben Ihr Anliegen unter Ticket INC-2024-071544 dokumentiert.

        Freundliche Grüße
        Tim Reuter, IT-Servicedesk
        """),
        parent=j2,
        lang="de",
    )

    # K. Insurer prior authorisation (INBOX/Sent, 5) - HTML with remote content
    tk = at("eu", 2024, 10, 7, 10, 0)
    k_text = txt("""
        Sehr geehrte Frau Dr. Hartmann,

        zu Ihrem Antrag auf Kostenübernahme (Vorgang PA-2024-0117, Versicherte Frau
        Renate Müller, geb. 02.11.1949) für einen interventionellen Mitralklappen-
        eingriff benötigen wir noch folgende Unterlagen:

        - aktuellen echokardiographischen Befund (nicht älter als 3 Monate)
        - Stellungnahme des Herzteams
        - Medikationsplan

        Bitte senden Sie die Unterlagen bis zum 21.10.2024 an vorab@insurer.example.net.

        Mit freundlichen Grüßen
        Ihre Leistungsprüfung, Nordstern Krankenversicherung
        """)
    k_html = html_page(
        '<table width="100%"><tr><td style="background:url(https://insurer.example.net/'
        'mail/header-bg.jpg) repeat-x;height:64px"><img src="https://insurer.example.net/'
        'mail/logo.png" alt="Nordstern" height="40"></td></tr></table>\n'
        + html_from_text(k_text)
        + '\n<img src="https://tracker.example.com/pixel.gif?c=pa-2024-0117" width="1" '
        'height="1">',
        title="PA-2024-0117",
    )
    k1 = a.mail(
        "INBOX",
        INSURER,
        [ME],
        "Kostenübernahme PA-2024-0117: Unterlagen fehlen",
        tk,
        k_text,
        html=k_html,
        lang="de",
        flagged=True,
    )
    k2 = a.mail(
        "Sent",
        ME,
        [INSURER],
        None,
        at("eu", 2024, 10, 9, 16, 45),
        with_sig(
            txt("""
        Sehr geehrte Damen und Herren,

        anbei die angeforderten Unterlagen zum Vorgang PA-2024-0117: Echobefund vom
        24.09.2024, Stellungnahme des Herzteams vom 01.10.2024 sowie der aktuelle
        Medikationsplan.
        """)
        ),
        parent=k1,
        lang="de",
        attachments=[
            att_pdf(
                "Befund_Müller.pdf",
                "Echokardiographie-Befund",
                [
                    "Patientin: Renate Mueller, geb. 02.11.1949",
                    "TTE/TEE 24.09.2024: hochgradige Mitralinsuffizienz (degenerativ, P2-Prolaps)",
                    "LVEF 52 %, sPAP 48 mmHg",
                    "Herzteam: TEER empfohlen (STS-Score 7,9 %)",
                ],
                tk,
            ),
            att_png("Echo_Müller_2024-09-24.png", echo_png(rng)),
            att_pdf(
                "Medikationsplan_Müller.pdf",
                "Bundeseinheitlicher Medikationsplan",
                [
                    "Apixaban 5 mg 1-0-1",
                    "Torasemid 10 mg 1-0-0",
                    "Bisoprolol 2,5 mg 1-0-0",
                    "Candesartan 8 mg 0-0-1",
                ],
                tk,
            ),
        ],
    )
    k3 = a.mail(
        "INBOX",
        INSURER,
        [ME],
        None,
        at("eu", 2024, 10, 10, 8, 12),
        txt("""
        Sehr geehrte Frau Dr. Hartmann,

        vielen Dank, Ihre Unterlagen sind vollständig eingegangen. Die Prüfung durch
        den Medizinischen Dienst dauert in der Regel 5 bis 10 Werktage.

        Ihre Leistungsprüfung
        """),
        parent=k2,
        lang="de",
        quote_parent=False,
    )
    k4 = a.mail(
        "INBOX",
        INSURER,
        [ME],
        None,
        at("eu", 2024, 10, 18, 11, 40),
        txt("""
        Sehr geehrte Frau Dr. Hartmann,

        wir freuen uns, Ihnen mitteilen zu können, dass die Kosten für den Eingriff
        übernommen werden. Der Bewilligungsbescheid liegt bei.

        Ihre Leistungsprüfung
        """),
        parent=k3,
        lang="de",
        quote_parent=False,
        attachments=[
            att_pdf(
                "Bewilligung_PA-2024-0117.pdf",
                "Bewilligungsbescheid PA-2024-0117",
                [
                    "Leistung: interventionelle Mitralklappenrekonstruktion (TEER)",
                    "Entscheidung: bewilligt",
                    "Gueltig bis: 31.01.2025",
                ],
                tk,
            )
        ],
    )
    a.mail(
        "Sent",
        ME,
        [INSURER],
        None,
        at("eu", 2024, 10, 18, 13, 5),
        with_sig("Vielen Dank für die schnelle Bearbeitung.\n"),
        parent=k4,
        lang="de",
        quote_parent=False,
    )

    # L. Hygiene audit 2023, entirely in BACKUP (5), windows-1252 CSV
    tl = at("eu", 2023, 7, 10, 8, 30)
    l1 = a.mail(
        "BACKUP",
        QM,
        [ME, VOGEL, MUELLER, BERG],
        "Audit Händehygiene-Compliance Q2/2023 – Ergebnisse Innere",
        tl,
        txt("""
        Liebe Kolleginnen und Kollegen,

        anbei die Ergebnisse der Compliance-Beobachtungen für das 2. Quartal. Die
        Innere liegt mit 78 % unter dem Klinikziel von 85 %; besonders auffällig ist
        die Indikation "vor aseptischen Tätigkeiten" (61 %).

        Wir schlagen eine Kurzschulung in der Frühbesprechung vor. Bitte um
        Rückmeldung, welche Termine passen.

        Ihr Hygieneteam
        """),
        lang="de",
        attachments=[
            att_csv(
                "Compliance_Q2_2023.csv",
                txt("""
        |Station;Beobachtungen;Compliance gesamt;vor Patientenkontakt;vor aseptischer Tätigkeit
        |7A;112;81,3 %;79,0 %;64,2 %
        |7B;98;74,5 %;70,1 %;55,0 %
        |Intensiv;143;88,8 %;90,2 %;82,5 %
        |Notaufnahme;87;69,0 %;66,7 %;51,3 %
        """),
                charset="windows-1252",
            )
        ],
    )
    l2 = a.mail(
        "BACKUP",
        ME,
        [QM],
        None,
        at("eu", 2023, 7, 10, 13, 15),
        with_sig(
            txt("""
        Danke für die Auswertung. Für die Innere passt Dienstag 18.07. oder Donnerstag
        20.07. jeweils 07:45 Uhr in der Frühbesprechung.
        """)
        ),
        parent=l1,
        lang="de",
        cc=[VOGEL, MUELLER, BERG],
    )
    l3 = a.mail(
        "BACKUP",
        VOGEL,
        [ME, QM],
        None,
        at("eu", 2023, 7, 10, 14, 2),
        txt("""
        Für die Pflege auf 7B wäre der Donnerstag besser, dienstags sind wir wegen der
        Aufnahmen zu knapp besetzt.

        Katrin
        """),
        parent=l2,
        lang="de",
    )
    l4 = a.mail(
        "BACKUP",
        QM,
        [ME, VOGEL, MUELLER, BERG],
        None,
        at("eu", 2023, 7, 11, 9, 0),
        txt("""
        Dann machen wir Donnerstag, 20.07., 07:45 Uhr. Wir bringen die neuen
        Kitteltaschenflaschen mit.

        Ihr Hygieneteam
        """),
        parent=l3,
        lang="de",
    )
    a.mail(
        "BACKUP",
        MUELLER,
        [QM],
        None,
        at("eu", 2023, 7, 11, 9, 25),
        "Passt, ich sage es in der Oberarztrunde an.\n\nJürgen\n",
        parent=l4,
        lang="de",
        cc=[ME],
        quote_parent=False,
    )

    # M. Ethics submission spanning BACKUP (2023) -> INBOX/Sent (2024), 8 messages
    tm = at("eu", 2023, 11, 6, 11, 0)
    m1 = a.mail(
        "BACKUP",
        ME,
        [NOVAK],
        "Ethikantrag HF-REG: Einreichung Protokoll v2",
        tm,
        with_sig(
            txt("""
        Sehr geehrte Frau Prof. Novák,

        anbei übersende ich den Ethikantrag für das Herzinsuffizienz-Register HF-REG
        (Protokoll v2, Patienteninformation, Einwilligungserklärung). Die Studie ist
        als nicht-interventionelle Registerstudie angelegt.
        """)
        ),
        lang="de",
        attachments=[
            att_docx(
                "HF-REG_Protokoll_v2.docx",
                [
                    "HF-REG Studienprotokoll v2",
                    "Nicht-interventionelles Register",
                    "Primaerer Endpunkt: Rehospitalisierung 12 Monate",
                ],
                octet=True,
            ),
            att_pdf(
                "Patienteninformation_v2.pdf",
                "Patienteninformation HF-REG v2",
                [
                    "Sie werden gebeten, an einem Register teilzunehmen ...",
                    "Ihre Teilnahme ist freiwillig.",
                ],
                tm,
            ),
        ],
    )
    m2 = a.mail(
        "BACKUP",
        NOVAK,
        [ME],
        None,
        at("eu", 2023, 11, 8, 16, 20),
        txt("""
        Sehr geehrte Frau Dr. Hartmann,

        vielen Dank, der Antrag ist unter der Nummer EK-2023-487 eingegangen und wird
        in der Sitzung am 5. Dezember beraten.

        Mit freundlichen Grüßen
        Helena Novák
        Vorsitzende der Ethikkommission
        """),
        parent=m1,
        lang="de",
    )
    m3 = a.mail(
        "BACKUP",
        NOVAK,
        [ME],
        None,
        at("eu", 2023, 12, 7, 10, 5),
        txt("""
        Sehr geehrte Frau Dr. Hartmann,

        die Kommission hat den Antrag beraten und bittet um folgende Änderungen:

        1. Die Patienteninformation ist in einfacher Sprache zu überarbeiten.
        2. Die Pseudonymisierung und die Löschfristen sind genauer zu beschreiben.
        3. Der Datenzugang der Partnerzentren ist im Protokoll zu regeln.

        Die ausführliche Stellungnahme liegt bei.

        Helena Novák
        """),
        parent=m2,
        lang="de",
        attachments=[
            att_pdf(
                "Stellungnahme_EK-2023-487.pdf",
                "Stellungnahme der Ethikkommission EK-2023-487",
                [
                    "Beschluss: zustimmende Bewertung unter Auflagen",
                    "Auflage 1: Patienteninformation in einfacher Sprache",
                    "Auflage 2: Pseudonymisierung und Loeschfristen",
                    "Auflage 3: Datenzugang Partnerzentren",
                ],
                tm,
            )
        ],
    )
    m4 = a.mail(
        "BACKUP",
        ME,
        [NOVAK],
        None,
        at("eu", 2023, 12, 8, 8, 40),
        with_sig(
            txt("""
        Vielen Dank für die konstruktiven Hinweise. Wir überarbeiten die Unterlagen und
        reichen Protokoll v3 voraussichtlich im Februar ein.
        """)
        ),
        parent=m3,
        lang="de",
    )
    m5 = a.mail(
        "Sent",
        ME,
        [NOVAK],
        "AW: Ethikantrag HF-REG: Protokoll v3",
        at("eu", 2024, 2, 19, 17, 10),
        with_sig(
            txt("""
        Sehr geehrte Frau Prof. Novák,

        anbei die überarbeiteten Unterlagen (Protokoll v3, Patienteninformation v3 in
        einfacher Sprache). Die Änderungen sind im Dokument markiert.
        """)
        ),
        parent=m4,
        lang="de",
        attachments=[
            att_docx(
                "HF-REG_Protokoll_v3.docx",
                [
                    "HF-REG Studienprotokoll v3",
                    "Abschnitt 9.2: Pseudonymisierung",
                    "Abschnitt 9.4: Loeschfristen",
                ],
            ),
            att_docx(
                "Patienteninformation_v3_einfache_Sprache.docx",
                ["Was ist ein Register?", "Was passiert mit meinen Daten?"],
            ),
        ],
    )
    m6 = a.mail(
        "INBOX",
        NOVAK,
        [ME],
        None,
        at("eu", 2024, 3, 6, 12, 30),
        txt("""
        Sehr geehrte Frau Dr. Hartmann,

        die Auflagen sind erfüllt. Das zustimmende Votum zu EK-2023-487 liegt bei.
        Bitte denken Sie an die jährlichen Berichte.

        Helena Novák
        """),
        parent=m5,
        lang="de",
        attachments=[
            att_pdf(
                "Votum_EK-2023-487.pdf",
                "Zustimmendes Votum EK-2023-487",
                ["Die Ethikkommission erhebt keine Bedenken.", "Datum: 05.03.2024"],
                tm,
            )
        ],
        flagged=True,
    )
    m7 = a.mail(
        "Sent",
        ME,
        [NOVAK],
        None,
        at("eu", 2024, 3, 6, 14, 0),
        with_sig("Herzlichen Dank, das ist eine gute Nachricht für das ganze Team!\n"),
        parent=m6,
        lang="de",
        cc=[PAPADAKIS, MUELLER],
        quote_parent=False,
    )
    a.mail(
        "INBOX",
        MUELLER,
        [ME],
        None,
        at("eu", 2024, 3, 6, 14, 22),
        txt("""
        Glückwunsch! Dann können wir im April mit dem Einschluss beginnen. Ich kümmere
        mich um die eCRF-Zugänge.

        Jürgen
        """),
        parent=m7,
        lang="de",
    )

    # N. Team lunch with emoji subject (INBOX/Sent, 5)
    tn = at("eu", 2025, 6, 10, 11, 15)
    n1 = a.mail(
        "INBOX",
        VOGEL,
        [ME, ZMUDA, OKAFOR, BERG, SCHOLZ],
        "Team lunch on Friday 🎉🍕",
        tn,
        txt("""
        Hi all,

        to celebrate Felix passing his specialist exam 🎓 we are going for pizza on
        Friday at 12:30 (Trattoria am Park). Who is in? Please reply by Thursday so I
        can book a table.

        Katrin
        """),
    )
    n2 = a.mail(
        "INBOX",
        OKAFOR,
        [VOGEL],
        None,
        at("eu", 2025, 6, 10, 11, 40),
        "I'm in! 🙋‍♂️\n\nChidi\n",
        parent=n1,
        cc=[ME, ZMUDA, BERG, SCHOLZ],
        quote_parent=False,
    )
    n3 = a.mail(
        "Sent",
        ME,
        [VOGEL],
        None,
        at("eu", 2025, 6, 10, 12, 5),
        "Count me in too – congratulations, Felix! 🥳\n\nLena\n",
        parent=n2,
        cc=[OKAFOR, ZMUDA, BERG, SCHOLZ],
        quote_parent=False,
    )
    n4 = a.mail(
        "INBOX",
        ZMUDA,
        [VOGEL],
        None,
        at("eu", 2025, 6, 10, 13, 30),
        "Ja, bin dabei, aber erst ab 13:00 (Visite). 🍕\n\nŁukasz\n",
        parent=n3,
        cc=[ME, OKAFOR, BERG, SCHOLZ],
        quote_parent=False,
    )
    a.mail(
        "INBOX",
        VOGEL,
        [ME, ZMUDA, OKAFOR, BERG, SCHOLZ],
        None,
        at("eu", 2025, 6, 12, 16, 0),
        txt("""
        Table for 6 booked for 12:30, Łukasz joins later. See you there! ☀️

        Katrin
        """),
        parent=n4,
        quote_parent=False,
    )

    # O. M&M conference invitation with iCalendar (INBOX/Sent, 3)
    to = at("eu", 2025, 2, 10, 15, 0)
    o1 = a.mail(
        "INBOX",
        MUELLER,
        [ME, OKAFOR, BERG, ZMUDA],
        "Einladung: M&M-Konferenz Kardiologie am 26.02.2025",
        to,
        txt("""
        Liebe Kolleginnen und Kollegen,

        die nächste Morbiditäts- und Mortalitätskonferenz findet am Mittwoch, 26.02.,
        um 07:30 Uhr im Hörsaal 2 statt. Wer stellt einen Fall vor? Bitte bis Freitag
        melden. Termin im Anhang.

        Jürgen
        """),
        lang="de",
        attachments=[
            att_ics(
                "MM-Konferenz_2025-02-26.ics",
                ics(
                    "mm-20250226@clinic.example",
                    "M&M-Konferenz Kardiologie",
                    at("eu", 2025, 2, 26, 7, 30),
                    60,
                    "Hörsaal 2, Haus A",
                    MUELLER,
                    [ME, OKAFOR, BERG, ZMUDA],
                    to,
                    "Fallvorstellungen; bitte pünktlich",
                ),
            )
        ],
    )
    o2 = a.mail(
        "Sent",
        ME,
        [MUELLER],
        None,
        at("eu", 2025, 2, 11, 8, 0),
        with_sig(
            txt("""
        Hallo Jürgen,

        ich stelle den Fall mit der späten Tamponade nach Ablation vor (anonymisiert).
        Folien im Anhang als PDF, damit du die Reihenfolge planen kannst.
        """)
        ),
        parent=o1,
        lang="de",
        attachments=[
            att_pdf(
                "MM_Fall_Tamponade_anonymisiert.pdf",
                "M&M: spaete Perikardtamponade nach PVI",
                [
                    "Fall: 67 J., PVI bei paroxysmalem VHF",
                    "Tag 9: Dyspnoe, Hypotonie",
                    "Lessons learned: Entlassungs-Echo, Aufklaerung Warnzeichen",
                ],
                to,
            )
        ],
    )
    a.mail(
        "INBOX",
        MUELLER,
        [ME],
        None,
        at("eu", 2025, 2, 11, 8, 45),
        "Perfekt, danke! Du bist als erster Fall eingeplant.\n\nJürgen\n",
        parent=o2,
        lang="de",
        quote_parent=False,
    )

    # P. Patient rescheduling (INBOX/Sent, 3)
    tp = at("eu", 2025, 8, 18, 19, 22)
    p1 = a.mail(
        "INBOX",
        LINDQVIST,
        [ME],
        "Termin Herzschrittmacher-Kontrolle verschieben?",
        tp,
        txt("""
        Sehr geehrte Frau Dr. Hartmann,

        ich habe am 27. August um 9:00 Uhr einen Termin zur Schrittmacherkontrolle. Leider
        bin ich an dem Tag bei einer Beerdigung in Schweden. Wäre ein Termin in der
        ersten Septemberwoche möglich?

        Mit freundlichen Grüßen
        Peter Lindqvist
        """),
        lang="de",
    )
    p2 = a.mail(
        "Sent",
        ME,
        [LINDQVIST],
        None,
        at("eu", 2025, 8, 19, 7, 50),
        with_sig(
            txt("""
        Sehr geehrter Herr Lindqvist,

        das ist kein Problem. Ich habe Ihren Termin auf Dienstag, 2. September, 10:15 Uhr
        verlegt (Schrittmacherambulanz, Haus C, Erdgeschoss). Bitte bringen Sie Ihren
        Schrittmacherausweis mit. Mein herzliches Beileid.
        """)
        ),
        parent=p1,
        lang="de",
    )
    a.mail(
        "INBOX",
        LINDQVIST,
        [ME],
        None,
        at("eu", 2025, 8, 19, 9, 3),
        txt("""
        Vielen Dank für die schnelle Antwort, der Termin passt.

        Peter Lindqvist
        """),
        parent=p2,
        lang="de",
    )

    # Q. Critical value -> forwarded as message/rfc822 -> reply (INBOX/Sent/INBOX, 3)
    tq = at("eu", 2025, 4, 22, 6, 48)
    q1 = a.mail(
        "INBOX",
        LAB,
        [ME],
        "KRITISCHER WERT: Kalium 6,8 mmol/l – Station 7B, Bett 12",
        tq,
        txt("""
        ACHTUNG – kritischer Laborwert

        Patient:    Fährmann, Gisela (PID 0048213), Station 7B, Bett 12
        Analyt:     Kalium (Serum)
        Wert:       6,8 mmol/l   (Referenz 3,5–5,1)   Flag: HH
        Entnahme:   22.04.2025 05:55   Validiert: 06:46 (Dr. T. Brandt)

        Der Wert wurde telefonisch an Station 7B (Pflege, Hr. Scholz) um 06:47 Uhr
        durchgegeben.

        Zentrallabor – automatische Benachrichtigung, bitte nicht antworten.
        """),
        lang="de",
        headers=[
            ("Importance", "high"),
            ("X-Priority", "1 (Highest)"),
            ("Auto-Submitted", "auto-generated"),
        ],
        mailer="LabNotify 3.1",
    )
    q2 = a.mail(
        "Sent",
        ME,
        [OKAFOR],
        "WG: KRITISCHER WERT: Kalium 6,8 mmol/l – Station 7B, Bett 12",
        at("eu", 2025, 4, 22, 7, 2),
        with_sig(
            txt("""
        Chidi,

        kannst du bitte sofort nach Frau Fährmann sehen (7B/12)? EKG, Kontrolle aus
        Vollblut-BGA, ggf. Calciumgluconat und Insulin-Glukose. Ramipril und
        Spironolacton pausieren. Ich bin ab 07:30 im Haus.
        """)
        ),
        forward=q1,
        lang="de",
        flagged=False,
    )
    a.mail(
        "INBOX",
        OKAFOR,
        [ME],
        "AW: WG: KRITISCHER WERT: Kalium 6,8 mmol/l – Station 7B, Bett 12",
        at("eu", 2025, 4, 22, 7, 26),
        txt("""
        Gesehen. BGA-Kalium 6,1, EKG mit spitzen T-Wellen, keine Arrhythmien. Calcium-
        gluconat und Insulin-Glukose gegeben, Kontrolle in 2 h. RAAS-Blocker und
        Spironolacton abgesetzt.

        Chidi
        """),
        parent=q2,
        lang="de",
    )


# ---- single messages ---------------------------------------------------------------------


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


def f_lab_result(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    rng = a.rng
    first, last = patient(rng)
    pid = f"{rng.randint(40000, 99999):07d}"
    german = i % 3 != 2
    if german:
        subject = f"Laborbefund verfügbar: {last}, {first} (PID {pid})"
        text = txt(f"""
            Sehr geehrte Frau Dr. Hartmann,

            für {first} {last} (PID {pid}) liegen neue Laborergebnisse vor. Der
            vollständige Befund ist im klinischen Informationssystem freigegeben; eine
            Kopie liegt dieser Nachricht bei.

            Zentrallabor – Befundservice
            Diese Nachricht wurde automatisch erstellt.
            """)
    else:
        subject = f"Lab report available: {last}, {first} (PID {pid})"
        text = txt(f"""
            Dear Dr Hartmann,

            new laboratory results are available for {first} {last} (PID {pid}). The
            full report has been released to the clinical information system; a copy is
            attached.

            Central Laboratory – results service (automated message)
            """)
    csv_charset = "windows-1252" if i % 4 == 1 else "utf-8"
    atts = [
        att_csv(
            f"Labor_{ascii_name(last)}_{when:%Y%m%d}.csv",
            lab_csv(rng, rng.randint(4, 12), when, german=german, charset=csv_charset),
            charset=csv_charset,
            cte="quoted-printable" if i % 2 else "base64",
        )
    ]
    if i % 2 == 0:
        atts.append(
            att_pdf(
                f"Befund_{last}.pdf",
                f"Laborbefund {ascii_name(last)}",
                [
                    f"Patient: {first} {last}, PID {pid}",
                    f"Eingang: {when:%d.%m.%Y %H:%M}",
                    "Befund: siehe Tabelle",
                    "Validiert: Dr. T. Brandt",
                ],
                when,
            )
        )
    return a.mail(
        folder,
        LAB,
        [ME],
        subject,
        when,
        text,
        lang="de" if german else "en",
        attachments=atts,
        headers=[("Auto-Submitted", "auto-generated")],
        mailer="LabNotify 3.1",
    )


def f_radiology(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    rng = a.rng
    first, last = patient(rng)
    exam = [
        ("CT Thorax mit KM", "Keine Lungenembolie. Kleiner Pleuraerguss rechts."),
        ("Röntgen Thorax p.a.", "Kardiomegalie, keine Stauungszeichen, kein Infiltrat."),
        ("Kardio-MRT", "LVEF 38 %, Late Enhancement inferolateral, vereinbar mit Myokarditis."),
        ("CT-Koronarangiographie", "Calcium-Score 96, keine hochgradigen Stenosen."),
        ("Duplex Becken-Bein", "Keine tiefe Beinvenenthrombose beidseits."),
    ][i % 5]
    text = txt(f"""
        Sehr geehrte Kollegin,

        anbei der Befund der Untersuchung "{exam[0]}" vom {when:%d.%m.%Y} für
        {first} {last}.

        Beurteilung: {exam[1]}

        Die Bilder stehen im PACS zur Verfügung.

        Mit kollegialen Grüßen
        Radiologie am Park
        """)
    atts = [
        att_pdf(
            f"Befund_{last}_{exam[0].split()[0]}.pdf",
            f"Befund {exam[0]}",
            [f"Patient: {first} {last}", f"Untersuchung: {exam[0]}", f"Beurteilung: {exam[1]}"],
            when,
        )
    ]
    if i % 2 == 1:
        atts.append(att_png(f"Schnittbild_{i}.png", echo_png(rng, 64, 48)))
    return a.mail(
        folder,
        RADIOLOGY,
        [ME],
        f"Befund: {exam[0]} – {last}, {first}",
        when,
        text,
        lang="de",
        attachments=atts,
        cte="quoted-printable",
    )


def f_appointment(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    rng = a.rng
    first, last = patient(rng)
    slot = when + timedelta(days=rng.randint(2, 14))
    slot = slot.replace(hour=rng.choice([8, 9, 10, 11, 13, 14]), minute=rng.choice([0, 15, 30]))
    clinic = rng.choice(
        [
            "Herzinsuffizienz-Ambulanz",
            "Schrittmacherambulanz",
            "Echokardiographie",
            "Privatsprechstunde Dr. Hartmann",
            "Brustschmerz-Ambulanz",
        ]
    )
    text = txt(f"""
        Neue Terminbuchung

        Ambulanz:  {clinic}
        Patient:   {last}, {first}
        Termin:    {slot:%d.%m.%Y, %H:%M} Uhr
        Raum:      Haus C, {rng.choice(["Erdgeschoss", "1. OG", "2. OG"])}
        Gebucht:   {when:%d.%m.%Y %H:%M} über Online-Terminvergabe

        Diese Nachricht wurde automatisch erzeugt.
        """)
    html = html_page(
        '<h2 style="color:#0b5394">Neue Terminbuchung</h2>\n<table cellpadding="4">'
        f"<tr><td>Ambulanz</td><td><b>{escape(clinic)}</b></td></tr>"
        f"<tr><td>Patient</td><td>{escape(last)}, {escape(first)}</td></tr>"
        f"<tr><td>Termin</td><td>{slot:%d.%m.%Y, %H:%M} Uhr</td></tr></table>\n"
        '<p><a href="https://termine.clinic.example/kalender">Im Kalender öffnen</a></p>',
        title="Terminbuchung",
    )
    atts = []
    if i % 3 == 0:
        atts.append(
            att_ics(
                "Termin.ics",
                ics(
                    f"appt-{slot:%Y%m%d%H%M}-{i}@termine.clinic.example",
                    f"{clinic}: {last}",
                    slot,
                    30,
                    "Haus C",
                    SCHEDULER,
                    [ME],
                    when,
                ),
            )
        )
    return a.mail(
        folder,
        SCHEDULER,
        [ME],
        f"Neue Terminbuchung: {clinic} am {slot:%d.%m.%Y}",
        when,
        text,
        html=html,
        lang="de",
        attachments=atts,
        headers=[("Auto-Submitted", "auto-generated")],
        mailer="Termino 2.7",
    )


IT_NOTICES = [
    (
        "Neue Passwortrichtlinie ab 1. Oktober",
        "Ab dem 1. Oktober müssen Passwörter mindestens 14 Zeichen lang sein. Sie werden bei der "
        "nächsten Anmeldung zur Änderung aufgefordert. Das IT-Team wird Sie niemals per E-Mail "
        "nach Ihrem Passwort fragen.",
    ),
    (
        "Zwei-Faktor-Anmeldung für den Fernzugriff",
        "Für den VPN-Zugang ist ab sofort eine Zwei-Faktor-Anmeldung erforderlich. Die "
        "Einrichtungsanleitung finden Sie im Intranet unter IT > Fernzugriff.",
    ),
    (
        "Störung behoben: Druck von Arztbriefen",
        "Die Störung beim Druck von Arztbriefen aus dem KIS ist seit 10:40 Uhr behoben. Bitte "
        "drucken Sie betroffene Briefe erneut.",
    ),
    (
        "Windows-Updates am Wochenende",
        "Am Samstag werden auf allen Stationsrechnern Sicherheitsupdates eingespielt. Bitte "
        "melden Sie sich am Freitag vor Dienstende ab, speichern Sie offene Dokumente.",
    ),
    (
        "Neues Diktiersystem in der Inneren Medizin",
        "Ab Montag steht das neue Spracherkennungssystem zur Verfügung. Schulungstermine finden "
        "täglich um 14:00 Uhr im Schulungsraum 1 statt.",
    ),
    (
        "Phishing-Warnung: gefälschte Mails zur Passwortänderung",
        "Derzeit kursieren gefälschte E-Mails, die angeblich vom IT-Servicedesk stammen und zur "
        "Eingabe des Passworts auffordern. Klicken Sie nicht auf Links und leiten Sie solche "
        "Mails an security@it.clinic.example weiter.",
    ),
]


def f_it_notice(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    title, para = IT_NOTICES[i % len(IT_NOTICES)]
    text = txt(f"""
        Sehr geehrte Kolleginnen und Kollegen,

        {para}

        Bei Fragen erreichen Sie uns unter Tel. 4444 oder
        https://servicedesk.clinic.example.

        Ihr IT-Servicedesk
        """)
    head = ""
    extra = ""
    if i % 3 == 0:
        head = '<link rel=stylesheet href="https://cdn.example.net/s.css">'
    elif i % 3 == 1:
        # an inline data: image (not remote content)
        icon = logo_png((11, 83, 148), 16)
        extra = '<img alt="IT" src="data:image/png;base64,' + base64.b64encode(icon).decode() + '">'
    html = html_page(
        extra + "<h2>" + escape(title) + "</h2>\n" + html_from_text(text), head=head, title=title
    )
    return a.mail(
        folder,
        SERVICEDESK,
        [Group("Alle Mitarbeitenden")],
        f"[IT-Info] {title}",
        when,
        text,
        html=html,
        lang="de",
        headers=[("Precedence", "bulk")],
    )


WEEKLY_ITEMS = [
    ("Neue Cafeteria-Öffnungszeiten", "Ab Montag ist die Cafeteria bis 19:30 Uhr geöffnet."),
    (
        "Betriebssport: Drachenbootrennen",
        "Wir suchen noch Paddlerinnen und Paddler für das "
        "Firmenrennen im Juni. Training donnerstags 17:30 Uhr.",
    ),
    (
        "Grippeimpfung",
        "Die Betriebsärztin impft ab sofort montags bis freitags 8–10 Uhr ohne Termin.",
    ),
    (
        "Neue Kolleginnen und Kollegen",
        "Wir begrüßen 14 neue Mitarbeitende, darunter drei "
        "Assistenzärztinnen in der Inneren Medizin.",
    ),
    ("Parkhaus-Sanierung", "Ebene 2 des Parkhauses ist bis Monatsende gesperrt."),
    ("Fortbildung der Woche", "Mittwoch 15:00 Uhr: Delir erkennen und behandeln, Hörsaal 1."),
    ("Sommerfest", "Das Sommerfest findet am 5. Juli ab 16 Uhr im Klinikpark statt."),
    ("Kinderbetreuung", "Die Betriebs-Kita hat wieder freie Plätze für Kinder ab 1 Jahr."),
]


def f_weekly(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    rng = a.rng
    items = rng.sample(WEEKLY_ITEMS, 3)
    issue = f"{when:%Y}/{int(when.strftime('%W')):02d}"
    text = (
        txt(f"""
        Aurelia Weekly – Ausgabe {issue}

        Liebe Kolleginnen und Kollegen, hier die Neuigkeiten dieser Woche.
        """)
        + "\n"
        + "\n\n".join(f"* {h}\n  {b}" for h, b in items)
        + ("\n\nAbmelden: https://news.clinic.example/unsubscribe?u=lh\n")
    )
    tracker = (
        "https://tracker.example.com/pixel.gif"
        if i % 2 == 0
        else f"https://tracker.example.com/pixel.gif?nl=weekly&i={issue}&u=8c1f"
    )
    html = remote_newsletter_html(
        f"Aurelia Weekly {issue}",
        "Liebe Kolleginnen und Kollegen, hier die Neuigkeiten dieser Woche.",
        items,
        tracker=tracker,
        unsubscribe="https://news.clinic.example/unsubscribe?u=lh",
        head='<link rel=stylesheet href="https://cdn.example.net/s.css">',
        hero=("https://cdn.example.net/img/weekly-hero.jpg" if i % 3 == 0 else None),
    )
    return a.mail(
        folder,
        WEEKLY,
        [Person("Alle Mitarbeitenden", "alle@lists.clinic.example")],
        f"Aurelia Weekly {issue}: {items[0][0]}",
        when,
        text,
        html=html,
        lang="de",
        list_info=("Aurelia Weekly", "alle@lists.clinic.example"),
        mailer="Mailman 3.3",
    )


DIGEST_ITEMS = [
    (
        "SGLT2 inhibitors beyond diabetes",
        "A pooled analysis of four trials confirms fewer "
        "heart-failure hospitalisations across the ejection-fraction spectrum.",
    ),
    (
        "Early rhythm control in atrial fibrillation",
        "Registry data suggest benefits persist in patients over 75 years.",
    ),
    (
        "Lp(a): who should be tested?",
        "New consensus recommends a single measurement in every adult.",
    ),
    (
        "Wearables and AF screening",
        "Smartwatch-detected AF episodes shorter than 6 minutes rarely progress within two years.",
    ),
    ("TEER in secondary MR", "Five-year follow-up shows durable reduction in MR grade."),
    ("Hypertension in young adults", "Ambulatory monitoring unmasks hypertension in 1 in 8."),
]


def f_digest(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    rng = a.rng
    items = rng.sample(DIGEST_ITEMS, 3)
    text = (
        txt("""
        Cardiology Digest – your monthly summary of the literature.
        """)
        + "\n"
        + "\n\n".join(f"* {h}\n  {b}" for h, b in items)
        + ("\n\nManage your subscription: https://newsletter.example.org/prefs\n")
    )
    head = (
        "<style>@font-face{font-family:'DigestSans';"
        "src:url(https://fonts.example.com/digestsans.woff2) format('woff2');}"
        "body{font-family:'DigestSans',Arial,sans-serif}</style>"
    )
    if i % 2:
        head += '<style>@import url("https://cdn.example.net/digest/theme.css");</style>'
    html = remote_newsletter_html(
        "Cardiology Digest",
        "Your monthly summary of the literature.",
        items,
        tracker=f"https://tracker.example.com/open/{a.token(16)}.gif",
        unsubscribe="https://newsletter.example.org/prefs",
        head=head,
        hero="https://cdn.example.net/digest/hero-heart.jpg",
        footer="You receive this because you registered at cardiology-digest.example.org. ",
    )
    return a.mail(
        folder,
        DIGEST,
        [ME],
        f"Cardiology Digest {when:%B %Y}: {items[0][0]}",
        when,
        text,
        html=html,
        list_info=("Cardiology Digest", "digest@newsletter.example.org"),
        mailer="BulkSender 9",
    )


def f_vendor_html_only(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    products = [
        "ultrasound gel dispensers",
        "ECG electrodes",
        "infusion pump consumables",
        "patient monitors",
    ]
    product = products[i % len(products)]
    html = html_page(
        "<div style=\"background-image:url('https://medtech-news.example.net/img/bg.png');"
        'padding:24px">\n<h1>MedTech Briefing</h1>\n'
        f"<p>This week: new tenders for <b>{escape(product)}</b>, supply-chain update and "
        'three procurement tips.</p>\n<img src="https://medtech-news.example.net/banner.jpg" '
        'width="560" alt="Banner">\n<p><a href="https://medtech-news.example.net/read">'
        'Read online</a> | <a href="https://medtech-news.example.net/unsub">Unsubscribe</a>'
        '</p></div>\n<img src="https://tracker.example.com/pixel.gif" width="1" '
        'height="1" alt="">',
        title="MedTech Briefing",
    )
    return a.mail(
        folder,
        MEDTECH,
        [ME],
        f"MedTech Briefing: {product} – tenders & supply news",
        when,
        None,
        html=html,
        list_info=("MedTech Briefing", "briefing@medtech-news.example.net"),
        mailer="BulkSender 9",
    )


WARD_POSTS = [
    (
        "Übergabe Station 7B: Besonderheiten",
        "Bett 4 und 9 sind isoliert (MRSA). Bett 15: "
        "Patientin mit Delir, bitte Sitzwache anfordern, falls nötig.",
    ),
    (
        "Defibrillator-Check diese Woche",
        "Bitte am Ende jeder Frühschicht den Defi-Check im Protokollordner abzeichnen.",
    ),
    (
        "Neue Standards Heparin-Perfusor",
        "Ab Montag gilt das neue Heparin-Schema (aPTT-gesteuert)."
        " Die Kurzanleitung hängt im Stationszimmer.",
    ),
    (
        "Fortbildung Pflege: Herzinsuffizienz-Schulung",
        "Donnerstag 14:00 Uhr im Stationszimmer. "
        "Thema: Gewichtskontrolle und Flüssigkeitsrestriktion erklären.",
    ),
    (
        "Kühlschrank Medikamente defekt",
        "Der Medikamentenkühlschrank zeigt 11 °C. Die Haustechnik "
        "ist informiert, Insuline sind auf 7A ausgelagert.",
    ),
    (
        "Wer hat das Ultraschallgerät?",
        "Das mobile Echo-Gerät fehlt seit heute früh. Bitte zurück in den Geräteraum bringen!",
    ),
    (
        "Aufnahmestopp heute Nachmittag",
        "Wegen Personalmangel nimmt 7B heute ab 14 Uhr nur Notfälle auf. Bitte ZNA informieren.",
    ),
    ("Visitenzeiten geändert", "Die Oberarztvisite beginnt ab nächster Woche um 09:30 Uhr."),
]


def f_ward_post(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    rng = a.rng
    subject, para = WARD_POSTS[i % len(WARD_POSTS)]
    sender = rng.choice([VOGEL, SCHOLZ, OKAFOR, BERG, *WARD_STAFF[:6]])
    text = (
        txt(f"""
        Hallo zusammen,

        {para}

        Danke und Gruß
        {sender.first}
        """)
        + "\n_______________________________________________\nStation-7B Mailingliste\n"
        "https://lists.clinic.example/mailman/listinfo/station-7b\n"
    )
    atts = []
    if i % 4 == 2:
        atts.append(
            att_pdf(
                "Kurzanleitung_Heparin.pdf",
                "Heparin-Perfusor: Kurzanleitung",
                [
                    "Start: 5000 IE Bolus, dann 20 IE/kg/h",
                    "aPTT-Kontrolle nach 6 h",
                    "Ziel-aPTT 50-70 s",
                ],
                when,
            )
        )
    if i % 4 == 0:
        atts.append(
            att_text(
                "Uebergabe_7B.txt",
                txt(f"""
            Übergabe {when:%d.%m.%Y}
            Bett 4: isoliert (MRSA), Antibiose läuft
            Bett 9: isoliert, Abstrich ausstehend
            Bett 15: Delir, Haloperidol bei Bedarf
            """),
                cte="quoted-printable",
            )
        )
    return a.mail(
        folder,
        sender,
        [WARD_LIST],
        f"[Station-7B] {subject}",
        when,
        text,
        lang="de",
        list_info=("Station 7B", WARD_LIST.addr),
        sender_header=Person("", "station-7b-bounces@lists.clinic.example"),
        reply_to=WARD_LIST,
        attachments=atts,
        mailer="Mailman 3.3",
    )


PHARMACY_NOTES = [
    (
        "Lieferengpass Amoxicillin/Clavulansäure i.v.",
        "Bis voraussichtlich Ende des Monats ist Amoxicillin/Clavulansäure i.v. nur eingeschränkt "
        "lieferbar. Alternative nach Rücksprache: Ampicillin/Sulbactam.",
    ),
    (
        "Rückruf: Charge 24B117 Metoprolol 47,5 mg",
        "Der Hersteller ruft die Charge 24B117 zurück (Verunreinigung). Bitte Bestände auf "
        "Station prüfen und an die Apotheke zurückgeben.",
    ),
    (
        "Neue Hausliste: SGLT2-Hemmer",
        "Die Arzneimittelkommission hat Dapagliflozin als Standard-SGLT2-Hemmer festgelegt. "
        "Empagliflozin bleibt für laufende Therapien verfügbar.",
    ),
    (
        "Umstellung Kaliumchlorid-Konzentrat",
        "Kaliumchlorid-Konzentrat wird nur noch als Fertigbeutel ausgegeben. Konzentrate werden "
        "von den Stationen abgezogen (Patientensicherheit).",
    ),
]


def f_pharmacy(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    subject, para = PHARMACY_NOTES[i % len(PHARMACY_NOTES)]
    text = txt(f"""
        Sehr geehrte Damen und Herren,

        {para}

        Mit freundlichen Grüßen
        Ihre Krankenhausapotheke
        """)
    atts = []
    if i % 2 == 1:
        atts.append(
            att_pdf(
                f"Apotheke_Info_{when:%Y-%m-%d}.pdf",
                subject.split(":")[0],
                [para[:90], para[90:180]],
                when,
            )
        )
    return a.mail(
        folder,
        PHARMACY,
        [Group("Ärztlicher Dienst", [ME.address])],
        f"Apotheke informiert: {subject}",
        when,
        text,
        lang="de",
        charset="iso-8859-1" if i % 2 == 0 else "utf-8",
        cte="quoted-printable",
        attachments=atts,
    )


def f_hr(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    rng = a.rng
    kind = i % 5
    if kind == 0:
        start = when + timedelta(days=rng.randint(20, 60))
        subject = "Urlaubsantrag genehmigt"
        text = txt(f"""
            Sehr geehrte Frau Dr. Hartmann,

            Ihr Urlaubsantrag vom {when:%d.%m.%Y} für den Zeitraum {start:%d.%m.%Y} bis
            {start + timedelta(days=11):%d.%m.%Y} (10 Arbeitstage) wurde genehmigt.
            Resturlaub {when:%Y}: {rng.randint(3, 18)} Tage.

            Personalabteilung – Zeitwirtschaft
            """)
        return a.mail(folder, HR, [ME], subject, when, text, lang="de")
    if kind == 1:
        text = txt("""
            Sehr geehrte Damen und Herren,

            Ihre Gehaltsabrechnung steht ab sofort im Mitarbeiterportal zur Verfügung:
            https://portal.clinic.example/abrechnung

            Aus Datenschutzgründen versenden wir Abrechnungen nicht per E-Mail.

            Personalabteilung
            """)
        return a.mail(
            folder, HR, [ME], f"Gehaltsabrechnung {when:%m/%Y} im Portal", when, text, lang="de"
        )
    if kind == 2:
        text = txt(f"""
            Sehr geehrte Frau Dr. Hartmann,

            laut unseren Unterlagen ist Ihre jährliche Pflichtunterweisung
            (Brandschutz, Datenschutz, Hygiene) bis zum {when + timedelta(days=30):%d.%m.%Y}
            fällig. Die E-Learning-Module finden Sie im Lernportal.

            Ihre Personalentwicklung
            """)
        html = html_page(
            '<p style="color:#b00"><b>Erinnerung: Pflichtunterweisung</b></p>'
            + html_from_text(text),
            title="Pflichtunterweisung",
        )
        return a.mail(
            folder,
            HR,
            [ME],
            "Erinnerung: Pflichtunterweisungen fällig",
            when,
            text,
            html=html,
            lang="de",
        )
    if kind == 3:
        text = txt(f"""
            Sehr geehrte Frau Dr. Hartmann,

            Ihr Antrag auf Fortbildungsbudget ({
            rng.choice(["DGK-Jahrestagung", "Echo-Kurs", "Herzinsuffizienz-Symposium"])
        }, {rng.randint(350, 1200)},00 EUR) wurde
            bewilligt. Bitte reichen Sie die Belege innerhalb von vier Wochen nach der
            Veranstaltung ein.

            Personalabteilung
            """)
        return a.mail(
            folder,
            HR,
            [ME],
            "Fortbildungsantrag bewilligt",
            when,
            text,
            lang="de",
            charset="iso-8859-1",
            cte="quoted-printable",
        )
    text = txt("""
        Liebe Mitarbeitende,

        wir laden Sie herzlich zur Personalversammlung ein. Themen: Tarifabschluss,
        neue Arbeitszeitmodelle, Betriebliches Gesundheitsmanagement.

        Der Personalrat
        """)
    return a.mail(
        folder,
        Person("Personalrat", "personalrat@clinic.example"),
        [Group("Alle Mitarbeitenden")],
        "Einladung zur Personalversammlung",
        when,
        text,
        lang="de",
        cc=WARD_STAFF[:30],
    )


def f_gp_referral(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    rng = a.rng
    first, last = patient(rng)
    gp = [OLSEN, ADEYEMI][i % 2]
    reason = rng.choice(
        [
            ("Palpitationen, Verdacht auf paroxysmales Vorhofflimmern", "Holter-EKG"),
            ("Belastungsdyspnoe, NT-proBNP 1840 pg/ml", "Echokardiographie"),
            ("Synkope beim Treppensteigen", "Abklärung, ggf. Event-Recorder"),
            ("schwer einstellbare arterielle Hypertonie", "Abklärung sekundärer Ursachen"),
            ("Herzgeräusch, Verdacht auf Aortenklappenstenose", "Echokardiographie"),
        ]
    )
    text = txt(f"""
        Liebe Frau Kollegin Hartmann,

        ich überweise Ihnen {first} {last} mit {reason[0]}. Erbeten: {reason[1]}.
        Vorbefunde und Medikationsplan liegen bei. Vielen Dank für die Mitbehandlung.

        Mit kollegialen Grüßen
        {gp.name}
        """)
    atts = [
        att_pdf(
            f"Überweisung_{last}.pdf",
            "Ueberweisung / Konsiliarauftrag",
            [f"Patient: {first} {last}", f"Diagnose: {reason[0]}", f"Auftrag: {reason[1]}"],
            when,
        )
    ]
    if i % 2 == 0:
        atts.append(
            att_docx(
                f"Vorbefunde_{last}.docx",
                [f"Vorbefunde {first} {last}", "EKG: Sinusrhythmus", "Labor: siehe Anlage"],
            )
        )
    else:
        atts.append(att_png(f"EKG_{ascii_name(last)}.png", ecg_png(rng)))
    return a.mail(
        folder,
        gp,
        [ME],
        f"Überweisung: {last}, {first} – {reason[1]}",
        when,
        text,
        lang="de",
        attachments=atts,
        cte="base64" if i % 3 == 0 else None,
    )


def f_patient(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    rng = a.rng
    first, last = patient(rng)
    sender = Person(
        f"{first} {last}",
        f"{ascii_name(first).lower()}.{ascii_name(last).lower()}"
        f"{rng.randint(1, 99)}@mail.example.net",
    )
    variants = [
        (
            "Frage zu meinen Tabletten",
            "ich nehme seit der Entlassung Eliquis und Bisoprolol. Darf ich zusätzlich Ibuprofen "
            "gegen meine Knieschmerzen nehmen?",
        ),
        (
            "Befund für meinen Hausarzt",
            "könnten Sie meinem Hausarzt den Entlassbrief vom letzten Monat noch einmal schicken? "
            "Er hat ihn leider nicht erhalten.",
        ),
        (
            "Blutdruckwerte",
            "wie besprochen sende ich Ihnen meine Blutdruckwerte der letzten zwei "
            "Wochen. Morgens liegen sie meist um 150/90.",
        ),
    ]
    subject, para = variants[i % len(variants)]
    text = txt(f"""
        Sehr geehrte Frau Dr. Hartmann,

        {para}

        Viele Grüße
        {first} {last}
        """)
    atts = []
    if i % len(variants) == 2:
        rows = "\n".join(
            f"{(when - timedelta(days=d)):%d.%m.}  {rng.randint(135, 162)}/"
            f"{rng.randint(80, 96)}  Puls {rng.randint(58, 80)}"
            for d in range(14, 0, -1)
        )
        atts.append(
            att_text(
                "Blutdruck_Tagebuch.txt",
                "Datum   RR        Puls\n" + rows + "\n",
                charset="windows-1252",
            )
        )
    return a.mail(
        folder,
        sender,
        [ME],
        subject,
        when,
        text,
        lang="de",
        attachments=atts,
        charset="windows-1252" if i % len(variants) == 1 else "utf-8",
    )


def f_conference(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    year = when.year + (1 if when.month >= 6 else 0)  # the summit is held every May
    name = f"Heart Rhythm Summit {year}"
    subject, lead = {  # what the organisers send depends on the season
        0: (f"{name} – early-bird rates end soon ⏰", "Early-bird rates end in 10 days."),
        1: (
            f"{name}: your personal programme is ready",
            "Your personal programme is ready – add sessions to your calendar.",
        ),
        2: (
            f"{name}: call for abstracts – deadline extended",
            "The abstract deadline has been extended by two weeks.",
        ),
        3: (f"{name}: registration open", f"Registration for {name} is open!"),
    }[0 if when.month <= 3 else 1 if when.month <= 5 else 2 if when.month <= 9 else 3]
    text = txt(f"""
        {lead}

        Join 2,000 colleagues in Lisbon-on-Sea (14–16 May {year}) for three days of live
        cases, hands-on device workshops and the latest trials in electrophysiology.

        Details: https://rhythm-summit.example.com/{year}
        """)
    head = (
        "<style>@font-face{font-family:'Summit';"
        "src:url(https://fonts.example.com/summit.woff2) format('woff2'),"
        "url(https://fonts.example.com/summit.woff) format('woff');}"
        "h1{font-family:'Summit',Georgia,serif}</style>"
    )
    body = (
        '<table width="600" align="center"><tr>'
        '<td style="background:url(https://rhythm-summit.example.com/img/stage.jpg);'
        f'padding:40px;color:#fff"><h1>{escape(name)}</h1>'
        f"<p>Lisbon-on-Sea · 14–16 May {year}</p></td></tr>\n"
        '<tr><td background="https://rhythm-summit.example.com/img/pattern.png">'
        f"<p><b>{escape(lead)}</b></p>"
        "<p>Join 2,000 colleagues for three days of live cases, hands-on device workshops "
        "and the latest trials in electrophysiology.</p>"
        f'<p><a href="https://rhythm-summit.example.com/{year}" style="background:#c0392b;'
        'color:#fff;padding:10px 18px;text-decoration:none">Details</a></p></td></tr>'
        '</table>\n<img src="https://rhythm-summit.example.com/o.gif?id='
        f'{a.token(8)}" width="1" height="1">'
    )
    atts = []
    if i % 2 == 0:
        atts.append(
            att_pdf(
                f"HRS{year}_Programme.pdf",
                f"{name} - Programme",
                [
                    "Day 1: AF ablation live cases",
                    "Day 2: Leadless pacing",
                    "Day 3: Sports cardiology",
                ],
                when,
            )
        )
    return a.mail(
        folder,
        SUMMIT,
        [ME],
        subject,
        when,
        text,
        html=html_page(body, head=head, title=name),
        attachments=atts,
        mailer="BulkSender 9",
    )


def f_insurer_query(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    rng = a.rng
    first, last = patient(rng)
    case = f"MD-{when:%Y}-{rng.randint(10000, 99999)}"
    text = txt(f"""
        Sehr geehrte Damen und Herren,

        im Rahmen der Abrechnungsprüfung zum Behandlungsfall {case} ({first} {last},
        Aufenthalt {(when - timedelta(days=40)):%d.%m.%Y}) bitten wir um Übersendung des
        Entlassungsberichts und der Pflegedokumentation bis
        {(when + timedelta(days=21)):%d.%m.%Y}.

        Mit freundlichen Grüßen
        Nordstern Krankenversicherung
        """)
    return a.mail(
        folder,
        INSURER,
        [ME],
        f"Anforderung Unterlagen {case}",
        when,
        text,
        lang="de",
        cc=[Person("Medizincontrolling", "mdk@clinic.example")],
    )


def f_qm(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    subjects = [
        (
            "CIRS-Meldung: Verwechslung Perfusorspritzen",
            "Im CIRS wurde eine Beinahe-Verwechslung zweier Perfusorspritzen gemeldet. Bitte "
            "beschriften Sie Spritzen immer sofort nach dem Aufziehen.",
        ),
        (
            "Ergebnisse Patientenbefragung",
            "Die Gesamtzufriedenheit in der Inneren liegt bei "
            "1,8 (Schulnoten). Verbesserungswunsch Nr. 1: Wartezeiten bei Entlassung.",
        ),
        (
            "Begehung Hygiene Station 7B",
            "Die Begehung am Dienstag ergab keine gravierenden Mängel. Der Bericht liegt bei.",
        ),
    ]
    subject, para = subjects[i % len(subjects)]
    text = txt(f"""
        Liebe Kolleginnen und Kollegen,

        {para}

        Ihr Qualitäts- und Hygienemanagement
        """)
    atts = []
    if i % 3 == 2:
        atts.append(
            att_pdf(
                "Begehungsbericht_7B.pdf",
                "Hygienebegehung Station 7B",
                [
                    "Haendedesinfektionsmittelspender: vollstaendig",
                    "Flaechendesinfektion: Protokolle lueckenlos",
                ],
                when,
            )
        )
    return a.mail(
        folder, QM, [ME, VOGEL, MUELLER], subject, when, text, lang="de", attachments=atts
    )


COLLEAGUE_NOTES = [
    (
        ZMUDA,
        "Kannst du Sonntag tauschen?",
        "kannst du am Sonntag meinen Spätdienst übernehmen? "
        "Ich würde dir dafür den Freitag nächste Woche abnehmen.",
    ),
    (
        OKAFOR,
        "Echo bei Herrn Yilmaz",
        "could you have a quick look at the echo of Mr Yılmaz in "
        "bed 7? I am not sure about the RV function, TAPSE 14 mm.",
    ),
    (
        BERG,
        "Vortrag Donnerstag",
        "ich habe die Folien für den Journal Club am Donnerstag "
        "fertig. Magst du kurz drüberschauen? Sind nur 12 Folien.",
    ),
    (
        SCHOLZ,
        "Angehörigengespräch 7B/3",
        "die Tochter von Frau Krüger möchte heute noch mit "
        "einem Arzt sprechen, sie ist ab 16 Uhr auf Station.",
    ),
    (
        MUELLER,
        "Herzteam Mittwoch",
        "kannst du am Mittwoch das Herzteam moderieren? Ich bin im Katheterlabor gebunden.",
    ),
    (
        OKAFOR,
        "Question about the SOP",
        "is the new SOP for anticoagulation bridging already "
        "valid, or do we still use the 2022 version?",
    ),
    (
        BERG,
        "Doktorandin sucht Betreuung",
        "eine Studentin fragt nach einem Thema für eine "
        "Doktorarbeit im Bereich Herzinsuffizienz. Hättest du Kapazität?",
    ),
    (
        VOGEL,
        "Entlassungen morgen",
        "wir haben morgen sechs geplante Entlassungen. Könnt ihr "
        "die Briefe bis 10 Uhr fertig haben? Sonst wird es mit dem Transport knapp.",
    ),
]


def f_colleague(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    sender, subject, para = COLLEAGUE_NOTES[i % len(COLLEAGUE_NOTES)]
    english = para.startswith(("could", "is the"))
    text = txt(f"""
        {"Hi Lena" if english else "Hallo Lena"},

        {para}

        {"Thanks" if english else "Danke"}, {sender.first}
        """)
    return a.mail(folder, sender, [ME], subject, when, text, lang="en" if english else "de")


MY_REPLIES = [
    "Klar, mache ich. Schick mir kurz die Details.",
    "Ich schaue es mir nach der Visite an, gegen 11 Uhr.",
    "Yes, will do after the ward round.",
    "Passt, ich komme um 16 Uhr dazu.",
    "Leider nein, ich bin an dem Tag auf Fortbildung. Frag doch Ines.",
]


def f_reply_to(a: Archive, folder: str, when: datetime, i: int, parent: Mail) -> Mail:
    text = MY_REPLIES[i % len(MY_REPLIES)]
    if parent.lang == "en" and not text.startswith("Yes"):
        text = "Sure, I'll have a look this afternoon."
    return a.mail(
        folder,
        ME,
        [parent.sender],
        None,
        when,
        text + "\n\nLena\n",
        parent=parent,
        lang=parent.lang,
    )


def f_my_referral(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    rng = a.rng
    first, last = patient(rng)
    target = [
        (
            Person("Dr. Kerstin Albers", "herzchirurgie@university-hospital.example"),
            "Vorstellung zur Herzchirurgie",
            "Vorstellung zur operativen Aortenklappenersatz-"
            "Therapie, Herzteam-Empfehlung vom Dienstag.",
        ),
        (
            Person("Schlaflabor", "schlaflabor@clinic.example"),
            "Anmeldung Polygraphie",
            "Verdacht auf obstruktive Schlafapnoe bei therapierefraktärer Hypertonie.",
        ),
        (
            Person("Dr. Ravi Menon", "r.menon@rehaklinik.example"),
            "Anschlussheilbehandlung",
            "Anmeldung zur kardiologischen AHB nach NSTEMI und Stent-Implantation.",
        ),
        (
            ADEYEMI,
            "Entlassbrief",
            "anbei der Entlassbrief, bitte Kontrolle von Kalium und Kreatinin in einer Woche.",
        ),
    ][i % 4]
    text = with_sig(
        txt(f"""
        Sehr geehrte Kolleginnen und Kollegen,

        {target[2]} Patient: {first} {last}. Unterlagen anbei.

        Mit freundlichen Grüßen
        Lena Hartmann
        """)
    )
    atts = [
        att_pdf(
            f"Arztbrief_{last}.pdf", "Arztbrief", [f"Patient: {first} {last}", target[2][:90]], when
        )
    ]
    if i % 2 == 1:
        atts.append(
            att_docx(
                f"Medikationsplan_{last}.docx",
                ["Medikationsplan", "ASS 100 mg 1-0-0", "Atorvastatin 40 mg 0-0-1"],
            )
        )
    return a.mail(
        folder,
        ME,
        [target[0]],
        f"{target[1]}: {last}, {first}",
        when,
        text,
        lang="de",
        attachments=atts,
        cte="quoted-printable",
    )


def f_my_docs(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    if i % 3 == 0:
        text = with_sig(
            txt("""
            Dear organisers,

            as requested for my faculty registration, please find my short CV and a
            photo attached.
            """),
            ME_SIG_EN,
        )
        return a.mail(
            folder,
            ME,
            [SUMMIT],
            "Faculty registration – short CV",
            when,
            text,
            attachments=[
                att_text(
                    "résumé.txt",
                    txt("""
                              Dr. med. Lena Hartmann – Curriculum vitae (short)

                              - since 2019: Consultant cardiologist, St. Aurelia Hospital, Berlin
                              - 2013–2019: Residency, internal medicine and cardiology
                              - Research: heart-failure registries, structural interventions
                              - Languages: German, English, French (good), Polish (basic)
                              """),
                    cte="quoted-printable",
                ),
                att_png("portrait_placeholder.png", logo_png((120, 140, 160), 24)),
            ],
        )
    if i % 3 == 1:
        text = with_sig(
            txt("""
            Hallo Ines,

            hier die SOP zur Antikoagulation (Bridging) in der aktuellen Fassung, wie
            besprochen. Änderungen gegenüber 2022 sind gelb markiert.
            """)
        )
        return a.mail(
            folder,
            ME,
            [BERG],
            "SOP Bridging Antikoagulation 2024",
            when,
            text,
            lang="de",
            cc=[OKAFOR],
            attachments=[
                att_docx(
                    "SOP_Bridging_Antikoagulation_2024.docx",
                    ["SOP Bridging", "Gueltig ab 01.04.2024", "Verantwortlich: Dr. Hartmann"],
                )
            ],
        )
    text = with_sig(
        txt("""
        Liebe Frau Kollegin,

        wie telefonisch besprochen die Holter-Auswertung anbei. Im Wesentlichen
        unauffällig, einzelne supraventrikuläre Extrasystolen, keine Pausen.
        """)
    )
    return a.mail(
        folder,
        ME,
        [OLSEN],
        "Holter-Auswertung für Ihre Patientin",
        when,
        text,
        lang="de",
        attachments=[att_png("Holter_Auszug.png", ecg_png(a.rng, 240, 48))],
    )


def f_my_leave(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    start = when + timedelta(days=35 + 7 * i)
    text = with_sig(
        txt(f"""
        Sehr geehrte Damen und Herren,

        hiermit beantrage ich Erholungsurlaub vom {start:%d.%m.%Y} bis
        {start + timedelta(days=11):%d.%m.%Y}. Die Vertretung übernimmt Dr. Ines Berg.
        """)
    )
    return a.mail(
        folder,
        ME,
        [HR],
        f"Urlaubsantrag {start:%d.%m.}–{start + timedelta(days=11):%d.%m.%Y}",
        when,
        text,
        lang="de",
        cc=[BERG],
    )


def f_my_team_note(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    notes = [
        (
            "Neue Rufbereitschaftsregelung ab nächstem Monat",
            "ab dem nächsten Monat gilt für die Kardiologie eine neue Rufbereitschaftsregelung: "
            "Der Hintergrund ist werktags ab 16:30 Uhr telefonisch erreichbar und kommt bei "
            "STEMI, Tamponade und instabilen Rhythmusstörungen ins Haus. Die Liste hängt im "
            "Arztzimmer.",
        ),
        (
            "Journal Club: neue Termine",
            "der Journal Club findet ab sofort donnerstags um "
            "15:30 Uhr statt. Themenvorschläge bitte an mich.",
        ),
    ]
    subject, para = notes[i % len(notes)]
    text = with_sig(
        txt(f"""
        Liebe Kolleginnen und Kollegen,

        {para}

        Viele Grüße
        Lena Hartmann
        """)
    )
    return a.mail(
        folder, ME, WARD_STAFF[:30], subject, when, text, lang="de", cc=[MUELLER, OKAFOR, BERG]
    )


def f_my_it_ticket(a: Archive, folder: str, when: datetime, i: int) -> Mail:
    issues = [
        (
            "Drucker Arztzimmer 7B druckt nicht",
            "der Drucker im Arztzimmer 7B (PRN-7B-02) zeigt Papierstau, obwohl kein Papier klemmt.",
        ),
        (
            "Zugang Echo-Archiv für neue Assistenzärztin",
            "bitte richten Sie für Frau "
            "Dr. Nadia Nagel Lesezugriff auf das Echo-Archiv ein (Kostenstelle 4711).",
        ),
    ]
    subject, para = issues[i % len(issues)]
    text = with_sig(
        txt(f"""
        Hallo Servicedesk,

        {para}

        Danke und Gruß
        """)
    )
    return a.mail(folder, ME, [SERVICEDESK], subject, when, text, lang="de")


def special_messages(a: Archive) -> None:
    """One-off INBOX messages: cid inline image, hostile attachment name."""
    rng = a.rng
    when = at("eu", 2024, 4, 17, 12, 5)
    text = txt("""
        Liebe Kolleginnen und Kollegen,

        die renovierte Station 7B ist fertig! Ab Montag ziehen wir zurück in die neuen
        Zimmer (alle mit eigenem Bad und Monitoring-Anschluss). Ein erstes Foto seht ihr
        unten.

        Viele Grüße
        Katrin
        """)
    cid = "station7b-photo.20240417@clinic.example"
    html = html_page(
        html_from_text(text).replace(
            "<p>Viele", f'<p><img src="cid:{cid}" width="160" alt="Station 7B"></p>\n<p>Viele', 1
        ),
        title="Station 7B",
    )
    a.mail(
        "INBOX",
        VOGEL,
        [WARD_LIST],
        "[Station-7B] Renovierung abgeschlossen – Umzug ab Montag",
        when,
        text,
        html=html,
        related=[
            Att(logo_png((46, 139, 87), 48), "image/png", "station7b.png", params={"cid": cid})
        ],
        lang="de",
        list_info=("Station 7B", WARD_LIST.addr),
        reply_to=WARD_LIST,
    )

    # Device export with a hostile attachment name (path traversal)
    when = at("eu", 2025, 5, 6, 3, 12)
    text = txt("""
        Automatischer Export Holter-EKG

        Gerät: HX-200 #0417   Aufzeichnung: 24 h   Status: abgeschlossen
        Der Export enthält die Rohdaten-Zusammenfassung.

        Dies ist eine automatisch erzeugte Nachricht.
        """)
    a.mail(
        "INBOX",
        DEVICE,
        [ME],
        "Holter-Export abgeschlossen: Gerät HX-200 #0417",
        when,
        text,
        lang="de",
        headers=[("Auto-Submitted", "auto-generated")],
        mailer="HolterSync 1.0",
        attachments=[
            att_text(
                "../../etc/passwd",
                txt("""
                   |# Demo file with a hostile name - harmless content.
                   |recording_id=0417
                   |duration_h=24
                   |mean_hr=71
                   |max_pause_s=1.6
                   """),
                charset="us-ascii",
                cte="7bit",
            ),
            att_png("Holter_0417_Streifen.png", ecg_png(rng, 200, 40)),
        ],
    )


@dataclass
class Spam:
    sender: Person
    subject: str
    when: datetime
    text: str | None
    html: str | None
    attachments: Sequence[Att] = ()
    charset: str = "utf-8"


def junk_messages(a: Archive) -> None:
    specs = [
        Spam(
            sender=Person("IT Helpdesk", "it-support@clinic-example-security.test"),
            subject="Ihr Passwort läuft heute ab – jetzt bestätigen",
            when=at("utc", 2024, 11, 20, 4, 17),
            html=(
                "<p>Sehr geehrter Benutzer,</p><p>Ihr Postfach-Passwort <b>läuft heute "
                "ab</b>. "
                "Um Datenverlust zu vermeiden, bestätigen Sie Ihr aktuelles Passwort "
                'innerhalb von 24 Stunden:</p><p><a href="https://login.clinic-example.'
                'test/owa/verify?user=lena.hartmann">https://mail.clinic.example/verify</a>'
                "</p><p>IT-Abteilung</p>"
                '<img src="https://tracker.example.com/pixel.gif" width="1" height="1">'
            ),
            text=None,
        ),
        Spam(
            sender=Person("Mailbox Administrator", "no-reply@secure-mailbox.example.net"),
            subject="Action required: mailbox storage full (99%)",
            when=at("us", 2025, 2, 3, 23, 58),
            text=txt("""
                 Your mailbox has exceeded its storage limit. Incoming messages are being
                 held. Upgrade your storage for free before it is deleted:

                 https://secure-mailbox.example.net/upgrade?id=77410

                 Mailbox Administration Team
                 """),
            html=(
                '<div style="border:1px solid #ccc;padding:16px"><h2>Mailbox storage '
                'full</h2><div style="background:#ddd;width:300px"><div style="background:'
                '#d00;width:297px;height:12px"></div></div><p>Incoming messages are being '
                'held.</p><form action="https://secure-mailbox.example.net/collect" '
                'method="post"><input name="email" value="lena.hartmann@clinic.example">'
                '<input type="password" name="pw"><button>Upgrade now</button></form>'
                "<script>document.forms[0].pw.focus();console.log('demo');</script></div>"
            ),
        ),
        Spam(
            sender=Person("Paketdienst", "info@parcel-delivery.test"),
            subject="Zustellung fehlgeschlagen: Ihre Sendung DE4471-92",
            when=at("eu", 2024, 8, 14, 6, 2),
            text=txt("""
                 Ihr Paket konnte nicht zugestellt werden, da die Zollgebühr von 1,99 EUR
                 nicht bezahlt wurde. Bitte bezahlen Sie innerhalb von 48 Stunden:
                 https://parcel-delivery.test/pay/DE4471-92
                 """),
            html=None,
        ),
        Spam(
            sender=Person("Buchhaltung", "rechnung@invoice-center.example.com"),
            subject="Offene Rechnung Nr. 2024-88321 – letzte Mahnung",
            when=at("eu", 2024, 12, 2, 10, 44),
            text=txt("""
                 Sehr geehrte Damen und Herren,

                 trotz mehrfacher Erinnerung ist die Rechnung 2024-88321 noch offen. Die
                 Rechnung und das Zahlungsformular finden Sie im Anhang. Bitte öffnen Sie
                 die Datei und aktivieren Sie die Bearbeitung.
                 """),
            html=None,
            attachments=[
                Att(
                    b"@echo off\r\nrem Harmless demo file with a hostile name.\r\n"
                    b"echo This would have been malware.\r\n",
                    "application/octet-stream",
                    "..\\..\\evil.bat",
                ),
                Att(
                    b"Harmless demo file: not an executable, despite its name.\r\n",
                    "application/octet-stream",
                    "Rechnung_2024-88321_\u202efdp.exe",
                ),
            ],
        ),
        Spam(
            sender=Person("Victor Langford", "v.langford@freemail.example.com"),
            subject="Confidential business proposal",
            when=at("utc", 2023, 9, 9, 2, 31),
            text=txt("""
                 Dear Friend,

                 I am the executor of a late physician's estate and have a proposal of
                 mutual benefit: the transfer of USD 14,500,000 in unclaimed research
                 funds. Kindly reply with
                 your full name, bank details and telephone number.

                 Yours faithfully,
                 Victor Langford
                 """),
            html=None,
        ),
        Spam(
            sender=Person("Pharma Discount", "deals@cheap-meds.test"),
            subject="💊 70% OFF – Premium meds without prescription!!!",
            when=at("in", 2024, 5, 5, 13, 13),
            text=None,
            html=(
                '<center style="background:url(https://cheap-meds.test/bg.jpg)">'
                '<h1 style="color:red">70% OFF TODAY ONLY</h1>'
                '<img src="https://cheap-meds.test/pills.jpg" alt="pills">'
                '<img src="https://cheap-meds.test/x.gif" onerror="alert(\'demo\')">'
                '<p><a href="https://cheap-meds.test/shop">ORDER NOW</a></p>'
                '<iframe src="https://cheap-meds.test/frame" width="1" height="1">'
                "</iframe></center>"
            ),
        ),
        Spam(
            sender=Person("St. Aurelia Gehaltsabrechnung", "payroll@clinic.example.net"),
            subject="Gehaltsanpassung 2025 – bitte Bankverbindung bestätigen",
            when=at("eu", 2025, 1, 28, 7, 50),
            text=txt("""
                 Sehr geehrte Mitarbeiterin,

                 im Zuge der Gehaltsanpassung 2025 bitten wir Sie, Ihre Bankverbindung im
                 neuen Portal zu bestätigen: https://clinic.example.net.portal-login.test/hr

                 Ohne Bestätigung kann die Januar-Zahlung nicht erfolgen.

                 Personalabteilung
                 """),
            html=None,
        ),
        Spam(
            sender=Person("Webinar Team", "webinar@crypto-gains.example.org"),
            subject="Doctors earn €9.800/month with this one trick",
            when=at("uk", 2025, 7, 19, 21, 5),
            text=txt("""
                 Busy doctors are quietly earning a second income with automated crypto
                 trading. Watch the free webinar now - spaces are limited!
                 https://crypto-gains.example.org/webinar
                 """),
            charset="windows-1252",
            html=(
                '<p><img src="https://crypto-gains.example.org/hero.png" width="500">'
                "</p><p>Busy doctors are quietly earning a second income ...</p>"
                '<p><a href="https://crypto-gains.example.org/webinar">Watch now</a></p>'
            ),
        ),
        Spam(
            sender=Person("eSign-Service", "sign@documents-share.test"),
            subject="Lena, you have a document to review and sign",
            when=at("us", 2025, 9, 30, 16, 40),
            text=txt("""
                 Your colleague sent you "Dienstvertrag_2025_final.pdf" for signature.

                 REVIEW DOCUMENT: https://documents-share.test/r/5f2a9

                 This link expires in 24 hours.
                 """),
            html=(
                '<table style="font-family:Arial"><tr><td style="background:#ffd700;'
                'padding:20px"><b>Please review and sign</b></td></tr><tr><td>'
                '<a href="https://documents-share.test/r/5f2a9">REVIEW DOCUMENT</a></td>'
                '</tr></table><img src="https://documents-share.test/t.gif?u=lh" '
                'width="1" height="1">'
            ),
        ),
        Spam(
            sender=Person("Sehr geehrter Kunde", "winner@lottery-europe.test"),
            subject="Herzlichen Glückwunsch! Sie haben gewonnen",
            when=at("eu", 2023, 12, 24, 3, 3),
            text=txt("""
                 Ihre E-Mail-Adresse wurde bei unserer Weihnachtsverlosung gezogen. Sie haben
                 250.000,00 EUR gewonnen! Bitte senden Sie eine Kopie Ihres Ausweises an
                 claims@lottery-europe.test.
                 """),
            html=None,
            charset="iso-8859-1",
        ),
    ]
    for n, spec in enumerate(specs):
        to: Sequence[Person] | Group = [ME] if n % 3 else Group("undisclosed-recipients")
        a.mail(
            "Junk",
            spec.sender,
            to,
            spec.subject,
            spec.when,
            spec.text,
            html=None if spec.html is None else html_page(spec.html),
            attachments=spec.attachments,
            charset=spec.charset,
            spam=True,
            lang="de" if "ä" in spec.subject else "en",
            unseen=n % 2 == 1,
            mailer="PHPMailer-compatible 6" if n % 2 else None,
        )


# ---- assembling -------------------------------------------------------------------------


def build_archive(seed: int = SEED) -> Archive:
    a = Archive(seed)
    rng = a.rng
    build_threads(a)
    special_messages(a)
    junk_messages(a)

    inbox_plan = [
        (f_lab_result, 10),
        (f_radiology, 5),
        (f_appointment, 7),
        (f_it_notice, 6),
        (f_weekly, 6),
        (f_digest, 4),
        (f_vendor_html_only, 2),
        (f_ward_post, 6),
        (f_pharmacy, 4),
        (f_hr, 5),
        (f_gp_referral, 5),
        (f_patient, 3),
        (f_conference, 4),
        (f_insurer_query, 2),
        (f_qm, 3),
        (f_colleague, 8),
    ]
    colleague_msgs: list[Mail] = []
    for fn, count in inbox_plan:
        for i in range(count):
            when = _work_time(
                rng,
                date(2024, 1, 8),
                date(2025, 10, 17),
                slot=(i, count),
                weekend=fn in (f_weekly, f_digest, f_vendor_html_only),
            )
            m = fn(a, "INBOX", when, i)
            if fn is f_colleague:
                colleague_msgs.append(m)

    sent_plan = [
        (f_my_referral, 4),
        (f_my_docs, 3),
        (f_my_leave, 2),
        (f_my_team_note, 2),
        (f_my_it_ticket, 2),
    ]
    for i, parent in enumerate(colleague_msgs[:6]):
        delay = timedelta(minutes=rng.randint(4, 180))
        f_reply_to(a, "Sent", in_zone(parent.date + delay, "eu"), i, parent)
    for fn, count in sent_plan:
        for i in range(count):
            fn(a, "Sent", _work_time(rng, date(2024, 1, 8), date(2025, 10, 17), slot=(i, count)), i)

    backup_plan = [
        (f_lab_result, 4),
        (f_weekly, 2),
        (f_digest, 1),
        (f_it_notice, 2),
        (f_ward_post, 3),
        (f_hr, 2),
        (f_my_referral, 2),
        (f_radiology, 1),
    ]
    for fn, count in backup_plan:
        for i in range(count):
            when = _work_time(rng, date(2023, 1, 9), date(2023, 12, 15), slot=(i, count))
            fn(a, "BACKUP", when, i + 10)
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
