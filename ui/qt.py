"""Small typed helpers over Qt widgets, so the views need no ``None`` checks Qt cannot need."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QTreeWidget, QTreeWidgetItem, QWidget

ERROR_STYLE = "QLabel { color: #b00020; }"  # a message that something failed
OK_STYLE = "QLabel { color: #1b6e20; }"  # a message that it worked


def top_items(tree: QTreeWidget) -> list[QTreeWidgetItem]:
    """The tree's top-level items, in order."""
    items = (tree.topLevelItem(i) for i in range(tree.topLevelItemCount()))
    return [item for item in items if item is not None]


def application(argv: list[str]) -> QApplication:
    """The running QApplication, made on first use."""
    running = QApplication.instance()
    return running if isinstance(running, QApplication) else QApplication(argv)


def shortcut(keys: str, parent: QWidget, handler: Callable[[], object]) -> QShortcut:
    """A key that runs ``handler`` while ``parent``'s window is active."""
    made = QShortcut(QKeySequence(keys), parent)
    made.activated.connect(handler)
    return made
