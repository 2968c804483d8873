"""The one worker pattern: run a core function on the thread pool with progress, cancel, result."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from app.errors import Cancelled, MailproofError
from app.tasks import CancelToken

log = logging.getLogger(__name__)

Job = Callable[[Callable[[int, int], None], CancelToken], Any]


def alive(widget: QObject) -> bool:
    """False once Qt has deleted the widget: a late worker signal must not touch it."""
    return bool(shiboken6.isValid(widget))


class WorkerSignals(QObject):
    progress = Signal(int, int)
    result = Signal(object)
    error = Signal(str)
    cancelled = Signal()
    finished = Signal()


class Worker(QRunnable):
    """Runs ``job(progress, cancel)`` off the UI thread; its outcome arrives as signals."""

    _running: set[Worker] = set()

    def __init__(self, job: Job, name: str = "") -> None:
        super().__init__()
        self.setAutoDelete(False)
        self.job = job
        self.name = name
        self.signals = WorkerSignals()
        self.cancel_token = CancelToken()

    def start(self, pool: QThreadPool | None = None) -> None:
        Worker._running.add(self)
        (pool or QThreadPool.globalInstance()).start(self)

    def cancel(self) -> None:
        self.cancel_token.cancel()

    def run(self) -> None:
        try:
            result = self.job(self.signals.progress.emit, self.cancel_token)
        except Cancelled:
            self.signals.cancelled.emit()
        except MailproofError as err:
            log.info("%s failed: %s", self.name, err, exc_info=True)
            self.signals.error.emit(str(err))
        except Exception as err:  # noqa: BLE001 - the user gets a line, the log the traceback
            log.error("%s: internal error", self.name, exc_info=True)
            self.signals.error.emit(f"internal error in {self.name}: {type(err).__name__}: {err}")
        else:
            self.signals.result.emit(result)
        finally:
            self.signals.finished.emit()
            Worker._running.discard(self)


class JobSlot(QObject):
    """One "latest request wins" job at a time: a new request cancels the one before it, and
    whatever that older request still reports (progress, result, error) is ignored."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._current: Worker | None = None

    @property
    def current(self) -> Worker | None:
        """The request whose outcome will be delivered; None when nothing is running."""
        return self._current

    def start(
        self,
        job: Job,
        name: str,
        on_result: Callable[[Any], None],
        on_error: Callable[[str], None] | None = None,
        on_progress: Callable[[int, int], None] | None = None,
        on_finished: Callable[[], None] | None = None,
    ) -> Worker:
        """Run ``job`` in a Worker as the latest request; the callbacks hear only from it."""
        self.cancel()
        worker = Worker(job, name)
        self._current = worker

        def wanted() -> bool:
            return alive(self) and self._current is worker

        worker.signals.result.connect(lambda result: on_result(result) if wanted() else None)
        if on_error is not None:
            worker.signals.error.connect(lambda text: on_error(text) if wanted() else None)
        if on_progress is not None:
            worker.signals.progress.connect(
                lambda done, total: on_progress(done, total) if wanted() else None
            )

        def finished() -> None:
            if wanted():
                self._current = None
                if on_finished is not None:
                    on_finished()

        worker.signals.finished.connect(finished)
        worker.start()
        return worker

    def cancel(self) -> None:
        """Cancel the running request (its token is set) and ignore what it still reports."""
        if self._current is not None:
            self._current.cancel()
            self._current = None
