"""Keeping IMAP accounts in step: syncs (with the sync panel), IDLE watchers on the INBOX and
the shown folder, flag changes, and the banner naming accounts that allow insecure links."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QMainWindow

from app.accounts import set_flags, sync_accounts, watch_folder
from app.errors import MailproofError
from app.imap.account import Account
from app.imap.account import load as load_account
from app.imap.account import load_all as load_accounts
from app.imap.flags import imap_account_of
from app.imap.sync import SyncReport
from app.store.library import Library
from app.tasks import CancelToken, Progress
from ui.navigation import Navigation
from ui.reader import Banner
from ui.search_controller import SearchController
from ui.sync_panel import SyncPanel
from ui.worker import Worker

log = logging.getLogger(__name__)

PANEL_LINGER_MS = 5000  # the sync panel stays this long after a sync without problems


class SyncController(QObject):
    synced = Signal()  # a sync run finished (its result is in the store)
    flags_changed = Signal()  # a flag change reached the server and the store
    folder_progress = Signal(object)  # FolderProgress from a sync worker, to the sync panel

    def __init__(
        self,
        library: Library,
        main: QMainWindow,
        navigation: Navigation,
        search: SearchController,
        sync_panel: SyncPanel,
        error_banner: Banner,
        insecure_banner: Banner,
    ) -> None:
        super().__init__(main)
        self.library = library
        self.main = main
        self.navigation = navigation
        self.search = search
        self.sync_panel = sync_panel
        self.error_banner = error_banner
        self.insecure_banner = insecure_banner
        self._sync_pending = False
        self._watchers: list[Worker] = []
        self._folder_watcher: Worker | None = None
        self._watched_folder_id: int | None = None
        self._watch_pool = QThreadPool(self)  # long-lived IDLE workers never starve the others
        self.folder_progress.connect(sync_panel.update_folder)
        self._panel_timer = QTimer(self)
        self._panel_timer.setSingleShot(True)
        self._panel_timer.setInterval(PANEL_LINGER_MS)
        self._panel_timer.timeout.connect(sync_panel.hide)
        navigation.job_cancelled.connect(self._panel_timer.start)
        navigation.folder_selected.connect(self._watch_selected_folder)

    def sync_accounts(
        self, names: list[str] | None = None, folders: list[str] | None = None
    ) -> None:
        """Sync accounts (all by default) in the worker, with progress and Cancel."""
        job_running = self.navigation.job
        if job_running is not None and job_running.name.startswith("Syncing"):
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

        self.navigation.run_job(job, "Syncing mail", self._sync_done)

    def _sync_done(self, reports: list[SyncReport]) -> None:
        self.navigation.reload_folders()
        self.navigation.refresh_list()
        self.search.update_index()
        new = sum(f.new for r in reports for f in r.folders)
        errors = [
            f"{r.account}/{f.folder}: {f.error}" for r in reports for f in r.folders if f.error
        ]
        if errors:
            self.error_banner.show_text("Sync problems: " + "; ".join(errors[:3]))
        else:
            self.error_banner.show_text("")
            self._panel_timer.start()
        self.main.statusBar().showMessage(f"Sync finished: {new} new message(s)", 10000)
        self.synced.emit()
        if self._sync_pending:
            self._sync_pending = False
            QTimer.singleShot(0, self.sync_accounts)

    def toggle_flag(self, flag: str) -> None:
        """M: read/unread, S: flag — on the server for synced mail (local sources are read-only)."""
        model = self.navigation.model
        row_index = self.navigation.table.currentIndex().row()
        if not 0 <= row_index < len(model.rows):
            return
        row = model.rows[row_index]
        account_name = imap_account_of(self.library, row.copy_id)
        if account_name is None:
            self.main.statusBar().showMessage(
                "Local archives are read-only: flags are not changed", 5000
            )
            return
        turn_on = flag not in row.flags.split()
        library = self.library

        def job(_progress: Progress, _cancel: CancelToken) -> str:
            return set_flags(
                library,
                row.copy_id,
                add=[flag] if turn_on else [],
                remove=[] if turn_on else [flag],
            )

        worker = Worker(job, "Changing flags")
        worker.signals.result.connect(lambda _flags: self._flags_changed())
        worker.signals.error.connect(lambda text: self.error_banner.show_text(text))
        worker.start()

    def _flags_changed(self) -> None:
        self.navigation.refresh_list()
        self.navigation.reload_folders()  # unread counts
        self.search.update_index()
        self.flags_changed.emit()

    def accounts_changed(self) -> None:
        """The accounts dialog closed: show, warn about and watch the accounts as they are now."""
        self.navigation.reload_folders()
        self.refresh_account_warnings()
        self.start_watchers()

    def refresh_account_warnings(self) -> None:
        """The permanent banner naming every account that allows insecure connections."""
        try:
            warnings = [a.warning for a in load_accounts(self.library) if a.warning]
        except MailproofError as err:
            warnings = [f"the IMAP accounts cannot be read: {err}"]
        self.insecure_banner.show_text("\n".join(w[:1].upper() + w[1:] for w in warnings))

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
            watch_folder(account, folder, lambda: progress(1, 0), cancel, log.info)

        worker = Worker(job, f"Watching {account.name}/{folder}")
        worker.signals.progress.connect(lambda _d, _t: self.sync_accounts([account.name], [folder]))
        worker.signals.error.connect(lambda text: log.info("watch ended: %s", text))
        worker.start(self._watch_pool)
        return worker

    def _watch_selected_folder(self) -> None:
        """IDLE on the selected folder too when it is an IMAP folder other than INBOX."""
        folder_id = self.navigation.model.folder_id
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

    def stop(self) -> None:
        """Window closing: end the IDLE connections."""
        self.stop_watchers()
        self._watch_pool.waitForDone(5000)
