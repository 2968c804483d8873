"""`mailproof trace`: the delivery verdict of a message that went through the real chain —
JSON contract, summary, offline mode — and forgery hints on a Sent copy without a trail."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from app.delivery.verdict import trace
from app.sources import open_source
from app.store.library import Library
from tests.builders import make_maildir, make_message
from tests.harness.mta import MailChain

MAILPROOF = Path(sys.executable).with_name("mailproof")
KEYS = {"hops", "dkim", "arc", "authentication_results", "locations", "summary", "warnings"}


def run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAILPROOF), *args],
        capture_output=True,
        text=True,
        env={**os.environ, "MAILPROOF_HOME": str(home)},
        timeout=120,
    )


def test_trace_of_a_message_through_the_real_chain(mail_chain: MailChain, tmp_path: Path) -> None:
    _msgid, delivered = mail_chain.deliver("Trace me", "Traced.\n", "trace")
    eml = tmp_path / "delivered.eml"
    eml.write_bytes(delivered)
    home = tmp_path / "home"

    result = run(home, "trace", str(eml), "--json", "--dns-server",
                 f"127.0.0.1:{mail_chain.dns_port}")  # fmt: skip
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert set(verdict) >= KEYS
    hops = verdict["hops"]
    assert len(hops) >= 3 and hops[-1]["protocol"] == "LMTP"
    assert verdict["dkim"][0]["result"] == "pass" and verdict["dkim"][0]["domain"] == "sender.test"
    assert verdict["arc"]["result"] == "none"
    tls = sum(1 for h in hops if h["tls"] not in (None, False))
    assert verdict["summary"].startswith("Delivered to mx.example.test at ")
    assert (
        f"via {len(hops)} hops, TLS on {tls} of {len(hops)}, DKIM pass for sender.test"
        in (verdict["summary"])
    )
    assert verdict["dns_answers"] and verdict["dns_answers"][0]["txt"].startswith("v=DKIM1")
    assert verdict["transit_seconds"] is not None and verdict["transit_seconds"] >= 0

    offline = json.loads(run(home, "trace", str(eml), "--json", "--offline").stdout)
    assert offline["dkim"][0]["result"] == "not-checked" and offline["dns_answers"] == []
    assert "DKIM not checked (offline)" in offline["summary"]

    text = run(home, "trace", str(eml), "--offline")
    assert text.returncode == 0 and text.stdout.startswith("Delivered to mx.example.test")
    assert " 1. " in text.stdout and "LMTP" in text.stdout

    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    bad = run(home, "trace", str(garbage))
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_a_sent_copy_without_a_trail_gets_the_forgery_hints(tmp_path: Path) -> None:
    forged = make_message(
        "Referral sent",
        sender="Alice <alice@clinic.example>",
        message_id="<123@laptop.home.example>",
        date="Mon, 01 Jan 2024 10:00:00 +0000",
    )
    root = make_maildir(tmp_path / "Mail", {})
    make_maildir(root / ".Sent", {"cur/1:2,S": forged})
    library = Library(tmp_path / "home")
    library.ingest(open_source(root))
    verdict = trace(forged, resolver=None, offline=True, library=library,
                    own_domains=["clinic.example"])  # fmt: skip
    assert verdict.hops == () and verdict.summary.startswith("No Received trail")
    assert [c.folder for c in verdict.locations] == ["Sent"]
    assert any("proves nothing about delivery" in h for h in verdict.hints)
    assert any("Message-ID was made at laptop.home.example" in h for h in verdict.hints)
    data = verdict.to_json()
    assert set(data) >= KEYS and data["tls"]["hops"] == 0
