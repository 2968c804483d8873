"""Sync against a real Dovecot: every folder incl. BACKUP, byte-exact, incremental, kill -9 safe."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import sqlite3
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest
from imapclient import IMAPClient

from tests.harness.dovecot import Dovecot
from tests.harness.pki import Pki

MAILPROOF = Path(sys.executable).with_name("mailproof")
USER, PASSWORD = "carol", "carol-pw-7"


@pytest.fixture
def server(harness_dir: Path, pki: Pki, request: pytest.FixtureRequest) -> Iterator[Dovecot]:
    """A fresh Dovecot per test: each test owns its mailbox state."""
    with Dovecot(
        harness_dir / f"sync-{request.node.name[:40]}", pki, users={USER: PASSWORD}
    ) as dovecot:
        yield dovecot


def imap(server: Dovecot) -> IMAPClient:
    client = IMAPClient(
        server.host,
        port=server.imaps_port,
        ssl_context=ssl.create_default_context(cafile=str(server.ca_pem)),
    )
    client.login(USER, PASSWORD)
    return client


def message(index: int, folder: str, size: int = 0) -> bytes:
    mail = EmailMessage()
    mail["From"] = f"Sender {index} <s{index}@clinic.example>"
    mail["To"] = f"{USER}@example.test"
    mail["Subject"] = f"{folder} message {index} – Grüße"
    mail["Date"] = f"Tue, 05 Mar 2024 10:{index % 60:02d}:00 +0100"
    mail["Message-ID"] = f"<{folder.lower()}-{index}@clinic.example>"
    mail.set_content(f"Body {index} of {folder}.\n" + "x" * size)
    return mail.as_bytes().replace(b"\n", b"\r\n")


def fill(server: Dovecot, layout: dict[str, int]) -> None:
    client = imap(server)
    for folder, count in layout.items():
        for index in range(count):
            client.append(folder, message(index, folder))
    client.logout()


def run(home: Path, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAILPROOF), *args],
        input=password and password + "\n",
        capture_output=True,
        text=True,
        env={**os.environ, "MAILPROOF_HOME": str(home)},
        timeout=300,
    )


def add_account(home: Path, server: Dovecot) -> None:
    result = run(
        home,
        "account",
        "add",
        "clinic",
        "--host",
        server.host,
        "--port",
        str(server.imaps_port),
        "--user",
        USER,
        "--ca-file",
        str(server.ca_pem),
        "--password-stdin",
        password=PASSWORD,
    )
    assert result.returncode == 0, result.stderr


def sync(home: Path, *extra: str) -> dict:
    result = run(home, "sync", "clinic", "--json", *extra)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return json.loads(result.stdout)


def by_folder(report: dict) -> dict[str, dict]:
    return {entry["folder"]: entry for entry in report["folders"]}


def store(home: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(home / "mailproof.sqlite")
    connection.row_factory = sqlite3.Row
    return connection


def server_bytes(server: Dovecot, folder: str) -> dict[int, bytes]:
    client = imap(server)
    client.select_folder(folder, readonly=True)
    uids = client.search("ALL")
    data = client.fetch(uids, [b"BODY.PEEK[]"]) if uids else {}
    client.logout()
    return {uid: value[b"BODY[]"] for uid, value in data.items()}


LAYOUT = {"INBOX": 5, "Sent": 3, "Junk": 2, "Trash": 2, "BACKUP": 4, "Archive": 1}


def test_first_sync_stores_every_folder_byte_exact_with_provenance(
    server: Dovecot, tmp_path: Path, secret_keyring
) -> None:
    fill(server, LAYOUT)
    home = tmp_path / "home"
    add_account(home, server)
    report = sync(home)
    assert report["account"] == "clinic"
    folders = by_folder(report)
    for name, count in LAYOUT.items():
        assert folders[name]["new"] == count, folders[name]
        assert folders[name]["error"] is None
        assert set(folders[name]) >= {
            "folder",
            "new",
            "changed",
            "expunged",
            "bytes_downloaded",
            "error",
        }
    db = store(home)
    for name in LAYOUT:
        expected = server_bytes(server, name)
        rows = db.execute(
            "SELECT c.* FROM copies c JOIN folders f ON f.id=c.folder_id "
            "WHERE f.account='clinic' AND f.name=?",
            (name,),
        ).fetchall()
        assert len(rows) == len(expected)
        for row in rows:
            raw = expected[row["uid"]]
            assert row["sha256"] == hashlib.sha256(raw).hexdigest()
            blob = (home / "blobs" / row["sha256"][:2] / row["sha256"][2:]).read_bytes()
            assert blob == raw
            assert row["kind"] == "imap" and row["uidvalidity"]
            assert row["internaldate"].endswith("Z") and row["fetched_at"].endswith("Z")
            assert row["rfc822_size"] == len(raw)
            assert row["source_path"] == f"imap://{USER}@{server.host}:{server.imaps_port}"
    roles = dict(db.execute("SELECT name, special_use FROM folders WHERE account='clinic'"))
    assert roles["Sent"] == "\\Sent" and roles["BACKUP"] == "\\Backup"
    assert roles["Junk"] == "\\Junk" and roles["Trash"] == "\\Trash"
    # BODY.PEEK: syncing marked nothing as read on the server
    client = imap(server)
    client.select_folder("INBOX", readonly=True)
    assert client.search("SEEN") == []
    client.logout()


def test_resync_without_changes_moves_no_bytes(server: Dovecot, tmp_path: Path, secret_keyring):
    fill(server, {"INBOX": 3, "BACKUP": 2})
    home = tmp_path / "home"
    add_account(home, server)
    sync(home)
    again = by_folder(sync(home))
    assert all(f["new"] == 0 and f["bytes_downloaded"] == 0 for f in again.values())
    assert all(f["changed"] == 0 and f["expunged"] == 0 for f in again.values())


def test_new_flags_and_expunges_are_picked_up_and_expunged_copies_kept(
    server: Dovecot, tmp_path: Path, secret_keyring
) -> None:
    fill(server, {"INBOX": 4})
    home = tmp_path / "home"
    add_account(home, server)
    sync(home)
    client = imap(server)
    client.select_folder("INBOX")
    uids = sorted(client.search("ALL"))
    client.add_flags([uids[0]], [b"\\Flagged"])
    client.delete_messages([uids[1]])
    client.expunge()
    client.append("INBOX", message(99, "INBOX"))
    client.logout()

    inbox = by_folder(sync(home))["INBOX"]
    assert (inbox["new"], inbox["changed"], inbox["expunged"]) == (1, 1, 1)
    db = store(home)
    gone = db.execute("SELECT * FROM copies WHERE uid=? AND kind='imap'", (uids[1],)).fetchone()
    assert gone["expunged_at"] is not None  # evidence is kept
    assert (home / "blobs" / gone["sha256"][:2] / gone["sha256"][2:]).is_file()
    flagged = db.execute("SELECT flags FROM copies WHERE uid=?", (uids[0],)).fetchone()
    assert "\\Flagged" in flagged["flags"]


def test_only_the_folders_asked_for_are_synced_and_an_unknown_one_fails(
    server: Dovecot, tmp_path: Path, secret_keyring
) -> None:
    fill(server, {"INBOX": 2, "BACKUP": 3})
    home = tmp_path / "home"
    add_account(home, server)
    result = run(home, "sync", "clinic", "--folder", "BACKUP", "--folder", "Nope", "--json")
    assert result.returncode == 1
    folders = by_folder(json.loads(result.stdout))
    assert set(folders) == {"BACKUP", "Nope"}
    assert folders["BACKUP"]["new"] == 3 and folders["Nope"]["error"]
    assert "mailproof: error: clinic/Nope" in result.stderr


def start_sync_of_a_big_backup(
    server: Dovecot, home: Path, total: int, extra: dict[str, int] | None = None
) -> subprocess.Popen[str]:
    """Put ``total`` messages in BACKUP, start `mailproof sync`, return once 200 are stored."""
    client = imap(server)
    for index in range(total):
        client.append("BACKUP", message(index, "BACKUP", size=2000))
    for folder, count in (extra or {}).items():
        for index in range(count):
            client.append(folder, message(index, folder))
    client.logout()
    add_account(home, server)
    process = subprocess.Popen(
        [str(MAILPROOF), "sync", "clinic", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "MAILPROOF_HOME": str(home)},
    )
    deadline = time.monotonic() + 60
    stored = 0
    while time.monotonic() < deadline and process.poll() is None and stored < 200:
        try:
            stored = store(home).execute("SELECT COUNT(*) FROM copies").fetchone()[0]
        except sqlite3.OperationalError:
            stored = 0
        time.sleep(0.02)
    assert process.poll() is None, "sync finished before it could be interrupted; make it bigger"
    return process


def test_kill_9_during_sync_then_resync_loses_and_duplicates_nothing(
    server: Dovecot, tmp_path: Path, secret_keyring
) -> None:
    total = 1500
    home = tmp_path / "home"
    process = start_sync_of_a_big_backup(server, home, total)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()

    db = store(home)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    committed = db.execute("SELECT COUNT(*) FROM copies WHERE kind='imap'").fetchone()[0]
    db.close()
    assert 0 < committed < total
    report = by_folder(sync(home))
    db = store(home)
    rows = db.execute(
        "SELECT c.uid, c.sha256 FROM copies c JOIN folders f ON f.id=c.folder_id "
        "WHERE f.name='BACKUP' AND f.account='clinic'"
    ).fetchall()
    assert len(rows) == total == len({row["uid"] for row in rows})
    assert report["BACKUP"]["new"] == total - committed  # exactly the rest, nothing twice
    for row in rows:
        assert (home / "blobs" / row["sha256"][:2] / row["sha256"][2:]).is_file()


def test_list_account_folder_shows_provenance_fields_incl_expunged(
    server: Dovecot, tmp_path: Path, secret_keyring
) -> None:
    fill(server, {"BACKUP": 3})
    home = tmp_path / "home"
    add_account(home, server)
    sync(home)
    client = imap(server)
    client.select_folder("BACKUP")
    first = min(client.search("ALL"))
    client.delete_messages([first])
    client.expunge()
    client.logout()
    sync(home)
    result = run(home, "list", "clinic/BACKUP", "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 3
    expected = server_bytes(server, "BACKUP")
    for record in records:
        assert set(record) >= {
            "id",
            "date",
            "from",
            "to",
            "subject",
            "size",
            "sha256",
            "has_attachments",
            "folder",
            "uid",
            "uidvalidity",
            "internaldate",
            "expunged_at",
        }
        assert record["folder"] == "BACKUP"
        if record["uid"] == first:
            assert record["expunged_at"] is not None
        else:
            assert record["expunged_at"] is None
            assert record["sha256"] == hashlib.sha256(expected[record["uid"]]).hexdigest()
    missing = run(home, "list", "clinic/NoSuchFolder")
    assert missing.returncode == 2 and "no synced folder" in missing.stderr


def test_connection_cut_mid_fetch_is_a_folder_error_and_the_next_sync_completes(
    server: Dovecot, tmp_path: Path, secret_keyring
) -> None:
    total = 1500
    home = tmp_path / "home"
    process = start_sync_of_a_big_backup(server, home, total, extra={"Trash": 1})
    # Cut the connection the way a crashing server or a dropped link does: kill the server's
    # IMAP process that serves this sync.
    subprocess.run(["pkill", "-KILL", "-u", "nobody", "-x", "imap"], check=False)
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    folders = by_folder(json.loads(stdout))
    assert folders["BACKUP"]["error"] and "connection" in folders["BACKUP"]["error"]
    assert folders["Trash"]["error"] is None and folders["Trash"]["new"] == 1  # reconnected

    report = by_folder(sync(home))
    assert report["BACKUP"]["error"] is None
    db = store(home)
    uids = [
        row[0]
        for row in db.execute(
            "SELECT c.uid FROM copies c JOIN folders f ON f.id=c.folder_id WHERE f.name='BACKUP'"
        )
    ]
    assert len(uids) == total == len(set(uids))


def test_dovecot_killed_mid_sync_and_restarted_then_resync_completes_exactly(
    server: Dovecot, tmp_path: Path, secret_keyring
) -> None:
    total = 1500
    home = tmp_path / "home"
    process = start_sync_of_a_big_backup(server, home, total, extra={"Trash": 2})
    server.crash()  # the whole server goes away mid-FETCH
    stdout, stderr = process.communicate(timeout=120)
    assert process.returncode == 1, stderr
    assert "Traceback" not in stderr and "internal error" not in stderr
    folders = by_folder(json.loads(stdout))
    assert "connection" in folders["BACKUP"]["error"]
    assert folders["Trash"]["error"]  # no server to reconnect to: said, not hidden
    db = store(home)
    assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    partial = db.execute("SELECT COUNT(*) FROM copies").fetchone()[0]
    assert 0 < partial < total

    server.start(same_ports=True)
    report = by_folder(sync(home))
    assert report["BACKUP"]["error"] is None and report["Trash"]["new"] == 2
    assert report["BACKUP"]["new"] == total - partial
    expected = server_bytes(server, "BACKUP")
    rows = (
        store(home)
        .execute(
            "SELECT c.uid, c.sha256 FROM copies c JOIN folders f ON f.id=c.folder_id "
            "WHERE f.name='BACKUP'"
        )
        .fetchall()
    )
    assert len(rows) == total == len({r["uid"] for r in rows})
    assert {r["uid"]: r["sha256"] for r in rows} == {
        uid: hashlib.sha256(raw).hexdigest() for uid, raw in expected.items()
    }


def test_odd_folder_names_8bit_headers_and_a_60_mb_message_sync_cleanly(
    server: Dovecot, tmp_path: Path, secret_keyring
) -> None:
    odd = "Befunde/2024 – Müller & Co (β)"
    client = imap(server)
    client.create_folder(odd)
    eight_bit = (
        "From: Jürgen Müller <jm@clinic.example>\r\nTo: carol@example.test\r\n"
        "Subject: Größe des Befunds – 8-bit, not RFC 2047\r\nMessage-ID: <8bit@clinic.example>\r\n"
        "\r\nRaw UTF-8 in headers, as some old mailers send.\r\n"
    ).encode()
    client.append(odd, eight_bit)
    big = EmailMessage()
    big["From"] = "scanner@clinic.example"
    big["To"] = "carol@example.test"
    big["Subject"] = "Scan 60 MB"
    big["Message-ID"] = "<big@clinic.example>"
    big.set_content("See attachment.\n")
    big.add_attachment(
        bytes(range(256)) * (45 * 1024 * 1024 // 256),
        maintype="image",
        subtype="tiff",
        filename="scan.tif",
    )
    big_raw = big.as_bytes().replace(b"\n", b"\r\n")
    assert len(big_raw) > 60 * 1024 * 1024
    client.append("INBOX", big_raw)
    client.logout()

    home = tmp_path / "home"
    add_account(home, server)
    folders = by_folder(sync(home))
    assert folders[odd]["new"] == 1 and folders[odd]["error"] is None
    assert folders["INBOX"]["new"] == 1
    assert folders["INBOX"]["bytes_downloaded"] == len(big_raw)

    listed = run(home, "list", f"clinic/{odd}", "--json")
    assert listed.returncode == 0, listed.stderr
    record = json.loads(listed.stdout)
    assert record["sha256"] == hashlib.sha256(eight_bit).hexdigest()
    assert record["subject"] == "Größe des Befunds – 8-bit, not RFC 2047"
    assert record["from"] == "Jürgen Müller <jm@clinic.example>"
    inbox = [
        json.loads(line) for line in run(home, "list", "clinic/INBOX", "--json").stdout.splitlines()
    ]
    assert inbox[0]["sha256"] == hashlib.sha256(big_raw).hexdigest()
    assert inbox[0]["has_attachments"] is True


def test_cli_flag_changes_the_server_and_the_store(
    server: Dovecot, tmp_path: Path, secret_keyring
) -> None:
    fill(server, {"INBOX": 2})
    home = tmp_path / "home"
    add_account(home, server)
    sync(home)
    uid = json.loads(run(home, "list", "clinic/INBOX", "--json").stdout.splitlines()[0])["uid"]
    result = run(home, "flag", "clinic/INBOX", str(uid), "--flagged", "--seen", "--json")
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)["flags"]) >= {"\\Flagged", "\\Seen"}
    client = imap(server)
    client.select_folder("INBOX", readonly=True)
    assert set(client.fetch([uid], [b"FLAGS"])[uid][b"FLAGS"]) >= {b"\\Flagged", b"\\Seen"}
    client.logout()
    listed = {
        r["uid"]: r
        for r in map(json.loads, run(home, "list", "clinic/INBOX", "--json").stdout.splitlines())
    }
    assert "\\Flagged" in listed[uid]["flags"]
    nothing = run(home, "flag", "clinic/INBOX", str(uid))
    assert nothing.returncode == 2 and "say what to change" in nothing.stderr
    unknown = run(home, "flag", "clinic/INBOX", "99999", "--seen")
    assert unknown.returncode == 2 and "no message with UID" in unknown.stderr
