"""Incremental sync on the wire, against a real Dovecot: LIST-STATUS lets an unchanged account
be checked without selecting a folder, QRESYNC gives changes and expunges in one FETCH, a
UIDVALIDITY change re-maps stored copies without downloading them, folder choice persists."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import pytest

from app.imap.account import Account
from app.imap.sync import sync_account
from app.store.library import Library
from tests.harness.dovecot import Dovecot
from tests.integration.test_imap_sync import (
    PASSWORD,
    USER,
    add_account,
    by_folder,
    fill,
    imap,
    message,
    run,
    server,  # noqa: F401 - the fixture
    server_bytes,
    store,
    sync,
)


def commands_sent(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The IMAP commands imapclient logged (``> b'TAG CMD ...'``), without their tags."""
    sent = []
    for record in caplog.records:
        text = record.getMessage()
        if record.name.startswith("imapclient") and text.startswith("> b'"):
            sent.append(text[4:].split(" ", 1)[1].rstrip("'"))
    return sent


def test_unchanged_account_is_checked_by_list_status_and_changes_come_by_qresync(
    server: Dovecot,  # noqa: F811
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fill(server, {"INBOX": 3, "BACKUP": 4})
    library = Library(tmp_path / "home")
    account = Account("wire", server.host, server.imaps_port, "tls", USER, str(server.ca_pem))
    sync_account(library, account, PASSWORD)

    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="imapclient"):
        quiet = sync_account(library, account, PASSWORD)
    sent = commands_sent(caplog)
    assert any(c.startswith("LIST") and "RETURN (STATUS" in c for c in sent), sent
    assert not [c for c in sent if c.startswith(("SELECT", "EXAMINE", "UID SEARCH"))], sent
    assert all(f.new == f.changed == f.expunged == f.bytes_downloaded == 0 for f in quiet.folders)

    client = imap(server)
    client.select_folder("BACKUP")
    uids = sorted(client.search("ALL"))
    client.add_flags([uids[0]], [b"\\Flagged"])
    client.delete_messages([uids[1]])
    client.expunge()
    client.append("BACKUP", message(50, "BACKUP"))
    client.logout()

    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="imapclient"):
        report = sync_account(library, account, PASSWORD)
    sent = commands_sent(caplog)
    backup = {f.folder: f for f in report.folders}["BACKUP"]
    assert (backup.new, backup.changed, backup.expunged) == (1, 1, 1)
    assert "ENABLE QRESYNC" in sent
    assert any("CHANGEDSINCE" in c and "VANISHED" in c for c in sent), sent
    assert "UID SEARCH ALL" not in sent  # expunges came as VANISHED, not by listing
    assert [c for c in sent if c.startswith("EXAMINE")] == ['EXAMINE "BACKUP"']  # INBOX skipped
    rows = library.db.execute(
        "SELECT c.uid, c.flags, c.expunged_at FROM copies c JOIN folders f ON f.id=c.folder_id "
        "WHERE f.name='BACKUP' ORDER BY c.uid"
    ).fetchall()
    state = {r["uid"]: (r["flags"], r["expunged_at"] is not None) for r in rows}
    assert state[uids[0]] == ("\\Flagged", False)
    assert state[uids[1]][1] is True  # kept, marked gone
    assert len(state) == 5
    assert all("\\Recent" not in r["flags"] for r in rows)


