"""Sync against a server that misbehaves (a scripted peer over real TLS): malformed answers,
lying sizes, 0-byte messages, BAD replies, a connection cut inside a literal. Each gives a
clear error or warning for that message/folder, the other folders sync byte-exact, the next
sync completes, and the password appears in no error and no file."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.imap.account import Account
from app.imap.sync import SyncReport, sync_account
from app.store.library import Library
from tests.builders import make_message
from tests.harness.pki import Pki
from tests.harness.scripted_imap import Message, ScriptedImap

USER, PASSWORD = "nurse", "Pw-never-shown-0815"


def corpus() -> dict[str, list[Message]]:
    def messages(folder: str, count: int) -> list[Message]:
        return [
            Message(uid, make_message(f"{folder} {uid}", message_id=f"<{folder}-{uid}@x.example>"))
            for uid in range(1, count + 1)
        ]

    return {"INBOX": messages("INBOX", 4), "BACKUP": messages("BACKUP", 3), "Sent": messages(
        "Sent", 2)}  # fmt: skip


@pytest.fixture
def peer(pki: Pki) -> Iterator[ScriptedImap]:
    with ScriptedImap(pki.server.cert_pem, pki.server.key_pem, USER, PASSWORD, corpus()) as server:
        yield server


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Library]:
    monkeypatch.setenv("MAILPROOF_HOME", str(tmp_path / "home"))
    lib = Library(tmp_path / "home")
    yield lib
    lib.close()


def account(peer: ScriptedImap, pki: Pki) -> Account:
    return Account("lab", "127.0.0.1", peer.port, "tls", USER, str(pki.ca_pem))


def folders(report: SyncReport) -> dict[str, object]:
    return {f.folder: f for f in report.folders}


def stored(library: Library, folder: str) -> dict[int, str]:
    return {
        int(r["uid"]): r["sha256"]
        for r in library.db.execute(
            "SELECT c.uid, c.sha256 FROM copies c JOIN folders f ON f.id=c.folder_id "
            "WHERE f.name=? AND c.expunged_at IS NULL",
            (folder,),
        )
    }


def served(peer: ScriptedImap, folder: str) -> dict[int, str]:
    return {m.uid: hashlib.sha256(m.raw).hexdigest() for m in peer.folders[folder]}


def no_secret_anywhere(report: SyncReport, home: Path, caplog: pytest.LogCaptureFixture) -> None:
    for result in report.folders:
        assert PASSWORD not in (result.error or "") + " ".join(result.warnings)
        assert "Traceback" not in (result.error or "")
    assert PASSWORD not in caplog.text
    for path in home.rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path


@pytest.mark.parametrize("fault", ["garbled", "cut", "bad"])
def test_a_broken_folder_is_an_error_the_others_sync_and_the_next_sync_completes(
    peer: ScriptedImap,
    pki: Pki,
    library: Library,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    fault: str,
) -> None:
    if fault == "garbled":
        peer.faults.garbled_body.add("INBOX/2")  # an unparsable FETCH answer
    elif fault == "cut":
        peer.faults.cut_in_body.add("INBOX/3")  # connection closed inside the literal
    else:
        peer.faults.bad_command["INBOX:UID SEARCH"] = "Internal error occurred"
    caplog.set_level(logging.DEBUG)
    first = sync_account(library, account(peer, pki), PASSWORD)
    results = folders(first)
    inbox = results["INBOX"]
    assert inbox.error, "the broken folder must say so"
    expected = {
        "garbled": "the server answered unexpectedly",
        "cut": "the connection to the server broke",
        "bad": "the server answered unexpectedly",
    }[fault]
    assert inbox.error.startswith(expected), inbox.error
    assert len(inbox.error) < 300 and "Hello there" not in inbox.error  # no message dump
    for other in ("BACKUP", "Sent"):
        assert results[other].error is None
        assert stored(library, other) == served(peer, other)  # byte-exact
    assert first.failed
    no_secret_anywhere(first, tmp_path / "home", caplog)

    peer.faults.garbled_body.clear()
    peer.faults.cut_in_body.clear()
    peer.faults.bad_command.clear()
    second = sync_account(library, account(peer, pki), PASSWORD)
    assert not second.failed
    assert stored(library, "INBOX") == served(peer, "INBOX")  # exactly the rest, no duplicate
    assert library.db.execute("SELECT COUNT(*) FROM copies").fetchone()[0] == 9


def test_a_lying_size_and_a_zero_byte_message_are_warnings_and_stored_as_received(
    peer: ScriptedImap, pki: Pki, library: Library
) -> None:
    peer.folders["INBOX"].append(Message(5, b""))
    peer.faults.lie_size["INBOX/1"] = 10
    report = sync_account(library, account(peer, pki), PASSWORD)
    inbox = folders(report)["INBOX"]
    assert inbox.error is None and inbox.new == 5
    warnings = " ".join(inbox.warnings)
    assert "UID 1: the server announced 10 bytes but sent" in warnings
    assert "UID 5 is an empty (0-byte) message" in warnings
    assert stored(library, "INBOX") == served(peer, "INBOX")
    assert stored(library, "INBOX")[5] == hashlib.sha256(b"").hexdigest()


def test_an_unreadable_folder_list_is_a_clear_error_not_a_crash(
    peer: ScriptedImap, pki: Pki, library: Library
) -> None:
    from app.errors import MailproofError

    peer.faults.garbled_list = True
    with pytest.raises(MailproofError) as raised:
        sync_account(library, account(peer, pki), PASSWORD)
    assert "folder list" in str(raised.value)
    assert PASSWORD not in str(raised.value)


def test_a_wrong_password_on_the_scripted_peer_names_no_password(
    peer: ScriptedImap, pki: Pki, library: Library
) -> None:
    from app.errors import AuthError

    with pytest.raises(AuthError) as raised:
        sync_account(library, account(peer, pki), "wrong-" + PASSWORD)
    assert PASSWORD not in str(raised.value) and USER in str(raised.value)
    assert any(c.startswith("LOGIN nurse ***") for c in peer.commands)
