"""One delivery presenter, three faces: `mailproof trace`, the Delivery tab and the evidence
report's PDF (read back with poppler's pdftotext) show the same lines — among them the "our own
domain fails DKIM" hint, the protection level and the cues — for a message OpenDKIM really signed
and that was changed afterwards, checked against the real loopback DNS."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.delivery.dns import live_resolver
from app.delivery.present import HOPS, WARNINGS, delivery_lines, protection_badge
from app.delivery.verdict import trace
from app.imap.account import Account
from app.imap.account import save as save_account
from app.present import Line, Tone
from app.sources import open_source
from app.store.library import Library
from tests.builders import make_maildir
from tests.harness.mta import MailChain

MAILPROOF = Path(sys.executable).with_name("mailproof")


@dataclass(frozen=True)
class Case:
    home: Path
    raw: bytes
    message_id: str
    dns_server: str
    lines: tuple[Line, ...]


def comparable(line: Line) -> str:
    """A line without what changes from one lookup to the next (the DNS answer's fetch time)."""
    return re.sub(r" \(fetched [^)]*\)$", "", line.plain)


def squeeze(text: str) -> str:
    """Text without whitespace: the PDF wraps lines, long words (a DKIM key) included."""
    return "".join(text.split())


@pytest.fixture(scope="module")
def case(mail_chain: MailChain, tmp_path_factory: pytest.TempPathFactory) -> Case:
    message_id, delivered = mail_chain.deliver(
        "Invoice", "The invoice for patient 4711 is attached.\n", "faces"
    )
    # Changed after OpenDKIM signed it, with replies sent elsewhere: a forgery of our own domain.
    raw = b"Reply-To: pay@payments-elsewhere.example\r\n" + delivered.replace(
        b"patient 4711", b"patient 4712"
    )
    base = tmp_path_factory.mktemp("faces")
    home = base / "home"
    library = Library(home)
    library.ingest(open_source(make_maildir(base / "Mail", {"cur/1:2,S": raw})))
    user = f"billing@{mail_chain.dkim_domain}"
    save_account(library, Account("clinic", "127.0.0.1", 993, "tls", user))
    server = f"127.0.0.1:{mail_chain.dns_port}"
    verdict = trace(raw, resolver=live_resolver(server, timeout=3), library=library)
    library.close()
    lines = delivery_lines(verdict)
    plain = [line.plain for line in lines]
    assert any(
        f"Hint: the message claims our own domain {mail_chain.dkim_domain} but its DKIM "
        "signature does not verify" in text
        for text in plain
    ), plain
    assert any(text.startswith(f"DKIM {mail_chain.dkim_domain}: fail") for text in plain)
    assert verdict.protection is not None
    level = verdict.protection.level
    assert any(text.startswith(f"Protection: {level} — ") for text in plain), plain
    assert any(
        text.startswith("Cue (warning): replies go to pay@payments-elsewhere.example")
        for text in plain
    ), plain
    assert any(line.label.startswith("DNS ") for line in lines)
    return Case(home, raw, message_id, server, lines)


def run(case: Case, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAILPROOF), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "MAILPROOF_HOME": str(case.home)},
        timeout=120,
        check=False,
    )


def test_trace_prints_every_line_of_the_presenter(case: Case) -> None:
    result = run(case, "trace", "--message-id", case.message_id, "--dns-server", case.dns_server)
    assert result.returncode == 0, result.stderr
    printed = result.stdout.splitlines()
    for line in case.lines:
        if line.section == HOPS:
            assert f"{line.label} {line.text}" in printed
        elif line.section == WARNINGS:
            assert f"mailproof: warning: {line.text}" in result.stderr
        else:
            assert comparable(line) in [re.sub(r" \(fetched [^)]*\)$", "", p) for p in printed]


def test_the_pdf_report_writes_every_line_of_the_presenter(case: Case, tmp_path: Path) -> None:
    package = tmp_path / "evidence.zip"
    result = run(
        case,
        "evidence",
        "export",
        "--message-id",
        case.message_id,
        "-o",
        str(package),
        "--dns-server",
        case.dns_server,
    )
    assert result.returncode == 0, result.stderr
    with zipfile.ZipFile(package) as archive:
        (tmp_path / "report.pdf").write_bytes(archive.read("report.pdf"))
    text = subprocess.run(
        ["pdftotext", str(tmp_path / "report.pdf"), "-"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    written = squeeze(re.sub(r" \(fetched [^)]*\)", "", text))
    for line in case.lines:
        shown = f"{line.label} {line.text}" if line.section == HOPS else comparable(line)
        assert squeeze(shown) in written, shown


def test_the_delivery_tab_shows_every_line_of_the_presenter(qtbot, case: Case) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QColor

    from ui.delivery import TONE_COLORS, DeliveryView

    library = Library(case.home)
    view = DeliveryView(library)
    qtbot.addWidget(view)
    view.dns_server = case.dns_server
    view.set_message(case.raw)
    with qtbot.waitSignal(view.traced, timeout=30000):
        view.refresh()
    assert view.verdict is not None and view.summary_label.text() == view.verdict.summary
    assert view.verdict.protection is not None
    assert view.badge.text() == protection_badge(view.verdict.protection)[0]
    rows = [view.details.topLevelItem(i) for i in range(view.details.topLevelItemCount())]
    shown = [Line("", row.text(0), row.text(1)) for row in rows]
    expected = [line for line in case.lines if line.section != HOPS]
    assert [comparable(line) for line in shown] == [comparable(line) for line in expected]
    for row, line in zip(rows, expected, strict=True):
        color = row.foreground(1).color()
        if line.tone is Tone.PLAIN:
            assert color not in TONE_COLORS.values()
        else:
            assert color == QColor(TONE_COLORS[line.tone])
    assert view.hops.topLevelItemCount() == len(
        [line for line in case.lines if line.section == HOPS]
    )
    library.close()
