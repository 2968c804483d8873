"""Bad input through the real command: documented exit codes, one clear error, no traceback."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import random
from pathlib import Path


def _stderr(result) -> str:
    return result.stderr.decode("utf-8", "replace")


def _assert_listed_with_problems(result, count: int = 1) -> list[dict]:
    """Exit 1: the messages are still listed, each problem named as a warning."""
    stderr = _stderr(result)
    assert result.returncode == 1, (result.returncode, stderr)
    assert "Traceback" not in stderr and "internal error" not in stderr
    assert "mailproof: error:" not in stderr
    assert "mailproof: warning:" in stderr
    records = [json.loads(line) for line in result.stdout.decode().splitlines()]
    assert len(records) == count
    return records


def test_nonexistent_path_exits_2_with_one_error(cli, unusable, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-mailbox"
    for command in (["list", missing], ["list", missing, "--json"], ["show", missing, "abcd"]):
        unusable(cli(*command), str(missing), "no such file")


def test_dangling_symlink_exits_2(cli, unusable, tmp_path: Path) -> None:
    link = tmp_path / "inbox.mbox"
    link.symlink_to(tmp_path / "moved-away.mbox")
    unusable(cli("list", link), "inbox.mbox")


def test_fifo_exits_2_without_hanging(cli, unusable, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.eml"
    os.mkfifo(fifo)
    unusable(cli("list", fifo, timeout=20), "pipe.eml")


def test_random_binary_file_is_not_mail(cli, unusable, tmp_path: Path) -> None:
    path = tmp_path / "noise.bin"
    path.write_bytes(b"\x00\xff" + random.Random(1).randbytes(100_000))
    line = unusable(cli("list", path), "noise.bin", "not mail")
    assert len(line) < 300  # one clear line, not a dump


def test_png_file_is_not_mail(cli, unusable, tmp_path: Path) -> None:
    path = tmp_path / "photo.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + random.Random(2).randbytes(5000))
    unusable(cli("list", path, "--json"), "photo.png", "not mail")
    unusable(cli("show", path, "abcdef"), "photo.png", "not mail")


def test_zero_byte_file_exits_2(cli, unusable, tmp_path: Path) -> None:
    path = tmp_path / "empty.eml"
    path.write_bytes(b"")
    unusable(cli("list", path), "empty.eml", "0 bytes")


def test_empty_directory_exits_2(cli, unusable, tmp_path: Path) -> None:
    (tmp_path / "nothing").mkdir()
    unusable(cli("list", tmp_path / "nothing"), "holds no Maildir")


def test_usage_errors_exit_2_with_one_error(cli) -> None:
    for args in (["list"], ["show", "x"], ["frobnicate"], ["show", "p", "i", "--raw", "--json"]):
        result = cli(*args)
        stderr = _stderr(result)
        assert result.returncode == 2, (args, stderr)
        assert "Traceback" not in stderr
        assert stderr.count("mailproof: error:") == 1, stderr


def test_truncated_mbox_is_listed_with_problems(cli, tmp_path: Path, mail) -> None:
    path = tmp_path / "cut.mbox"
    path.write_bytes(
        b"From a@example.org Mon Jan  1 00:00:00 2024\n"
        + mail.message("whole")
        + b"\nFrom b@example.org Mon Jan  1 00:00:00 2024\nFrom: b@example.org\nSubject: cu"
    )

    result = cli("list", path, "--json")

    records = _assert_listed_with_problems(result, count=2)
    assert records[0]["subject"] == "whole" and records[0]["problems"] == []
    assert any("truncated" in p for p in records[1]["problems"])
    assert "truncated" in _stderr(result)
    text = cli("list", path)
    assert text.returncode == 1
    assert len(text.stdout.decode().splitlines()) == 2


def test_multipart_without_boundary_exits_1_for_list_and_show(cli, tmp_path: Path) -> None:
    path = tmp_path / "noboundary.eml"
    raw = (
        b"From: a@example.org\nSubject: no boundary\nDate: Mon, 01 Jan 2024 10:00:00 +0000\n"
        b"MIME-Version: 1.0\nContent-Type: multipart/mixed\n\nhello inside\n"
    )
    path.write_bytes(raw)
    ident = hashlib.sha256(raw).hexdigest()[:12]

    records = _assert_listed_with_problems(cli("list", path, "--json"))
    assert any("NoBoundaryInMultipart" in p for p in records[0]["problems"])

    shown = cli("show", path, ident)
    assert shown.returncode == 1
    assert "Traceback" not in _stderr(shown)
    assert "NoBoundaryInMultipart" in _stderr(shown)
    assert "Subject: no boundary" in shown.stdout.decode()


def test_multipart_without_closing_boundary_exits_1_and_keeps_parts(cli, tmp_path: Path) -> None:
    path = tmp_path / "unclosed.eml"
    raw = (
        b"From: a@example.org\nSubject: unclosed\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="XX"\n\n'
        b"--XX\nContent-Type: text/plain\n\nhello part\n"
        b"--XX\nContent-Type: application/pdf; name=a.pdf\nContent-Transfer-Encoding: base64\n\n"
        b"JVBERi0x\n"
    )
    path.write_bytes(raw)
    ident = hashlib.sha256(raw).hexdigest()[:12]

    records = _assert_listed_with_problems(cli("list", path, "--json"))
    assert records[0]["has_attachments"] is True

    shown = cli("show", path, ident, "--json")
    assert shown.returncode == 1
    document = json.loads(shown.stdout)
    assert document["text"].strip() == "hello part"
    assert [(a["filename"], a["size"]) for a in document["attachments"]] == [("a.pdf", 6)]
    assert any("CloseBoundaryNotFound" in w for w in document["warnings"])
    assert "Traceback" not in _stderr(shown)


def test_unknown_charset_exits_1_with_a_warning(cli, tmp_path: Path) -> None:
    path = tmp_path / "unknown.eml"
    raw = (
        b"From: a@example.org\nSubject: =?x-unknown?Q?caf=E9?=\nMIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=x-unknown\n\ncaf\xe9 and ascii\n"
    )
    path.write_bytes(raw)
    ident = hashlib.sha256(raw).hexdigest()[:12]

    _assert_listed_with_problems(cli("list", path, "--json"))
    shown = cli("show", path, ident)

    assert shown.returncode == 1
    assert "x-unknown" in _stderr(shown)
    assert "Traceback" not in _stderr(shown)
    assert "and ascii" in shown.stdout.decode()


def test_invalid_utf8_body_is_shown_with_replacements_and_exit_1(cli, tmp_path: Path) -> None:
    path = tmp_path / "badutf8.eml"
    raw = (
        b"From: a@example.org\nSubject: bad bytes\nMIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        b"before \xff\xfe\xc3 after\n"
    )
    path.write_bytes(raw)
    ident = hashlib.sha256(raw).hexdigest()[:12]

    listed = cli("list", path, "--json")
    shown = cli("show", path, ident, "--json")

    assert listed.returncode == 0  # the headers are fine; list does not decode bodies
    assert json.loads(listed.stdout)["subject"] == "bad bytes"
    assert shown.returncode == 1
    document = json.loads(shown.stdout)
    assert document["text"].startswith("before ") and "after" in document["text"]
    assert "\N{REPLACEMENT CHARACTER}" in document["text"]
    assert any("utf-8" in w for w in document["warnings"])
    assert "Traceback" not in _stderr(shown)
    raw_out = cli("show", path, ident, "--raw")
    assert raw_out.returncode == 0 and raw_out.stdout == raw


def test_raw_8bit_headers_do_not_break_json_output(cli, tmp_path: Path) -> None:
    path = tmp_path / "eightbit.eml"
    path.write_bytes(
        b"From: J\xf6rg <j@example.org>\nTo: \xff\xfe@example.org\nSubject: caf\xe9 \xe2\x82\xac\n"
        b"Date: Mon, 01 Jan 2024 10:00:00 +0000\n\nbody\n"
    )

    result = cli("list", path, "--json")

    assert result.returncode in (0, 1)
    assert "Traceback" not in _stderr(result) and "internal error" not in _stderr(result)
    record = json.loads(result.stdout)
    assert record["subject"].startswith("caf")
    assert record["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()


def test_unreadable_file_in_a_maildir_is_skipped_with_a_warning(
    cli, unprivileged, public_dir: Path, mail
) -> None:
    root = mail.maildir(
        public_dir / "md-one-locked",
        {"cur/1.ok:2,S": mail.message("readable"), "cur/2.locked:2,S": mail.message("locked")},
    )
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    (root / "cur" / "2.locked:2,S").chmod(0)

    result = cli("list", root, "--json", prefix=unprivileged, home_dir=public_dir / "h1")

    assert result.returncode == 1, _stderr(result)
    assert [json.loads(line)["subject"] for line in result.stdout.splitlines()] == ["readable"]
    assert "2.locked" in _stderr(result)
    assert "Traceback" not in _stderr(result)


def test_unknown_charsets_in_headers_and_parts_are_warned_not_a_traceback(
    cli, tmp_path: Path
) -> None:
    path = tmp_path / "klingon.eml"
    raw = (
        b"From: Alice <alice@example.org>\nTo: Bob <bob@example.com>\n"
        b"Subject: =?x-unknown?B?" + base64.b64encode("Café olé".encode("cp1252")) + b"?=\n"
        b"Date: Mon, 1 Jan 2024 10:00:00 +0000\nMessage-ID: <k@example.org>\n"
        b"Received: from mx.example.org by mx.example.com; Mon, 1 Jan 2024 10:00:01 +0000\n"
        b"MIME-Version: 1.0\nContent-Type: multipart/alternative; boundary=K\n\n"
        b'--K\nContent-Type: text/plain; charset="x-mac-klingon"\n\nGr\xfc\xdfe uryyb\n'
        b'--K\nContent-Type: text/html; charset="rot13"\n\n<p>uryyb</p>\n--K--\n'
    )
    path.write_bytes(raw)
    ident = hashlib.sha256(raw).hexdigest()[:12]

    traced = cli("trace", "--offline", "--json", path)
    assert traced.returncode == 0, _stderr(traced)
    assert "Traceback" not in _stderr(traced) and "internal error" not in _stderr(traced)
    assert json.loads(traced.stdout)["hops"][0]["by_host"] == "mx.example.com"

    [record] = _assert_listed_with_problems(cli("list", path, "--json"))
    assert record["subject"] == "Café olé"

    shown = cli("show", path, ident, "--json")
    assert shown.returncode == 1
    assert "Traceback" not in _stderr(shown) and "internal error" not in _stderr(shown)
    assert "x-mac-klingon" in _stderr(shown) and "rot13" in _stderr(shown)
    document = json.loads(shown.stdout)
    assert document["subject"] == "Café olé"
    assert "Grüße uryyb" in document["text"]
