"""Folders of .eml, single .eml files, mixed folders, and what open_source refuses."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from app.errors import BadInput, NotMail, SourceUnreadable
from app.sources import open_source


def test_folder_of_eml_files_is_one_folder_with_exact_bytes(tmp_path: Path, mail) -> None:
    folder = tmp_path / "Exported"
    folder.mkdir()
    files = {
        "a.eml": mail.message("first"),
        "B.EML": mail.message("second").replace(b"\n", b"\r\n"),
        "c.eml": b"\xef\xbb\xbfFrom: bom@example.org\nSubject: with BOM\n\nbody\n",
    }
    for name, raw in files.items():
        (folder / name).write_bytes(raw)
    (folder / "readme.txt").write_text("From: not an eml extension\n\nx\n")

    source = open_source(folder)

    assert [(f.name, f.kind) for f in source.folders] == [("Exported", "eml")]
    messages = list(source.messages())
    assert {m.provenance.source_key: m.raw for m in messages} == files
    assert all(m.provenance.kind == "eml" and m.problems == () for m in messages)


def test_single_eml_file_is_one_message_named_after_the_file(tmp_path: Path, mail) -> None:
    raw = mail.message("just one")
    path = tmp_path / "invoice-2024.eml"
    path.write_bytes(raw)

    source = open_source(path)
    messages = list(source.messages())

    assert [(f.name, f.kind) for f in source.folders] == [("invoice-2024", "eml")]
    assert len(messages) == 1
    assert messages[0].raw == raw
    assert messages[0].provenance.source_path == str(path)


def test_mixed_folder_lists_loose_eml_first_then_mbox_and_eml_subfolders(
    tmp_path: Path, mail
) -> None:
    root = tmp_path / "export"
    (root / "Projects").mkdir(parents=True)
    (root / ".hidden").mkdir()
    (root / "loose.eml").write_bytes(mail.message("loose"))
    (root / "Projects" / "p.eml").write_bytes(mail.message("project"))
    (root / ".hidden" / "h.eml").write_bytes(mail.message("hidden"))
    (root / "Old.mbox").write_bytes(
        b"From x@example.org Mon Jan  1 00:00:00 2024\n" + mail.message("old") + b"\n"
    )
    (root / "notes.txt").write_text("hello")

    source = open_source(root)

    assert [(f.name, f.kind) for f in source.folders] == [
        ("export", "eml"),
        ("Old", "mbox"),
        ("Projects", "eml"),
    ]
    subjects = sorted(m.raw.split(b"Subject: ")[1].split(b"\n")[0] for m in source.messages())
    assert subjects == [b"loose", b"old", b"project"]


def test_eml_without_header_line_in_a_folder_is_flagged_as_maybe_not_mail(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "odd.eml").write_bytes(b"just some text, no headers\n")

    messages = list(open_source(folder).messages())

    assert len(messages) == 1
    assert "may not be mail" in messages[0].problems[0]


def test_nonexistent_path_is_source_unreadable(tmp_path: Path) -> None:
    with pytest.raises(SourceUnreadable, match="no such file"):
        open_source(tmp_path / "missing")


def test_zero_byte_file_is_not_mail(tmp_path: Path) -> None:
    path = tmp_path / "empty.eml"
    path.write_bytes(b"")
    with pytest.raises(NotMail, match="empty"):
        open_source(path)


def test_random_binary_and_png_are_not_mail(tmp_path: Path) -> None:
    binary = tmp_path / "noise.bin"
    binary.write_bytes(b"\x00" + random.Random(7).randbytes(4096))
    png = tmp_path / "picture.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(64))
    for path in (binary, png):
        with pytest.raises(NotMail) as caught:
            open_source(path)
        assert caught.value.exit_code == 2
        assert str(path.name) in str(caught.value)


def test_empty_directory_holds_no_mail(tmp_path: Path) -> None:
    (tmp_path / "nothing").mkdir()
    with pytest.raises(NotMail):
        open_source(tmp_path / "nothing")


def test_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(BadInput):
        open_source(fifo)


def test_dangling_symlink_is_source_unreadable(tmp_path: Path) -> None:
    link = tmp_path / "link.eml"
    link.symlink_to(tmp_path / "gone.eml")
    with pytest.raises(SourceUnreadable):
        open_source(link)