def test_uidvalidity_change_remaps_stored_copies_without_downloading_them(
    server: Dovecot,  # noqa: F811
    tmp_path: Path,
    secret_keyring: object,
) -> None:
    client = imap(server)
    for index in range(4):
        client.append("BACKUP", message(index, "BACKUP", size=6000))
    client.logout()
    home = tmp_path / "home"
    add_account(home, server)
    sync(home)
    before = {
        r["uid"]: r["sha256"]
        for r in store(home).execute(
            "SELECT c.uid, c.sha256 FROM copies c JOIN folders f ON f.id=c.folder_id "
            "WHERE f.name='BACKUP'"
        )
    }

    # One stored message gets a twin on the server: same size and header, other body bytes.
    folder = server.maildir(USER) / ".BACKUP"
    victim = sorted([*(folder / "cur").iterdir(), *(folder / "new").iterdir()])[0]
    original = victim.read_bytes()
    altered = original.replace(b" of BACKUP.", b" of BACKUQ.")
    assert len(altered) == len(original) and altered != original
    victim.write_bytes(altered)
    server.renumber(USER, "BACKUP")
    client = imap(server)
    client.append("BACKUP", message(9, "BACKUP", size=100))
    client.logout()

    report = by_folder(sync(home))["BACKUP"]
    now = server_bytes(server, "BACKUP")
    assert report["new"] == 5 and report["remapped"] == 3
    assert any("UIDVALIDITY changed" in w for w in report["warnings"])
    # Downloaded: header + first 4 KB of body of the four same-size candidates, then the
    # altered twin and the new message in full — not the three re-mapped 6 KB messages.
    big = [raw for raw in now.values() if len(raw) > 6000]
    samples = 0
    for raw in big:
        header, body = raw.split(b"\r\n\r\n", 1)
        samples += len(header) + 4 + min(4096, len(body))
    (twin,) = [raw for raw in big if hashlib.sha256(raw).hexdigest() not in before.values()]
    newcomer = min(now.values(), key=len)
    assert report["bytes_downloaded"] == samples + len(twin) + len(newcomer)

    db = store(home)
    live = db.execute(
        "SELECT c.* FROM copies c JOIN folders f ON f.id=c.folder_id "
        "WHERE f.name='BACKUP' AND c.expunged_at IS NULL"
    ).fetchall()
    assert {r["uid"]: r["sha256"] for r in live} == {
        uid: hashlib.sha256(raw).hexdigest() for uid, raw in now.items()
    }
    remapped = [r for r in live if r["remapped_from"]]
    assert len(remapped) == 3
    for row in remapped:
        old_validity, old_uid = row["remapped_from"].split("/")
        assert before[int(old_uid)] == row["sha256"]
        assert int(old_validity) != row["uidvalidity"]
    assert hashlib.sha256(twin).hexdigest() in {r["sha256"] for r in live}
    old = db.execute(
        "SELECT COUNT(*) FROM copies WHERE expunged_at IS NOT NULL AND uidvalidity != ?",
        (live[0]["uidvalidity"],),
    ).fetchone()[0]
    assert old == 4  # the old numbering stays on record

    again = by_folder(sync(home))["BACKUP"]
    assert again["new"] == again["bytes_downloaded"] == 0


def test_folder_choice_is_kept_per_account_and_sync_follows_it(
    server: Dovecot,  # noqa: F811
    tmp_path: Path,
    secret_keyring: object,
) -> None:
    fill(server, {"INBOX": 2, "BACKUP": 2, "Junk": 1})
    home = tmp_path / "home"
    add_account(home, server)
    listed = run(home, "account", "folders", "clinic", "--json")
    assert listed.returncode == 0, listed.stderr
    records = {r["folder"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert {"INBOX", "Sent", "Junk", "Trash", "BACKUP", "Archive"} <= set(records)
    assert all(r["sync"] for r in records.values())  # every folder by default
    assert records["Junk"]["role"] == "\\Junk" and records["BACKUP"]["role"] == "\\Backup"

    chose = run(home, "account", "folders", "clinic", "--only", "BACKUP", "--only", "Junk")
    assert chose.returncode == 0, chose.stderr
    assert "[x] BACKUP" in chose.stdout and "[ ] INBOX" in chose.stdout
    assert set(by_folder(sync(home))) == {"BACKUP", "Junk"}

    add_account(home, server)  # updating the account keeps the choice
    shown = json.loads(run(home, "account", "list", "--json").stdout)
    assert shown["folders"] == ["BACKUP", "Junk"]

    bad = run(home, "account", "folders", "clinic", "--only", "Nope")
    assert bad.returncode == 2 and "no folder 'Nope'" in bad.stderr
    assert "Traceback" not in bad.stderr

    assert run(home, "account", "folders", "clinic", "--all").returncode == 0
    everything = by_folder(sync(home))
    assert everything["INBOX"]["new"] == 2 and "Sent" in everything
    assert everything["BACKUP"]["new"] == 0
