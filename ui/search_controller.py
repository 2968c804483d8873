"""Searching all mail: the search bar, the results panel, and the search index it reads (kept in
step with the store; encrypted mail decrypted into memory while the keys are unlocked)."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel, QLineEdit, QMainWindow, QMessageBox, QStackedWidget, QWidget

from app.crypto.secure import load_key_material
from app.store.library import Library
from app.tasks import CancelToken, Progress
from indexer.index import Hit, MailIndex
from ui.navigation import account_label
from ui.reader import Banner
from ui.search import EscapeKey, SearchPanel
from ui.worker import JobSlot, Worker, alive

SEARCH_DELAY_MS = 250  # results as you type, once typing pauses this long
SEARCH_LIMIT = 200


class SearchController(QObject):
    searched = Signal()  # a search's hits (or its error) are on screen
    indexed = Signal()  # a background index update finished
    private_indexed = Signal(int)  # encrypted messages decrypted into the in-memory index

    def __init__(
        self,
        library: Library,
        main: QMainWindow,
        search_edit: QLineEdit,
        search_panel: SearchPanel,
        list_stack: QStackedWidget,
        message_list: QWidget,
        error_banner: Banner,
        status_label: QLabel,
        locked: Callable[[], bool],
    ) -> None:
        super().__init__(main)
        self.library = library
        self.main = main
        self.search_edit = search_edit
        self.search_panel = search_panel
        self.list_stack = list_stack
        self.message_list = message_list
        self.error_banner = error_banner
        self.status_label = status_label
        self.locked = locked
        self.index = MailIndex(library)
        self._searches = JobSlot(self)
        self._index_worker: Worker | None = None
        self._index_again = False
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.run_search)
        search_edit.textChanged.connect(self._search_text_changed)
        search_edit.returnPressed.connect(self.run_search)
        search_panel.show_copies.connect(self.show_copies)
        search_panel.sort_changed.connect(lambda _sort: self.run_search())
        search_panel.closed.connect(self.leave_search)
        self._escape = EscapeKey(search_edit, self.leave_search)

    def focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    def _search_text_changed(self, text: str) -> None:
        if not text.strip():
            self._search_timer.stop()
            self._searches.cancel()
            self.list_stack.setCurrentWidget(self.message_list)
            return
        self._searches.cancel()  # the old query's answer is no longer wanted
        self._search_timer.start()

    def run_search(self) -> None:
        """Search every folder in a worker; a newer query cancels this one."""
        text = self.search_edit.text().strip()
        if not text:
            return
        self.list_stack.setCurrentWidget(self.search_panel)
        self.search_panel.searching(text)
        index = self.index
        sort = self.search_panel.sort_key

        def job(_progress: Progress, cancel: CancelToken) -> tuple[list[Hit], int, float]:
            started = time.monotonic()
            hits, total = index.repairing(
                lambda: index.find(text, limit=SEARCH_LIMIT, sort=sort, cancel=cancel),
                cancel=cancel,
            )
            return hits, total, (time.monotonic() - started) * 1000

        def done(result: tuple[list[Hit], int, float]) -> None:
            self.search_panel.set_hits(*result)
            self._show_notices()
            self.searched.emit()

        def failed(message: str) -> None:
            self.search_panel.show_error(message)
            self.searched.emit()

        self._searches.start(job, "Searching", done, failed)

    def _show_notices(self) -> None:
        for notice in self.index.notices:
            self.error_banner.show_text(notice)
        self.index.notices.clear()

    def leave_search(self) -> None:
        self._searches.cancel()
        self.search_edit.clear()
        self.list_stack.setCurrentWidget(self.message_list)
        self.message_list.setFocus()

    def show_copies(self, sha256: str) -> QMessageBox:
        """Every stored copy of the message: account, folder, UID, flags, where it came from."""
        lines = []
        for copy in self.library.lookup.copies_of(sha256):
            place = f"{account_label(copy.account)} / {copy.folder}"
            details = []
            if copy.uid is not None:
                details.append(f"UID {copy.uid}")
            if copy.source_path:
                details.append(str(copy.source_path))
            if copy.flags:
                details.append(f"flags {copy.flags}")
            if copy.expunged_at:
                details.append(f"gone since {copy.expunged_at}")
            lines.append(f"• {place}" + (f" — {', '.join(details)}" if details else ""))
        box = QMessageBox(self.main)
        box.setWindowTitle("All copies of this message")
        box.setText(f"{len(lines)} stored cop{'y' if len(lines) == 1 else 'ies'}:")
        box.setInformativeText("\n".join(lines) or "none")
        box.setDetailedText(f"SHA-256 {sha256}")
        box.setModal(False)
        box.show()
        return box

    def build_private_index(self) -> None:
        """While the keys are unlocked: decrypt the stored encrypted messages in memory and
        index them there, so search finds words inside them; the lock drops it again."""
        index = self.index

        def job(progress: Progress, cancel: CancelToken) -> int:
            return index.build_private(load_key_material, progress, cancel)

        worker = Worker(job, "Indexing encrypted mail in memory")

        def done(count: int) -> None:
            if not alive(self):
                return
            if self.locked():
                index.drop_private()
                return
            self.private_indexed.emit(count)
            if self.search_edit.text().strip():
                self.run_search()

        worker.signals.result.connect(done)

        def not_searchable(message: str) -> None:
            if alive(self):
                self.main.statusBar().showMessage(
                    f"Encrypted mail not searchable: {message}", 10000
                )

        worker.signals.error.connect(not_searchable)
        worker.start()

    def update_index(self) -> None:
        """Bring the search index in step with the store in the background."""
        if self._index_worker is not None:
            self._index_again = True
            return
        index = self.index

        def job(progress: Progress, cancel: CancelToken) -> int:
            return index.update(progress, cancel).indexed

        worker = Worker(job, "Indexing")

        def progressed(done: int, total: int) -> None:
            if total and alive(self):
                self.status_label.setText(f"Indexing for search: {done} of {total}")

        def finished() -> None:
            if not alive(self):
                return
            self._index_worker = None
            self.status_label.setText("")
            self._show_notices()
            self.indexed.emit()
            if self._index_again:
                self._index_again = False
                self.update_index()
            elif self.search_edit.text().strip():
                self.run_search()

        worker.signals.progress.connect(progressed)

        def not_updated(message: str) -> None:
            if alive(self):
                self.error_banner.show_text(f"Search index not updated: {message}")

        worker.signals.error.connect(not_updated)
        worker.signals.finished.connect(finished)
        self._index_worker = worker
        worker.start()

    def stop(self) -> None:
        """Window closing: cancel the search and the index update."""
        if self._index_worker is not None:
            self._index_worker.cancel()
        self._searches.cancel()
