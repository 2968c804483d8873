"""Qt models over the library: a lazy message list (pages fetched from SQLite on demand)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QApplication, QStyle

from app.store.library import Library
from app.store.records import MessageRow

PAGE_SIZE = 200
COLUMNS = ("subject", "from", "date", "size")
HEADERS = ("Subject", "From", "Date", "Size")

Index = QModelIndex | QPersistentModelIndex


def human_size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} B"


class MessageListModel(QAbstractTableModel):
    """The messages of one folder. Only the rows scrolled into view are loaded."""

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.library = library
        self.folder_id: int | None = None
        self.rows: list[MessageRow] = []
        self.total = 0
        self.sort_key = "date"
        self.descending = True
        self.filter_text = ""
        self.threaded = False
        self._bold = QFont()
        self._bold.setBold(True)
        self._flagged_brush = QBrush(QColor("#b3261e"))
        self._attachment_icon = QApplication.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon)

    # -- what to show -----------------------------------------------------------------
    def set_folder(self, folder_id: int | None) -> None:
        self.folder_id = folder_id
        self.reload()

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip()
        self.reload()

    def set_threaded(self, threaded: bool) -> None:
        self.threaded = threaded
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self.rows = []
        self.total = self.library.count(self.folder_id, self.filter_text) if self.folder_id else 0
        if self.total:
            self._load_page()
        self.endResetModel()

    def refresh_total(self) -> None:
        """New rows arrived (an import is running): reload the first page, or allow more.

        While the user has not scrolled past the first page, that page is reloaded so it shows
        the newest (or first, in the current order) messages; further down only the total grows.
        """
        if self.folder_id is None:
            return
        if len(self.rows) <= PAGE_SIZE:
            self.reload()
        else:
            self.total = self.library.count(self.folder_id, self.filter_text)

    def _load_page(self) -> list[MessageRow]:
        assert self.folder_id is not None
        page = self.library.page(
            self.folder_id,
            sort=self.sort_key,
            descending=self.descending,
            offset=len(self.rows),
            limit=PAGE_SIZE,
            text=self.filter_text,
            threaded=self.threaded,
        )
        self.rows.extend(page)
        return page

    # -- lazy loading -----------------------------------------------------------------
    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and len(self.rows) < self.total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if parent.isValid() or self.folder_id is None:
            return
        start = len(self.rows)
        page = self.library.page(
            self.folder_id,
            sort=self.sort_key,
            descending=self.descending,
            offset=start,
            limit=PAGE_SIZE,
            text=self.filter_text,
            threaded=self.threaded,
        )
        if not page:
            self.total = start
            return
        self.beginInsertRows(QModelIndex(), start, start + len(page) - 1)
        self.rows.extend(page)
        self.endInsertRows()

    # -- Qt model API -----------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[section]
        return None

    def data(self, index: Index, role: int = 0) -> Any:
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        column = COLUMNS[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            if column == "subject":
                prefix = "    " * row.depth + ("↳ " if row.depth else "")
                return prefix + (row.subject or "(no subject)")
            if column == "from":
                name, _, address = row.from_display.partition(" <")
                return name.strip('"') if address else row.from_display
            if column == "date":
                if row.date_ts is None:
                    return "(no date)"
                return datetime.fromtimestamp(row.date_ts).strftime("%Y-%m-%d %H:%M")
            return human_size(row.size)
        if role == Qt.ItemDataRole.DecorationRole and column == "subject" and row.has_attachments:
            return self._attachment_icon
        if role == Qt.ItemDataRole.ForegroundRole and "\\Flagged" in row.flags:
            return self._flagged_brush
        if role == Qt.ItemDataRole.FontRole and "\\Seen" not in row.flags:
            return self._bold
        if role == Qt.ItemDataRole.TextAlignmentRole and column == "size":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole:
            return row.subject if column == "subject" else row.from_display
        if role == Qt.ItemDataRole.UserRole:
            return row.sha256
        return None

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.sort_key = COLUMNS[column]
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.reload()

    def row_of(self, sha256: str) -> int | None:
        return next((i for i, row in enumerate(self.rows) if row.sha256 == sha256), None)

    def sha256_at(self, row: int) -> str | None:
        return self.rows[row].sha256 if 0 <= row < len(self.rows) else None
