"""Start the window (``mailproof``, ``mailproof open PATH``) or render it to a PNG."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from app import secrets
from app.config import data_home, demo_archive, resources_dir
from app.crypto import keys
from app.errors import MailproofError
from app.sources import open_source
from app.store.library import Library


def _has_display() -> bool:
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def run(args: argparse.Namespace) -> int:
    screenshot = args.command == "screenshot"
    if screenshot and not _has_display():
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    if not screenshot and not _has_display() and "QT_QPA_PLATFORM" not in os.environ:
        print(
            "mailproof: error: no display (DISPLAY/WAYLAND_DISPLAY unset); "
            "use `mailproof screenshot OUT.png` or run under a desktop or xvfb-run",
            file=sys.stderr,
        )
        return 3
    path = Path(args.path) if getattr(args, "path", None) else None
    if path is not None:
        open_source(path)  # bad input fails here with one clear line, before any window appears

    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon

    from ui.qt import application
    from ui.window import MainWindow

    # No terminal prompts from worker threads: the window asks in a dialog (unlock_keyring).
    secrets.set_master_password_source(_master_from_environment)
    app = application(sys.argv[:1])
    app.setApplicationName("Mailproof")
    app.setOrganizationName("Mailproof")
    app.setWindowIcon(QIcon(str(resources_dir() / "icons" / "mailproof.svg")))
    try:
        library = Library(data_home())
    except MailproofError as err:
        print(f"mailproof: error: {err}", file=sys.stderr)
        return err.exit_code
    window = MainWindow(library)
    target = path if path is not None else _default_source(library)
    if target is None:
        window.navigation.show_stored()

    if screenshot:
        width, _, height = str(args.size).partition("x")
        window.resize(int(width), int(height))
        out = Path(args.out)
        outcome: dict[str, int] = {"code": 0}

        def capture() -> None:
            window.repaint()
            app.processEvents()
            image = window.grab()
            if not image.save(str(out), "PNG"):
                print(f"mailproof: error: cannot write {out}", file=sys.stderr)
                outcome["code"] = 2
            else:
                print(f"wrote {out} ({image.width()}x{image.height()})", file=sys.stderr)
            app.quit()

        def give_up() -> None:
            print("mailproof: error: the window did not finish loading in time", file=sys.stderr)
            outcome["code"] = 3
            app.quit()

        window.ready.connect(lambda: QTimer.singleShot(300, capture))
        QTimer.singleShot(120_000, give_up)
        window.show()
        if target is not None:
            window.navigation.open_path(target)
        else:
            QTimer.singleShot(0, window.ready.emit)
        app.exec()
        return outcome["code"]

    window.show()
    if target is not None:
        window.navigation.open_path(target)
        if target == demo_archive():
            window.locking.prepare_demo_identity()
    if secrets.is_locked() and not os.environ.get(secrets.ENV_MASTER):
        window.locking.unlock_keyring()  # asks for the master password, then starts the watchers
    else:
        window.sync.start_watchers()  # IDLE on each account's INBOX while the window is open
        if keys.has_secret_keys():
            window.search.build_private_index()  # decrypted mail searchable, in memory only
    return int(app.exec())


def _master_from_environment() -> str:
    value = os.environ.get(secrets.ENV_MASTER)
    if not value:
        raise secrets.KeyringUnavailable(
            "the encrypted keyring is locked: unlock it with File → Unlock keyring…"
        )
    return value


def _default_source(library: Library) -> Path | None:
    """With no account configured the window opens the bundled demo archive."""
    if library.accounts.count():
        return None
    demo = demo_archive()
    return demo if demo.is_dir() else None
