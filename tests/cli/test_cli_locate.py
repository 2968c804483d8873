"""`mailproof locate`: every stored copy of a message, by Message-ID, hash or file; fuzzy
fallback labelled as such; "not found" lists where it looked."""

from __future__ import annotations

import json
from pathlib import Path

from app.sources import open_source
from app.store.library import Library
from tests.builders import make_maildir, make_message

MID = "<lab-result-7@clinic.example>"


def filled_store(tmp_path: Path) -> tuple[Path, dict[str, bytes]]:
    original = make_message("Lab result 7", message_id=MID, body="Potassium 4.1 mmol/l\n")
    edited = original.replace(b"Potassium 4.1", b"Potassium 9.9")  # same id, other bytes
    lookalike = make_message(
        "Lab result 7",
        message_id="<other-id@relay.example>",
        date="Mon, 01 Jan 2024 10:04:00 +0000",
        body="Potassium 4.1 mmol/l (resent)\n",
    )
    root = tmp_path / "Archive2024"
    make_maildir(root, {"cur/1:2,S": original})
    make_maildir(root / ".BACKUP", {"cur/2:2,S": original})
    make_maildir(root / ".Sent", {"cur/3:2,S": edited})
    make_maildir(root / ".Junk", {"cur/4:2,": lookalike})
    home = tmp_path / "mailproof-home"
    library = Library(home)
    library.ingest(open_source(root))
    library.close()
    return home, {"original": original, "edited": edited, "lookalike": lookalike}


def test_locate_by_message_id_lists_every_copy_with_provenance(cli, tmp_path: Path) -> None:
    home, raw = filled_store(tmp_path)
    result = cli("locate", "--message-id", MID.strip("<>"), "--json", home_dir=home)
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert found["match"] == "message-id"
    where = sorted(c["folder"] for c in found["copies"])
    assert where == ["BACKUP", "INBOX", "Sent"]
    assert found["identical"] is False and found["versions"] == 2
    by_folder = {c["folder"]: c for c in found["copies"]}
    assert by_folder["INBOX"]["sha256"] == by_folder["BACKUP"]["sha256"]
    assert by_folder["Sent"]["sha256"] != by_folder["INBOX"]["sha256"]
    for copy in found["copies"]:
        assert copy["kind"] == "maildir" and copy["source_path"] and copy["imported_at"]
    assert len(found["searched"]) == 4
    assert "3 copies in 3 folders, 2 different versions" in found["summary"]


def test_locate_by_hash_and_by_file(cli, tmp_path: Path) -> None:
    home, raw = filled_store(tmp_path)
    import hashlib

    digest = hashlib.sha256(raw["original"]).hexdigest()
    by_hash = json.loads(cli("locate", "--sha256", digest, "--json", home_dir=home).stdout)
    assert by_hash["match"] == "sha256" and by_hash["identical"] is True
    assert sorted(c["folder"] for c in by_hash["copies"]) == ["BACKUP", "INBOX"]

    eml = tmp_path / "question.eml"
    eml.write_bytes(raw["original"])
    text = cli("locate", eml, home_dir=home)
    assert text.returncode == 0
    assert text.stdout.decode().startswith("3 copies in 3 folders")


def test_fuzzy_match_is_labelled_and_not_found_says_where_it_looked(cli, tmp_path: Path) -> None:
    home, _raw = filled_store(tmp_path)
    stranger = tmp_path / "forwarded.eml"
    stranger.write_bytes(
        make_message(
            "Lab result 7",
            message_id="<unknown-to-the-store@clinic.example>",
            date="Mon, 01 Jan 2024 10:02:00 +0000",
        )
    )
    fuzzy = json.loads(cli("locate", stranger, "--json", home_dir=home).stdout)
    assert fuzzy["match"] == "fuzzy"
    assert "may be a different message" in fuzzy["note"]
    assert {c["folder"] for c in fuzzy["copies"]} == {"INBOX", "BACKUP", "Sent", "Junk"}

    missing = cli("locate", "--message-id", "<nowhere@nowhere.example>", home_dir=home)
    assert missing.returncode == 1
    out = missing.stdout.decode()
    assert out.startswith("not found in the 4 folder(s) searched")
    assert "/BACKUP (1 copies)" in out and "/Junk (1 copies)" in out
    assert b"Traceback" not in missing.stderr
