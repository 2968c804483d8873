"""The main window: builds folders · message list · message view and the controllers that
drive them (navigation, search, sync, lock), and the window's menus, toolbar and keys."""

from __future__ import annotations

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QToolBar,
    QTreeWidget,
    QVBoxLayout,
    QWidget,
)

from app.store.library import Library
from ui.accounts import AccountsDialog
from ui.audit_dialog import AuditDialog
from ui.commands import Command, build
from ui.delivery import DeliveryView
from ui.investigate_dialog import InvestigateDialog
from ui.keys_dialog import KeysDialog
from ui.lock import LockScreen, SettingsDialog
from ui.lock_controller import LockController
from ui.models import MessageListModel
from ui.navigation import Navigation
from ui.reader import Banner, MessageView
from ui.search import SearchPanel
from ui.search_controller import SearchController
from ui.sync_controller import SyncController
from ui.sync_panel import SyncPanel

MENUS = ("&File", "&View", "&Tools")  # in the menu bar in this order


class MainWindow(QMainWindow):
    ready = Signal()  # the first load finished and its first message is on screen (or none)
    synced = Signal()  # a sync run finished (its result is in the store)
    flags_changed = Signal()  # a flag change reached the server and the store
    keyring_unlocked = Signal()  # the master password opened the encrypted file keyring
    searched = Signal()  # a search's hits (or its error) are on screen
    indexed = Signal()  # a background index update finished
    demo_keys_ready = Signal()  # the demo identity was imported on the first demo run
    private_indexed = Signal(int)  # encrypted messages decrypted into the in-memory index

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.library = library
        self.setWindowTitle("Mailproof")
        self.resize(1280, 800)
        self._build_panes()
        self._build_statusbar()

        self.navigation = Navigation(
            library,
            self,
            self.folders,
            self.table,
            self.model,
            self.reader,
            self.delivery,
            self.message_tabs,
            self.filter_edit,
            self.error_banner,
            self.status_label,
            self.progress,
            self.cancel_button,
        )
        self.search = SearchController(
            library,
            self,
            self.search_edit,
            self.search_panel,
            self.list_stack,
            self.table,
            self.error_banner,
            self.status_label,
            locked=lambda: self.locking.locked,
        )
        self.sync = SyncController(
            library,
            self,
            self.navigation,
            self.search,
            self.sync_panel,
            self.error_banner,
            self.insecure_banner,
        )
        self.locking = LockController(
            self,
            self.pages,
            self.lock_screen,
            self.navigation,
            self.search,
            self.sync,
            self.error_banner,
        )
        self.navigation.stored.connect(self.search.update_index)
        self.search_panel.open_message.connect(self.navigation.show_message)
        self.navigation.ready.connect(self.ready)
        self.search.searched.connect(self.searched)
        self.search.indexed.connect(self.indexed)
        self.search.private_indexed.connect(self.private_indexed)
        self.sync.synced.connect(self.synced)
        self.sync.flags_changed.connect(self.flags_changed)
        self.locking.keyring_unlocked.connect(self.keyring_unlocked)
        self.locking.demo_keys_ready.connect(self.demo_keys_ready)

        self._build_commands()
        self.sync.refresh_account_warnings()

    # -- panes ------------------------------------------------------------------------------
    def _build_panes(self) -> None:
        self.folders = QTreeWidget()
        self.folders.setHeaderHidden(True)
        self.folders.setMinimumWidth(180)

        self.model = MessageListModel(self.library)
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
        self.reader = MessageView()
        self.reader.status.connect(self.statusBar().showMessage)

        self.error_banner = Banner("#f6c6c6")
        self.error_banner.setObjectName("errorBanner")
        self.insecure_banner = Banner("#ffd98a")  # permanent while an account allows insecure
        self.insecure_banner.setObjectName("insecureBanner")

        self.search_edit = QLineEdit()
        self.search_edit.setObjectName("searchEdit")
        self.search_edit.setPlaceholderText(
            'Search all mail (Ctrl+F or /): words, "phrase", from:, date:2024-01..2024-03, …'
        )
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.setMinimumWidth(380)
        self.filter_edit = QLineEdit()
        self.filter_edit.setPlaceholderText("Filter this folder (Ctrl+Shift+F)")
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.setMaximumWidth(260)

        self.search_panel = SearchPanel()
        self.list_stack = QStackedWidget()
        self.list_stack.addWidget(self.table)
        self.list_stack.addWidget(self.search_panel)
        list_pane = QSplitter(Qt.Orientation.Vertical)
        list_pane.addWidget(self.list_stack)
        self.delivery = DeliveryView(self.library)
        self.message_tabs = QTabWidget()
        self.message_tabs.addTab(self.reader, "Message")
        self.message_tabs.addTab(self.delivery, "Delivery")
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
        layout.addWidget(self.sync_panel)
        self.lock_screen = LockScreen()
        self.pages = QStackedWidget()
        self.pages.addWidget(central)
        self.pages.addWidget(self.lock_screen)
        self.setCentralWidget(self.pages)

    def _build_statusbar(self) -> None:
        self.status_label = QLabel()
        self.progress = QProgressBar()
        self.progress.setMaximumWidth(220)
        self.progress.hide()
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        holder = QWidget()
        row = QHBoxLayout(holder)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.progress)
        row.addWidget(self.cancel_button)
        self.statusBar().addWidget(self.status_label, 1)
        # A temporary message replaces the folder line instead of being drawn over it.
        self.statusBar().messageChanged.connect(lambda text: self.status_label.setVisible(not text))
        self.statusBar().addPermanentWidget(holder)

    # -- commands ---------------------------------------------------------------------------
    def _build_commands(self) -> None:
        """The toolbar (search and filter fields, then its buttons), the menus and the keys."""
        toolbar = QToolBar("Main")
        toolbar.setMovable(False)
        toolbar.addWidget(self.search_edit)
        toolbar.addWidget(self.filter_edit)
        self.thread_action = build(self, MENUS, self._commands(), toolbar)["conversations"]
        self.addToolBar(toolbar)

    def _commands(self) -> list[Command]:
        navigation, search, sync, locking = self.navigation, self.search, self.sync, self.locking
        return [
            Command(
                "import_folder",
                "Import Maildir or .eml folder…",
                navigation.ask_open_folder,
                menu="&File",
            ),
            Command(
                "import_file", "Import mbox or .eml file…", navigation.ask_open_file, menu="&File"
            ),
            Command("accounts", "Accounts…", self.open_accounts, menu="&File", separated=True),
            Command("keys", "Keys…", self.open_keys, menu="&File"),
            Command("unlock", "Unlock keyring…", lambda: locking.unlock_keyring(), menu="&File"),
            Command(
                "conversations",
                "Conversations",
                toggled=self.model.set_threaded,
                menu="&View",
                toolbar=True,
                tip="Group the list by conversation (References/In-Reply-To)",
            ),
            Command(
                "sync",
                "Sync",
                lambda: sync.sync_accounts(),
                keys=("F5",),
                menu="&File",
                toolbar=True,
                tip="Download new mail of every IMAP account (F5)",
            ),
            Command("quit", "Quit", self.close, keys=("Ctrl+Q",), menu="&File", separated=True),
            Command(
                "all_headers",
                "Show all headers",
                self.reader.all_headers_button.toggle,
                menu="&View",
            ),
            Command("source", "Show source", self.reader.source_button.toggle, menu="&View"),
            Command(
                "investigate", "Find a missing message…", self.open_investigation, menu="&Tools"
            ),
            Command("audit", "Audit log…", self.open_audit, menu="&Tools"),
            Command("settings", "Settings…", self.open_settings, menu="&Tools"),
            Command("lock", "Lock the window", lambda: locking.lock("manual"), keys=("Ctrl+L",)),
            Command("search", "Search all mail", search.focus_search, keys=("Ctrl+F", "/")),
            Command(
                "filter", "Filter this folder", navigation.focus_filter, keys=("Ctrl+Shift+F",)
            ),
            Command(
                "read",
                "Read / unread",
                lambda: sync.toggle_flag("\\Seen"),
                keys=("M",),
                scope=self.table,
            ),
            Command(
                "flag",
                "Flag / unflag",
                lambda: sync.toggle_flag("\\Flagged"),
                keys=("S",),
                scope=self.table,
            ),
            Command("next", "Next message", lambda: navigation.move_selection(1), keys=("J",)),
            Command(
                "previous", "Previous message", lambda: navigation.move_selection(-1), keys=("K",)
            ),
        ]

    # -- dialogs ----------------------------------------------------------------------------
    def open_accounts(self) -> AccountsDialog:
        dialog = AccountsDialog(self.library, parent=self)
        dialog.finished.connect(lambda _result: self.sync.accounts_changed())
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

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
        dialog.changed.connect(self.locking.set_lock_minutes)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def open_keys(self) -> KeysDialog:
        dialog = KeysDialog(parent=self)
        dialog.finished.connect(dialog.deleteLater)
        dialog.open()
        return dialog

    def closeEvent(self, event: QCloseEvent) -> None:
        """Quitting cancels an import; what it stored so far stays, nothing is half-written."""
        self.locking.stop()
        self.sync.stop()
        self.navigation.stop()
        self.search.stop()
        QThreadPool.globalInstance().waitForDone(10000)
        super().closeEvent(event)
