"""Fixtures for the window tests: a fresh store and generated Maildirs (offscreen Qt)."""

from __future__ import annotations

import mailbox
import os
from collections.abc import Callable, Iterator
from email.message import EmailMessage
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from app.store.library import Library  # noqa: E402
from ui.window import MainWindow  # noqa: E402


def make_message(
    index: int,
    *,
    subject: str | None = None,
    html: str | None = None,
    reply_to: int | None = None,
    attachment: tuple[str, bytes] | None = None,
    sender: str | None = None,
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender or f"Sender {index} <s{index}@clinic.example>"
    message["To"] = "alice@clinic.example"
    message["Subject"] = subject if subject is not None else f"Message {index:05d}"
    message["Date"] = (
        f"Mon, 01 Jan 2024 {index // 3600 % 24:02d}:{index // 60 % 60:02d}:{index % 60:02d} +0000"
    )
    message["Message-ID"] = f"<m{index}@clinic.example>"
    if reply_to is not None:
        message["In-Reply-To"] = f"<m{reply_to}@clinic.example>"
        message["References"] = f"<m{reply_to}@clinic.example>"
    message.set_content(f"Body of message {index}\n")
    if html is not None:
        message.add_alternative(html, subtype="html")
    if attachment is not None:
        name, data = attachment
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message


MaildirFactory = Callable[..., Path]


@pytest.fixture
def make_maildir(tmp_path: Path) -> MaildirFactory:
    def factory(
        messages: list[EmailMessage], name: str = "mail", subfolders: tuple[str, ...] = ()
    ) -> Path:
        root = tmp_path / name
        box = mailbox.Maildir(root)
        for message in messages:
            box.add(message)
        for folder in subfolders:
            sub = box.add_folder(folder)
            sub.add(make_message(9000 + len(folder), subject=f"In {folder}"))
        return root

    return factory


@pytest.fixture
def library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Library]:
    home = tmp_path / "home"
    monkeypatch.setenv("MAILPROOF_HOME", str(home))
    lib = Library(home)
    yield lib
    lib.close()


@pytest.fixture
def window(qtbot, library: Library) -> MainWindow:  # type: ignore[no-untyped-def]
    win = MainWindow(library)
    qtbot.addWidget(win)
    win.show()
    return win


def open_and_wait(qtbot, window: MainWindow, path: Path) -> None:  # type: ignore[no-untyped-def]
    with qtbot.waitSignal(window.ready, timeout=30000):
        window.navigation.open_path(path)
