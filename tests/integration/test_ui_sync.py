"""The window syncs a real Dovecot account into the folder pane; IDLE brings new mail."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest
from imapclient import IMAPClient

from app import secrets
from app.imap.account import Account
from app.imap.account import save as save_account
from app.store.library import Library
from tests.harness.dovecot import Dovecot
from tests.harness.pki import Pki
from ui.window import MainWindow

USER, PASSWORD = "erin", "erin-pw-5"


@pytest.fixture
def server(harness_dir: Path, pki: Pki, request: pytest.FixtureRequest) -> Iterator[Dovecot]:
    with Dovecot(
        harness_dir / f"ui-{request.node.name[:40]}", pki, users={USER: PASSWORD}
    ) as dovecot:
        yield dovecot


def raw(subject: str) -> bytes:
    return (
        f"From: Lab <lab@clinic.example>\r\nTo: {USER}@example.test\r\nSubject: {subject}\r\n"
        f"Date: Tue, 05 Mar 2024 10:00:00 +0100\r\nMessage-ID: <{subject}@clinic.example>\r\n"
        "\r\nResult attached.\r\n"
    ).encode()


@pytest.fixture
def window(qtbot, server: Dovecot, tmp_path: Path, secret_keyring) -> Iterator[MainWindow]:
    client = IMAPClient(
        server.host,
        port=server.imaps_port,
        ssl_context=ssl.create_default_context(cafile=str(server.ca_pem)),
    )
    client.login(USER, PASSWORD)
    for index in range(3):
        client.append("INBOX", raw(f"inbox-{index}"))
    client.append("BACKUP", raw("backup-0"))
    client.logout()
    library = Library(tmp_path / "home")
    save_account(
        library, Account("ward", server.host, server.imaps_port, "tls", USER, str(server.ca_pem))
    )
    secrets.set_password("ward", PASSWORD)
    win = MainWindow(library)
    qtbot.addWidget(win)
    win.show()
    yield win
    win.close()
    secrets.delete_password("ward")


def folder_item(window: MainWindow, account: str, name: str):
    for i in range(window.folders.topLevelItemCount()):
        top = window.folders.topLevelItem(i)
        if top.text(0) == account:
            for j in range(top.childCount()):
                if top.child(j).text(0).split("  ")[0] == name:
                    return top.child(j)
    return None


def test_sync_from_the_window_fills_the_folder_pane(qtbot, window: MainWindow) -> None:
    with qtbot.waitSignal(window.synced, timeout=30000):
        window.sync.sync_accounts()
    inbox = folder_item(window, "ward", "INBOX")
    backup = folder_item(window, "ward", "BACKUP")
    assert inbox is not None and backup is not None
    window.folders.setCurrentItem(backup)
    assert [window.model.rows[r].subject for r in range(window.model.rowCount())] == ["backup-0"]
    window.folders.setCurrentItem(inbox)
    assert window.model.rowCount() == 3
    assert not window.error_banner.isVisible()

    # one progress bar per folder, in messages and bytes
    panel = window.sync_panel
    assert panel.isVisible()
    inbox_bar = panel.bar("ward", "INBOX")
    assert inbox_bar is not None and inbox_bar.format() == "3 / 3 messages"
    assert inbox_bar.value() == inbox_bar.maximum()
    inbox_bytes = sum(len(raw(f"inbox-{i}")) for i in range(3))
    assert panel.status_text("ward", "INBOX") == f"done — {inbox_bytes / 1000:.0f} KB of " + (
        f"{inbox_bytes / 1000:.0f} KB"
    )
    assert panel.bar("ward", "BACKUP").format() == "1 / 1 messages"
    assert panel.status_text("ward", "Trash") == "done"  # empty folders are listed too


def test_new_mail_arrives_by_idle_while_the_window_is_open(
    qtbot, window: MainWindow, server: Dovecot
) -> None:
    with qtbot.waitSignal(window.synced, timeout=30000):
        window.sync.sync_accounts()
    window.folders.setCurrentItem(folder_item(window, "ward", "INBOX"))
    assert window.model.rowCount() == 3
    window.sync.start_watchers()
    qtbot.wait(500)  # the watcher logs in and starts IDLE
    with qtbot.waitSignal(window.synced, timeout=20000):
        server.deliver_lmtp(f"{USER}@example.test", raw("arrived-by-idle"))
    qtbot.waitUntil(lambda: window.model.total == 4, timeout=5000)
    subjects = [window.model.rows[r].subject for r in range(window.model.rowCount())]
    assert "arrived-by-idle" in subjects


def test_the_selected_imap_folder_is_watched_too(
    qtbot, window: MainWindow, server: Dovecot
) -> None:
    with qtbot.waitSignal(window.synced, timeout=30000):
        window.sync.sync_accounts()
    window.sync.start_watchers()
    assert window.sync.watched == ["ward/INBOX"]
    window.folders.setCurrentItem(folder_item(window, "ward", "BACKUP"))
    assert window.sync.watched == ["ward/INBOX", "ward/BACKUP"]
    qtbot.wait(500)  # the watcher logs in and starts IDLE
    client = IMAPClient(
        server.host,
        port=server.imaps_port,
        ssl_context=ssl.create_default_context(cafile=str(server.ca_pem)),
    )
    client.login(USER, PASSWORD)
    with qtbot.waitSignal(window.synced, timeout=20000):
        client.append("BACKUP", raw("backup-by-idle"))
    client.logout()
    qtbot.waitUntil(lambda: window.model.total == 2, timeout=5000)
    subjects = [window.model.rows[r].subject for r in range(window.model.rowCount())]
    assert "backup-by-idle" in subjects
    assert window.sync.watched == ["ward/INBOX", "ward/BACKUP"]  # not restarted by the redraw
    window.folders.setCurrentItem(folder_item(window, "ward", "INBOX"))
    assert window.sync.watched == ["ward/INBOX"]


def server_flags(server: Dovecot, subject: str) -> set[bytes]:
    client = IMAPClient(
        server.host,
        port=server.imaps_port,
        ssl_context=ssl.create_default_context(cafile=str(server.ca_pem)),
    )
    client.login(USER, PASSWORD)
    client.select_folder("INBOX", readonly=True)
    uid = client.search(["SUBJECT", subject])[0]
    flags = set(client.fetch([uid], [b"FLAGS"])[uid][b"FLAGS"])
    client.logout()
    return flags


def test_m_and_s_change_read_and_flag_on_the_server(
    qtbot, window: MainWindow, server: Dovecot
) -> None:
    with qtbot.waitSignal(window.synced, timeout=30000):
        window.sync.sync_accounts()
    window.folders.setCurrentItem(folder_item(window, "ward", "INBOX"))
    window.table.setFocus()
    window.table.selectRow(0)
    subject = window.model.rows[0].subject
    assert b"\\Flagged" not in server_flags(server, subject)
    with qtbot.waitSignal(window.flags_changed, timeout=15000):
        window.sync.toggle_flag("\\Flagged")
    assert b"\\Flagged" in server_flags(server, subject)
    row = window.model.row_of(window.model.rows[0].sha256)
    assert "\\Flagged" in window.model.rows[row].flags
    with qtbot.waitSignal(window.flags_changed, timeout=15000):
        window.sync.toggle_flag("\\Seen")
    assert b"\\Seen" in server_flags(server, subject)
    with qtbot.waitSignal(window.flags_changed, timeout=15000):
        window.sync.toggle_flag("\\Flagged")
    assert b"\\Flagged" not in server_flags(server, subject)
