"""Throwaway GnuPG home with a test key pair (ed25519 sign + cv25519 encrypt, passphrase).

The agent caches nothing (ttl 0), so a wrong passphrase really fails.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import gnupg

from tests.harness._process import require_binary

APT_HINT = "gnupg"
# The agent socket lives inside the home when /run/user/<uid> is missing; sockaddr_un paths
# are limited to ~107 bytes, and a long home makes key import silently yield 0 keys.
MAX_HOME_LEN = 60


class GnupgHome:
    """A fresh GNUPGHOME under /tmp; ``start()`` generates the key, ``stop()`` removes it all.

    Attributes after start: ``home``, ``uid``, ``email``, ``passphrase``, ``fingerprint``
    (primary key), ``encryption_fingerprint`` (cv25519 subkey), ``gpg`` (``gnupg.GPG``).
    """

    def __init__(
        self,
        name: str = "Alice Test",
        email: str = "alice@example.test",
        passphrase: str = "correct horse battery staple",
    ) -> None:
        self.name = name
        self.email = email
        self.uid = f"{name} <{email}>"
        self.passphrase = passphrase
        self.home: Path | None = None
        self.fingerprint = ""
        self.encryption_fingerprint = ""
        self._gpg_bin = require_binary("gpg", APT_HINT)
        self._gpgconf = require_binary("gpgconf", APT_HINT)
        require_binary("gpg-agent", "gnupg gpg-agent")
        self._gpg: gnupg.GPG | None = None

    @property
    def gpg(self) -> gnupg.GPG:
        if self._gpg is None:
            raise RuntimeError("GnupgHome not started")
        return self._gpg

    def _run(self, *args: str) -> str:
        assert self.home is not None
        result = subprocess.run(
            [self._gpg_bin, "--homedir", str(self.home), "--batch", *args],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
        if result.returncode != 0:
            shown = " ".join("***" if a == self.passphrase else a for a in args)
            raise RuntimeError(f"gpg {shown} failed ({result.returncode}): {result.stderr}")
        return result.stdout

    def start(self) -> GnupgHome:
        home = Path(tempfile.mkdtemp(prefix="g", dir="/tmp"))
        self.home = home
        try:
            if len(str(home)) > MAX_HOME_LEN:
                raise RuntimeError(f"GnuPG home path too long for the agent socket: {home}")
            home.chmod(0o700)
            (home / "gpg-agent.conf").write_text(
                "default-cache-ttl 0\nmax-cache-ttl 0\nallow-loopback-pinentry\n"
                # Low S2K count: the calibrated default costs ~0.6 s CPU per unlock.
                "s2k-count 65536\n"
            )
            (home / "gpg.conf").write_text("no-auto-key-retrieve\nno-auto-key-locate\n")
            loopback = ("--pinentry-mode", "loopback", "--passphrase", self.passphrase)
            self._run(*loopback, "--quick-gen-key", self.uid, "ed25519", "sign,cert", "1y")
            self.fingerprint = self._fingerprints()[0]
            self._run(*loopback, "--quick-add-key", self.fingerprint, "cv25519", "encr", "1y")
            subkeys = self._fingerprints()
            if len(subkeys) != 2:
                raise RuntimeError(f"expected primary key + 1 subkey, got {subkeys}")
            self.encryption_fingerprint = subkeys[1]
            self._gpg = gnupg.GPG(gpgbinary=self._gpg_bin, gnupghome=str(home))
            self._gpg.encoding = "utf-8"
        except BaseException:
            self.stop()
            raise
        return self

    def _fingerprints(self) -> list[str]:
        out = self._run("--with-colons", "--list-secret-keys", self.email)
        return [line.split(":")[9] for line in out.splitlines() if line.startswith("fpr:")]

    def export_public(self) -> str:
        """ASCII-armored public key."""
        return self._run("--armor", "--export", self.fingerprint)

    def export_secret(self) -> str:
        """ASCII-armored secret key (still protected by ``passphrase``)."""
        return self._run(
            "--pinentry-mode",
            "loopback",
            "--passphrase",
            self.passphrase,
            "--armor",
            "--export-secret-keys",
            self.fingerprint,
        )

    def stop(self) -> None:
        """Kill the home's agent (and any other gpg daemon) and delete the directory."""
        if self.home is None:
            return
        if self.home.exists():
            daemons = _daemons_using(self.home)
            subprocess.run(
                [self._gpgconf, "--homedir", str(self.home), "--kill", "all"],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                check=False,
                timeout=30,
            )
            _wait_for_exit(daemons)
            shutil.rmtree(self.home, ignore_errors=True)
        self.home = None
        self._gpg = None

    def __enter__(self) -> GnupgHome:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _daemons_using(home: Path) -> list[int]:
    """PIDs of processes (gpg-agent, dirmngr...) whose command line names ``home``."""
    needle = str(home).encode()
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if needle in cmdline.split(b"\0"):
            pids.append(int(entry.name))
    return pids


def _wait_for_exit(pids: list[int], timeout: float = 5.0) -> None:
    """Wait until ``pids`` are gone (zombies count as gone); SIGKILL stragglers at the end."""
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _running(pid)]
        time.sleep(0.02)
    for pid in alive:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"
