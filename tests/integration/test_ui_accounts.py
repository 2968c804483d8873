"""The Accounts dialog against the real Dovecot and the real Secret Service keyring."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QMessageBox

from app.imap.account import load as load_account
from app.imap.account import load_all as load_accounts
from app.store.library import Library
from tests.harness.dovecot import Dovecot
from ui.accounts import AccountEditor, AccountsDialog
from ui.window import MainWindow

NAMES = ("ui-work", "ui-typo", "ui-lab", "ui-bad")
WORKER_TIMEOUT = 40000


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Library]:
    home = tmp_path / "home"
    monkeypatch.setenv("MAILPROOF_HOME", str(home))
    lib = Library(home)
    yield lib
    lib.close()


@pytest.fixture
def keyring_entries(secret_keyring) -> Iterator[object]:
    """The real keyring; whatever a test leaves under the names it uses is deleted after it."""
    yield secret_keyring
    for name in NAMES:
        with contextlib.suppress(Exception):
            secret_keyring.delete_password("mailproof", name)


@pytest.fixture
def window(qtbot, library: Library) -> MainWindow:
    win = MainWindow(library)
    qtbot.addWidget(win)
    win.show()
    return win


@pytest.fixture
def accounts(qtbot, library: Library) -> AccountsDialog:
    dialog = AccountsDialog(library)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def fill(
    editor: AccountEditor,
    server: Dovecot,
    name: str,
    password: str,
    security: str = "tls",
    insecure: bool = False,
) -> None:
    editor.name_edit.setText(name)
    editor.host_edit.setText(server.host)
    editor.set_security(security)
    editor.port_spin.setValue(server.imaps_port if security == "tls" else server.imap_port)
    editor.user_edit.setText("alice")
    editor.password_edit.setText(password)
    editor.ca_edit.setText(str(server.ca_pem))
    editor.insecure_check.setChecked(insecure)


def click_and_wait(qtbot, editor: AccountEditor, button) -> None:
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert editor.busy() or editor.result() == QDialog.DialogCode.Accepted
    qtbot.waitUntil(lambda: not editor.busy(), timeout=WORKER_TIMEOUT)


def row_texts(dialog: AccountsDialog) -> list[list[str]]:
    return [
        [dialog.table.topLevelItem(i).text(c) for c in range(dialog.table.columnCount())]
        for i in range(dialog.table.topLevelItemCount())
    ]


def test_add_test_and_remove_an_account_through_the_dialog(
    qtbot, accounts, library, dovecot, keyring_entries, monkeypatch
) -> None:
    password = dovecot.users["alice"]
    editor = accounts.add()
    assert editor.password_edit.echoMode() == editor.password_edit.EchoMode.Password
    assert editor.port_spin.value() == 993
    editor.set_security("starttls")
    assert editor.port_spin.value() == 143  # the default port follows the security
    fill(editor, dovecot, "ui-work", password)

    click_and_wait(qtbot, editor, editor.test_button)
    assert editor.info_label.text().startswith(f"Login ok at {dovecot.host}:{dovecot.imaps_port}")
    assert "TLSv1." in editor.info_label.text()
    assert load_accounts(library) == []  # a test stores nothing
    assert keyring_entries.get_password("mailproof", "ui-work") is None

    click_and_wait(qtbot, editor, editor.save_button)
    assert editor.result() == QDialog.DialogCode.Accepted
    assert not editor.isVisible()
    saved = load_account(library, "ui-work")
    assert (saved.host, saved.port, saved.security, saved.user) == (
        dovecot.host,
        dovecot.imaps_port,
        "tls",
        "alice",
    )
    assert saved.ca_file == str(dovecot.ca_pem.resolve()) and not saved.allow_insecure
    assert keyring_entries.get_password("mailproof", "ui-work") == password
    assert row_texts(accounts) == [
        ["ui-work", f"alice@{dovecot.host}:{dovecot.imaps_port}", "tls", ""]
    ]
    for path in Path(library.home).rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), f"password found in {path}"

    # Test connection on the list uses the password from the keyring
    accounts.select("ui-work")
    qtbot.mouseClick(accounts.test_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not accounts.busy(), timeout=WORKER_TIMEOUT)
    assert accounts.status_label.text().startswith("ui-work: Login ok at")

    # editing with an empty password keeps the stored one
    edit = accounts.edit()
    assert edit is not None and edit.name_edit.isReadOnly()
    assert edit.password_edit.text() == ""
    click_and_wait(qtbot, edit, edit.save_button)
    assert edit.result() == QDialog.DialogCode.Accepted
    assert keyring_entries.get_password("mailproof", "ui-work") == password

    asked: list[str] = []

    def yes(_parent, _title, text, *_args):
        asked.append(text)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", yes)
    qtbot.mouseClick(accounts.remove_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not accounts.busy(), timeout=WORKER_TIMEOUT)
    assert len(asked) == 1 and "stay in the store" in asked[0]
    assert load_accounts(library) == []
    assert keyring_entries.get_password("mailproof", "ui-work") is None
    assert row_texts(accounts) == []
    assert "removed" in accounts.status_label.text()


def test_a_wrong_password_shows_the_auth_error_and_saves_nothing(
    qtbot, accounts, library, dovecot, keyring_entries
) -> None:
    wrong = "Wr0ng-ui-s3cret"
    editor = accounts.add()
    fill(editor, dovecot, "ui-typo", wrong)
    click_and_wait(qtbot, editor, editor.save_button)

    assert editor.isVisible() and editor.result() != QDialog.DialogCode.Accepted
    text = editor.error_label.text()
    assert editor.error_label.isVisible()
    assert "refused the login of user 'alice'" in text and "check the user name" in text
    assert wrong not in text and "Traceback" not in text
    assert load_accounts(library) == []
    assert keyring_entries.get_password("mailproof", "ui-typo") is None
    assert row_texts(accounts) == []

    # only an explicit second button keeps settings whose login failed
    assert editor.save_untested_button.isVisible()
    click_and_wait(qtbot, editor, editor.save_untested_button)
    assert editor.result() == QDialog.DialogCode.Accepted
    assert load_account(library, "ui-typo").user == "alice"
    assert keyring_entries.get_password("mailproof", "ui-typo") == wrong
    accounts.select("ui-typo")
    accounts.remove(confirm=False)
    qtbot.waitUntil(lambda: not accounts.busy(), timeout=WORKER_TIMEOUT)
    assert keyring_entries.get_password("mailproof", "ui-typo") is None


def test_bad_settings_are_shown_inline_without_contacting_the_server(
    qtbot, accounts, library, dovecot, keyring_entries
) -> None:
    editor = accounts.add()
    fill(editor, dovecot, "bad name!", "x")
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert not editor.busy()
    assert "account name 'bad name!'" in editor.error_label.text()

    fill(editor, dovecot, "ui-bad", "x", security="plain")  # plain without the checkbox
    qtbot.mouseClick(editor.save_button, Qt.MouseButton.LeftButton)
    assert not editor.busy() and "unencrypted" in editor.error_label.text()

    fill(editor, dovecot, "ui-bad", "x")
    editor.ca_edit.setText(str(Path(library.home) / "missing-ca.pem"))
    qtbot.mouseClick(editor.test_button, Qt.MouseButton.LeftButton)
    assert not editor.busy() and "does not exist" in editor.error_label.text()
    assert not editor.save_untested_button.isVisible()
    assert load_accounts(library) == []


def test_an_insecure_account_puts_a_warning_banner_on_the_window(
    qtbot, window, library, dovecot, keyring_entries
) -> None:
    assert not window.insecure_banner.isVisible()
    dialog = window.open_accounts()
    editor = dialog.add()
    assert editor.insecure_label.isVisible()
    assert "lab servers only" in editor.insecure_check.text()
    fill(editor, dovecot, "ui-lab", dovecot.users["alice"], security="plain", insecure=True)
    click_and_wait(qtbot, editor, editor.save_button)
    assert editor.result() == QDialog.DialogCode.Accepted, editor.error_label.text()
    assert load_account(library, "ui-lab").allow_insecure
    assert row_texts(dialog)[0][3] == "INSECURE"

    dialog.close_button.click()
    qtbot.waitUntil(window.insecure_banner.isVisible)
    text = window.insecure_banner.text()
    assert text.startswith("Account ui-lab allows insecure connections") and "unencrypted" in text

    # a window opened later shows it from the start
    later = MainWindow(library)
    qtbot.addWidget(later)
    later.show()
    assert later.insecure_banner.isVisible()

    dialog = window.open_accounts()
    dialog.select("ui-lab")
    dialog.remove(confirm=False)
    qtbot.waitUntil(lambda: not dialog.busy(), timeout=WORKER_TIMEOUT)
    assert keyring_entries.get_password("mailproof", "ui-lab") is None
    dialog.close_button.click()
    qtbot.waitUntil(lambda: not window.insecure_banner.isVisible())


def test_folder_chooser_lists_the_server_folders_and_keeps_the_choice(
    qtbot, accounts, library, dovecot, keyring_entries
) -> None:
    editor = accounts.add()
    fill(editor, dovecot, "ui-work", dovecot.users["alice"])
    click_and_wait(qtbot, editor, editor.save_button)
    accounts.select("ui-work")

    chooser = accounts.choose_folders()
    assert chooser is not None and chooser.busy()  # the server is asked in a worker
    qtbot.waitUntil(lambda: not chooser.busy(), timeout=WORKER_TIMEOUT)
    names = chooser.checked()
    assert {"INBOX", "Sent", "Junk", "Trash", "BACKUP"} <= set(names)  # all ticked by default
    for i in range(chooser.folder_list.count()):
        item = chooser.folder_list.item(i)
        if item.data(Qt.ItemDataRole.UserRole) in ("Junk", "Trash"):
            item.setCheckState(Qt.CheckState.Unchecked)
    qtbot.mouseClick(chooser.save_button, Qt.MouseButton.LeftButton)
    saved = load_account(library, "ui-work")
    assert saved.folders is not None
    assert set(saved.folders) == set(names) - {"Junk", "Trash"}

    edit = accounts.edit()  # editing the connection settings keeps the folder choice
    assert edit is not None
    click_and_wait(qtbot, edit, edit.save_button)
    assert load_account(library, "ui-work").folders == saved.folders

    again = accounts.choose_folders()
    assert again is not None
    qtbot.waitUntil(lambda: not again.busy(), timeout=WORKER_TIMEOUT)
    assert set(again.checked()) == set(saved.folders)
