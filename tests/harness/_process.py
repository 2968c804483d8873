"""Shared helpers for the harness: binaries, free ports, readiness polling, process-group stops."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Iterable
from pathlib import Path

READY_TIMEOUT = 10.0
_SBIN_DIRS = ("/usr/sbin", "/sbin", "/usr/local/sbin")


def require_binary(name: str, apt_packages: str) -> str:
    """Return the absolute path of ``name`` or raise with the Debian packages to install."""
    found = shutil.which(name)
    if found is None:
        for directory in _SBIN_DIRS:
            candidate = Path(directory) / name
            if candidate.is_file() and os.access(candidate, os.X_OK):
                found = str(candidate)
                break
    if found is None:
        raise RuntimeError(f"{name} not found: apt-get install {apt_packages}")
    return found


def free_port(host: str = "127.0.0.1", kind: int = socket.SOCK_STREAM) -> int:
    """Ask the kernel for a currently unused port on ``host`` (bind port 0, then release)."""
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """Return ``count`` distinct free TCP ports that are also free for UDP."""
    ports: list[int] = []
    while len(ports) < count:
        port = free_port(host)
        if port in ports:
            continue
        try:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
                udp.bind((host, port))
        except OSError:
            continue
        ports.append(port)
    return ports


def tail(path: Path | str, lines: int = 40) -> str:
    """Return the last ``lines`` lines of a log file, or a note that it does not exist."""
    p = Path(path)
    try:
        data = p.read_text(errors="replace")
    except FileNotFoundError:
        return f"<{p} does not exist>"
    chunk = data.splitlines()[-lines:]
    return f"--- last {len(chunk)} lines of {p} ---\n" + "\n".join(chunk)


def logs_tail(paths: Iterable[Path | str], lines: int = 40) -> str:
    """Concatenate the tails of several logs."""
    return "\n".join(tail(p, lines) for p in paths)


def wait_until(
    check: Callable[[], bool],
    what: str,
    logs: Iterable[Path | str] = (),
    timeout: float = READY_TIMEOUT,
    proc: subprocess.Popen[bytes] | None = None,
    interval: float = 0.02,
) -> None:
    """Poll ``check`` until it returns True; raise RuntimeError with log tails on timeout/exit."""
    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while True:
        try:
            if check():
                return
        except Exception as exc:  # readiness probes fail in many ways
            last_error = exc
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(
                f"{what}: process exited with status {proc.returncode} before it was ready\n"
                + logs_tail(logs)
            )
        if time.monotonic() >= deadline:
            raise RuntimeError(
                f"{what}: not ready after {timeout:.0f} s (last probe error: {last_error!r})\n"
                + logs_tail(logs)
            )
        time.sleep(interval)


def banner_probe(host: str, port: int, prefix: bytes) -> Callable[[], bool]:
    """Return a probe that connects to ``host:port`` and checks the greeting starts with prefix."""

    def probe() -> bool:
        with socket.create_connection((host, port), timeout=1.0) as sock:
            sock.settimeout(2.0)
            data = b""
            while b"\n" not in data:
                chunk = sock.recv(1024)
                if not chunk:
                    break
                data += chunk
            return data.startswith(prefix)

    return probe


def connect_probe(host: str, port: int) -> Callable[[], bool]:
    """Return a probe that only checks that a TCP connection is accepted."""

    def probe() -> bool:
        with socket.create_connection((host, port), timeout=1.0):
            return True

    return probe


def kill_group(pgid: int, sig: int) -> bool:
    """Send ``sig`` to a process group; return False if the group no longer exists."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


def group_alive(pgid: int) -> bool:
    """True while any process of group ``pgid`` exists (zombies excluded where visible)."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the ")" that ends the command name: state ppid pgrp ...
        fields = stat.rsplit(")", 1)[1].split()
        if len(fields) > 2 and fields[2] == str(pgid) and fields[0] != "Z":
            return True
    return False


def stop_group(pgid: int, proc: subprocess.Popen[bytes] | None = None, grace: float = 5.0) -> None:
    """Stop process group ``pgid`` whose leader is the daemon's master process.

    SIGTERM goes to the leader first (so it can shut its children down cleanly), then to the
    whole group, and after ``grace`` seconds SIGKILL to whatever is left.
    """

    def settle(seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while True:
            if proc is not None:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    proc.wait(timeout=0.02)
            if not group_alive(pgid):
                return True
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.03)

    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pgid, signal.SIGTERM)
    if not settle(grace):
        kill_group(pgid, signal.SIGTERM)
        if not settle(1.0):
            kill_group(pgid, signal.SIGKILL)
            settle(grace)
    if proc is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
    if group_alive(pgid):
        raise RuntimeError(f"process group {pgid} survived SIGKILL")


def start_group(
    argv: list[str], log_path: Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` in a new session (own process group) with stdout+stderr into ``log_path``."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env=env,
            start_new_session=True,
        )


def make_traversable(path: Path) -> None:
    """chmod 0755 ``path`` and check every parent lets other users through (for dropped privs)."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o755)
    for parent in path.resolve().parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            raise RuntimeError(
                f"{parent} is not searchable by other users (mode {oct(mode & 0o777)}); "
                "services that drop privileges (dovecot, postfix) cannot reach "
                f"{path}. Use a work dir under /tmp made with tempfile.mkdtemp and chmod 0755."
            )
