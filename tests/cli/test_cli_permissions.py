"""Unreadable input, run as a user the permissions apply to (``nobody`` when tests run as root)."""

from __future__ import annotations

import json
from pathlib import Path


def _open_up(root: Path) -> None:
    root.chmod(0o755)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)


def _stderr(result) -> str:
    return result.stderr.decode("utf-8", "replace")


def test_unreadable_eml_file_exits_2_with_one_error(
    cli, unusable, unprivileged, public_dir: Path, mail
) -> None:
    path = public_dir / "locked.eml"
    path.write_bytes(mail.message("secret"))
    path.chmod(0)

    for args in (["list", path], ["show", path, "abcd"]):
        result = cli(*args, prefix=unprivileged, home_dir=public_dir / "home-a")
        line = unusable(result, "locked.eml")
        assert "cannot read" in line and "ermission denied" in line


def test_unreadable_mbox_exits_2(cli, unusable, unprivileged, public_dir: Path, mail) -> None:
    path = public_dir / "locked.mbox"
    path.write_bytes(b"From x Mon Jan  1 00:00:00 2024\n" + mail.message("m") + b"\n")
    path.chmod(0)

    result = cli("list", path, "--json", prefix=unprivileged, home_dir=public_dir / "home-b")

    unusable(result, "locked.mbox", "cannot read")


def test_unreadable_maildir_root_exits_2(
    cli, unusable, unprivileged, public_dir: Path, mail
) -> None:
    root = mail.maildir(public_dir / "LockedMaildir", {"cur/1.a:2,S": mail.message("m")})
    _open_up(root)
    root.chmod(0)

    result = cli("list", root, prefix=unprivileged, home_dir=public_dir / "home-c")

    unusable(result, "LockedMaildir", "ermission denied")


def test_unreadable_maildir_subdirectory_is_reported_not_an_internal_error(
    cli, unprivileged, public_dir: Path, mail
) -> None:
    root = mail.maildir(
        public_dir / "HalfLocked",
        {"cur/1.a:2,S": mail.message("readable"), "new/2.b": mail.message("in locked new")},
    )
    _open_up(root)
    (root / "new").chmod(0)

    result = cli("list", root, "--json", prefix=unprivileged, home_dir=public_dir / "home-d")

    stderr = _stderr(result)
    assert "internal error" not in stderr and "Traceback" not in stderr
    assert result.returncode in (1, 2), (result.returncode, stderr)
    assert str(root / "new") in stderr
    if result.returncode == 1:  # skipped and named, like an unreadable file
        subjects = [json.loads(line)["subject"] for line in result.stdout.splitlines()]
        assert subjects == ["readable"]
    else:
        assert stderr.count("mailproof: error:") == 1


def test_unreadable_folder_inside_a_directory_of_sources_is_reported(
    cli, unprivileged, public_dir: Path, mail
) -> None:
    top = public_dir / "accounts"
    mail.maildir(top / "work", {"cur/1.a:2,S": mail.message("work mail")})
    mail.maildir(top / "private", {"cur/2.b:2,S": mail.message("private mail")})
    (top / "exports").mkdir()
    (top / "exports" / "x.eml").write_bytes(mail.message("exported"))
    _open_up(top)
    (top / "private").chmod(0)

    result = cli("list", top, "--json", prefix=unprivileged, home_dir=public_dir / "home-e")

    stderr = _stderr(result)
    assert "internal error" not in stderr and "Traceback" not in stderr
    assert result.returncode in (1, 2), (result.returncode, stderr)
    assert "private" in stderr
    if result.returncode == 1:
        subjects = sorted(json.loads(line)["subject"] for line in result.stdout.splitlines())
        assert subjects == ["exported", "work mail"]
    else:
        assert stderr.count("mailproof: error:") == 1
