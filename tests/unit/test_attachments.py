"""Attachment names chosen by senders can never escape the target folder or overwrite a file."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.errors import BadInput
from app.mime.attachments import safe_filename, save_into


def _tree(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*")}


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\evil.bat", "evil.bat"),
        ("/abs/path", "path"),
        ("C:\\Windows\\system32\\drivers.sys", "drivers.sys"),
        ("CON.txt", "_CON.txt"),
        ("con", "_con"),
        ("lpt1.tar.gz", "_lpt1.tar.gz"),
        ("nul.", "_nul"),
        ("report.pdf.", "report.pdf"),
        ('a:b*c?d"e<f>g|h.txt', "a_b_c_d_e_f_g_h.txt"),
        ("tab\there\nnew\rline\x00nul\x1besc\x7fdel.txt", "tabherenewlinenulescdel.txt"),
        ("invoice\u202efdp.exe", "invoicefdp.exe"),
    ],
)
def test_safe_filename_strips_directories_reserved_and_control_characters(
    name: str, expected: str
) -> None:
    assert safe_filename(name) == expected


@pytest.mark.parametrize("name", ["", None, "..", "...", " . ", "/", "dir/", "\x00\x01"])
def test_safe_filename_of_an_empty_or_dot_name_is_the_fallback(name: str | None) -> None:
    assert safe_filename(name) == "attachment"
    assert safe_filename(name, fallback="part-3") == "part-3"


@pytest.mark.parametrize(
    ("name", "suffix"),
    [
        ("a" * 500, "a"),
        ("b" * 496 + ".pdf", ".pdf"),
        ("ü" * 300 + ".docx", ".docx"),
        ("日本" * 200 + ".txt", ".txt"),
        ("x" * 499 + "\U0001f600", "x"),
    ],
)
def test_long_names_are_cut_to_200_utf8_bytes_keeping_the_extension(name: str, suffix: str) -> None:
    result = safe_filename(name)

    assert 0 < len(result.encode("utf-8")) <= 200
    assert len(result.encode("utf-8")) >= 190  # cut, not emptied
    assert result.endswith(suffix)
    assert "/" not in result and "\\" not in result


def test_attachment_name_with_dotdot_cannot_escape_folder(tmp_path: Path) -> None:
    target = tmp_path / "downloads" / "inner"
    target.mkdir(parents=True)
    names = ["../../etc/passwd", "../escape.txt", "..\\..\\evil.bat", "/abs/path", "../"]

    written = [save_into(target, name, f"data {i}".encode()) for i, name in enumerate(names)]

    assert all(path.parent == target.resolve() for path in written)
    assert _tree(tmp_path) == {
        "downloads",
        "downloads/inner",
        "downloads/inner/passwd",
        "downloads/inner/escape.txt",
        "downloads/inner/evil.bat",
        "downloads/inner/path",
        "downloads/inner/attachment",
    }
    assert [p.read_bytes() for p in written] == [f"data {i}".encode() for i in range(5)]


def test_second_save_of_the_same_name_gets_a_number_and_keeps_the_first(tmp_path: Path) -> None:
    first = save_into(tmp_path, "report.pdf", b"one")
    second = save_into(tmp_path, "report.pdf", b"two")
    third = save_into(tmp_path, "../report.pdf", b"three")
    plain = [save_into(tmp_path, "README", b"r%d" % i) for i in range(2)]

    assert [first.name, second.name, third.name] == [
        "report.pdf",
        "report (1).pdf",
        "report (2).pdf",
    ]
    assert [first.read_bytes(), second.read_bytes(), third.read_bytes()] == [
        b"one",
        b"two",
        b"three",
    ]
    assert [p.name for p in plain] == ["README", "README (1)"]
    assert [p.read_bytes() for p in plain] == [b"r0", b"r1"]


def test_save_into_does_not_follow_a_symlink_out_of_the_folder(tmp_path: Path) -> None:
    target = tmp_path / "inner"
    target.mkdir()
    outside = tmp_path / "outside.txt"
    (target / "trap.txt").symlink_to(outside)  # dangling: points outside the folder

    try:
        written = save_into(target, "trap.txt", b"payload")
    except BadInput:
        written = None

    assert not outside.exists()
    if written is not None:
        assert written.parent == target.resolve() and not written.is_symlink()
        assert written.read_bytes() == b"payload"


def test_save_into_leaves_no_temporary_files(tmp_path: Path) -> None:
    save_into(tmp_path, "a.bin", os.urandom(1024))
    assert sorted(os.listdir(tmp_path)) == ["a.bin"]


def test_save_into_refuses_a_target_that_is_not_a_folder(tmp_path: Path) -> None:
    file_target = tmp_path / "file"
    file_target.write_bytes(b"x")
    with pytest.raises(BadInput):
        save_into(file_target, "a.txt", b"y")
    with pytest.raises(BadInput):
        save_into(tmp_path / "missing", "a.txt", b"y")
    assert file_target.read_bytes() == b"x"
