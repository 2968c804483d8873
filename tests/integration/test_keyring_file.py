"""No OS keyring: the user is told so, may choose the encrypted file keyring (master password),
and then accounts sync against the real Dovecot with no secret readable on disk."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from app import secrets
from app.imap.account import Account
from app.imap.account import save as save_account
from app.store.library import Library
from tests.harness.dovecot import Dovecot
from tests.integration.test_imap_sync import (
    MAILPROOF,
    PASSWORD,
    USER,
    by_folder,
    fill,
    server,  # noqa: F401 - the fixture
)
from ui.window import MainWindow

MASTER = "Correct horse battery staple 7"
NO_OS_KEYRING = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}


def run(
    home: Path, *args: str, stdin: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAILPROOF), *args],
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        env={**os.environ, "MAILPROOF_HOME": str(home), **NO_OS_KEYRING, **env},
        timeout=300,
    )


def add_args(dovecot: Dovecot) -> list[str]:
    return [
        "account", "add", "clinic", "--host", dovecot.host, "--port", str(dovecot.imaps_port),
        "--user", USER, "--ca-file", str(dovecot.ca_pem), "--password-stdin",
    ]  # fmt: skip


def test_without_an_os_keyring_the_encrypted_file_keyring_is_offered_and_works(
    server: Dovecot,  # noqa: F811
    tmp_path: Path,
) -> None:
    fill(server, {"INBOX": 2, "BACKUP": 1})
    home = tmp_path / "home"

    refused = run(home, *add_args(server), stdin=PASSWORD + "\n")
    assert refused.returncode == 3
    assert "no OS keyring is usable" in refused.stderr
    assert "mailproof keyring use-file" in refused.stderr
    status = run(home, "keyring", "status", "--json")
    assert status.returncode == 3 and json.loads(status.stdout)["usable"] is False

    chose = run(home, "keyring", "use-file", "--password-stdin", stdin=MASTER + "\n")
    assert chose.returncode == 0, chose.stderr
    status = json.loads(run(home, "keyring", "status", "--json").stdout)
    assert status["backend"] == "encrypted-file" and status["usable"] is True

    added = run(home, *add_args(server), stdin=PASSWORD + "\n", MAILPROOF_MASTER_PASSWORD=MASTER)
    assert added.returncode == 0, added.stderr
    synced = run(home, "sync", "clinic", "--json", MAILPROOF_MASTER_PASSWORD=MASTER)
    assert synced.returncode == 0, synced.stderr
    folders = by_folder(json.loads(synced.stdout))
    assert folders["INBOX"]["new"] == 2 and folders["BACKUP"]["new"] == 1

    wrong = run(home, "account", "test", "clinic", MAILPROOF_MASTER_PASSWORD="not it")
    assert wrong.returncode == 1
    assert "master password does not open the encrypted keyring" in wrong.stderr
    locked = run(home, "account", "test", "clinic")  # no terminal, no variable
    assert locked.returncode == 3 and "MAILPROOF_MASTER_PASSWORD" in locked.stderr
    for result in (wrong, locked, refused):
        assert "Traceback" not in result.stderr

    keyring_file = Path(status["path"])
    assert keyring_file.is_file() and (keyring_file.stat().st_mode & 0o077) == 0
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert PASSWORD.encode() not in data, f"IMAP password readable in {path}"
            assert MASTER.encode() not in data, f"master password readable in {path}"

    back = run(home, "keyring", "use-os")
    assert back.returncode == 0
    plain = run(
        home,
        "account",
        "test",
        "clinic",
        PYTHON_KEYRING_BACKEND="keyrings.cryptfile.file.PlaintextKeyring",
    )
    assert plain.returncode == 3 and "unencrypted" in plain.stderr


def test_the_window_asks_for_the_master_password_before_syncing(
    qtbot,
    server: Dovecot,  # noqa: F811
    tmp_path: Path,
    monkeypatch,
) -> None:
    fill(server, {"INBOX": 1})
    home = tmp_path / "home"
    monkeypatch.setenv("MAILPROOF_HOME", str(home))
    library = Library(home)
    secrets.use_file_keyring(MASTER)
    secrets.set_password("ward", PASSWORD)
    save_account(
        library, Account("ward", server.host, server.imaps_port, "tls", USER, str(server.ca_pem))
    )
    secrets.lock()
    secrets.set_master_password_source(None)
    window = MainWindow(library)
    qtbot.addWidget(window)
    window.show()
    try:
        assert secrets.is_locked()
        window.locking.unlock_keyring("wrong master")
        qtbot.waitUntil(lambda: window.error_banner.isVisible(), timeout=30000)
        assert "The keyring stays locked" in window.error_banner.text()
        assert secrets.is_locked()

        with qtbot.waitSignal(window.keyring_unlocked, timeout=30000):
            window.locking.unlock_keyring(MASTER)
        assert not secrets.is_locked() and not window.error_banner.isVisible()
        with qtbot.waitSignal(window.synced, timeout=30000):
            window.sync.sync_accounts()
        assert not window.error_banner.isVisible()
        assert library.db.execute("SELECT COUNT(*) FROM copies").fetchone()[0] == 1
    finally:
        window.close()
        secrets.use_os_keyring()


def test_a_locked_window_unlocks_through_the_os_keyring(
    qtbot, tmp_path: Path, monkeypatch, secret_keyring
) -> None:
    monkeypatch.setenv("MAILPROOF_HOME", str(tmp_path / "home"))
    window = MainWindow(Library(tmp_path / "home"))
    qtbot.addWidget(window)
    window.show()
    try:
        window.locking.lock("manual")
        assert window.locking.locked and not window.lock_screen.password.isVisible()
        with qtbot.waitSignal(window.lock_screen.unlocked, timeout=30000):
            window.lock_screen.try_unlock()  # the real Secret Service collection answers
        assert not window.locking.locked
    finally:
        window.close()
