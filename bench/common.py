"""What the benchmarks share: paths, the generated mail corpus, measured child processes,
peak-memory readings, scratch directories and the figures' formatting.

Importing it puts the repository root on ``sys.path`` (the scripts run as ``bench/x.py``), so
``app`` and ``tests.harness`` import from this checkout.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from email.header import Header
from email.utils import format_datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


def split_words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


# ---------------------------------------------------------------------------------------------
# The message corpus of open_folder.py and sync.py (stdlib only, deterministic for an rng)
# ---------------------------------------------------------------------------------------------

CORPUS_START = datetime(2020, 1, 1, tzinfo=UTC).timestamp()
CORPUS_SPAN = 5 * 365 * 86400  # the messages' dates spread over five years from CORPUS_START

_WORDS = split_words(
    "the of and to in is that for it as was with be by on not he this are or his from at which "
    "but have an they you were her she there been one all we their has would when if so no "
    "will more out up into do any your what some can only other new time could these two may "
    "then first than such like our over also after back most where after meeting report "
    "budget quarter invoice review draft contract schedule patient appointment results lab "
    "update please attached find regards thanks question follow policy audit compliance team "
    "project deadline server backup archive delivery message evidence signed encrypted certificate "
    "renewal account password reset shipment order payment reminder agenda minutes notes call "
    "tomorrow today monday friday week month office remote travel expense approval request"
)
_ACCENTED = split_words("café naïve résumé Zürich Ångström façade déjà jalapeño crème brûlée Łódź")
_FIRST = split_words(
    "Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy Rupert "
    "Sybil Trent Victor Walter Yasmin Zoe Ana Bruno Chloé Dmitri Élodie Jürgen Søren"
)
_LAST = split_words(
    "Smith Jones Brown Taylor Wilson Davies Evans Thomas Roberts Walker Müller García Rossi "
    "Novák Dubois Lefèvre Nakamura Kowalski Andersen Silva"
)
_DOMAINS = split_words(
    "clinic.example hospital.example lab.example partner.example vendor.example "
    "bank.example mail.example news.example university.example gov.example"
)
_ATTACHMENTS = (
    ("application", "pdf", "report.pdf"),
    ("application", "pdf", "invoice-2023.pdf"),
    ("image", "png", "scan.png"),
    ("image", "jpeg", "photo.jpg"),
    ("text", "csv", "results.csv"),
    ("application", "octet-stream", "data.bin"),
)
_ME = ("Mail Proof", "me@clinic.example")


def _person(rng: random.Random) -> tuple[str, str]:
    first, last = rng.choice(_FIRST), rng.choice(_LAST)
    ascii_first = first.encode("ascii", "ignore").decode() or "user"
    ascii_last = last.encode("ascii", "ignore").decode() or "name"
    addr = f"{ascii_first}.{ascii_last}@{rng.choice(_DOMAINS)}".lower()
    return f"{first} {last}", addr


def _address(name: str, addr: str) -> str:
    if name.isascii():
        return f'"{name}" <{addr}>'
    return f"{Header(name, 'utf-8').encode()} <{addr}>"


def _line(rng: random.Random, accented: bool) -> str:
    words = rng.choices(_WORDS, k=rng.randint(8, 13))
    if accented and rng.random() < 0.3:
        words[rng.randrange(len(words))] = rng.choice(_ACCENTED)
    words[0] = words[0].capitalize()
    return " ".join(words) + rng.choice((".", ",", "", "?"))


def _text(rng: random.Random, size: int, accented: bool, quote: bool) -> str:
    lines = [f"Hello {rng.choice(_FIRST)},", ""]
    length = 0
    while length < size:
        for _ in range(rng.randint(2, 6)):
            line = _line(rng, accented)
            lines.append(line)
            length += len(line) + 1
        lines.append("")
    if quote:
        lines.append("On an earlier day, someone wrote:")
        lines.extend("> " + _line(rng, False) for _ in range(rng.randint(3, 8)))
        lines.append("")
    lines.extend(["Regards,", rng.choice(_FIRST), "-- ", "Sent from a benchmark", ""])
    return "\n".join(lines)


def _html(rng: random.Random, size: int, accented: bool) -> str:
    parts = [
        '<html><head><meta charset="utf-8"><style>p{margin:0 0 8px 0}</style></head>',
        '<body style="font-family:Arial,sans-serif;font-size:14px">',
    ]
    length = 0
    while length < size:
        para = " ".join(_line(rng, accented) for _ in range(rng.randint(2, 4)))
        if rng.random() < 0.3:
            para = (
                f'<b>{para[:40]}</b>{para[40:]} <a href="https://{rng.choice(_DOMAINS)}/x">link</a>'
            )
        parts.append(f"<p>{para}</p>")
        length += len(para) + 7
    parts.append("</body></html>")
    return "\n".join(parts)


def _encode_text(text: str, subtype: str) -> str:
    """A single text part: 7bit when ASCII, else UTF-8 quoted-printable."""
    if text.isascii() and subtype == "plain":
        return (
            f'Content-Type: text/{subtype}; charset="us-ascii"\n'
            f"Content-Transfer-Encoding: 7bit\n\n{text}"
        )
    body = binascii.b2a_qp(text.encode("utf-8")).decode("ascii")
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"\n'
        f"Content-Transfer-Encoding: quoted-printable\n\n{body}"
    )


def _boundary(rng: random.Random) -> str:
    return f"----=_Part_{rng.getrandbits(64):016x}"


def make_message(
    rng: random.Random, index: int, stamp: float, folder: str, recent: deque[tuple[str, str, str]]
) -> tuple[bytes, str, str, str]:
    """(raw bytes, Message-ID, subject, References) of one deterministic, realistic message.

    ``folder`` is a Maildir++ folder name: ``.Sent`` mail is from me, ``.Junk`` shouts; any
    other is received mail. ``recent`` holds (Message-ID, subject, References) to reply to.
    """
    zone = timezone(timedelta(hours=rng.choice((0, 1, 2, -5, -8, 9))))
    date = format_datetime(datetime.fromtimestamp(stamp, zone))
    sent = folder == ".Sent"
    sender = _ME if sent else _person(rng)
    recipient = _person(rng) if sent else _ME
    accented = rng.random() < 0.1
    domain = sender[1].split("@")[1]
    message_id = f"<{index}.{rng.getrandbits(48):012x}@{domain}>"
    reply = bool(recent) and rng.random() < 0.3
    if reply:
        parent_id, parent_subject, parent_refs = rng.choice(recent)
        subject = parent_subject if parent_subject.startswith("Re: ") else "Re: " + parent_subject
        refs = (parent_refs.split() + [parent_id])[-10:]
    else:
        subject = " ".join(rng.choices(_WORDS, k=rng.randint(3, 8))).capitalize()
        if accented:
            subject += " " + rng.choice(_ACCENTED)
        if folder == ".Junk":
            subject = "URGENT: " + subject.upper()
        refs = []
    encoded_subject = subject if subject.isascii() else Header(subject, "utf-8").encode()

    headers = [f"Return-Path: <{sender[1]}>"]
    for hop in range(rng.randint(1, 3)):
        relay = f"mx{hop + 1}.{domain}"
        headers.append(
            f"Received: from {relay} ({relay} [192.0.2.{rng.randint(1, 254)}])\n"
            f"\tby mail.clinic.example (Postfix) with ESMTPS id {rng.getrandbits(40):010X}\n"
            f"\tfor <{recipient[1]}>; {date}"
        )
    if rng.random() < 0.5:
        signature = base64.b64encode(rng.randbytes(128)).decode()
        headers.append(
            f"DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed; d={domain}; s=sel1;\n"
            f"\th=from:to:subject:date:message-id; bh={signature[:44]};\n"
            f"\tb={signature[44:]}"
        )
    headers += [
        f"Message-ID: {message_id}",
        f"Date: {date}",
        f"From: {_address(*sender)}",
        f"To: {_address(*recipient)}",
    ]
    if rng.random() < 0.2:
        headers.append(f"Cc: {_address(*_person(rng))}, {_address(*_person(rng))}")
    headers.append(f"Subject: {encoded_subject}")
    if refs:
        headers.append(f"In-Reply-To: {refs[-1]}")
        headers.append("References: " + "\n ".join(refs))
    mailer = f"BenchMailer {rng.randint(1, 9)}.{rng.randint(0, 9)}"
    headers += ["MIME-Version: 1.0", f"X-Mailer: {mailer}"]
    head = "\n".join(headers) + "\n"

    target = rng.randint(2048, 6144)
    room = max(400, target - len(head) - 200)
    kind = rng.random()
    if kind < 0.55:  # plain text
        body = _encode_text(_text(rng, room, accented, reply), "plain")
    elif kind < 0.65:  # HTML only
        body = _encode_text(_html(rng, room, accented), "html")
    elif kind < 0.90:  # multipart/alternative
        b = _boundary(rng)
        plain = _encode_text(_text(rng, room // 2, accented, reply), "plain")
        html = _encode_text(_html(rng, room // 3, accented), "html")
        body = (
            f'Content-Type: multipart/alternative; boundary="{b}"\n\n'
            f"This is a multi-part message in MIME format.\n\n"
            f"--{b}\n{plain}\n--{b}\n{html}\n--{b}--\n"
        )
    else:  # text + a small attachment
        b = _boundary(rng)
        maintype, subtype, filename = rng.choice(_ATTACHMENTS)
        data = rng.randbytes(rng.randint(400, min(2400, max(400, room // 2))))
        encoded = base64.encodebytes(data).decode("ascii")
        text = _encode_text(_text(rng, max(200, room - len(encoded)), accented, False), "plain")
        body = (
            f'Content-Type: multipart/mixed; boundary="{b}"\n\n'
            f"--{b}\n{text}\n--{b}\n"
            f'Content-Type: {maintype}/{subtype}; name="{filename}"\n'
            f'Content-Disposition: attachment; filename="{filename}"\n'
            f"Content-Transfer-Encoding: base64\n\n{encoded}\n--{b}--\n"
        )
    raw = (head + body).encode("utf-8")
    return raw, message_id, subject, " ".join(refs)


def received_flags(rng: random.Random) -> str:
    """Maildir flags of a received message: mostly seen, some replied or flagged, some new."""
    return rng.choices(("S", "RS", "FS", ""), weights=(80, 10, 3, 7))[0]


# ---------------------------------------------------------------------------------------------
# Child processes, timed and measured alone
# ---------------------------------------------------------------------------------------------


def child_env(home: Path) -> dict[str, str]:
    """This environment for a child on its own ``MAILPROOF_HOME``, importing this checkout."""
    env = dict(os.environ)
    env["MAILPROOF_HOME"] = str(home)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def vm_hwm_mb(pid: int | str = "self") -> float | None:
    """Peak RSS of a process's memory since its exec (``VmHWM``), in MB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        pass
    return None


