"""The main window: folders · message list · message view, with one worker for long work."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, QThreadPool, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QToolBar,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app import audit, secrets
from app.accounts import sync_accounts
from app.config import demo_archive
from app.crypto.demo import ensure_demo_identity
from app.crypto.keys import has_secret_keys
from app.crypto.secure import is_protected, load_key_material, read_secure
from app.crypto.verdict import SecureReading
from app.errors import MailproofError
from app.imap.account import Account
from app.imap.account import load as load_account
from app.imap.account import load_all as load_accounts
from app.imap.flags import change_flags, imap_account_of
from app.imap.idle import watch
from app.imap.sync import SyncReport
from app.mime.render import RenderedMessage, attachment_bytes, render
from app.sources import open_source
from app.store.library import IngestReport, Library, local_account
from app.tasks import CancelToken, Progress
from indexer.index import Hit, MailIndex
from ui.accounts import AccountsDialog
from ui.audit_dialog import AuditDialog
from ui.delivery import DeliveryView
from ui.investigate_dialog import InvestigateDialog
from ui.keys_dialog import KeysDialog
from ui.lock import IdleWatcher, LockScreen, SettingsDialog
from ui.models import MessageListModel
from ui.qt import shortcut, top_items
from ui.reader import Banner, MessageView
from ui.search import EscapeKey, SearchPanel
from ui.sync_panel import SyncPanel
from ui.worker import JobSlot, Worker, alive

log = logging.getLogger(__name__)

Opened = tuple[bytes, RenderedMessage, dict[str, bytes], SecureReading | None]

PROGRESS_DELAY_MS = 300
SEARCH_DELAY_MS = 250  # results as you type, once typing pauses this long
SEARCH_LIMIT = 200
PANEL_LINGER_MS = 5000  # the sync panel stays this long after a sync without problems
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


class MainWindow(QMainWindow):
    ready = Signal()  # the first load finished and its first message is on screen (or none)
    synced = Signal()  # a sync run finished (its result is in the store)
    flags_changed = Signal()  # a flag change reached the server and the store
    keyring_unlocked = Signal()  # the master password opened the encrypted file keyring
    searched = Signal()  # a search's hits (or its error) are on screen
    indexed = Signal()  # a background index update finished
    demo_keys_ready = Signal()  # the demo identity was imported on the first demo run
    private_indexed = Signal(int)  # encrypted messages decrypted into the in-memory index
    folder_progress = Signal(object)  # FolderProgress from a sync worker, to the sync panel

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.library = library
        self.setWindowTitle("Mailproof")
        self.resize(1280, 800)
        self._job: Worker | None = None
        self._messages = JobSlot(self)  # opening the selected message
        self._current_account: str | None = None
        self._ready_sent = False
        self._loading_source = False
        self._select_new_account = False
        self._sync_pending = False
        self._watchers: list[Worker] = []
        self._folder_watcher: Worker | None = None
        self._watched_folder_id: int | None = None
        self._watch_pool = QThreadPool(self)  # long-lived IDLE workers never starve the others
        self.index = MailIndex(library)
        self._searches = JobSlot(self)
        self._index_worker: Worker | None = None
        self._index_again = False

        # panes
        self.folders = QTreeWidget()
        self.folders.setHeaderHidden(True)
        self.folders.setMinimumWidth(180)
        self.folders.currentItemChanged.connect(self._folder_changed)

        self.model = MessageListModel(library)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(22)
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.resizeSection(1, 200)
        header.resizeSection(2, 130)
        header.resizeSection(3, 70)
        header.setSortIndicator(2, Qt.SortOrder.DescendingOrder)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.reader = MessageView()
        self.table.activated.connect(lambda _index: self.reader.body.setFocus())
        self.reader.status.connect(self.statusBar().showMessage)

        self.error_banner = Banner("#f6c6c6")
        self.error_banner.setObjectName("errorBanner")
        self.insecure_banner = Banner("#ffd98a")  # permanent while an account allows insecure
        self.insecure_banner.setObjectName("insecureBanner")

        self.search_panel = SearchPanel()
        self.search_panel.open_message.connect(self.show_message)
        self.search_panel.show_copies.connect(self.show_copies)
        self.search_panel.sort_changed.connect(lambda _sort: self.run_search())
        self.search_panel.closed.connect(self._leave_search)
        self.list_stack = QStackedWidget()
        self.list_stack.addWidget(self.table)
        self.list_stack.addWidget(self.search_panel)
        list_pane = QSplitter(Qt.Orientation.Vertical)
        list_pane.addWidget(self.list_stack)
        self.delivery = DeliveryView(library)
        self.message_tabs = QTabWidget()
        self.message_tabs.addTab(self.reader, "Message")
        self.message_tabs.addTab(self.delivery, "Delivery")
        self.message_tabs.currentChanged.connect(self._tab_changed)
        list_pane.addWidget(self.message_tabs)
        list_pane.setSizes([300, 500])
        main = QSplitter(Qt.Orientation.Horizontal)
        main.addWidget(self.folders)
        main.addWidget(list_pane)
        main.setSizes([220, 1060])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.insecure_banner)
        layout.addWidget(self.error_banner)
        layout.addWidget(main, 1)
        self.sync_panel = SyncPanel()
        self.sync_panel.hide()
        self.folder_progress.connect(self.sync_panel.update_folder)
        layout.addWidget(self.sync_panel)
        self._panel_timer = QTimer(self)
        self._panel_timer.setSingleShot(True)
        self._panel_timer.setInterval(PANEL_LINGER_MS)
        self._panel_timer.timeout.connect(self.sync_panel.hide)
        self.lock_screen = LockScreen()
        self.lock_screen.unlocked.connect(self._unlocked)
        self.pages = QStackedWidget()
        self.pages.addWidget(central)
        self.pages.addWidget(self.lock_screen)
        self.setCentralWidget(self.pages)
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

        self._build_toolbar()
        self._build_menus()
        self._build_statusbar()
        self._build_shortcuts()
        self.refresh_account_warnings()

    # -- chrome -----------------------------------------------------------------------------
    def _build_toolbar(self) -> None:
        toolbar = QToolBar("Main")
        toolbar.setMovable(False)
        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("searchEdit")
        self.search_edit.setPlaceholderText(
            'Search all mail (Ctrl+F or /): words, "phrase", from:, date:2024-01..2024-03, …'
        )
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMinimumWidth(380)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.run_search)
        self.search_edit.textChanged.connect(self._search_text_changed)
        self.search_edit.returnPressed.connect(self.run_search)
        toolbar.addWidget(self.search_edit)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter this folder (Ctrl+Shift+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setMaximumWidth(260)
        self._filter_timer = QTimer(self)
        self._filter_timer.setSingleShot(True)
        self._filter_timer.setInterval(200)
        self._filter_timer.timeout.connect(lambda: self.model.set_filter(self.filter_edit.text()))
        self.filter_edit.textChanged.connect(lambda _t: self._filter_timer.start())
        toolbar.addWidget(self.filter_edit)
        self.thread_action = QAction("Conversations", self)
        self.thread_action.setCheckable(True)
        self.thread_action.setToolTip("Group the list by conversation (References/In-Reply-To)")
        self.thread_action.toggled.connect(self.model.set_threaded)
        toolbar.addAction(self.thread_action)
        self.sync_action = QAction("Sync", self)
        self.sync_action.setShortcut(QKeySequence("F5"))
        self.sync_action.setToolTip("Download new mail of every IMAP account (F5)")
        self.sync_action.triggered.connect(lambda: self.sync_accounts())
        toolbar.addAction(self.sync_action)
        self.addToolBar(toolbar)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        open_folder = file_menu.addAction("Import Maildir or .eml folder…")
        open_folder.triggered.connect(self._ask_open_folder)
        open_file = file_menu.addAction("Import mbox or .eml file…")
        open_file.triggered.connect(self._ask_open_file)
        file_menu.addSeparator()
        file_menu.addAction("Accounts…").triggered.connect(self.open_accounts)
        file_menu.addAction("Keys…").triggered.connect(self.open_keys)
        file_menu.addAction("Unlock keyring…").triggered.connect(lambda: self.unlock_keyring())
        file_menu.addAction(self.sync_action)
        file_menu.addSeparator()
        quit_action = file_menu.addAction("Quit")
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        view_menu = self.menuBar().addMenu("&View")
        view_menu.addAction(self.thread_action)
        view_menu.addAction("Show all headers").triggered.connect(
            self.reader.all_headers_button.toggle
        )
        view_menu.addAction("Show source").triggered.connect(self.reader.source_button.toggle)
        tools_menu = self.menuBar().addMenu("&Tools")
        tools_menu.addAction("Find a missing message…").triggered.connect(self.open_investigation)
        tools_menu.addAction("Audit log…").triggered.connect(self.open_audit)
        tools_menu.addAction("Settings…").triggered.connect(self.open_settings)

    def _build_statusbar(self) -> None:
        self.status_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        self.cancel_button.clicked.connect(self.cancel_job)
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress)
        row.addWidget(self.cancel_button)
        self.statusBar().addWidget(self.status_label, 1)
        # A temporary message replaces the folder line instead of being drawn over it.
        self.statusBar().messageChanged.connect(lambda text: self.status_label.setVisible(not text))
        self.statusBar().addPermanentWidget(holder)
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.timeout.connect(self._show_progress)
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(LIST_REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh_list)

    # -- session lock -----------------------------------------------------------------------
    @property
    def locked(self) -> bool:
        return self.pages.currentWidget() is self.lock_screen

    def lock(self, reason: str = "manual") -> None:
        """Hide all mail, drop what was shown and the unlocked keyring, ask to unlock."""
        if self.locked:
            return
        self.lock_timer.stop()
        self.reader.clear()
        self.index.drop_private()
        self.search_panel.show_error("Locked.")
        self.delivery.set_message(None)
        self.stop_watchers()
        secrets.lock()
        self.menuBar().setEnabled(False)
        for toolbar in self.findChildren(QToolBar):
            toolbar.setEnabled(False)
        self.lock_screen.prepare()
        self.pages.setCurrentWidget(self.lock_screen)
        audit.record("app locked", {"window": "main"}, reason=reason)

    def _unlocked(self) -> None:
        self.pages.setCurrentIndex(0)
        self.menuBar().setEnabled(True)
        for toolbar in self.findChildren(QToolBar):
            toolbar.setEnabled(True)
        if self.lock_timer.interval() > 0:
            self.lock_timer.start()
        self.start_watchers()
        row = self.table.currentIndex().row()
        sha256 = self.model.sha256_at(row) if row >= 0 else None
        if sha256:
            self.show_message(sha256)
        if has_secret_keys():
            self.build_private_index()

    def _build_shortcuts(self) -> None:
        shortcut("Ctrl+L", self, lambda: self.lock("manual"))
        for key in ("Ctrl+F", "/"):
            shortcut(key, self, self._focus_search)
        shortcut("Ctrl+Shift+F", self, self._focus_filter)
        self._escapes = [
            EscapeKey(self.search_edit, self._leave_search),
            EscapeKey(self.filter_edit, self._leave_filter),
        ]
        shortcut("M", self.table, lambda: self.toggle_flag("\\Seen"))
        shortcut("S", self.table, lambda: self.toggle_flag("\\Flagged"))
        shortcut("J", self, lambda: self.move_selection(1))
        shortcut("K", self, lambda: self.move_selection(-1))

    def _focus_search(self) -> None:
        self.search_edit.setFocus()
        self.search_edit.selectAll()

    # -- search -----------------------------------------------------------------------------
    def _search_text_changed(self, text: str) -> None:
        if not text.strip():
            self._search_timer.stop()
            self._cancel_search()
            self.list_stack.setCurrentWidget(self.table)
            return
        self._cancel_search()  # the old query's answer is no longer wanted
        self._search_timer.start()

    def _cancel_search(self) -> None:
        self._searches.cancel()

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
            for notice in self.index.notices:
                self.error_banner.show_text(notice)
            self.index.notices.clear()
            self.searched.emit()

        def failed(message: str) -> None:
            self.search_panel.show_error(message)
            self.searched.emit()

        self._searches.start(job, "Searching", done, failed)

    def _leave_search(self) -> None:
        self._cancel_search()
        self.search_edit.clear()
        self.list_stack.setCurrentWidget(self.table)
        self.table.setFocus()

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
        box = QMessageBox(self)
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
            if self.locked:
                index.drop_private()
                return
            self.private_indexed.emit(count)
            if self.search_edit.text().strip():
                self.run_search()

        worker.signals.result.connect(done)

        def not_searchable(message: str) -> None:
            if alive(self):
                self.statusBar().showMessage(f"Encrypted mail not searchable: {message}", 10000)

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
            for notice in self.index.notices:
                self.error_banner.show_text(notice)
            self.index.notices.clear()
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

    def _focus_filter(self) -> None:
        self.filter_edit.setFocus()
        self.filter_edit.selectAll()

    def _leave_filter(self) -> None:
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

    # -- IMAP accounts ----------------------------------------------------------------------
    def open_accounts(self) -> AccountsDialog:
        dialog = AccountsDialog(self.library, parent=self)
        dialog.finished.connect(self._accounts_closed)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _tab_changed(self, _index: int) -> None:
        if self.message_tabs.currentWidget() is self.delivery:
            self.delivery.refresh()  # the trace (DNS) runs only when someone looks

    def open_investigation(self) -> InvestigateDialog:
        dialog = InvestigateDialog(self.library, parent=self)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def open_audit(self) -> AuditDialog:
        dialog = AuditDialog(parent=self)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def open_settings(self) -> SettingsDialog:
        dialog = SettingsDialog(self)
        dialog.changed.connect(self.set_lock_minutes)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def set_lock_minutes(self, minutes: int) -> None:
        self.lock_timer.stop()
        self.lock_timer.setInterval(minutes * 60_000)
        if minutes > 0:
            self.lock_timer.start()

    def open_keys(self) -> KeysDialog:
        dialog = KeysDialog(parent=self)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def _accounts_closed(self, _result: int) -> None:
        self.reload_folders()
        self.refresh_account_warnings()
        self.start_watchers()

    def sync_accounts(
        self, names: list[str] | None = None, folders: list[str] | None = None
    ) -> None:
        """Sync accounts (all by default) in the worker, with progress and Cancel."""
        if self._job is not None and self._job.name.startswith("Syncing"):
            self._sync_pending = True  # one sync at a time; run again when it ends
            return
        library = self.library
        report_folder = self.folder_progress.emit  # a signal: safe to emit from the worker
        self._panel_timer.stop()
        self.sync_panel.start_over()
        self.sync_panel.setVisible(folders is None)  # not for the IDLE-triggered INBOX syncs

        def job(progress: Progress, cancel: CancelToken) -> list[SyncReport]:
            synced = sync_accounts(
                library,
                names,
                only_folders=folders,
                progress_for=lambda _account: progress,
                on_folder=report_folder,
                cancel=cancel,
            )
            return [report for _account, report in synced]

        self.run_job(job, "Syncing mail", self._sync_done)

    def _sync_done(self, reports: list[SyncReport]) -> None:
        self.reload_folders()
        self.refresh_list()
        self.update_index()
        new = sum(f.new for r in reports for f in r.folders)
        errors = [
            f"{r.account}/{f.folder}: {f.error}" for r in reports for f in r.folders if f.error
        ]
        if errors:
            self.error_banner.show_text("Sync problems: " + "; ".join(errors[:3]))
        else:
            self.error_banner.show_text("")
            self._panel_timer.start()
        self.statusBar().showMessage(f"Sync finished: {new} new message(s)", 10000)
        self.synced.emit()
        if self._sync_pending:
            self._sync_pending = False
            QTimer.singleShot(0, self.sync_accounts)

    def toggle_flag(self, flag: str) -> None:
        """M: read/unread, S: flag — on the server for synced mail (local sources are read-only)."""
        row_index = self.table.currentIndex().row()
        if not 0 <= row_index < len(self.model.rows):
            return
        row = self.model.rows[row_index]
        account_name = imap_account_of(self.library, row.copy_id)
        if account_name is None:
            self.statusBar().showMessage(
                "Local archives are read-only: flags are not changed", 5000
            )
            return
        turn_on = flag not in row.flags.split()
        library = self.library

        def job(_progress: Progress, _cancel: CancelToken) -> str:
            account = load_account(library, account_name)
            return change_flags(
                library,
                account,
                secrets.get_password(account_name),
                row.copy_id,
                add=[flag] if turn_on else [],
                remove=[] if turn_on else [flag],
            )

        worker = Worker(job, "Changing flags")
        worker.signals.result.connect(lambda _flags: self._flags_changed())
        worker.signals.error.connect(lambda text: self.error_banner.show_text(text))
        worker.start()

    def _flags_changed(self) -> None:
        self.refresh_list()
        self.reload_folders()  # unread counts
        self.update_index()
        self.flags_changed.emit()

    def start_watchers(self) -> None:
        """IDLE on each account's INBOX (and the selected IMAP folder) while the window is open;
        a change triggers a sync of that folder."""
        self.stop_watchers()
        try:
            accounts = load_accounts(self.library)
        except MailproofError:
            return
        self._watch_pool.setMaxThreadCount(len(accounts) + 1)
        self._watchers = [self._watch(account, "INBOX") for account in accounts]
        self._watch_selected_folder()

    def _watch(self, account: Account, folder: str) -> Worker:
        def job(progress: Progress, cancel: CancelToken) -> None:
            watch(
                account,
                secrets.get_password(account.name),
                folder,
                on_change=lambda: progress(1, 0),
                cancel=cancel,
                on_status=log.info,
            )

        worker = Worker(job, f"Watching {account.name}/{folder}")
        worker.signals.progress.connect(lambda _d, _t: self.sync_accounts([account.name], [folder]))
        worker.signals.error.connect(lambda text: log.info("watch ended: %s", text))
        worker.start(self._watch_pool)
        return worker

    def _watch_selected_folder(self) -> None:
        """IDLE on the selected folder too when it is an IMAP folder other than INBOX."""
        folder_id = self.model.folder_id
        if self._folder_watcher is not None and self._watched_folder_id == folder_id:
            return  # the folder pane was only redrawn
        if self._folder_watcher is not None:
            self._folder_watcher.cancel()
            self._folder_watcher = None
        self._watched_folder_id = folder_id
        if not self._watchers or folder_id is None:
            return  # watching is off (no accounts, or the window is closing)
        where = self.library.imap_folder(folder_id)
        if where is None or where[1].upper() == "INBOX":
            return
        try:
            account = load_account(self.library, where[0])
        except MailproofError:
            return  # the account was removed; its folders stay as evidence
        self._folder_watcher = self._watch(account, where[1])

    @property
    def watched(self) -> list[str]:
        """What is being watched now, ``account/folder`` (for the status bar and tests)."""
        workers = [*self._watchers, *([self._folder_watcher] if self._folder_watcher else [])]
        return [w.name.removeprefix("Watching ") for w in workers]

    def stop_watchers(self) -> None:
        for worker in [*self._watchers, *([self._folder_watcher] if self._folder_watcher else [])]:
            worker.cancel()
        self._watchers = []
        self._folder_watcher = None

    def unlock_keyring(self, master: str | None = None) -> None:
        """Ask for the encrypted keyring's master password; check it in a worker (Argon2 takes
        a moment), then start watching the accounts."""
        if not secrets.is_locked():
            self.start_watchers()
            return
        if master is None:
            text, ok = QInputDialog.getText(
                self,
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
        self.statusBar().showMessage("Unlocking the keyring…")
        worker.start()

    def _keyring_unlocked(self) -> None:
        self.error_banner.show_text("")
        self.statusBar().showMessage("Keyring unlocked", 5000)
        self.keyring_unlocked.emit()
        self.start_watchers()
        if has_secret_keys():
            self.build_private_index()

    def refresh_account_warnings(self) -> None:
        """The permanent banner naming every account that allows insecure connections."""
        try:
            warnings = [a.warning for a in load_accounts(self.library) if a.warning]
        except MailproofError as err:
            warnings = [f"the IMAP accounts cannot be read: {err}"]
        self.insecure_banner.show_text("\n".join(w[:1].upper() + w[1:] for w in warnings))

    # -- opening sources --------------------------------------------------------------------
    def _ask_open_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, "Import a Maildir or a folder of .eml files")
        if path:
            self.open_path(Path(path))

    def _ask_open_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import an mbox or .eml file")
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
        self.update_index()
        message = f"{report.added} new message(s), {report.known} already stored"
        if report.problems:
            message += f"; {len(report.problems)} problem(s) in the source"
            self.error_banner.show_text(
                f"{len(report.problems)} message(s) have problems; they are shown as well as "
                f"they can be. First: {report.problems[0]}"
            )
        self.statusBar().showMessage(message, 10000)
        self._maybe_ready()

    # -- long work --------------------------------------------------------------------------
    def run_job(self, job: Any, label: str, on_result: Any) -> None:
        if self._job is not None:
            self._job.cancel()
        worker = Worker(job, label)
        self._job = worker
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
        if self._job is not None:
            self._job.cancel()
            self.status_label.setText("Cancelling…")

    def _show_progress(self) -> None:
        if self._job is not None:
            self.progress.show()
            self.cancel_button.show()

    def _on_progress(self, done: int, total: int) -> None:
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
        if self._job is not None:
            self.status_label.setText(
                f"{self._job.name}… {done}" + (f" of {total}" if total else "")
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
        self.statusBar().showMessage(message, 15000)
        self._maybe_ready()

    def _job_cancelled(self) -> None:
        self._panel_timer.start()
        self._loading_source = False
        self.statusBar().showMessage("Cancelled; messages read before the cancel are kept.", 10000)
        self.reload_folders()
        self.update_index()
        self._maybe_ready()

    def _job_finished(self, worker: Worker) -> None:
        if self._job is worker:
            self._job = None
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

    def prepare_demo_identity(self) -> None:
        """First demo run: import the published demo keys, so the demo's encrypted and signed
        samples open; without a usable keyring the samples say why they cannot be read."""

        def job(_progress: Progress, _cancel: CancelToken) -> list[str]:
            return ensure_demo_identity()

        worker = Worker(job, "Importing the demo keys")

        def done(imported: list[str]) -> None:
            if not alive(self) or not imported:
                return
            self.statusBar().showMessage(
                "Imported the demo identity (Dr. Lena Hartmann's published demo keys) "
                "into the keyring; see File → Keys…",
                10000,
            )
            row = self.table.currentIndex().row()
            sha256 = self.model.sha256_at(row) if row >= 0 else None
            if sha256:
                self.show_message(sha256)
            self.demo_keys_ready.emit()
            self.build_private_index()

        def failed(message: str) -> None:
            if alive(self):
                self.error_banner.show_text(
                    f"The demo keys could not be imported ({message}); the demo's encrypted "
                    "samples cannot be opened."
                )

        worker.signals.result.connect(done)
        worker.signals.error.connect(failed)
        worker.start()

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
        self._watch_selected_folder()
        self.reader.clear()
        self.delivery.set_message(None)
        if self.model.rowCount():
            self.table.selectRow(0)
        self._update_status()

    def _update_status(self) -> None:
        if self._job is not None:
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

    def closeEvent(self, event: QCloseEvent) -> None:
        """Quitting cancels an import; what it stored so far stays, nothing is half-written."""
        self.lock_timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self._idle)
        self.stop_watchers()
        self._watch_pool.waitForDone(5000)
        for worker in (self._job, self._index_worker):
            if worker is not None:
                worker.cancel()
        self._searches.cancel()
        QThreadPool.globalInstance().waitForDone(10000)
        super().closeEvent(event)
