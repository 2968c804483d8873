"""`mailproof investigate`: every folder incl. Trash, Junk, BACKUP, \\Deleted and expunged
copies; exactly one outcome — found, bounced, sent-copy-only, not-found — with reasons and
the request for the provider."""

from __future__ import annotations

import json
from pathlib import Path

from app.sources import open_source
from app.store.library import Library
from tests.builders import make_maildir, make_message
from tests.unit.test_bounce import POSTFIX_DSN

SENT_TRAIL = (
    b"Received: from [10.0.0.7] (unknown [198.51.100.20]) by smtp.clinic.example (Postfix) "
    b"with ESMTPSA id 4VXk2s0AbCz9sPk; Fri, 3 May 2024 09:15:02 +0000\r\n"
)


def store(tmp_path: Path, layout: dict[str, dict[str, bytes]]) -> Path:
    root = make_maildir(tmp_path / "Mail", layout.get("INBOX", {}))
    for folder, files in layout.items():
        if folder != "INBOX":
            make_maildir(root / f".{folder}", files)
    home = tmp_path / "home"
    library = Library(home)
    library.ingest(open_source(root))
    library.close()
    return home


def ask(cli, home: Path, *args: str) -> dict:
    result = cli("investigate", *args, "--json", home_dir=home)
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    return json.loads(result.stdout)


def test_found_in_junk_and_a_deleted_copy_in_trash(cli, tmp_path: Path) -> None:
    wanted = make_message(
        "Re: Lab results for patient 4711",
        sender="Lab <lab@hospital.example>",
        to="Alice <alice@clinic.example>",
        message_id="<lab-4711-reply@hospital.example>",
        date="Fri, 03 May 2024 11:00:00 +0000",
    )
    other = make_message("Canteen menu", sender="canteen@clinic.example")
    home = store(tmp_path, {
        "INBOX": {"cur/1:2,S": other},
        "Junk": {"cur/2:2,": wanted},
        "Trash": {"cur/3:2,ST": wanted},
    })  # fmt: skip
    found = ask(cli, home, "--from", "lab@hospital.example", "--subject",
                "lab results for patient 4711", "--date", "2024-05-03T10:00:00")  # fmt: skip
    assert found["outcome"] == "found"
    folders = {h["folder"] for h in found["hits"]}
    assert folders == {"Junk", "Trash"}
    assert all(h["score"] >= 0.5 and h["reasons"] for h in found["hits"])
    assert any("(spam folder)" in r for r in found["reasons"])
    assert "Mail/INBOX" in " ".join(found["searched"]) or any(
        s.endswith("/INBOX") for s in found["searched"]
    )
    by_id = ask(cli, home, "--message-id", "lab-4711-reply@hospital.example")
    assert by_id["outcome"] == "found" and by_id["hits"][0]["score"] == 1.0


def test_bounced_sent_copy_only_and_not_found(cli, tmp_path: Path) -> None:
    sent = SENT_TRAIL + make_message(
        "Lab results for patient 4711",
        sender="Alice <alice@clinic.example>",
        to="dr.smiht@hospital.example",
        message_id="<lab-4711@clinic.example>",
        date="Fri, 03 May 2024 09:15:00 +0000",
    )
    home = store(tmp_path, {
        "INBOX": {"cur/9:2,S": POSTFIX_DSN},
        "Sent": {"cur/1:2,S": sent},
    })  # fmt: skip
    bounced = ask(cli, home, "--message-id", "<lab-4711@clinic.example>")
    assert bounced["outcome"] == "bounced"
    assert bounced["bounces"][0]["recipients"][0]["recipient"] == "dr.smiht@hospital.example"
    assert "unknown user" in bounced["reasons"][0]
    request = bounced["provider_request"]
    assert "Message-ID: <lab-4711@clinic.example>" in request
    assert "4VXk2s0AbCz9sPk (at smtp.clinic.example" in request
    assert "2024-05-03 09:15 UTC" in request
    assert bounced["retention_days_left"] is not None and bounced["retention_days_left"] < 0
    assert "may already be gone" in request

    home2 = store(tmp_path / "b", {"Sent": {"cur/1:2,S": sent}})
    only_sent = ask(cli, home2, "--message-id", "<lab-4711@clinic.example>")
    assert only_sent["outcome"] == "sent-copy-only"
    assert "a Sent folder can be forged" in only_sent["reasons"][0]

    nothing = ask(cli, home2, "--to", "nobody@nowhere.example", "--subject", "Never sent")
    assert nothing["outcome"] == "not-found" and nothing["hits"] == []
    assert any("folders searched" in r for r in nothing["reasons"])
    assert nothing["next_steps"]
    listed = cli("investigate", "--list", "--json", home_dir=home2)
    records = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["outcome"] for r in records] == ["not-found", "sent-copy-only"]  # newest first
    assert records[0]["investigated_by"] and records[0]["searched"]
    audit = [json.loads(x) for x in cli("audit", "show", "--json", home_dir=home2).stdout.split(
        b"\n") if x]  # fmt: skip
    assert [e["result"] for e in audit if e["action"] == "investigation"] == [
        "sent-copy-only",
        "not-found",
    ]
    text = cli("investigate", "--message-id", "<lab-4711@clinic.example>", home_dir=home2)
    assert text.stdout.decode().startswith("outcome: sent-copy-only")
    bad_date = cli("investigate", "--date", "garbage", home_dir=home2)
    assert bad_date.returncode == 2 and b"--date 'garbage'" in bad_date.stderr
    empty = cli("investigate", home_dir=home2)
    assert empty.returncode == 2 and b"say what to look for" in empty.stderr


def test_a_date_alone_and_a_broken_sieve_script_still_complete(cli, tmp_path: Path) -> None:
    from app.investigate.search import Query, investigate
    from app.investigate.sieve import SieveScript
    from app.store.library import Library as Lib

    home = store(tmp_path, {"INBOX": {"cur/1:2,S": make_message(
        "Ward round", date="Fri, 03 May 2024 09:15:00 +0000")}})  # fmt: skip
    by_date = ask(cli, home, "--date", "2024-05-03T09:00:00", "--window", "2")
    assert by_date["outcome"] == "found" and by_date["hits"][0]["subject"] == "Ward round"
    library = Lib(home)
    broken = [SieveScript("rules", True, 'require "fileinto"; if header :contains {{{ ')]
    result = investigate(library, Query(subject="Ward round"), sieve=broken)
    assert result.outcome == "found"
    assert any("filters could not be checked" in r and "cannot be parsed" in r
               for r in result.reasons)  # fmt: skip
