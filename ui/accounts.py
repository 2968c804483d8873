"""The IMAP accounts dialog: list, add, edit, test and remove accounts (as `mailproof account`).

Every login test and every keyring call runs in a ``Worker``: the window never waits on a
server or on the keyring. A failed test saves nothing unless the user explicitly chooses
"Save without testing", exactly like the CLI's ``--no-test``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.accounts import (
    add_account,
    remove_account,
    test_login,
)
from app.errors import BadInput, MailproofError
from app.imap.account import DEFAULT_PORTS, Account
from app.imap.account import load_all as load_accounts
from app.imap.connection import ConnectionInfo
from app.store.library import Library
from app.tasks import CancelToken, Progress
from ui.folder_chooser import FolderChooser
from ui.qt import ERROR_STYLE, OK_STYLE, top_items
from ui.worker import Worker

log = logging.getLogger(__name__)

SECURITY_CHOICES = (
    ("tls", "TLS (implicit, port 993)"),
    ("starttls", "STARTTLS (port 143)"),
    ("plain", "Plain, unencrypted (lab servers only)"),
)
INSECURE_TEXT = (
    "Only for a test server you control: this permits security “Plain”, which sends the "
    "password and every message unencrypted, readable by anyone on the network path. "
    "TLS certificates are still verified. The account carries a permanent warning."
)


def describe_login(info: ConnectionInfo) -> str:
    tls = f"{info.tls_version}, {info.cipher}" if info.tls_version else "NO TLS: unencrypted"
    return f"Login ok at {info.server} ({tls})"


def sentence(text: str) -> str:
    return text[:1].upper() + text[1:] if text else text


class AccountEditor(QDialog):
    """Add (``account=None``) or edit one account; Save tests the login first."""

    saved = Signal(object)  # the Account just saved

    def __init__(
        self, library: Library, account: Account | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.library = library
        self.original = account
        self.saved_account: Account | None = None
        self._worker: Worker | None = None
        self._stage = ""
        self.setWindowTitle(f"Edit account {account.name}" if account else "Add IMAP account")
        self.setMinimumWidth(520)

        self.name_edit = QLineEdit()
        self.name_edit.setPlaceholderText("e.g. work")
        self.host_edit = QLineEdit()
        self.host_edit.setPlaceholderText("imap.example.org")
        self.security_combo = QComboBox()
        for value, label in SECURITY_CHOICES:
            self.security_combo.addItem(label, value)
        self.port_spin = QSpinBox()
        self.port_spin.setRange(1, 65535)
        self.port_spin.setValue(DEFAULT_PORTS["tls"])
        self._security = "tls"
        self.security_combo.currentIndexChanged.connect(self._security_changed)
        self.user_edit = QLineEdit()
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.ca_edit = QLineEdit()
        self.ca_edit.setPlaceholderText("empty: the system's trusted authorities")
        self.browse_button = QPushButton("Browse…")
        self.browse_button.clicked.connect(self._browse_ca)
        self.insecure_check = QCheckBox("Allow insecure connection (lab servers only)")
        self.insecure_label = QLabel(INSECURE_TEXT)
        self.insecure_label.setWordWrap(True)
        self.insecure_label.setStyleSheet(ERROR_STYLE)

        ca_row = QHBoxLayout()
        ca_row.setContentsMargins(0, 0, 0, 0)
        ca_row.addWidget(self.ca_edit, 1)
        ca_row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("Name:", self.name_edit)
        form.addRow("Server:", self.host_edit)
        form.addRow("Security:", self.security_combo)
        form.addRow("Port:", self.port_spin)
        form.addRow("User:", self.user_edit)
        form.addRow("Password:", self.password_edit)
        form.addRow("CA file:", ca_row)
        form.addRow("", self.insecure_check)
        form.addRow("", self.insecure_label)

        self.error_label = QLabel()
        self.error_label.setObjectName("accountError")
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(ERROR_STYLE)
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        self.info_label = QLabel()
        self.info_label.setWordWrap(True)
        self.info_label.setStyleSheet(OK_STYLE)
        self.info_label.hide()
        self.busy_label = QLabel()
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(160)
        busy_row = QHBoxLayout()
        busy_row.addWidget(self.busy_label, 1)
        busy_row.addWidget(self.busy_bar)
        self.busy_box = QWidget()
        self.busy_box.setLayout(busy_row)
        busy_row.setContentsMargins(0, 0, 0, 0)
        self.busy_box.hide()

        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test)
        self.save_untested_button = QPushButton("Save without testing")
        self.save_untested_button.setToolTip(
            "Keep these settings and the password although the login test failed"
        )
        self.save_untested_button.clicked.connect(self.save_without_testing)
        self.save_untested_button.hide()
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.test_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_untested_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.cancel_button)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error_label)
        layout.addWidget(self.info_label)
        layout.addWidget(self.busy_box)
        layout.addStretch(1)
        layout.addLayout(buttons)

        if account is not None:
            self._fill(account)

    # -- fields -----------------------------------------------------------------------------
    def _fill(self, account: Account) -> None:
        self.name_edit.setText(account.name)
        self.name_edit.setReadOnly(True)
        self.name_edit.setToolTip("The name identifies the account; remove and add to rename it")
        self.host_edit.setText(account.host)
        self.security_combo.setCurrentIndex(self.security_combo.findData(account.security))
        self.port_spin.setValue(account.port)
        self.user_edit.setText(account.user)
        self.password_edit.setPlaceholderText("leave empty to keep the stored password")
        self.ca_edit.setText(account.ca_file or "")
        self.insecure_check.setChecked(account.allow_insecure)

    def _security_changed(self, _index: int) -> None:
        security = str(self.security_combo.currentData())
        if self.port_spin.value() == DEFAULT_PORTS[self._security]:
            self.port_spin.setValue(DEFAULT_PORTS[security])
        self._security = security

    def _browse_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "CA certificate (PEM)", "", "Certificates (*.pem *.crt *.cer);;All files (*)"
        )
        if path:
            self.ca_edit.setText(path)

    def set_security(self, security: str) -> None:
        self.security_combo.setCurrentIndex(self.security_combo.findData(security))

    def account_from_fields(self) -> Account:
        """The account the fields describe; ``BadInput`` with a message fit to show inline."""
        name = self.name_edit.text().strip()
        host = self.host_edit.text().strip()
        user = self.user_edit.text().strip()
        security = str(self.security_combo.currentData())
        if not name:
            raise BadInput("give the account a name (e.g. work)")
        if not host:
            raise BadInput("give the IMAP server's host name")
        if not user:
            raise BadInput("give the user name to log in with")
        if security == "plain" and not self.insecure_check.isChecked():
            raise BadInput(
                "security 'plain' sends the password unencrypted: it needs "
                "“Allow insecure connection” (lab servers only)"
            )
        ca_text = self.ca_edit.text().strip()
        return Account(
            name=name,
            host=host,
            port=self.port_spin.value(),
            security=security,
            user=user,
            ca_file=str(Path(ca_text).expanduser().resolve()) if ca_text else None,
            allow_insecure=self.insecure_check.isChecked(),
            folders=self.original.folders if self.original is not None else None,
        ).check_files()

    def _checked(self) -> tuple[Account, str] | None:
        """Account and typed password, or ``None`` with the problem shown inline."""
        self._show_error("")
        self._show_info("")
        try:
            account = self.account_from_fields()
            if self.original is not None and account.name != self.original.name:
                raise BadInput("the account name cannot change")
            if self.original is None and account.name in self._existing_names():
                raise BadInput(f"an account named {account.name!r} exists already; edit it")
            password = self.password_edit.text()
            if self.original is None and not password:
                raise BadInput("give the password (it is kept only in the OS keyring)")
        except MailproofError as err:
            self._show_error(str(err))
            return None
        return account, password

    def _existing_names(self) -> set[str]:
        return {a.name for a in load_accounts(self.library)}

    # -- actions ----------------------------------------------------------------------------
    def test(self) -> None:
        """Log in with the fields' settings; store nothing."""
        checked = self._checked()
        if checked is None:
            return
        account, password = checked

        def job(_progress: Progress, _cancel: CancelToken) -> ConnectionInfo:
            return test_login(account, password or None, stage=self._set_stage)

        self._run(job, f"Testing the login at {account.host}:{account.port}…", self._tested)

    def save(self) -> None:
        """Test the login; only if it succeeds store the password and the settings."""
        checked = self._checked()
        if checked is None:
            return
        account, password = checked
        library = self.library

        def job(_progress: Progress, _cancel: CancelToken) -> Account:
            add_account(library, account, password or None, stage=self._set_stage)
            return account

        self._run(job, f"Testing the login at {account.host}:{account.port}…", self._store)

    def save_without_testing(self) -> None:
        """The explicit choice after a failed test: store without logging in."""
        checked = self._checked()
        if checked is None:
            return
        account, password = checked
        library = self.library

        def job(_progress: Progress, _cancel: CancelToken) -> Account:
            add_account(library, account, password or None, test=False, stage=self._set_stage)
            return account

        self._run(job, "Storing the password in the keyring…", self._store)

    # -- worker plumbing --------------------------------------------------------------------
    def _run(self, job: Any, label: str, on_result: Any) -> None:
        self.save_untested_button.hide()
        worker = Worker(job, label.rstrip("…"))
        self._worker = worker
        worker.signals.result.connect(on_result)
        worker.signals.error.connect(self._failed)
        worker.signals.finished.connect(self._idle)
        self._set_busy(label)
        worker.start()

    def busy(self) -> bool:
        return self._worker is not None

    def _set_busy(self, label: str) -> None:
        self.busy_label.setText(label)
        self.busy_box.setVisible(bool(label))
        for widget in (self.test_button, self.save_button, self.save_untested_button):
            widget.setEnabled(not label)
        self.cancel_button.setEnabled(not label)

    def _idle(self) -> None:
        self._worker = None
        self._set_busy("")

    def _tested(self, info: ConnectionInfo) -> None:
        self._show_info(describe_login(info))

    def _store(self, account: Account) -> None:
        log.info("account %s saved", account.name)
        self.saved_account = account
        self.saved.emit(account)
        self.accept()

    def _set_stage(self, stage: str) -> None:
        self._stage = stage  # from the worker: which step a failure happened in

    def _failed(self, message: str) -> None:
        if self._stage == "store":
            message = f"The settings could not be saved: {message}"
        self._show_error(message)
        if self._stage == "login":  # the server said no; the user may still keep the settings
            self.save_untested_button.show()

    def _show_error(self, text: str) -> None:
        self.error_label.setText(text)
        self.error_label.setVisible(bool(text))

    def _show_info(self, text: str) -> None:
        self.info_label.setText(text)
        self.info_label.setVisible(bool(text))

    def reject(self) -> None:
        if self.busy():  # the worker would store the password after the dialog went away
            self._show_info("Please wait: the login test ends within 30 seconds.")
            return
        super().reject()


