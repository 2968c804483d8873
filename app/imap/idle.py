"""Watch a folder with IMAP IDLE and call back when it changes; reconnect with backoff.

Plain blocking code for a worker thread: ``watch()`` returns when the cancel token is set.
"""

from __future__ import annotations

import contextlib
import logging
import select
import ssl
import time
from collections.abc import Callable
from typing import Any

from imapclient.exceptions import IMAPClientError

from app.errors import MailproofError
from app.imap.account import Account
from app.imap.connection import connect
from app.tasks import CancelToken

log = logging.getLogger(__name__)

IDLE_SLICE = 1.0  # seconds per idle_check: how fast a cancel is noticed
IDLE_RENEW = 25 * 60  # RFC 2177: re-issue IDLE before servers drop it at 30 minutes
BACKOFF = (1.0, 2.0, 5.0, 15.0, 30.0, 60.0)

Connector = Callable[[Account, str], tuple[Any, Any]]


def watch(
    account: Account,
    password: str,
    folder: str,
    on_change: Callable[[], None],
    cancel: CancelToken,
    *,
    on_status: Callable[[str], None] = lambda text: None,
    connector: Connector = connect,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """Call ``on_change()`` whenever ``folder`` gets new, changed or expunged messages."""
    failures = 0
    while not cancel.cancelled:
        client = None
        try:
            client, _info = connector(account, password)
            if b"IDLE" not in client.capabilities():
                on_status(f"{account.name}: the server has no IDLE; new mail shows on Sync")
                return
            client.select_folder(folder, readonly=True)
            failures = 0
            on_status(f"{account.name}/{folder}: watching for new mail")
            _idle(client, on_change, cancel)
        except (TimeoutError, IMAPClientError, OSError, ssl.SSLError, MailproofError) as err:
            delay = BACKOFF[min(failures, len(BACKOFF) - 1)]
            failures += 1
            log.info("idle on %s/%s failed: %s", account.name, folder, err)
            on_status(f"{account.name}: connection lost ({err}); retrying in {delay:.0f} s")
            waited = 0.0
            while waited < delay and not cancel.cancelled:
                sleep(0.2)
                waited += 0.2
        finally:
            if client is not None:
                try:
                    client.logout()
                except Exception:  # noqa: BLE001 - closing a possibly dead connection
                    log.debug("logout after idle failed", exc_info=True)


class ConnectionDropped(OSError):
    """The server closed the connection while we were idling."""


def _idle(client: Any, on_change: Callable[[], None], cancel: CancelToken) -> None:
    while not cancel.cancelled:
        client.idle()
        started = time.monotonic()
        changed = False
        silent_wakeups = 0
        try:
            while not cancel.cancelled and time.monotonic() - started < IDLE_RENEW:
                readable, _, _ = select.select([client.socket()], [], [], IDLE_SLICE)
                if not readable:
                    continue
                responses = client.idle_check(timeout=0)
                if responses:
                    silent_wakeups = 0
                elif (silent_wakeups := silent_wakeups + 1) >= 3:
                    # imapclient swallows EOF in idle_check: a socket that stays readable
                    # and yields nothing is closed (a TLS ticket gives one such wake-up).
                    raise ConnectionDropped("the server closed the connection")
                if any(_is_change(r) for r in responses):
                    changed = True
                    break
        finally:
            with contextlib.suppress(Exception):
                client.idle_done()
        if changed:
            on_change()


def _is_change(response: Any) -> bool:
    if isinstance(response, tuple) and len(response) >= 2:
        kind = response[1]
        return kind in (b"EXISTS", b"EXPUNGE", b"FETCH", b"RECENT")
    return False
