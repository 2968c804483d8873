"""A throwaway GnuPG home for one operation: short path, an agent that caches nothing, killed
and removed afterwards. Keys live in the OS keyring, never in a lasting GNUPGHOME."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gnupg

from app.errors import EnvironmentUnavailable

# The agent's socket lives inside the home when /run/user/<uid> is missing; socket paths are
# limited to ~107 bytes and a long home makes imports silently give 0 keys.
MAX_HOME_LEN = 60
AGENT_CONF = "default-cache-ttl 0\nmax-cache-ttl 0\nallow-loopback-pinentry\n"


def gpg_binary() -> str:
    found = shutil.which("gpg")
    if found is None:
        raise EnvironmentUnavailable("GnuPG (gpg) is not installed: apt-get install gnupg")
    return found


@contextlib.contextmanager
def ephemeral_gpg() -> Iterator[Any]:
    """A ``gnupg.GPG`` on a fresh home under /tmp; the agent is killed and the home removed
    on exit, whatever happened inside."""
    short = Path("/tmp")  # noqa: S108 - short for the agent socket; mkdtemp makes it 0700
    base = short if short.is_dir() else Path(tempfile.gettempdir())
    home = Path(tempfile.mkdtemp(prefix="mpg", dir=base))
    try:
        if len(str(home)) > MAX_HOME_LEN:
            raise EnvironmentUnavailable(
                f"the temporary GnuPG home {home} is too long for gpg-agent's socket"
            )
        home.chmod(0o700)
        (home / "gpg-agent.conf").write_text(AGENT_CONF)
        (home / "gpg.conf").write_text("pinentry-mode loopback\n")
        binary = gpg_binary()
        gpg = gnupg.GPG(gpgbinary=binary, gnupghome=str(home))
        gpg.encoding = "utf-8"
        yield gpg
    finally:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            gpgconf = shutil.which("gpgconf")
            if gpgconf:
                subprocess.run(
                    [gpgconf, "--homedir", str(home), "--kill", "gpg-agent"],
                    capture_output=True,
                    timeout=10,
                    check=False,
                )
        shutil.rmtree(home, ignore_errors=True)
