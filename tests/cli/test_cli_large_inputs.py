"""Large input through the real command: a 50 MB attachment and 10,000 recipients."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

ATTACHMENT_BYTES = 50 * 1024 * 1024


def _write_big_message(path: Path) -> bytes:
    """A message with a 50 MB base64 attachment, written without holding two copies as str."""
    payload = bytes(range(256)) * (ATTACHMENT_BYTES // 256)
    head = (
        b"From: Big Sender <big@example.org>\nTo: r@example.org\nSubject: the big one\n"
        b"Date: Mon, 01 Jan 2024 10:00:00 +0000\nMessage-ID: <big@example.org>\n"
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="BIG"\n\n'
        b"--BIG\nContent-Type: text/plain; charset=utf-8\n\nsee the attachment\n"
        b"--BIG\nContent-Type: application/octet-stream\n"
        b'Content-Disposition: attachment; filename="disk image.bin"\n'
        b"Content-Transfer-Encoding: base64\n\n"
    )
    raw = head + base64.encodebytes(payload) + b"--BIG--\n"
    path.write_bytes(raw)
    return raw


def test_fifty_megabyte_attachment_is_listed_and_shown_with_its_decoded_size(
    cli, tmp_path: Path
) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    raw = _write_big_message(folder / "big.eml")
    (folder / "small.eml").write_bytes(
        b"From: s@example.org\nSubject: small\nDate: Mon, 01 Jan 2024 09:00:00 +0000\n\nhi\n"
    )
    sha = hashlib.sha256(raw).hexdigest()

    listed = cli("list", folder, "--json")

    assert listed.returncode == 0, listed.stderr
    assert b"Traceback" not in listed.stderr
    records = {r["subject"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert set(records) == {"the big one", "small"}
    big = records["the big one"]
    assert big["has_attachments"] is True
    assert big["size"] == len(raw) == (folder / "big.eml").stat().st_size
    assert big["sha256"] == sha
    assert records["small"]["has_attachments"] is False

    shown = cli("show", folder, sha[:12], "--json")

    assert shown.returncode == 0, shown.stderr
    assert b"Traceback" not in shown.stderr
    document = json.loads(shown.stdout)
    assert document["size"] == len(raw)
    assert document["text"].strip() == "see the attachment"
    assert [
        (a["filename"], a["safe_filename"], a["content_type"], a["size"], a["inline"])
        for a in document["attachments"]
    ] == [("disk image.bin", "disk image.bin", "application/octet-stream", ATTACHMENT_BYTES, False)]


def test_ten_thousand_recipients_are_all_in_json_and_text_stays_one_line(
    cli, tmp_path: Path, mail
) -> None:
    folder = tmp_path / "crowd"
    folder.mkdir()
    addresses = [f"user{i:05d}@example.org" for i in range(10_000)]
    crowd = (
        "From: Mass Mailer <mass@example.org>\nTo: " + ",\n ".join(addresses) + "\n"
        "Subject: to everyone\nDate: Mon, 01 Jan 2024 10:00:00 +0000\n\nhello all\n"
    ).encode()
    (folder / "crowd.eml").write_bytes(crowd)
    (folder / "other.eml").write_bytes(mail.message("just one"))

    listed = cli("list", folder, "--json")
    text = cli("list", folder)

    assert listed.returncode == 0, listed.stderr
    records = {r["subject"]: r for r in map(json.loads, listed.stdout.splitlines())}
    assert records["to everyone"]["to"].split(", ") == addresses
    assert text.returncode == 0, text.stderr
    assert b"Traceback" not in listed.stderr + text.stderr
    lines = text.stdout.decode().splitlines()
    assert len(lines) == 2
    crowd_line = next(line for line in lines if "to everyone" in line)
    assert "[10000 recipients]" in crowd_line
    assert len(crowd_line) < 200
    assert "user09999" not in text.stdout.decode()
