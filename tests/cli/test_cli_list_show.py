"""``mailproof list`` and ``show`` on good input: JSON lines, exact hashes, exact raw bytes."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
from pathlib import Path

import pytest

ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
KEYS = {"id", "date", "from", "to", "subject", "size", "sha256", "has_attachments"}


def _records(stdout: bytes) -> list[dict]:
    lines = stdout.decode("utf-8").splitlines()
    records = [json.loads(line) for line in lines]  # every line is one whole JSON object
    assert all(isinstance(r, dict) for r in records)
    return records


def _sha256sum(path: Path) -> str:
    out = subprocess.run(["sha256sum", "-b", str(path)], capture_output=True, check=True)
    return out.stdout.split()[0].decode()


def _attachment_message() -> bytes:
    return (
        b"From: =?utf-8?Q?J=C3=B6rg?= <joerg@example.de>\nTo: a@example.org, b@example.org\n"
        b"Subject: =?utf-8?B?w5xiZXJzaWNodA==?=\nDate: Tue, 02 Jan 2024 09:30:00 +0100\n"
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="Z"\n\n'
        b"--Z\nContent-Type: text/plain; charset=utf-8\n\nAnbei.\n"
        b"--Z\nContent-Type: application/pdf\nContent-Disposition: attachment; filename=x.pdf\n"
        b"Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--Z--\n"
    )


@pytest.fixture
def maildir_files(tmp_path: Path, mail) -> dict[Path, bytes]:
    files = {
        "cur/1700000001.A.host:2,S": mail.message("plain", message_id="<p@example.org>"),
        "cur/1700000002.B.host:2,FS": mail.message("crlf").replace(b"\n", b"\r\n"),
        "new/1700000003.C.host": _attachment_message(),
        "cur/1700000004.D.host:2,": b"From: x@example.org\nDate: Wed, 03 Jan 2024 23:59:59 -0800"
        b"\nSubject: no final newline, trailing spaces   \n\nbody\t \nlast",
    }
    root = mail.maildir(tmp_path / "Maildir", files)
    sent = {"cur/1700000005.E.host:2,S": mail.message("sent", date="Thu, 04 Jan 2024 08:00:00 Z")}
    mail.maildir(root / ".Sent", sent)
    return {root / k: v for k, v in files.items()} | {
        root / ".Sent" / k: v for k, v in sent.items()
    }


@pytest.fixture
def eml_files(tmp_path: Path, mail) -> dict[Path, bytes]:
    folder = tmp_path / "emls"
    folder.mkdir()
    files = {
        folder / "one.eml": mail.message("one"),
        folder / "two.eml": _attachment_message().replace(b"\n", b"\r\n"),
        folder / "three.eml": b"From: eight@example.org\nDate: Fri, 05 Jan 2024 "
        b"12:00:00 +0000\nSubject: eight bit\n\n\xe9\xff\n",
    }
    for path, raw in files.items():
        path.write_bytes(raw)
    return files


@pytest.mark.parametrize("kind", ["maildir", "eml"])
def test_list_json_prints_one_object_per_message_with_exact_sha256(
    cli, kind: str, maildir_files, eml_files
) -> None:
    files = maildir_files if kind == "maildir" else eml_files
    target = next(iter(files)).parent.parent if kind == "maildir" else next(iter(files)).parent

    result = cli("list", target, "--json")

    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    records = _records(result.stdout)
    assert len(records) == len(files)
    by_sha = {r["sha256"]: r for r in records}
    for path, raw in files.items():
        sha = hashlib.sha256(raw).hexdigest()
        assert sha == hashlib.sha256(path.read_bytes()).hexdigest() == _sha256sum(path)
        record = by_sha[sha]
        assert set(record) >= KEYS
        assert record["id"] == sha[:12]
        assert record["size"] == len(raw) == path.stat().st_size
        assert ISO_Z.match(record["date"]), record["date"]
        assert isinstance(record["has_attachments"], bool)
        assert record["has_attachments"] is (b"multipart/mixed" in raw)
    attachment = next(r for r in records if r["has_attachments"])
    assert attachment["subject"] == "Übersicht"
    assert attachment["from"] == "Jörg <joerg@example.de>"
    assert attachment["to"] == "a@example.org, b@example.org"
    assert attachment["date"] == "2024-01-02T08:30:00Z"


def test_list_json_dates_are_utc(cli, maildir_files) -> None:
    root = next(iter(maildir_files)).parent.parent
    records = _records(cli("list", root, "--json").stdout)

    by_subject = {r["subject"]: r["date"] for r in records}
    assert by_subject["no final newline, trailing spaces"] == "2024-01-04T07:59:59Z"
    assert by_subject["sent"] == "2024-01-04T08:00:00Z"
    assert {r["folder"] for r in records} == {"INBOX", "Sent"}


@pytest.mark.parametrize("kind", ["maildir", "eml"])
def test_show_raw_writes_exactly_the_file_bytes(cli, kind: str, maildir_files, eml_files) -> None:
    files = maildir_files if kind == "maildir" else eml_files
    target = next(iter(files)).parent.parent if kind == "maildir" else next(iter(files)).parent

    for path, raw in files.items():
        ident = hashlib.sha256(raw).hexdigest()[:12]
        result = cli("show", target, ident, "--raw")
        assert result.returncode == 0, result.stderr
        assert result.stdout == path.read_bytes()
        assert result.stderr == b""


def test_show_by_message_id_and_by_full_sha(cli, maildir_files) -> None:
    root = next(iter(maildir_files)).parent.parent
    raw = next(v for v in maildir_files.values() if b"<p@example.org>" in v)

    by_mid = cli("show", root, "<p@example.org>", "--raw")
    by_bare_mid = cli("show", root, "p@example.org", "--raw")
    by_sha = cli("show", root, hashlib.sha256(raw).hexdigest(), "--raw")

    assert by_mid.stdout == by_bare_mid.stdout == by_sha.stdout == raw


def test_show_json_is_one_document_with_decoded_fields(cli, maildir_files) -> None:
    root = next(iter(maildir_files)).parent.parent
    raw = _attachment_message()
    sha = hashlib.sha256(raw).hexdigest()

    result = cli("show", root, sha[:8], "--json")

    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["sha256"] == sha
    assert document["size"] == len(raw)
    assert document["subject"] == "Übersicht"
    assert document["date_utc"] == "2024-01-02T08:30:00Z"
    assert document["text"].strip() == "Anbei."
    assert [(a["filename"], a["size"], a["content_type"]) for a in document["attachments"]] == [
        ("x.pdf", 9, "application/pdf")
    ]
    assert document["warnings"] == []


def test_show_text_prints_headers_body_and_attachment_line(cli, maildir_files) -> None:
    root = next(iter(maildir_files)).parent.parent
    sha = hashlib.sha256(_attachment_message()).hexdigest()

    result = cli("show", root, sha[:12])

    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "From: Jörg <joerg@example.de>\n" in out
    assert "Subject: Übersicht\n" in out
    assert "\nAnbei.\n" in out
    assert "[attachment 2: x.pdf (application/pdf, 9 bytes)]" in out


def test_list_text_is_one_line_per_message(cli, maildir_files) -> None:
    root = next(iter(maildir_files)).parent.parent

    result = cli("list", root)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.decode().splitlines()
    assert len(lines) == len(maildir_files)
    ids = {hashlib.sha256(raw).hexdigest()[:12] for raw in maildir_files.values()}
    assert {line.split()[0] for line in lines} == ids


def test_show_with_an_unknown_or_short_id_is_a_usage_error(cli, unusable, maildir_files) -> None:
    root = next(iter(maildir_files)).parent.parent
    shas = {hashlib.sha256(raw).hexdigest() for raw in maildir_files.values()}
    unknown = next(c * 12 for c in "0123456789abcdef" if not any(s.startswith(c) for s in shas))

    unusable(cli("show", root, unknown), "no message matches")
    unusable(cli("show", root, "ab"), "too short")
    unusable(cli("show", root, "<nobody@example.org>"), "no message matches")


def test_show_with_an_ambiguous_prefix_names_the_candidates(
    cli, unusable, tmp_path: Path, mail
) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    seen: dict[str, bytes] = {}
    i = 0
    while True:  # find two messages whose SHA-256 share the first four hex digits
        raw = mail.message(f"collide {i}")
        prefix = hashlib.sha256(raw).hexdigest()[:4]
        if prefix in seen:
            break
        seen[prefix] = raw
        i += 1
    (folder / "a.eml").write_bytes(seen[prefix])
    (folder / "b.eml").write_bytes(raw)

    line = unusable(cli("show", folder, prefix), "matches 2 messages")

    assert hashlib.sha256(raw).hexdigest()[:12] in line
    assert hashlib.sha256(seen[prefix]).hexdigest()[:12] in line


def test_mbox_list_reports_source_offsets_of_each_from_line(cli, tmp_path: Path, mail) -> None:
    path = tmp_path / "box.mbox"
    data = b""
    for i in range(3):
        data += b"From x@example.org Mon Jan  1 00:00:00 2024\n" + mail.message(f"m{i}") + b"\n"
    path.write_bytes(data)

    result = cli("list", path, "--json")

    records = _records(result.stdout)
    assert [r["subject"] for r in records] == ["m0", "m1", "m2"]
    for record in records:
        assert data[record["source_offset"] :].startswith(b"From x@example.org ")
    assert records[0]["source_offset"] == 0


def test_eml_starting_with_a_utf8_bom_is_read_with_its_headers(cli, tmp_path: Path) -> None:
    """Detection accepts a BOM before the first header (emldir.looks_like_message strips it),
    so the headers after the BOM must be read too, not pushed into the body."""
    path = tmp_path / "bom.eml"
    path.write_bytes(
        b"\xef\xbb\xbfFrom: bom@example.org\nDate: Fri, 05 Jan 2024 12:00:00 +0000\n"
        b"Subject: saved by Notepad\n\nbody\n"
    )

    result = cli("list", path, "--json")

    records = _records(result.stdout)
    assert len(records) == 1
    assert records[0]["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    assert records[0]["subject"] == "saved by Notepad"
    assert records[0]["from"] == "bom@example.org"
    assert records[0]["date"] == "2024-01-05T12:00:00Z"
    assert result.returncode == 0, result.stderr
