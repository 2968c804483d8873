"""Small typed helpers over Qt widgets, and the tone colours and label styles the views share."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QTreeWidget, QTreeWidgetItem, QWidget

from app.present import Tone

TONE_HEX = {Tone.GOOD: "#1b6e20", Tone.BAD: "#b00020", Tone.WARN: "#8a6d00"}  # text colours
ERROR_STYLE = f"QLabel {{ color: {TONE_HEX[Tone.BAD]}; }}"  # a message that something failed
OK_STYLE = f"QLabel {{ color: {TONE_HEX[Tone.GOOD]}; }}"  # a message that it worked


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
