"""The sync panel: one progress bar per folder being synced, in messages and bytes."""

from __future__ import annotations

from PySide6.QtWidgets import QHeaderView, QProgressBar, QTreeWidget, QTreeWidgetItem

from app.imap.sync import FolderProgress

STATE_TEXT = {"waiting": "waiting", "syncing": "syncing", "done": "done", "failed": "failed"}


def megabytes(count: int) -> str:
    return f"{count / 1_000_000:.1f} MB" if count >= 100_000 else f"{count / 1000:.0f} KB"


class SyncPanel(QTreeWidget):
    """Rows ``account/folder — bar — what happened``; filled from ``FolderProgress`` values."""

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("syncPanel")
        self.setColumnCount(3)
        self.setHeaderLabels(["Folder", "Progress", "Status"])
        self.setRootIsDecorated(False)
        self.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.header().setSectionResizeMode(1, QHeaderView.ResizeMode.Fixed)
        self.header().resizeSection(1, 220)
        self.header().setStretchLastSection(True)
        self.setMaximumHeight(160)
        self._rows: dict[tuple[str, str], tuple[QTreeWidgetItem, QProgressBar]] = {}

    def start_over(self) -> None:
        self.clear()
        self._rows = {}

    def bar(self, account: str, folder: str) -> QProgressBar | None:
        row = self._rows.get((account, folder))
        return row[1] if row else None

    def status_text(self, account: str, folder: str) -> str:
        row = self._rows.get((account, folder))
        return row[0].text(2) if row else ""

    def update_folder(self, progress: FolderProgress) -> None:
        key = (progress.account, progress.folder)
        if key not in self._rows:
            item = QTreeWidgetItem([f"{progress.account}/{progress.folder}", "", ""])
            self.addTopLevelItem(item)
            bar = QProgressBar()
            bar.setRange(0, 1)
            bar.setValue(0)
            self.setItemWidget(item, 1, bar)
            self._rows[key] = (item, bar)
        item, bar = self._rows[key]
        if progress.state == "failed":
            bar.setRange(0, 1)
            bar.setValue(0)
            bar.setFormat("failed")
            item.setText(2, progress.error or "failed")
            item.setToolTip(2, progress.error or "")
            return
        total = max(progress.messages_total, 1)
        bar.setRange(0, total)
        bar.setValue(total if progress.state == "done" else progress.messages_done)
        bar.setFormat(f"{progress.messages_done} / {progress.messages_total} messages")
        detail = STATE_TEXT.get(progress.state, progress.state)
        if progress.bytes_total or progress.bytes_done:
            detail += f" — {megabytes(progress.bytes_done)} of {megabytes(progress.bytes_total)}"
        item.setText(2, detail)
