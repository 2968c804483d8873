"""The audit log viewer: every entry, newest first, and a check of the hash chain."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import audit
from app.errors import MailproofError
from ui.qt import ERROR_STYLE, OK_STYLE


def _object_text(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return "" if value is None else str(value)


class AuditDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Audit log")
        self.setMinimumSize(900, 420)
        self.table = QTreeWidget()
        self.table.setHeaderLabels(["#", "Time (UTC)", "User", "Action", "Object", "Result"])
        self.table.setRootIsDecorated(False)
        self.table.header().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.check_label = QLabel()
        self.check_label.setWordWrap(True)
        verify = QPushButton("Verify chain")
        verify.clicked.connect(self.verify)
        reload_button = QPushButton("Reload")
        reload_button.clicked.connect(self.reload)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons = QHBoxLayout()
        buttons.addWidget(verify)
        buttons.addWidget(reload_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.check_label)
        layout.addLayout(buttons)
        self.reload()
        self.verify()

    def reload(self) -> None:
        self.table.clear()
        try:
            entries = audit.entries()
        except MailproofError as err:
            self._show(str(err), ok=False)
            return
        for entry in reversed(entries):
            item = QTreeWidgetItem(
                [
                    str(entry.get("seq", "")),
                    str(entry.get("time") or "")[:19].replace("T", " "),
                    str(entry.get("user") or ""),
                    str(entry.get("action") or ""),
                    _object_text(entry.get("object")),
                    str(entry.get("result") or ""),
                ]
            )
            item.setToolTip(4, _object_text(entry.get("detail")))
            self.table.addTopLevelItem(item)

    def verify(self) -> None:
        try:
            check = audit.verify()
        except MailproofError as err:
            self._show(str(err), ok=False)
            return
        if check.ok:
            text = f"Hash chain intact: {check.entries} entries."
            if check.notes:
                text += " " + " ".join(n[:1].upper() + n[1:] + "." for n in check.notes)
            self._show(text, ok=True)
        else:
            self._show(f"The audit log was altered: {check.problem}.", ok=False)

    def _show(self, text: str, ok: bool) -> None:
        self.check_label.setStyleSheet(OK_STYLE if ok else ERROR_STYLE)
        self.check_label.setText(text)
