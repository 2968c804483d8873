"""The folder chooser of an IMAP account: the server's folders, ticked when synced; saved
through the accounts service (app.accounts.choose_folders)."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.accounts import choose_folders, server_folder_list
from app.imap.account import Account
from app.imap.folders import RemoteFolder
from app.store.library import Library
from app.tasks import CancelToken, Progress
from ui.qt import ERROR_STYLE
from ui.worker import Worker

log = logging.getLogger(__name__)


class FolderChooser(QDialog):
    """Which of an account's server folders are synced (as `mailproof account folders`).

    The folder list comes from the server in a worker; every folder ticked means "all
    folders", which also takes in folders created later.
    """

    saved = Signal(object)  # the Account with its new choice

    def __init__(self, library: Library, account: Account, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.library = library
        self.account = account
        self._worker: Worker | None = None
        self.setWindowTitle(f"Folders to sync — {account.name}")
        self.setMinimumWidth(420)
        self.folder_list = QListWidget()
        self.status_label = QLabel(f"Asking {account.host} for its folders…")
        self.status_label.setWordWrap(True)
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.save_button = QPushButton("Save")
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self.save)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(cancel)
        layout = QVBoxLayout(self)
        layout.addWidget(self.folder_list, 1)
        layout.addWidget(self.status_label)
        layout.addWidget(self.busy_bar)
        layout.addLayout(buttons)

        def job(_progress: Progress, _cancel: CancelToken) -> list[RemoteFolder]:
            return server_folder_list(account)

        worker = Worker(job, "Listing folders")
        self._worker = worker
        worker.signals.result.connect(self._listed)
        worker.signals.error.connect(self._failed)
        worker.signals.finished.connect(self._finished)
        worker.start()

    def busy(self) -> bool:
        return self._worker is not None

    def _finished(self) -> None:
        self._worker = None
        self.busy_bar.hide()

    def _listed(self, folders: list[RemoteFolder]) -> None:
        chosen = set(self.account.folders) if self.account.folders is not None else None
        for folder in folders:
            role = f"  ({folder.role.lstrip(chr(92))})" if folder.role else ""
            item = QListWidgetItem(f"{folder.name}{role}")
            item.setData(Qt.ItemDataRole.UserRole, folder.name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            ticked = chosen is None or folder.name in chosen
            item.setCheckState(Qt.CheckState.Checked if ticked else Qt.CheckState.Unchecked)
            self.folder_list.addItem(item)
        gone = sorted((chosen or set()) - {f.name for f in folders})
        note = f" No longer on the server: {', '.join(gone)}." if gone else ""
        self.status_label.setText(
            "Ticked folders are synced; ticking all also syncs folders created later." + note
        )
        self.save_button.setEnabled(True)

    def _failed(self, message: str) -> None:
        self.status_label.setStyleSheet(ERROR_STYLE)
        self.status_label.setText(f"The folders could not be listed: {message}")

    def _items(self) -> list[QListWidgetItem]:
        items = (self.folder_list.item(i) for i in range(self.folder_list.count()))
        return [item for item in items if item is not None]

    def checked(self) -> list[str]:
        return [
            str(item.data(Qt.ItemDataRole.UserRole))
            for item in self._items()
            if item.checkState() == Qt.CheckState.Checked
        ]

    def save(self) -> None:
        names = self.checked()
        if not names:
            self.status_label.setStyleSheet(ERROR_STYLE)
            self.status_label.setText("Tick at least one folder.")
            return
        every = len(names) == self.folder_list.count()
        listed = [str(item.data(Qt.ItemDataRole.UserRole)) for item in self._items()]
        account = choose_folders(self.library, self.account, None if every else names, listed)
        log.info("account %s: folders to sync changed", account.name)
        self.saved.emit(account)
        self.accept()

    def reject(self) -> None:
        if self.busy():
            self.status_label.setText("Please wait: the server is being asked (at most 30 s).")
            return
        super().reject()
