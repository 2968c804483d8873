"""The search results pane: hits across every folder and archive, with highlighted snippets,
the folders holding each message, sort by date or relevance, open, and show all copies."""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from indexer.index import Hit

SHA_ROLE = Qt.ItemDataRole.UserRole


def snippet_html(hit: Hit) -> str:
    """The snippet with every matched word in bold; all mail text is escaped."""
    parts = []
    last = 0
    for start, end in hit.highlights:
        if start < last:
            continue
        parts.append(html.escape(hit.snippet[last:start]))
        parts.append(f"<b>{html.escape(hit.snippet[start:end])}</b>")
        last = end
    parts.append(html.escape(hit.snippet[last:]))
    return "".join(parts)


def hit_html(hit: Hit) -> str:
    date = (hit.date or "")[:16].replace("T", " ") or "no date"
    folders = ", ".join(hit.folders) or "no live copy"
    return (
        f"<b>{html.escape(hit.subject or '(no subject)')}</b>"
        f"&nbsp;&nbsp;<span style='color:#555'>{html.escape(hit.from_)} · {date} · "
        f"<i>{html.escape(folders)}</i></span><br>"
        f"<span style='color:#333'>{snippet_html(hit)}</span>"
    )


class EscapeKey(QObject):
    """Calls ``action`` when Escape is pressed in the watched field (a QShortcut there would
    clash with the other fields' Escape)."""

    def __init__(self, field: QWidget, action: Callable[[], None]) -> None:
        super().__init__(field)
        self._action = action
        field.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            self._action()
            return True
        return False


class SearchPanel(QWidget):
    """Shows the hits of the query in the search bar; the window runs the search itself."""

    open_message = Signal(str)  # sha256
    show_copies = Signal(str)  # sha256
    sort_changed = Signal(str)  # "date" | "relevance"
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.status = QLabel("Type to search every folder and archive.")
        self.status.setObjectName("searchStatus")
        self.status.setWordWrap(True)
        self.sort = QComboBox()
        self.sort.addItem("Newest first", "date")
        self.sort.addItem("Best match", "relevance")
        self.sort.currentIndexChanged.connect(
            lambda _i: self.sort_changed.emit(str(self.sort.currentData()))
        )
        self.copies_button = QPushButton("Show all copies")
        self.copies_button.setEnabled(False)
        self.copies_button.clicked.connect(self._copies)
        close = QPushButton("Back to folder")
        close.clicked.connect(self.closed.emit)
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(QLabel("Sort:"))
        top.addWidget(self.sort)
        top.addWidget(self.copies_button)
        top.addWidget(close)
        self.results = QListWidget()
        self.results.setObjectName("searchResults")
        self.results.setAlternatingRowColors(True)
        self.results.currentItemChanged.connect(self._current_changed)
        self.results.itemActivated.connect(self._activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.results, 1)
        self.hits: list[Hit] = []

    @property
    def sort_key(self) -> str:
        return str(self.sort.currentData())

    def searching(self, query: str) -> None:
        self.status.setText(f"Searching for {query}…")

    def show_error(self, message: str) -> None:
        self.results.clear()
        self.hits = []
        self.copies_button.setEnabled(False)
        self.status.setText(message)

    def set_hits(self, hits: Sequence[Hit], total: int, elapsed_ms: float) -> None:
        self.results.clear()
        self.hits = list(hits)
        for hit in hits:
            item = QListWidgetItem()
            item.setData(SHA_ROLE, hit.sha256)
            label = QLabel(hit_html(hit))
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(False)  # two lines per hit; what does not fit is cut at the edge
            label.setContentsMargins(4, 2, 4, 2)
            label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
            item.setSizeHint(QSize(0, 2 * label.fontMetrics().lineSpacing() + 10))
            self.results.addItem(item)
            self.results.setItemWidget(item, label)
        shown = f"{len(hits)} of {total}" if total > len(hits) else str(total)
        noun = "message" if total == 1 else "messages"
        self.status.setText(f"{shown} {noun} · {elapsed_ms:.0f} ms")
        self.copies_button.setEnabled(False)

    def current_sha256(self) -> str | None:
        item = self.results.currentItem()
        return str(item.data(SHA_ROLE)) if item is not None else None

    def _current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        self.copies_button.setEnabled(current is not None)
        if current is not None:
            self.open_message.emit(str(current.data(SHA_ROLE)))

    def _activated(self, item: QListWidgetItem) -> None:
        self.open_message.emit(str(item.data(SHA_ROLE)))

    def _copies(self) -> None:
        sha256 = self.current_sha256()
        if sha256:
            self.show_copies.emit(sha256)
