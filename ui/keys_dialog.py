"""The Keys dialog: import, list, export and remove S/MIME and OpenPGP keys (as `mailproof keys`).

Imports and removals touch the keyring and GnuPG, so they run in a ``Worker``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.crypto import keys
from app.crypto.keys import KeyInfo
from app.errors import MailproofError
from app.tasks import CancelToken, Progress
from ui.qt import ERROR_STYLE, OK_STYLE, top_items
from ui.worker import Worker

log = logging.getLogger(__name__)


class KeysDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Keys")
        self.setMinimumSize(720, 360)
        self._worker: Worker | None = None
        self.table = QTreeWidget()
        self.table.setHeaderLabels(["Key", "Type", "Addresses", "Algorithm", "Valid until"])
        self.table.setRootIsDecorated(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.header().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.currentItemChanged.connect(lambda *_: self._update_buttons())
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(160)
        self.busy_bar.hide()
        self.import_button = QPushButton("Import…")
        self.import_button.clicked.connect(self.ask_import)
        self.export_button = QPushButton("Export public…")
        self.export_button.clicked.connect(self.ask_export)
        self.remove_button = QPushButton("Remove")
        self.remove_button.clicked.connect(lambda: self.remove())
        self.trust_button = QPushButton("Trust CA…")
        self.trust_button.setToolTip("Add a CA certificate as trust anchor for S/MIME signatures")
        self.trust_button.clicked.connect(self.ask_trust)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        for button in (self.import_button, self.export_button, self.remove_button):
            buttons.addWidget(button)
        buttons.addWidget(self.trust_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        status = QHBoxLayout()
        status.addWidget(self.status_label, 1)
        status.addWidget(self.busy_bar)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(status)
        layout.addLayout(buttons)
        self.reload()

    # -- list -------------------------------------------------------------------------------
    def reload(self) -> None:
        self.table.clear()
        try:
            infos = keys.list_keys()
        except MailproofError as err:
            self._status(str(err), ok=False)
            infos = []
        for info in infos:
            item = QTreeWidgetItem(
                [
                    info.id,
                    "S/MIME" if info.kind == "smime" else "OpenPGP",
                    ", ".join(info.emails),
                    info.algorithm,
                    (info.not_after or "never")[:10],
                ]
            )
            item.setData(0, Qt.ItemDataRole.UserRole, info.id)
            item.setToolTip(0, info.subject)
            self.table.addTopLevelItem(item)
        self._update_buttons()

    def ids(self) -> list[str]:
        return [str(item.data(0, Qt.ItemDataRole.UserRole)) for item in top_items(self.table)]

    def selected(self) -> str | None:
        item = self.table.currentItem()
        return str(item.data(0, Qt.ItemDataRole.UserRole)) if item else None

    def select(self, key_id: str) -> None:
        for item in top_items(self.table):
            if item.data(0, Qt.ItemDataRole.UserRole) == key_id:
                self.table.setCurrentItem(item)

    def _update_buttons(self) -> None:
        has = self.selected() is not None and not self.busy()
        self.export_button.setEnabled(has)
        self.remove_button.setEnabled(has)
        self.import_button.setEnabled(not self.busy())
        self.trust_button.setEnabled(not self.busy())

    def _status(self, text: str, ok: bool = True) -> None:
        self.status_label.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)
        self.status_label.setText(text)

    # -- actions ----------------------------------------------------------------------------
    def ask_import(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Import a key",
            "",
            "Keys (*.p12 *.pfx *.asc *.gpg *.pgp *.key);;All files (*)",
        )
        if not path:
            return
        passphrase, ok = QInputDialog.getText(
            self,
            "Passphrase",
            f"Passphrase of {Path(path).name} (empty if none):",
            QLineEdit.EchoMode.Password,
        )
        if ok:
            self.import_file(Path(path), passphrase or None)

    def import_file(self, path: Path, passphrase: str | None) -> None:
        def job(_progress: Progress, _cancel: CancelToken) -> KeyInfo:
            return keys.import_key_file(path, passphrase)

        def done(info: KeyInfo) -> None:
            self.reload()
            self.select(info.id)
            self._status(f"Imported {info.id}; its secret is in the keyring.")

        self._run(job, f"Importing {path.name}…", done)

    def ask_export(self) -> None:
        key_id = self.selected()
        if key_id is None:
            return
        suffix = ".pem" if key_id.startswith("smime:") else ".asc"
        target, _ = QFileDialog.getSaveFileName(
            self, "Export public key", key_id.replace(":", "-") + suffix
        )
        if target:
            self.export_to(key_id, Path(target))

    def export_to(self, key_id: str, target: Path) -> None:
        try:
            target.write_bytes(keys.export_public(key_id))
        except (MailproofError, OSError) as err:
            self._status(f"Not exported: {err}", ok=False)
            return
        self._status(f"Public part of {key_id} written to {target}.")

    def ask_trust(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Trust a CA certificate", "", "Certificates (*.pem *.crt *.cer *.der)"
        )
        if path:
            try:
                certificate = keys.trust_ca(Path(path))
            except MailproofError as err:
                self._status(str(err), ok=False)
                return
            self._status(f"Trusting {certificate.subject.rfc4514_string()} for S/MIME.")

    def remove(self, confirm: bool = True) -> None:
        key_id = self.selected()
        if key_id is None:
            return
        if confirm:
            answer = QMessageBox.question(
                self,
                "Remove key",
                f"Remove {key_id} and delete its private part from the keyring? Messages "
                "encrypted to it can then no longer be opened here.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return

        def job(_progress: Progress, _cancel: CancelToken) -> KeyInfo:
            return keys.remove_key(key_id)

        def done(info: KeyInfo) -> None:
            self.reload()
            self._status(f"Removed {info.id}.")

        self._run(job, f"Removing {key_id}…", done)

    # -- worker plumbing --------------------------------------------------------------------
    def _run(self, job: Any, label: str, on_result: Any) -> None:
        worker = Worker(job, label.rstrip("…"))
        self._worker = worker
        self._on_result = on_result
        worker.signals.result.connect(self._result)
        worker.signals.error.connect(lambda text: self._status(text, ok=False))
        worker.signals.finished.connect(self._finished)
        self._status(label)
        self.busy_bar.show()
        self._update_buttons()
        worker.start()

    def _result(self, result: object) -> None:
        self._on_result(result)

    def _finished(self) -> None:
        self._worker = None
        self.busy_bar.hide()
        self._update_buttons()

    def busy(self) -> bool:
        return self._worker is not None

    def reject(self) -> None:
        if not self.busy():
            super().reject()