def self_maxrss_mb() -> float:
    """Peak RSS of this process (``ru_maxrss``), in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def wait_child(
    process: subprocess.Popen[bytes], timeout: float, sample: bool = False, poll: float = 0.005
) -> tuple[int, float, float | None]:
    """Exit code, ``ru_maxrss`` (MB; ``os.wait4``) and, with ``sample``, the last ``VmHWM``.

    ``os.wait4`` on this one child measures it alone (``RUSAGE_CHILDREN`` would keep the
    maximum over every child waited so far). Its ``ru_maxrss`` is never below this (parent)
    process's own RSS, though: Linux carries the parent's high-water mark through fork and
    exec. So it is an upper bound; ``VmHWM`` (per address space, so it starts again at exec)
    is exact. The child is killed after ``timeout`` seconds.
    """
    deadline = time.monotonic() + timeout
    hwm = None
    while True:
        if sample:
            hwm = vm_hwm_mb(process.pid) or hwm  # monotonic: the last sample is the best
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        if time.monotonic() > deadline:
            process.kill()
            pid, status, usage = os.wait4(process.pid, 0)
            break
        time.sleep(poll)
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, usage.ru_maxrss / 1024, hwm


@dataclass(frozen=True)
class ChildRun:
    """One child process run to its end: exit code, clock times, ``ru_maxrss``, output."""

    returncode: int
    started: float  # time.time() just before Popen
    ended: float  # time.time() once the child is reaped
    ru_maxrss_mb: float
    stdout: str
    stderr: str

    def figures(self) -> dict[str, Any] | None:
        """The last JSON object line the child printed (its figures), if any."""
        lines = [line for line in self.stdout.splitlines() if line.startswith("{")]
        return json.loads(lines[-1]) if lines else None


def run_measured(
    command: Sequence[str],
    env: dict[str, str],
    timeout: float,
    *,
    stdin: bytes | None = None,
    poll: float = 0.005,
) -> ChildRun:
    """Run ``command`` in the repository root with ``stdin`` as its input; wait for its end."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.time()
        process = subprocess.Popen(
            command,
            stdin=None if stdin is None else subprocess.PIPE,
            stdout=out,
            stderr=err,
            env=env,
            cwd=ROOT,
        )
        if stdin is not None:
            assert process.stdin is not None
            process.stdin.write(stdin)
            process.stdin.close()
        code, ru_maxrss, _ = wait_child(process, timeout, poll=poll)
        ended = time.time()
        out.seek(0)
        err.seek(0)
        return ChildRun(
            returncode=code,
            started=started,
            ended=ended,
            ru_maxrss_mb=ru_maxrss,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


def wrap_timed(
    owner: Any,
    name: str,
    record: Callable[[float, float, tuple[Any, ...], dict[str, Any]], None],
    clock: Callable[[], float] = time.perf_counter,
) -> None:
    """Replace ``owner.name`` by a wrapper that, after each call, passes its start and end
    (``clock()``) and its arguments to ``record``."""
    original = getattr(owner, name)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        start = clock()
        try:
            return original(*args, **kwargs)
        finally:
            record(start, clock(), args, kwargs)

    setattr(owner, name, wrapper)


# ---------------------------------------------------------------------------------------------
# Scratch directories
# ---------------------------------------------------------------------------------------------


def fresh_home(tag: str) -> Path:
    """An empty ``bench/out/homes/<tag>`` (emptied if it exists) for a store."""
    homes = OUT / "homes"
    homes.mkdir(parents=True, exist_ok=True)
    home = homes / tag
    shutil.rmtree(home, ignore_errors=True)
    home.mkdir()
    return home


@contextmanager
def scratch_dir(prefix: str) -> Iterator[Path]:
    """A new temporary directory, removed with all it holds at the end."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------------------


def median(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def fmt(value: float | None, unit: str, digits: int = 2, grouping: str = "") -> str:
    """``1.23 s``; ``grouping=","`` writes thousands as ``1,234``; ``—`` for no value."""
    return "—" if value is None else f"{value:{grouping}.{digits}f} {unit}".strip()


def spread(values: Sequence[float | None], unit: str, digits: int = 2, grouping: str = "") -> str:
    """The median of ``values`` with their (min–max) when there are several."""
    present = [v for v in values if v is not None]
    text = fmt(median(values), unit, digits, grouping)
    if len(present) > 1:
        low, high = min(present), max(present)
        text += f" ({low:{grouping}.{digits}f}–{high:{grouping}.{digits}f})"
    return text


def print_table(
    rows: Sequence[Sequence[str]], header: Sequence[str] | None = None, right: Sequence[int] = ()
) -> None:
    """Columns padded to their widest cell (the ``right`` ones right-aligned) but the last;
    a header, if given, underlined with dashes."""
    lines = [list(row) for row in rows]
    if header is not None:
        lines.insert(0, list(header))
    widths = [max(len(line[c]) for line in lines) for c in range(len(lines[0]))]
    if header is not None:
        lines.insert(1, ["-" * width for width in widths[:-1]] + ["-" * len(header[-1])])
    for line in lines:
        cells = [
            line[c].rjust(widths[c]) if c in right else line[c].ljust(widths[c])
            for c in range(len(line) - 1)
        ]
        print("  ".join([*cells, line[-1]]).rstrip())
