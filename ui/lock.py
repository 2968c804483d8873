"""The session lock: after idle minutes (or Ctrl+L) the window hides all mail, drops what it
showed and the unlocked keyring from memory, and asks for the master password — or for the
OS keyring to unlock — before going on. Both are written to the audit log."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app import audit, secrets, settings
from app.errors import MailproofError
from app.tasks import CancelToken, Progress
from ui.qt import ERROR_STYLE
from ui.worker import Worker

USER_EVENTS = {
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseMove,
    QEvent.Type.Wheel,
}


class LockScreen(QWidget):
    unlocked = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("lockScreen")
        self._worker: Worker | None = None
        title = QLabel("Mailproof is locked")
        title.setStyleSheet("QLabel { font-size: 18pt; }")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setMaximumWidth(320)
        self.password.returnPressed.connect(self.try_unlock)
        self.button = QPushButton("Unlock")
        self.button.clicked.connect(self.try_unlock)
        self.error = QLabel()
        self.error.setStyleSheet(ERROR_STYLE)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        for widget in (title, self.hint, self.password, self.button, self.error):
            layout.addWidget(widget, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(2)

    def prepare(self) -> None:
        file_keyring = secrets.file_keyring_chosen()
        self.password.setVisible(file_keyring)
        self.password.clear()
        self.error.clear()
        self.hint.setText(
            "Enter the master password of the encrypted keyring to continue."
            if file_keyring
            else "Unlock asks your system keyring (it may show its own password prompt)."
        )

    def busy(self) -> bool:
        return self._worker is not None

    def try_unlock(self) -> None:
        if self.busy():
            return
        master = self.password.text()
        file_keyring = secrets.file_keyring_chosen()

        def job(_progress: Progress, _cancel: CancelToken) -> bool:
            try:
                if file_keyring:
                    secrets.unlock(master)
                else:
                    secrets.unlock_os_keyring()
            except Exception:
                audit.record("app unlocked", {"window": "main"}, "failed")
                raise
            audit.record("app unlocked", {"window": "main"})
            return True

        worker = Worker(job, "Unlocking")
        self._worker = worker
        worker.signals.result.connect(lambda _ok: self.unlocked.emit())
        worker.signals.error.connect(lambda text: self.error.setText(f"Still locked: {text}"))
        worker.signals.finished.connect(self._finished)
        self.button.setEnabled(False)
        worker.start()

    def _finished(self) -> None:
        self._worker = None
        self.button.setEnabled(True)
        self.password.clear()


class IdleWatcher(QObject):
    """Restarts ``timer`` on every key press or mouse use anywhere in the application."""

    def __init__(self, timer: QTimer) -> None:
        super().__init__()
        self.timer = timer

    def eventFilter(self, _watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if event.type() in USER_EVENTS and self.timer.interval() > 0:
            self.timer.start()
        return False


class SettingsDialog(QDialog):
    """Tools → Settings…: the idle minutes before the window locks (0 = never)."""

    changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.lock_minutes = QSpinBox()
        self.lock_minutes.setRange(0, 24 * 60)
        self.lock_minutes.setSuffix(" min")
        self.lock_minutes.setSpecialValueText("never")
        self.lock_minutes.setValue(settings.get("lock-minutes"))
        self.error = QLabel()
        self.error.setStyleSheet("QLabel { color: #a00; }")
        form = QFormLayout()
        form.addRow("Lock the window after idle", self.lock_minutes)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def save(self) -> None:
        try:
            value = settings.set_value("lock-minutes", self.lock_minutes.value())
        except MailproofError as err:
            self.error.setText(str(err))
            return
        self.changed.emit(value)
        self.accept()
