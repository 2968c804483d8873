"""IDLE against the real Dovecot: new mail is noticed in seconds; a dropped link reconnects."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.imap.account import Account
from app.imap.idle import watch
from app.tasks import CancelToken
from tests.harness.dovecot import Dovecot
from tests.harness.pki import Pki

USER, PASSWORD = "dana", "dana-pw-3"


@pytest.fixture(scope="module")
def server(harness_dir: Path, pki: Pki) -> Iterator[Dovecot]:
    with Dovecot(harness_dir / "idle", pki, users={USER: PASSWORD}) as dovecot:
        yield dovecot


def message(subject: str) -> bytes:
    return (
        f"From: a@clinic.example\r\nTo: {USER}@example.test\r\nSubject: {subject}\r\n"
        f"Message-ID: <{subject}@clinic.example>\r\n\r\nbody\r\n"
    ).encode()


def start_watch(server: Dovecot) -> tuple[CancelToken, list[float], list[str], threading.Thread]:
    account = Account("idle", server.host, server.imaps_port, "tls", USER, str(server.ca_pem))
    cancel = CancelToken()
    changes: list[float] = []
    statuses: list[str] = []
    thread = threading.Thread(
        target=watch,
        args=(account, PASSWORD, "INBOX", lambda: changes.append(time.monotonic()), cancel),
        kwargs={"on_status": statuses.append},
        daemon=True,
    )
    thread.start()
    deadline = time.monotonic() + 10
    while not any("watching" in s for s in statuses) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert any("watching" in s for s in statuses), statuses
    return cancel, changes, statuses, thread


def wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_new_mail_is_noticed_within_seconds_and_cancel_stops_the_watch(server: Dovecot) -> None:
    cancel, changes, _statuses, thread = start_watch(server)
    time.sleep(0.3)
    assert changes == []  # nothing happened, nothing reported
    sent = time.monotonic()
    server.deliver_lmtp(f"{USER}@example.test", message("idle-1"))
    assert wait_for(lambda: len(changes) >= 1), "no change noticed"
    assert changes[0] - sent < 5
    cancel.cancel()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_dropped_connection_reconnects_and_keeps_watching(server: Dovecot) -> None:
    cancel, changes, statuses, thread = start_watch(server)
    subprocess.run(["pkill", "-KILL", "-u", "nobody", "-x", "imap"], check=False)
    assert wait_for(lambda: any("connection lost" in s for s in statuses))
    assert wait_for(lambda: sum("watching" in s for s in statuses) >= 2, timeout=15)
    server.deliver_lmtp(f"{USER}@example.test", message("idle-2"))
    assert wait_for(lambda: len(changes) >= 1)
    cancel.cancel()
    thread.join(timeout=5)
    assert not thread.is_alive()
