"""Sync against a server that misbehaves (tests/harness/fake_imap.py: real IMAP over real TLS).

Malformed FETCH answers, a lying RFC822.SIZE, a 0-byte message, BAD/NO replies, a connection
closed inside a literal, a garbled folder list: each gives a clear error (or a warning) for
that message/folder, the other folders sync byte-exact, the next sync fetches exactly what is
missing, and the password appears in no error, no output, no log and no file of the store.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import keyring.errors
import pytest

from app.errors import MailproofError
from app.imap.account import Account
from app.imap.sync import BATCH_MESSAGES, SyncReport, sync_account
from app.store.library import Library
from tests.harness.fake_imap import GARBAGE, FakeImap, Message
from tests.harness.pki import Pki

MAILPROOF = Path(sys.executable).with_name("mailproof")
USER = "nurse"
# Quote and backslash make imaplib quote it on the wire; SECRET catches either spelling.
SECRET = "Tr0ub4dor"
PASSWORD = f'{SECRET}-"ward"\\7'
LAYOUT = {"INBOX": 4, "Sent": 2, "BACKUP": 3}
CONTENT = ("From: Ward", "Befund", "@clinic.example", "Subject:")  # message text no error may quote


def mail(folder: str, uid: int) -> bytes:
    """CRLF, an 8-bit byte and lines that look like IMAP responses inside the literal."""
    head = (
        f"From: Ward {uid} <ward{uid}@clinic.example>\r\nTo: {USER}@clinic.example\r\n"
        f"Subject: {folder} {uid}\r\nMessage-ID: <{folder}-{uid}@clinic.example>\r\n"
        "Date: Tue, 05 Mar 2024 10:00:00 +0100\r\n\r\n"
    )
    return head.encode() + b"Befund f\xfcr Zimmer 7\r\n)\r\n* OK not a response\r\nA1 OK no\r\n"


def corpus(layout: dict[str, int]) -> dict[str, list[Message]]:
    return {
        name: [Message(uid, mail(name, uid), ("\\Seen",)) for uid in range(1, count + 1)]
        for name, count in layout.items()
    }


@pytest.fixture
def peer(pki: Pki) -> Iterator[FakeImap]:
    with FakeImap(pki.server, corpus(LAYOUT), user=USER, password=PASSWORD) as server:
        yield server


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """MAILPROOF_HOME, with every log record (DEBUG, tracebacks too) in its mailproof.log."""
    path = tmp_path / "home"
    path.mkdir()
    monkeypatch.setenv("MAILPROOF_HOME", str(path))
    handler = logging.FileHandler(path / "mailproof.log", encoding="utf-8")
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield path
    root.removeHandler(handler)
    root.setLevel(level)
    handler.close()


@pytest.fixture
def library(home: Path) -> Iterator[Library]:
    lib = Library(home)
    yield lib
    lib.close()


def account(peer: FakeImap, pki: Pki, name: str = "badpeer") -> Account:
    return Account(name, "127.0.0.1", peer.port, "tls", USER, str(pki.ca_pem))


def by_folder(report: SyncReport) -> dict[str, object]:
    return {f.folder: f for f in report.folders}


def stored(library: Library, folder: str) -> dict[int, str]:
    """UID → sha256 of the bytes read back from the store; a UID stored twice fails."""
    rows = library.db.execute(
        "SELECT c.uid, c.sha256 FROM copies c JOIN folders f ON f.id=c.folder_id "
        "WHERE f.name=? AND c.expunged_at IS NULL",
        (folder,),
    ).fetchall()
    uids = [int(r["uid"]) for r in rows]
    assert len(uids) == len(set(uids)), f"duplicate copies in {folder}: {sorted(uids)}"
    return {int(r["uid"]): hashlib.sha256(library.raw(r["sha256"])).hexdigest() for r in rows}


def served(peer: FakeImap, folder: str) -> dict[int, str]:
    return {m.uid: hashlib.sha256(m.raw).hexdigest() for m in peer.folders[folder]}


def body_fetches(commands: list[str]) -> dict[str, set[int]]:
    """Folder → the UIDs whose bytes were asked for (``UID FETCH … (BODY.PEEK[])``)."""
    asked: dict[str, set[int]] = {}
    folder = ""
    for command in commands:
        if command.startswith(("EXAMINE ", "SELECT ")):
            folder = command.split(" ", 1)[1].strip('"')
        elif command.startswith("UID FETCH ") and "BODY" in command:
            for part in command.split()[2].split(","):
                low, _, high = part.partition(":")
                asked.setdefault(folder, set()).update(range(int(low), int(high or low) + 1))
    return asked


def assert_clear(error: str | None) -> None:
    """One bounded line for a user: no traceback, no password, no quoted message text."""
    assert error, "the broken folder must carry an error"
    assert "\n" not in error and len(error) < 300, error
    assert "Traceback" not in error and 'File "' not in error, error
    assert SECRET not in error
    for text in CONTENT:
        assert text not in error, f"the error quotes message content {text!r}: {error}"


def assert_no_secret_in(home: Path, debug_log: bool = True) -> None:
    if debug_log:  # imapclient's command log was captured: the check below means something
        assert "LOGIN" in (home / "mailproof.log").read_text(encoding="utf-8")
    files = [p for p in home.rglob("*") if p.is_file()]
    assert any(p.name == "audit.jsonl" for p in files)
    for path in files:
        assert SECRET.encode() not in path.read_bytes(), f"password found in {path}"


def assert_peek_only(commands: list[str]) -> None:
    """Read-only: EXAMINE, never SELECT; BODY.PEEK[], never a BODY[] that sets \\Seen."""
    assert not [c for c in commands if c.startswith("SELECT ")]
    assert all("BODY.PEEK[]" in c for c in commands if c.startswith("UID FETCH") and "BODY" in c)


def resync_fetches_exactly_the_missing(
    peer: FakeImap, pki: Pki, library: Library, name: str = "badpeer"
) -> None:
    """With the fault gone, the next sync downloads what is missing, nothing twice."""
    missing = {f: set(served(peer, f)) - set(stored(library, f)) for f in LAYOUT}
    peer.faults.clear()
    start = len(peer.commands)
    report = sync_account(library, account(peer, pki, name), PASSWORD)
    assert not report.failed, report.to_json()
    for folder, result in by_folder(report).items():
        assert result.new == len(missing[folder]), (folder, result)
        assert stored(library, folder) == served(peer, folder)
    asked = {f: uids for f, uids in body_fetches(peer.commands[start:]).items() if uids}
    assert asked == {f: uids for f, uids in missing.items() if uids}
    total = library.db.execute("SELECT COUNT(*) FROM copies").fetchone()[0]
    assert total == sum(LAYOUT.values())


FOLDER_FAULTS = {
    # fault id: (what the error must say, the server's own words it must quote, if any)
    "garbage-tokens": ("the server answered unexpectedly", None),
    "unbalanced-parentheses": ("the server answered unexpectedly", None),
    "garbled-size-line": ("the server answered unexpectedly", None),
    "cut-inside-literal": ("the connection to the server broke", None),
    "bad-uid-search": ("the server answered unexpectedly", "Internal error"),
    "no-examine": ("the server answered unexpectedly", "Mailbox is locked"),
    "bad-body-fetch": ("the server answered unexpectedly", "Backend gone"),
}


def break_inbox(peer: FakeImap, fault: str) -> None:
    faults, uid2 = peer.faults, ("INBOX", 2)
    if fault == "garbage-tokens":
        faults.garbled_body[uid2] = GARBAGE
    elif fault == "unbalanced-parentheses":
        faults.garbled_body[uid2] = '* {seq} FETCH (UID {uid} BODY[] ((("x"'
    elif fault == "garbled-size-line":
        faults.garbled_meta[uid2] = "* {seq} FETCH (UID {uid} RFC822.SIZE ))( FLAGS ((("
    elif fault == "cut-inside-literal":
        faults.cut_body.add(("INBOX", 3))
    elif fault == "bad-uid-search":
        faults.replies[("INBOX", r"^UID SEARCH")] = "BAD [SERVERBUG] Internal error"
    elif fault == "no-examine":
        faults.replies[("INBOX", r"^EXAMINE")] = "NO [INUSE] Mailbox is locked"
    elif fault == "bad-body-fetch":
        faults.replies[("INBOX", r"^UID FETCH .*BODY")] = "BAD [SERVERBUG] Backend gone"


@pytest.mark.parametrize("fault", list(FOLDER_FAULTS))
def test_a_folder_the_server_breaks_is_a_clear_error_the_others_sync_and_it_resumes(
    peer: FakeImap, pki: Pki, library: Library, home: Path, fault: str
) -> None:
    break_inbox(peer, fault)
    report = sync_account(library, account(peer, pki), PASSWORD)
    results = by_folder(report)
    assert list(results) == ["INBOX", "Sent", "BACKUP"]  # every folder was tried
    inbox = results["INBOX"]
    phrase, server_words = FOLDER_FAULTS[fault]
    assert_clear(inbox.error)
    assert inbox.error.startswith(phrase), inbox.error
    if server_words:
        assert server_words in inbox.error, inbox.error
    assert report.failed and report.to_json()["folders"][0]["error"] == inbox.error
    for other in ("Sent", "BACKUP"):
        assert results[other].error is None, results[other]
        assert results[other].new == LAYOUT[other]
        assert stored(library, other) == served(peer, other)  # byte-exact
    kept = stored(library, "INBOX")
    assert kept.items() <= served(peer, "INBOX").items()  # whatever was kept is byte-exact
    if fault == "cut-inside-literal":
        assert peer.connections == 2  # the next folders came over a new connection
    assert_peek_only(peer.commands)
    resync_fetches_exactly_the_missing(peer, pki, library)
    assert_no_secret_in(home)


def test_a_garbled_fetch_answer_for_one_uid_costs_only_that_message(
    peer: FakeImap, pki: Pki, library: Library
) -> None:
    peer.faults.garbled_body[("INBOX", 2)] = GARBAGE
    inbox = by_folder(sync_account(library, account(peer, pki), PASSWORD))["INBOX"]
    assert_clear(inbox.error)
    assert re.search(r"\bUID 2\b", inbox.error), f"the error must name UID 2: {inbox.error}"
    expected = {uid: sha for uid, sha in served(peer, "INBOX").items() if uid != 2}
    assert stored(library, "INBOX") == expected  # 1, 3 and 4 arrived intact
    resync_fetches_exactly_the_missing(peer, pki, library)


def test_a_connection_cut_mid_fetch_keeps_the_batches_already_stored(
    pki: Pki, library: Library, home: Path
) -> None:
    layout = {"INBOX": BATCH_MESSAGES + 50, "Sent": 2, "BACKUP": 3}
    cut = BATCH_MESSAGES + 30
    with FakeImap(pki.server, corpus(layout), user=USER, password=PASSWORD) as peer:
        peer.faults.cut_body.add(("INBOX", cut))
        results = by_folder(sync_account(library, account(peer, pki), PASSWORD))
        assert_clear(results["INBOX"].error)
        assert "connection" in results["INBOX"].error
        kept = stored(library, "INBOX")
        assert set(range(1, BATCH_MESSAGES + 1)) <= set(kept)  # the first batch was complete
        assert max(kept) < cut and kept.items() <= served(peer, "INBOX").items()
        assert [results[f].new for f in ("Sent", "BACKUP")] == [2, 3]

        peer.faults.clear()
        start = len(peer.commands)
        again = by_folder(sync_account(library, account(peer, pki), PASSWORD))
        assert again["INBOX"].error is None
        assert again["INBOX"].new == layout["INBOX"] - len(kept)
        missing = set(served(peer, "INBOX")) - set(kept)
        assert body_fetches(peer.commands[start:]) == {"INBOX": missing}
        assert stored(library, "INBOX") == served(peer, "INBOX")
    assert_no_secret_in(home)


def test_a_lying_size_and_a_zero_byte_message_are_warnings_and_stored_as_served(
    peer: FakeImap, pki: Pki, library: Library, home: Path
) -> None:
    peer.folders["INBOX"].append(Message(5, b""))  # sent as the literal {0}
    peer.faults.size[("INBOX", 1)] = 10_000_000_000  # announces 10 GB, sends a few hundred bytes
    peer.faults.size[("INBOX", 3)] = 12  # announces less than it sends
    report = sync_account(library, account(peer, pki), PASSWORD)
    assert not report.failed, report.to_json()
    inbox = report.to_json()["folders"][0]
    assert inbox["folder"] == "INBOX" and inbox["new"] == 5
    warnings = "\n".join(inbox["warnings"])
    assert len(inbox["warnings"]) == 3, warnings
    for uid, announced in ((1, 10_000_000_000), (3, 12)):
        sent = len(peer.folders["INBOX"][uid - 1].raw)
        assert f"UID {uid}: the server announced {announced} bytes but sent {sent}" in warnings
    assert "UID 5 is an empty (0-byte) message" in warnings
    assert inbox["bytes_downloaded"] == sum(len(m.raw) for m in peer.folders["INBOX"])
    assert stored(library, "INBOX") == served(peer, "INBOX")
    assert stored(library, "INBOX")[5] == hashlib.sha256(b"").hexdigest()
    assert SECRET not in json.dumps(report.to_json())

    again = sync_account(library, account(peer, pki), PASSWORD).to_json()["folders"]
    assert all(
        f["new"] == 0 and f["bytes_downloaded"] == 0 and not f.get("warnings") for f in again
    )
    assert library.db.execute("SELECT COUNT(*) FROM copies").fetchone()[0] == 10
    assert_no_secret_in(home)


def test_a_size_that_is_not_a_number_is_a_warning_and_the_bytes_are_stored(
    peer: FakeImap, pki: Pki, library: Library, home: Path
) -> None:
    peer.faults.garbled_meta[("INBOX", 2)] = (
        '* {seq} FETCH (UID {uid} RFC822.SIZE many INTERNALDATE "05-Mar-2024 10:00:00 '
        '+0100" FLAGS ())'
    )
    report = sync_account(library, account(peer, pki), PASSWORD)
    assert not report.failed, report.to_json()
    inbox = by_folder(report)["INBOX"]
    assert any("UID 2: the server announced no valid size" in w for w in inbox.warnings)
    assert stored(library, "INBOX") == served(peer, "INBOX")
    for other in ("Sent", "BACKUP"):
        assert stored(library, other) == served(peer, other)
    assert_no_secret_in(home)


def test_a_malformed_list_line_is_a_clear_error_and_nothing_is_half_synced(
    peer: FakeImap, pki: Pki, library: Library, home: Path
) -> None:
    peer.faults.list_lines.append('* LIST (\\HasNoChildren "/" "INBOX')
    with pytest.raises(MailproofError) as raised:
        sync_account(library, account(peer, pki), PASSWORD)
    text = str(raised.value)
    assert_clear(text)
    assert "folder list" in text and f"127.0.0.1:{peer.port}" in text
    assert not [c for c in peer.commands if c.startswith(("EXAMINE", "SELECT", "UID"))]
    assert library.db.execute("SELECT COUNT(*) FROM copies").fetchone()[0] == 0
    assert peer.commands[-1] == "LOGOUT"  # the connection was closed properly
    resync_fetches_exactly_the_missing(peer, pki, library)
    assert_no_secret_in(home)


def test_a_refused_login_names_the_user_and_never_the_password(
    peer: FakeImap, pki: Pki, library: Library, home: Path
) -> None:
    from app.errors import AuthError

    with pytest.raises(AuthError) as raised:
        sync_account(library, account(peer, pki), PASSWORD + "-old")
    assert USER in str(raised.value) and "127.0.0.1" in str(raised.value)
    assert_clear(str(raised.value))
    assert peer.commands[:2] == ["CAPABILITY", f"LOGIN {USER} ***"]
    assert SECRET not in (home / "mailproof.log").read_text(encoding="utf-8")


# -- the real command line ------------------------------------------------------------------


def run(home: Path, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAILPROOF), *args],
        input=password and password + "\n",
        capture_output=True,
        text=True,
        env={**os.environ, "MAILPROOF_HOME": str(home)},
        timeout=120,
    )


@pytest.fixture
def cli_account(peer: FakeImap, pki: Pki, home: Path, secret_keyring: object) -> Iterator[str]:
    """An account added by ``mailproof account add`` (password into the real keyring)."""
    name = "badpeer-cli"
    added = run(
        home, "account", "add", name, "--host", "127.0.0.1", "--port", str(peer.port),
        "--user", USER, "--ca-file", str(pki.ca_pem), "--password-stdin", password=PASSWORD,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    assert secret_keyring.get_password("mailproof", name) == PASSWORD
    yield name
    with contextlib.suppress(keyring.errors.PasswordDeleteError):
        secret_keyring.delete_password("mailproof", name)


def test_cli_sync_json_names_the_broken_folder_keeps_the_rest_and_resumes(
    peer: FakeImap, pki: Pki, home: Path, cli_account: str
) -> None:
    peer.faults.cut_body.add(("INBOX", 3))
    peer.faults.size[("Sent", 1)] = 3
    peer.folders["BACKUP"].append(Message(4, b""))
    first = run(home, "sync", cli_account, "--json")
    assert first.returncode == 1, first.stderr
    for stream in (first.stdout, first.stderr):
        assert SECRET not in stream and "Traceback" not in stream
    assert "internal error" not in first.stderr
    (line,) = first.stdout.splitlines()
    folders = {f["folder"]: f for f in json.loads(line)["folders"]}
    assert_clear(folders["INBOX"]["error"])
    assert folders["INBOX"]["error"].startswith("the connection to the server broke")
    assert f"mailproof: error: {cli_account}/INBOX: {folders['INBOX']['error']}" in first.stderr
    assert folders["Sent"]["error"] is None and folders["Sent"]["new"] == 2
    assert "UID 1: the server announced 3 bytes" in " ".join(folders["Sent"]["warnings"])
    assert folders["BACKUP"]["error"] is None and folders["BACKUP"]["new"] == 4
    assert folders["BACKUP"]["warnings"] == ["UID 4 is an empty (0-byte) message"]
    library = Library(home)
    try:
        for folder in ("Sent", "BACKUP"):
            assert stored(library, folder) == served(peer, folder)
        missing = set(served(peer, "INBOX")) - set(stored(library, "INBOX"))
        assert missing  # the cut folder is not complete yet

        peer.faults.clear()
        start = len(peer.commands)
        second = run(home, "sync", cli_account, "--json")
        assert second.returncode == 0, second.stderr
        (line,) = second.stdout.splitlines()
        folders = {f["folder"]: f for f in json.loads(line)["folders"]}
        assert {f: (r["new"], r["error"]) for f, r in folders.items()} == {
            "INBOX": (len(missing), None), "Sent": (0, None), "BACKUP": (0, None)
        }  # fmt: skip
        assert body_fetches(peer.commands[start:]) == {"INBOX": missing}
        for folder in LAYOUT:
            assert stored(library, folder) == served(peer, folder)
    finally:
        library.close()
    assert_no_secret_in(home, debug_log=False)
    audit = (home / "audit" / "audit.jsonl").read_text(encoding="utf-8").splitlines()
    results = [json.loads(entry)["result"] for entry in audit if '"sync"' in entry]
    assert results == ["failed", "ok"]


def test_cli_sync_with_a_garbled_folder_list_is_one_error_line_not_a_crash(
    peer: FakeImap, home: Path, cli_account: str
) -> None:
    peer.faults.list_lines.append("* LIST ((( garbage")
    result = run(home, "sync", cli_account, "--json")
    assert result.returncode != 0 and result.stdout == ""
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    errors = [x for x in result.stderr.splitlines() if x.startswith("mailproof: error:")]
    assert len(errors) == 1 and "folder list" in errors[0], result.stderr
    assert SECRET not in result.stderr
    assert_no_secret_in(home, debug_log=False)
