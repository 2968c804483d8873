"""Maildir reading: Maildir++ subfolders, flags from the info suffix, byte-exact raw messages."""

from __future__ import annotations

from pathlib import Path

from app.sources import open_source
from app.sources.maildir import split_name


def _by_folder(source) -> dict[str, list]:
    result: dict[str, list] = {}
    for folder in source.folders:
        result[folder.name] = list(source.read(folder))
    return result


def test_maildir_plus_plus_subfolders_become_folder_names(tmp_path: Path, mail) -> None:
    root = mail.maildir(tmp_path / "Mail", {"cur/1.A.host:2,S": mail.message("inbox")})
    mail.maildir(root / ".Sent", {"cur/2.B.host:2,S": mail.message("sent")})
    mail.maildir(root / ".BACKUP", {"new/3.C.host": mail.message("backup")})
    mail.maildir(root / ".Junk", {"new/4.D.host": mail.message("junk")})
    mail.maildir(root / ".Archive.2023", {"cur/5.E.host:2,": mail.message("archived")})
    (root / ".notamaildir").mkdir()  # a dot-folder without cur/ or new/ is no folder

    source = open_source(root)

    names = [f.name for f in source.folders]
    assert names[0] == "INBOX"
    assert sorted(names) == sorted(["INBOX", "Sent", "BACKUP", "Junk", "Archive/2023"])
    assert all(f.kind == "maildir" for f in source.folders)
    contents = _by_folder(source)
    subjects = {
        name: [m.raw.split(b"Subject: ")[1].split(b"\n")[0] for m in messages]
        for name, messages in contents.items()
    }
    assert subjects == {
        "INBOX": [b"inbox"],
        "Sent": [b"sent"],
        "BACKUP": [b"backup"],
        "Junk": [b"junk"],
        "Archive/2023": [b"archived"],
    }
    for name, messages in contents.items():
        assert all(m.provenance.folder == name for m in messages)


def test_maildir_flags_come_from_the_info_suffix(tmp_path: Path, mail) -> None:
    root = mail.maildir(
        tmp_path / "md",
        {
            "cur/1700000001.M1P1.host,S=99:2,FS": mail.message("flagged and seen"),
            "cur/1700000002.M2P1.host:2,RT": mail.message("answered, deleted"),
            "cur/1700000003.M3P1.host:2,D": mail.message("draft"),
            "new/1700000004.M4P1.host": mail.message("brand new"),
        },
    )
    messages = list(open_source(root).messages())

    flags = {m.provenance.source_key: m.provenance.flags for m in messages}
    assert flags == {
        "1700000001.M1P1.host,S=99": ("\\Flagged", "\\Seen"),
        "1700000002.M2P1.host": ("\\Answered", "\\Deleted"),
        "1700000003.M3P1.host": ("\\Draft",),
        "1700000004.M4P1.host": (),
    }


def test_split_name_reads_windows_bang_separator_and_ignores_unknown_flags() -> None:
    assert split_name("1700.M1.host!2,SR") == ("1700.M1.host", ("\\Answered", "\\Seen"))
    assert split_name("1700.M1.host:2,SxyzF") == ("1700.M1.host", ("\\Flagged", "\\Seen"))
    assert split_name("1700.M1.host:1,experimental") == ("1700.M1.host", ())
    assert split_name("1700.M1.host") == ("1700.M1.host", ())


def test_maildir_messages_are_the_exact_file_bytes(tmp_path: Path, mail) -> None:
    odd = {
        "cur/1.crlf:2,S": mail.message("crlf").replace(b"\n", b"\r\n"),
        "cur/2.nofinalnewline:2,": b"From: x@example.org\nSubject: no newline\n\nlast line",
        "new/3.eightbit": b"From: x@example.org\nSubject: caf\xe9\n\nbody \xff\xfe\n\n\n",
        "new/4.trailing": b"From: x@example.org \nSubject: spaces   \n\nbody\t \n",
    }
    root = mail.maildir(tmp_path / "md", odd)
    found = {Path(m.provenance.source_path).name: m.raw for m in open_source(root).messages()}

    assert found == {Path(name).name: raw for name, raw in odd.items()}


def test_maildir_ignores_tmp_and_dot_files(tmp_path: Path, mail) -> None:
    root = mail.maildir(
        tmp_path / "md",
        {
            "cur/1.real:2,S": mail.message("real"),
            "tmp/2.being-delivered": mail.message("half delivered"),
            "cur/.hidden": mail.message("hidden"),
        },
    )
    messages = list(open_source(root).messages())

    assert [m.provenance.source_key for m in messages] == ["1.real"]


def test_directory_of_maildirs_lists_each_with_its_subfolders(tmp_path: Path, mail) -> None:
    top = tmp_path / "accounts"
    mail.maildir(top / "work", {"cur/1.a:2,S": mail.message("work inbox")})
    mail.maildir(top / "work" / ".Sent", {"cur/2.b:2,S": mail.message("work sent")})
    mail.maildir(top / "home", {"new/3.c": mail.message("home inbox")})
    mail.maildir(top / "home" / ".Junk", {"new/4.d": mail.message("home junk")})
    (top / "notes.txt").write_text("not mail")

    source = open_source(top)

    assert [f.name for f in source.folders] == ["home", "home/Junk", "work", "work/Sent"]
    contents = _by_folder(source)
    assert [len(contents[name]) for name in ("home", "home/Junk", "work", "work/Sent")] == [
        1,
        1,
        1,
        1,
    ]
    assert b"Subject: work sent" in contents["work/Sent"][0].raw
    assert b"Subject: home junk" in contents["home/Junk"][0].raw
