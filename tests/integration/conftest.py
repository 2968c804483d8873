"""Session fixtures that start the real components once for all integration tests.

Everything here fails loudly (with the Debian package to install) instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Generator, Iterator
from pathlib import Path
from types import FrameType

import pytest

INTEGRATION_DIR = Path(__file__).resolve().parent
REPO_ROOT = INTEGRATION_DIR.parents[1]
if str(REPO_ROOT) not in sys.path:  # "tests.harness" must import under plain `pytest` too
    sys.path.insert(0, str(REPO_ROOT))

from keyring.backends import SecretService  # noqa: E402

from tests.harness.dovecot import Dovecot  # noqa: E402
from tests.harness.gnupg_home import GnupgHome  # noqa: E402
from tests.harness.keyring_service import secret_service_keyring  # noqa: E402
from tests.harness.mta import MailChain  # noqa: E402
from tests.harness.pki import Pki  # noqa: E402

KEEP_ENV = "MAILPROOF_KEEP_HARNESS"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test under tests/integration with ``integration``."""
    for item in items:
        if item.path.resolve().is_relative_to(INTEGRATION_DIR):
            item.add_marker(pytest.mark.integration)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Integration tests must never skip: turn any skip into a failure (xfail stays xfail)."""
    report = yield
    if (
        report.skipped
        and item.get_closest_marker("integration") is not None
        and not hasattr(report, "wasxfail")
    ):
        report.outcome = "failed"
        report.longrepr = f"integration tests must not skip, but this one did: {report.longrepr}"
    return report


def _raise_keyboard_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.fixture(scope="session")
def harness_dir() -> Iterator[Path]:
    """World-traversable temp dir for all components (services drop privileges).

    Set MAILPROOF_KEEP_HARNESS=1 to keep it (configs and logs) after the run.
    """
    path = Path(tempfile.mkdtemp(prefix="mailproof-it-", dir="/tmp"))
    path.chmod(0o755)
    # SIGTERM (CI cancel, `timeout`) would kill pytest without teardown and leave the
    # daemons running; turn it into KeyboardInterrupt so the fixtures stop them.
    previous = signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
    try:
        yield path
    finally:
        signal.signal(signal.SIGTERM, previous)
    if os.environ.get(KEEP_ENV):
        print(f"\nharness files kept in {path}")
    else:
        shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def pki(harness_dir: Path) -> Pki:
    """Throwaway CA (``ca_pem``) and server certificate ``server`` (localhost, 127.0.0.1)."""
    return Pki(harness_dir / "pki")


@pytest.fixture(scope="session")
def dovecot(harness_dir: Path, pki: Pki) -> Iterator[Dovecot]:
    """Dovecot with users alice/alicepw and bob/bobpw on 127.0.0.1."""
    server = Dovecot(harness_dir / "dovecot", pki)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def mail_chain(harness_dir: Path, dovecot: Dovecot) -> Iterator[MailChain]:
    """Postfix out (+OpenDKIM) -> Postfix mx -> Dovecot LMTP, plus unbound for DKIM keys."""
    chain = MailChain(harness_dir / "mta", dovecot)
    chain.start()
    try:
        yield chain
    finally:
        chain.stop()


@pytest.fixture(scope="session")
def secret_keyring() -> SecretService.Keyring:
    """The Secret Service keyring backend of the session made by run-tests-in-session.sh."""
    return secret_service_keyring()


@pytest.fixture(scope="session")
def gnupg_home() -> Iterator[GnupgHome]:
    """A throwaway GnuPG home with a passphrase-protected ed25519/cv25519 test key."""
    home = GnupgHome()
    home.start()
    try:
        yield home
    finally:
        home.stop()
