"""The window's commands, each declared once (text, keys, handler, where it appears): the
menus, the toolbar buttons and the keyboard shortcuts are all built from that one table."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar, QWidget

from ui.qt import shortcut


@dataclass(frozen=True)
class Command:
    name: str
    text: str
    run: Callable[[], object] | None = None
    keys: tuple[str, ...] = ()
    menu: str | None = None  # the menu it is an entry of; None: keys only (or toolbar only)
    toolbar: bool = False
    tip: str = ""
    toggled: Callable[[bool], object] | None = None  # a checkable command, told on and off
    scope: QWidget | None = None  # the keys work while this widget is shown (default: window)
    separated: bool = False  # a line above it in its menu


def build(
    window: QMainWindow, menus: Sequence[str], commands: Sequence[Command], toolbar: QToolBar
) -> dict[str, QAction]:
    """Menu entries and toolbar buttons become actions (their keys go with them); a command
    in neither is a shortcut alone. Returns the actions by command name."""
    by_title: dict[str, QMenu] = {title: window.menuBar().addMenu(title) for title in menus}
    actions: dict[str, QAction] = {}
    for command in commands:
        if command.menu is None and not command.toolbar:
            if command.run is not None:
                for key in command.keys:
                    shortcut(key, command.scope or window, command.run)
            continue
        action = QAction(command.text, window)
        if command.keys:
            action.setShortcuts([QKeySequence(key) for key in command.keys])
        if command.tip:
            action.setToolTip(command.tip)
        if command.toggled is not None:
            action.setCheckable(True)
            action.toggled.connect(command.toggled)
        if command.run is not None:
            run = command.run
            action.triggered.connect(lambda _checked=False, run=run: run())
        if command.menu is not None:
            menu = by_title[command.menu]
            if command.separated:
                menu.addSeparator()
            menu.addAction(action)
        if command.toolbar:
            toolbar.addAction(action)
        actions[command.name] = action
    return actions
