"""Moving through the mail: the folder tree, the message list, the message on screen, importing
a source, and the window's one long job (its progress, Cancel and status line)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QTableView,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
)

from app import audit
from app.config import demo_archive
from app.crypto.secure import is_protected, read_secure
from app.crypto.verdict import SecureReading
from app.mime.render import RenderedMessage, attachment_bytes, render
from app.sources import open_source
from app.store.library import IngestReport, Library, local_account
from app.tasks import CancelToken, Progress
from ui.delivery import DeliveryView
from ui.models import MessageListModel
from ui.qt import top_items
from ui.reader import Banner, MessageView
from ui.search import EscapeKey
from ui.worker import JobSlot, Worker, alive

Opened = tuple[bytes, RenderedMessage, dict[str, bytes], SecureReading | None]

PROGRESS_DELAY_MS = 300
LIST_REFRESH_MS = 500  # while an import runs, the list is refreshed at most twice a second
FOLDER_ORDER = {
    "\\Inbox": 0,
    "\\Sent": 2,
    "\\Drafts": 1,
    "\\Archive": 3,
    "\\Backup": 4,
    "\\Junk": 5,
    "\\Trash": 6,
}


def account_label(account: str) -> str:
    if account.startswith("local:"):
        path = Path(account[len("local:") :])
        return "Demo archive" if path == demo_archive().resolve() else f"{path.name} (local)"
    return account


class Navigation(QObject):
    ready = Signal()  # the first load finished and its first message is on screen (or none)
    stored = Signal()  # new mail reached the store: the search index should catch up
    folder_selected = Signal()  # another folder is shown
    job_cancelled = Signal()  # the long job was cancelled

    def __init__(
        self,
        library: Library,
        main: QMainWindow,
        folders: QTreeWidget,
        table: QTableView,
        model: MessageListModel,
        reader: MessageView,
        delivery: DeliveryView,
        message_tabs: QTabWidget,
        filter_edit: QLineEdit,
        error_banner: Banner,
        status_label: QLabel,
        progress: QProgressBar,
        cancel_button: QPushButton,
    ) -> None:
        super().__init__(main)
        self.library = library
        self.main = main
        self.folders = folders
        self.table = table
        self.model = model
        self.reader = reader
        self.delivery = delivery
        self.message_tabs = message_tabs
        self.filter_edit = filter_edit
        self.error_banner = error_banner
        self.status_label = status_label
        self.progress = progress
        self.cancel_button = cancel_button
        self.job: Worker | None = None  # the long job (an import or a sync) shown with Cancel
        self._messages = JobSlot(self)  # opening the selected message
        self._current_account: str | None = None
        self._ready_sent = False
        self._loading_source = False
        self._select_new_account = False

        folders.currentItemChanged.connect(self._folder_changed)
        table.selectionModel().selectionChanged.connect(self._selection_changed)
        table.activated.connect(lambda _index: reader.body.setFocus())
        message_tabs.currentChanged.connect(self._tab_changed)
        cancel_button.clicked.connect(self.cancel_job)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(200)
        self._filter_timer.timeout.connect(lambda: model.set_filter(filter_edit.text()))
        filter_edit.textChanged.connect(lambda _t: self._filter_timer.start())
        self._escape = EscapeKey(filter_edit, self.leave_filter)
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.timeout.connect(self._show_progress)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(LIST_REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh_list)

    # -- opening sources --------------------------------------------------------------------
    def ask_open_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self.main, "Import a Maildir or a folder of .eml files"
        )
        if path:
            self.open_path(Path(path))

    def ask_open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.main, "Import an mbox or .eml file")
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> None:
        """Show what the store already has of ``path`` now; bring it up to date in a worker."""
        self.error_banner.show_text("")
        resolved = path.expanduser().resolve()
        self._current_account = local_account(resolved)
        self._select_new_account = True
        self.reload_folders()
        self._loading_source = True

        def job(progress: Progress, cancel: CancelToken) -> IngestReport:
            source = open_source(resolved)
            self._current_account = local_account(source.root)
            return self.library.ingest(source, progress, cancel)

        self.run_job(job, f"Reading {resolved.name or resolved}", self._ingest_done)

    def _ingest_done(self, report: IngestReport) -> None:
        self._loading_source = False
        self._refresh_timer.stop()
        self.reload_folders()
        self.refresh_list()
        self.stored.emit()
        message = f"{report.added} new message(s), {report.known} already stored"
        if report.problems:
            message += f"; {len(report.problems)} problem(s) in the source"
            self.error_banner.show_text(
                f"{len(report.problems)} message(s) have problems; they are shown as well as "
                f"they can be. First: {report.problems[0]}"
            )
        self.main.statusBar().showMessage(message, 10000)
        self._maybe_ready()

    # -- long work --------------------------------------------------------------------------
    def run_job(self, job: Any, label: str, on_result: Any) -> None:
        if self.job is not None:
            self.job.cancel()
        worker = Worker(job, label)
        self.job = worker
        self.progress.setRange(0, 0)
        self.status_label.setText(label + "…")
        worker.signals.progress.connect(self._on_progress)
        worker.signals.result.connect(on_result)
        worker.signals.error.connect(self._job_failed)
        worker.signals.cancelled.connect(self._job_cancelled)
        worker.signals.finished.connect(lambda: self._job_finished(worker))
        self._progress_timer.start(PROGRESS_DELAY_MS)
        worker.start()

    def cancel_job(self) -> None:
        if self.job is not None:
            self.job.cancel()
            self.status_label.setText("Cancelling…")

    def _show_progress(self) -> None:
        if self.job is not None:
            self.progress.show()
            self.cancel_button.show()

    def _on_progress(self, done: int, total: int) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        if self.job is not None:
            self.status_label.setText(
                f"{self.job.name}… {done}" + (f" of {total}" if total else "")
            )
        if self._select_new_account or self.model.folder_id is None:
            self.reload_folders()
        elif not self.model.rowCount():
            self.refresh_list()  # the first rows: show them now
        elif not self._refresh_timer.isActive():
            self._refresh_timer.start()

    def refresh_list(self) -> None:
        """Take in newly stored messages, keeping the selected message selected."""
        selected = self.model.sha256_at(self.table.currentIndex().row())
        self.model.refresh_total()
        row = self.model.row_of(selected) if selected else None
        if row is not None:
            self.table.selectionModel().blockSignals(True)
            self.table.selectRow(row)
            self.table.selectionModel().blockSignals(False)
            self.table.viewport().update()
        elif self.model.rowCount() and not self.table.selectionModel().hasSelection():
            self.table.selectRow(0)

    def _job_failed(self, message: str) -> None:
        self._loading_source = False
        self.error_banner.show_text(message)
        self.main.statusBar().showMessage(message, 15000)
        self._maybe_ready()

    def _job_cancelled(self) -> None:
        self.job_cancelled.emit()
        self._loading_source = False
        self.main.statusBar().showMessage(
            "Cancelled; messages read before the cancel are kept.", 10000
        )
        self.reload_folders()
        self.stored.emit()
        self._maybe_ready()

    def _job_finished(self, worker: Worker) -> None:
        if self.job is worker:
            self.job = None
            self._progress_timer.stop()
            self.progress.hide()
            self.cancel_button.hide()
            self._update_status()

    # -- folders and messages ---------------------------------------------------------------
    def reload_folders(self) -> None:
        selected = None if self._select_new_account else self._selected_folder_id()
        self.folders.blockSignals(True)
        self.folders.clear()
        by_account: dict[str, QTreeWidgetItem] = {}
        target: QTreeWidgetItem | None = None
        infos = sorted(
            self.library.folders(),
            key=lambda f: (f.account, FOLDER_ORDER.get(f.special_use or "", 3), f.name.lower()),
        )
        for info in infos:
            parent = by_account.get(info.account)
            if parent is None:
                parent = QTreeWidgetItem([account_label(info.account)])
                parent.setToolTip(0, info.account)
                self.folders.addTopLevelItem(parent)
                by_account[info.account] = parent
            label = info.name + (f"  ({info.unread})" if info.unread else "")
            item = QTreeWidgetItem([label])
            item.setData(0, Qt.ItemDataRole.UserRole, info.id)
            item.setToolTip(0, f"{info.total} message(s), {info.unread} unread")
            parent.addChild(item)
            if info.id == selected or (
                target is None and selected is None and info.account == self._current_account
            ):
                target = item
        self.folders.expandAll()
        self.folders.blockSignals(False)
        if target is not None:
            if self._select_new_account and target.data(0, Qt.ItemDataRole.UserRole) is not None:
                self._select_new_account = False
            self.folders.setCurrentItem(target)
            if target.data(0, Qt.ItemDataRole.UserRole) != self.model.folder_id:
                self._folder_changed(target, None)

    def show_stored(self) -> None:
        """Start-up without a path: show what the store has (synced accounts, earlier sources)."""
        self.reload_folders()
        tops = top_items(self.folders)
        if self.folders.currentItem() is None and tops and tops[0].childCount():
            first = tops[0].child(0)
            if first is not None:
                self.folders.setCurrentItem(first)

    def _selected_folder_id(self) -> int | None:
        item = self.folders.currentItem()
        value = item.data(0, Qt.ItemDataRole.UserRole) if item else None
        return int(value) if value is not None else None

    def _folder_changed(self, current: QTreeWidgetItem | None, _previous: Any) -> None:
        folder_id = current.data(0, Qt.ItemDataRole.UserRole) if current else None
        self.model.set_folder(int(folder_id) if folder_id is not None else None)
        self.folder_selected.emit()
        self.reader.clear()
        self.delivery.set_message(None)
        if self.model.rowCount():
            self.table.selectRow(0)
        self._update_status()

    def _update_status(self) -> None:
        if self.job is not None:
            return
        item = self.folders.currentItem()
        if item is None or self.model.folder_id is None:
            self.status_label.setText("No folder selected")
            return
        shown = f"{self.model.total} message(s)"
        if self.model.filter_text:
            shown += f" matching “{self.model.filter_text}”"
        self.status_label.setText(f"{item.text(0)} — {shown}")

    def _selection_changed(self, selected: QItemSelection, _deselected: QItemSelection) -> None:
        indexes = selected.indexes()
        if not indexes:
            return
        sha256 = self.model.sha256_at(indexes[0].row())
        if sha256:
            self.show_message(sha256)

    def show_selected(self) -> None:
        """Open the selected message again (the keys to read it may have arrived)."""
        row = self.table.currentIndex().row()
        sha256 = self.model.sha256_at(row) if row >= 0 else None
        if sha256:
            self.show_message(sha256)

    def show_message(self, sha256: str) -> None:
        library = self.library

        def job(_progress: Progress, _cancel: CancelToken) -> Opened:
            raw = library.raw(sha256)
            reading = read_secure(raw) if is_protected(raw) else None
            shown = reading.content if reading is not None else raw
            rendered = render(shown)
            audit.record(
                "message viewed", {"sha256": sha256, "message_id": rendered.header("Message-ID")}
            )
            inline = {
                a.content_id: attachment_bytes(shown, a.index)
                for a in rendered.attachments
                if a.content_id and a.content_type.startswith("image/") and a.size < 5_000_000
            }
            return raw, rendered, inline, reading

        def done(result: Opened) -> None:
            self.reader.show_message(*result)
            self.delivery.set_message(result[0])
            if self.message_tabs.currentWidget() is self.delivery:
                self.delivery.refresh()
            self._maybe_ready()

        def failed(message: str) -> None:
            self.reader.show_error(f"This message cannot be shown: {message}")
            self._maybe_ready()

        worker = self._messages.start(job, "Opening message", done, failed)

        def still_opening() -> None:
            if alive(self) and self._messages.current is worker:
                self.reader.clear("Opening message…")

        QTimer.singleShot(PROGRESS_DELAY_MS, still_opening)

    def _maybe_ready(self) -> None:
        if self._ready_sent or self._loading_source:
            return
        if (
            self.model.rowCount()
            and self.reader.rendered is None
            and not self.reader.warning_banner.text()
        ):
            return  # the first message is still being opened
        self._ready_sent = True
        self.ready.emit()

    def _tab_changed(self, _index: int) -> None:
        if self.message_tabs.currentWidget() is self.delivery:
            self.delivery.refresh()  # the trace (DNS) runs only when someone looks

    def focus_filter(self) -> None:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()

    def leave_filter(self) -> None:
        self.filter_edit.clear()
        self.table.setFocus()

    def move_selection(self, step: int) -> None:
        if self.model.rowCount() == 0:
            return
        current = self.table.currentIndex().row()
        target = max(0, min(self.model.rowCount() - 1, (current if current >= 0 else -1) + step))
        while target >= self.model.rowCount() and self.model.canFetchMore():
            self.model.fetchMore()
        self.table.selectRow(target)

    def stop(self) -> None:
        """Window closing: cancel the long job (what it stored so far stays)."""
        if self.job is not None:
            self.job.cancel()
