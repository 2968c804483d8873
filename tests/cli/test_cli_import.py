"""`mailproof import`: mbox (mboxrd quoting), Maildir++ with subfolders, .eml folders and files;
idempotent; provenance with byte offsets; bad input is one clear line."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path

from tests.builders import make_maildir, make_message


def store(home: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(home / "mailproof.sqlite")
    connection.row_factory = sqlite3.Row
    return connection


def test_mbox_import_is_byte_exact_with_offsets_and_idempotent(cli, tmp_path: Path) -> None:
    first = make_message("first", message_id="<m1@x.example>", body="From here on.\n")
    second = make_message("second", message_id="<m2@x.example>", body=">From quoted\n")
    # mboxrd: body lines starting with "From " / ">From " get one more ">" when written.
    quoted_first = first.replace(b"\nFrom here", b"\n>From here")
    quoted_second = second.replace(b"\n>From quoted", b"\n>>From quoted")
    mbox = tmp_path / "old-archive.mbox"
    blob = (
        b"From alice@x.example Mon Jan  1 10:00:00 2024\n" + quoted_first + b"\n"
        b"From bob@x.example Mon Jan  1 11:00:00 2024\n" + quoted_second + b"\n"
    )
    mbox.write_bytes(blob)
    home = tmp_path / "home"
    result = cli("import", mbox, "--folder", "Archive 2019", "--json", home_dir=home)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["added"] == report["new_messages"] == 2 and report["known"] == 0
    assert report["folders"] == [{"folder": "Archive 2019", "messages": 2}]
    rows = (
        store(home)
        .execute(
            "SELECT c.sha256, c.source_offset, c.source_path, c.imported_at, f.name FROM copies c "
            "JOIN folders f ON f.id=c.folder_id ORDER BY c.source_offset"
        )
        .fetchall()
    )
    assert [r["sha256"] for r in rows] == [
        hashlib.sha256(first).hexdigest(),
        hashlib.sha256(second).hexdigest(),
    ]
    assert [r["source_offset"] for r in rows] == [0, blob.index(b"From bob")]
    assert all(r["source_path"] == str(mbox.resolve()) and r["imported_at"] for r in rows)
    assert {r["name"] for r in rows} == {"Archive 2019"}

    again = json.loads(
        cli("import", mbox, "--folder", "Archive 2019", "--json", home_dir=home).stdout
    )
    assert again["added"] == 0 and again["known"] == 2
    assert store(home).execute("SELECT COUNT(*) FROM copies").fetchone()[0] == 2


def test_maildir_with_subfolders_and_eml_sources(cli, tmp_path: Path) -> None:
    root = tmp_path / "Backup-2021"
    make_maildir(root, {"cur/1:2,S": make_message("inbox one")})
    make_maildir(root / ".BACKUP", {"new/2": make_message("backup one")})
    make_maildir(root / ".Sent", {"cur/3:2,S": make_message("sent one")})
    home = tmp_path / "home"
    report = json.loads(cli("import", root, "--folder", "Old", "--json", home_dir=home).stdout)
    assert report["added"] == 3
    assert sorted(f["folder"] for f in report["folders"]) == ["Old", "Old/BACKUP", "Old/Sent"]

    emls = tmp_path / "saved"
    emls.mkdir()
    (emls / "a.eml").write_bytes(make_message("saved a"))
    (emls / "b.eml").write_bytes(make_message("saved b"))
    folder = json.loads(cli("import", emls, "--json", home_dir=home).stdout)
    assert folder["added"] == 2
    again = json.loads(cli("import", emls, "--json", home_dir=home).stdout)
    assert (again["added"], again["known"]) == (0, 2)  # the same source: nothing twice
    elsewhere = tmp_path / "elsewhere.eml"
    elsewhere.write_bytes((emls / "a.eml").read_bytes())
    copy = json.loads(cli("import", elsewhere, "--json", home_dir=home).stdout)
    assert (copy["added"], copy["new_messages"]) == (1, 0)  # a new copy, its own provenance…
    repeat = json.loads(cli("import", elsewhere, "--json", home_dir=home).stdout)
    assert (repeat["added"], repeat["known"]) == (0, 1)
    db = store(home)
    assert db.execute("SELECT COUNT(*) FROM messages").fetchone()[0] == 5  # …of bytes stored once
    assert db.execute("SELECT COUNT(*) FROM copies").fetchone()[0] == 6


def test_import_bad_input_is_one_clear_line(cli, unusable, tmp_path: Path) -> None:
    unusable(cli("import", tmp_path / "missing.mbox", home_dir=tmp_path / "h"), "missing.mbox")
    binary = tmp_path / "photo.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    unusable(cli("import", binary, home_dir=tmp_path / "h"), "photo.png")
