"""The progress/cancel protocol shared by long core work, the CLI and the window's worker."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable

from app.errors import Cancelled

Progress = Callable[[int, int], None]
"""``progress(done, total)``; ``total`` is 0 while unknown."""


class CancelToken:
    """Set from any thread; long work calls :meth:`check` between items."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        if self._event.is_set():
            raise Cancelled("cancelled by the user; work done before the cancel is kept")


def no_progress(done: int, total: int) -> None:
    """The default progress callback: report nothing."""


def stderr_progress(label: str) -> Progress:
    """``label: done/total`` on one terminal line of stderr; nothing when stderr is not a
    terminal (scripts and --json output stay clean)."""
    if not sys.stderr.isatty():
        return no_progress

    def report(done: int, total: int) -> None:
        if total:
            print(f"\r{label}: {done}/{total}", end="", file=sys.stderr, flush=True)
            if done >= total:
                print(file=sys.stderr)

    return report
