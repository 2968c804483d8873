"""The session lock and the keys: the idle lock and lock screen, unlocking the encrypted file
keyring, and importing the demo identity on the first demo run."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QInputDialog,
    QLineEdit,
    QMainWindow,
    QStackedWidget,
    QToolBar,
)

from app import audit, secrets
from app.crypto.demo import ensure_demo_identity
from app.crypto.keys import has_secret_keys
from app.tasks import CancelToken, Progress
from ui.lock import IdleWatcher, LockScreen
from ui.navigation import Navigation
from ui.reader import Banner
from ui.search_controller import SearchController
from ui.sync_controller import SyncController
from ui.worker import Worker, alive


class LockController(QObject):
    keyring_unlocked = Signal()  # the master password opened the encrypted file keyring
    demo_keys_ready = Signal()  # the demo identity was imported on the first demo run

    def __init__(
        self,
        main: QMainWindow,
        pages: QStackedWidget,
        lock_screen: LockScreen,
        navigation: Navigation,
        search: SearchController,
        sync: SyncController,
        error_banner: Banner,
    ) -> None:
        super().__init__(main)
        self.main = main
        self.pages = pages
        self.lock_screen = lock_screen
        self.navigation = navigation
        self.search = search
        self.sync = sync
        self.error_banner = error_banner
        lock_screen.unlocked.connect(self._unlocked)
        self.lock_timer = QTimer(self)
        self.lock_timer.setSingleShot(True)
        self.lock_timer.setInterval(secrets.lock_minutes() * 60_000)
        self.lock_timer.timeout.connect(lambda: self.lock("idle"))
        self._idle = IdleWatcher(self.lock_timer)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self._idle)
        if self.lock_timer.interval() > 0:
            self.lock_timer.start()

    @property
    def locked(self) -> bool:
        return self.pages.currentWidget() is self.lock_screen

    def lock(self, reason: str = "manual") -> None:
        """Hide all mail, drop what was shown and the unlocked keyring, ask to unlock."""
        if self.locked:
            return
        self.lock_timer.stop()
        self.navigation.reader.clear()
        self.search.index.drop_private()
        self.search.search_panel.show_error("Locked.")
        self.navigation.delivery.set_message(None)
        self.sync.stop_watchers()
        secrets.lock()
        self._enable_chrome(False)
        self.lock_screen.prepare()
        self.pages.setCurrentWidget(self.lock_screen)
        audit.record("app locked", {"window": "main"}, reason=reason)

    def _enable_chrome(self, enabled: bool) -> None:
        self.main.menuBar().setEnabled(enabled)
        for toolbar in self.main.findChildren(QToolBar):
            toolbar.setEnabled(enabled)

    def _unlocked(self) -> None:
        self.pages.setCurrentIndex(0)
        self._enable_chrome(True)
        if self.lock_timer.interval() > 0:
            self.lock_timer.start()
        self.sync.start_watchers()
        self.navigation.show_selected()
        if has_secret_keys():
            self.search.build_private_index()

    def set_lock_minutes(self, minutes: int) -> None:
        self.lock_timer.stop()
        self.lock_timer.setInterval(minutes * 60_000)
        if minutes > 0:
            self.lock_timer.start()

    def unlock_keyring(self, master: str | None = None) -> None:
        """Ask for the encrypted keyring's master password; check it in a worker (Argon2 takes
        a moment), then start watching the accounts."""
        if not secrets.is_locked():
            self.sync.start_watchers()
            return
        if master is None:
            text, ok = QInputDialog.getText(
                self.main,
                "Unlock keyring",
                "Master password of Mailproof's encrypted keyring\n"
                f"({secrets.file_keyring_path()}):",
                QLineEdit.EchoMode.Password,
            )
            if not ok:
                self.error_banner.show_text(
                    "The encrypted keyring is locked: IMAP accounts cannot sync until it is "
                    "unlocked (File → Unlock keyring…)."
                )
                return
            master = text

        def job(_progress: Progress, _cancel: CancelToken) -> bool:
            secrets.unlock(master)
            return True

        worker = Worker(job, "Unlocking the keyring")
        worker.signals.result.connect(lambda _ok: self._keyring_unlocked())
        worker.signals.error.connect(
            lambda text: self.error_banner.show_text(f"The keyring stays locked: {text}")
        )
        self.main.statusBar().showMessage("Unlocking the keyring…")
        worker.start()

    def _keyring_unlocked(self) -> None:
        self.error_banner.show_text("")
        self.main.statusBar().showMessage("Keyring unlocked", 5000)
        self.keyring_unlocked.emit()
        self.sync.start_watchers()
        if has_secret_keys():
            self.search.build_private_index()

    def prepare_demo_identity(self) -> None:
        """First demo run: import the published demo keys, so the demo's encrypted and signed
        samples open; without a usable keyring the samples say why they cannot be read."""

        def job(_progress: Progress, _cancel: CancelToken) -> list[str]:
            return ensure_demo_identity()

        worker = Worker(job, "Importing the demo keys")

        def done(imported: list[str]) -> None:
            if not alive(self) or not imported:
                return
            self.main.statusBar().showMessage(
                "Imported the demo identity (Dr. Lena Hartmann's published demo keys) "
                "into the keyring; see File → Keys…",
                10000,
            )
            self.navigation.show_selected()
            self.demo_keys_ready.emit()
            self.search.build_private_index()

        def failed(message: str) -> None:
            if alive(self):
                self.error_banner.show_text(
                    f"The demo keys could not be imported ({message}); the demo's encrypted "
                    "samples cannot be opened."
                )

        worker.signals.result.connect(done)
        worker.signals.error.connect(failed)
        worker.start()

    def stop(self) -> None:
        """Window closing: no idle lock any more."""
        self.lock_timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._idle)