class AccountsDialog(QDialog):
    """All IMAP accounts, with Add, Edit, Remove and Test connection."""

    COLUMNS = ("Name", "Login", "Security", "")

    def __init__(self, library: Library, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.accounts: list[Account] = []
        self.editor: AccountEditor | None = None
        self._worker: Worker | None = None
        self._on_result: Any = None
        self._on_error: Any = None
        self.setWindowTitle("IMAP accounts")
        self.resize(680, 360)

        self.table = QTreeWidget()
        self.table.setColumnCount(len(self.COLUMNS))
        self.table.setHeaderLabels(list(self.COLUMNS))
        self.table.setRootIsDecorated(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.header()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setStretchLastSection(False)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.table.itemDoubleClicked.connect(lambda _item, _column: self.edit())

        self.status_label = QLabel()
        self.status_label.setObjectName("accountStatus")
        self.status_label.setWordWrap(True)
        self.status_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(160)
        self.busy_bar.hide()
        status_row = QHBoxLayout()
        status_row.addWidget(self.status_label, 1)
        status_row.addWidget(self.busy_bar)

        self.add_button = QPushButton("Add…")
        self.add_button.clicked.connect(self.add)
        self.edit_button = QPushButton("Edit…")
        self.edit_button.clicked.connect(self.edit)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(lambda: self.remove())
        self.test_button = QPushButton("Test connection")
        self.test_button.clicked.connect(self.test_selected)
        self.folders_button = QPushButton("Folders…")
        self.folders_button.setToolTip("Choose which of the server's folders are synced")
        self.folders_button.clicked.connect(self.choose_folders)
        self.chooser: FolderChooser | None = None
        self.close_button = QPushButton("Close")
        self.close_button.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for button in (
            self.add_button,
            self.edit_button,
            self.remove_button,
            self.test_button,
            self.folders_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)

        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(status_row)
        layout.addLayout(buttons)
        self.reload()

    # -- list -------------------------------------------------------------------------------
    def reload(self, select: str | None = None) -> None:
        current = self.selected()
        select = select or (current.name if current else None)
        self.table.clear()
        try:
            self.accounts = load_accounts(self.library)
        except MailproofError as err:
            self.accounts = []
            self._status(f"The accounts cannot be read: {err}", ok=False)
        for account in self.accounts:
            item = QTreeWidgetItem(
                [
                    account.name,
                    f"{account.user}@{account.host}:{account.port}",
                    account.security,
                    "INSECURE" if account.allow_insecure else "",
                ]
            )
            if account.warning:
                item.setForeground(3, Qt.GlobalColor.red)
                for column in range(len(self.COLUMNS)):
                    item.setToolTip(column, sentence(account.warning))
            self.table.addTopLevelItem(item)
            if account.name == select:
                self.table.setCurrentItem(item)
        for column in (0, 2, 3):
            self.table.resizeColumnToContents(column)
        items = top_items(self.table)
        if self.table.currentItem() is None and items:
            self.table.setCurrentItem(items[0])
        self._update_buttons()

    def selected(self) -> Account | None:
        item = self.table.currentItem()
        if item is None:
            return None
        index = self.table.indexOfTopLevelItem(item)
        return self.accounts[index] if 0 <= index < len(self.accounts) else None

    def select(self, name: str) -> None:
        for item in top_items(self.table):
            if item.text(0) == name:
                self.table.setCurrentItem(item)

    def _update_buttons(self) -> None:
        has = self.selected() is not None and not self.busy()
        for button in (
            self.edit_button,
            self.remove_button,
            self.test_button,
            self.folders_button,
        ):
            button.setEnabled(has)
        self.add_button.setEnabled(not self.busy())

    def _status(self, text: str, ok: bool = True) -> None:
        self.status_label.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)
        self.status_label.setText(text)

    # -- actions ----------------------------------------------------------------------------
    def add(self) -> AccountEditor:
        return self._open_editor(None)

    def edit(self) -> AccountEditor | None:
        account = self.selected()
        return self._open_editor(account) if account else None

    def _open_editor(self, account: Account | None) -> AccountEditor:
        if self.editor is not None:  # the last one, kept until now for whoever looks at it
            self.editor.deleteLater()
        editor = AccountEditor(self.library, account, parent=self)
        editor.saved.connect(self._saved)
        self.editor = editor
        editor.open()
        return editor

    def choose_folders(self) -> FolderChooser | None:
        account = self.selected()
        if account is None:
            return None
        if self.chooser is not None:
            self.chooser.deleteLater()
        chooser = FolderChooser(self.library, account, parent=self)
        chooser.saved.connect(self._saved)
        self.chooser = chooser
        chooser.open()
        return chooser

    def _saved(self, account: Account) -> None:
        self.reload(select=account.name)
        self._status(f"Account {account.name} saved.")

    def remove(self, confirm: bool = True) -> None:
        """Forget the settings and the keyring entry; synced messages stay in the store."""
        account = self.selected()
        if account is None:
            return
        if confirm:
            answer = QMessageBox.question(
                self,
                "Remove account",
                f"Remove the account {account.name} ({account.user}@{account.host})?\n\n"
                "Its settings and its password in the keyring are deleted. Messages already "
                "synced from it stay in the store.",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        library, name = self.library, account.name

        def job(_progress: Progress, _cancel: CancelToken) -> str:
            return remove_account(library, name).name

        def done(_name: str) -> None:
            self.reload()
            self._status(f"Account {name} removed; its synced messages stay in the store.")

        def failed(message: str) -> None:
            self.reload()
            self._status(message[:1].upper() + message[1:], ok=False)

        self._run(job, f"Removing {name}…", done, failed)

    def test_selected(self) -> None:
        account = self.selected()
        if account is None:
            return

        def job(_progress: Progress, _cancel: CancelToken) -> ConnectionInfo:
            return test_login(account)

        def done(info: ConnectionInfo) -> None:
            self._status(f"{account.name}: {describe_login(info)}.")

        def failed(message: str) -> None:
            self._status(f"{account.name}: {message}", ok=False)

        self._run(job, f"Testing {account.name} at {account.host}:{account.port}…", done, failed)

    def _run(self, job: Any, label: str, on_result: Any, on_error: Any) -> None:
        """One worker at a time; its signals go to bound methods, so they die with the dialog."""
        worker = Worker(job, label.rstrip("…"))
        self._worker = worker
        self._on_result, self._on_error = on_result, on_error
        worker.signals.result.connect(self._worker_result)
        worker.signals.error.connect(self._worker_error)
        worker.signals.finished.connect(self._worker_finished)
        self._status(label)
        self.busy_bar.show()
        self._update_buttons()
        worker.start()

    def busy(self) -> bool:
        return self._worker is not None

    def _worker_result(self, result: object) -> None:
        self._on_result(result)

    def _worker_error(self, message: str) -> None:
        self._on_error(message)

    def _worker_finished(self) -> None:
        self._worker = None
        self.busy_bar.hide()
        self._update_buttons()
