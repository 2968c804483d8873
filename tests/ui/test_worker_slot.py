"""JobSlot: of two requests in a row only the latest one is heard from."""

from __future__ import annotations

import threading
from collections.abc import Callable

from pytestqt.qtbot import QtBot

from app.errors import MailproofError
from app.tasks import CancelToken, Progress
from ui.worker import Job, JobSlot

WAIT = 10_000


def held(outcome: Callable[[], str], release: threading.Event) -> Job:
    """A job that reports progress, then waits for ``release`` (not for its cancel token, so
    its late outcome really arrives after the newer request's)."""

    def job(progress: Progress, _cancel: CancelToken) -> str:
        progress(1, 2)
        release.wait(WAIT / 1000)
        return outcome()

    return job


def fail() -> str:
    raise MailproofError("the older request failed")


def test_only_the_second_of_two_requests_delivers_its_result(qtbot: QtBot) -> None:
    slot = JobSlot()
    release = threading.Event()
    results: list[str] = []
    progress: list[tuple[int, int]] = []
    first = slot.start(
        held(lambda: "first", release),
        "first",
        results.append,
        on_progress=lambda done, total: progress.append((done, total)),
    )
    second = slot.start(lambda _progress, _cancel: "second", "second", results.append)
    qtbot.waitUntil(lambda: results == ["second"], timeout=WAIT)
    with qtbot.waitSignal(first.signals.finished, timeout=WAIT):
        release.set()
    qtbot.wait(50)
    assert results == ["second"]
    assert progress == []
    assert first.cancel_token.cancelled
    assert not second.cancel_token.cancelled
    assert slot.current is None


def test_an_error_of_a_superseded_request_is_not_delivered(qtbot: QtBot) -> None:
    slot = JobSlot()
    release = threading.Event()
    errors: list[str] = []
    results: list[str] = []
    first = slot.start(held(fail, release), "first", results.append, errors.append)
    slot.start(lambda _progress, _cancel: "second", "second", results.append, errors.append)
    qtbot.waitUntil(lambda: results == ["second"], timeout=WAIT)
    with qtbot.waitSignal(first.signals.finished, timeout=WAIT):
        release.set()
    qtbot.wait(50)
    assert errors == []
    assert results == ["second"]


def test_the_latest_request_hears_its_own_error(qtbot: QtBot) -> None:
    slot = JobSlot()
    errors: list[str] = []
    finished: list[bool] = []
    slot.start(
        lambda _progress, _cancel: fail(),
        "only",
        lambda _result: None,
        errors.append,
        on_finished=lambda: finished.append(True),
    )
    qtbot.waitUntil(lambda: finished == [True], timeout=WAIT)
    assert errors == ["the older request failed"]
