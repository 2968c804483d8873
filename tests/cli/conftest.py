"""Running the real ``mailproof`` command in a subprocess, with a private MAILPROOF_HOME."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests.builders import make_maildir, make_message

ROOT = Path(__file__).resolve().parents[2]
MAILPROOF = ROOT / ".venv" / "bin" / "mailproof"


@pytest.fixture
def mail() -> SimpleNamespace:
    return SimpleNamespace(message=make_message, maildir=make_maildir)


Runner = Callable[..., subprocess.CompletedProcess]


@pytest.fixture
def cli(tmp_path: Path) -> Runner:
    """``cli("list", path, "--json")`` → CompletedProcess with bytes stdout and stderr."""
    home = tmp_path / "mailproof-home"
    assert MAILPROOF.exists(), f"{MAILPROOF} missing: install the package into .venv"

    def run(
        *args: str | os.PathLike[str],
        prefix: Sequence[str] = (),
        home_dir: Path | None = None,
        timeout: float = 120,
    ) -> subprocess.CompletedProcess:
        env = {**os.environ, "MAILPROOF_HOME": str(home_dir or home)}
        return subprocess.run(
            [*prefix, str(MAILPROOF), *map(str, args)],
            capture_output=True,
            env=env,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    return run


def error_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [
        line
        for line in result.stderr.decode("utf-8", "replace").splitlines()
        if line.startswith("mailproof: error:")
    ]


def assert_unusable_input(result: subprocess.CompletedProcess, *mentions: str) -> str:
    """Exit 2, nothing on stdout, exactly one ``mailproof: error:`` line naming the problem."""
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 2, (result.returncode, stderr)
    assert "Traceback" not in stderr
    assert "internal error" not in stderr
    assert result.stdout == b""
    errors = error_lines(result)
    assert len(errors) == 1, stderr
    for mention in mentions:
        assert mention in errors[0], (mention, errors[0])
    return errors[0]


@pytest.fixture
def unusable() -> Callable[..., str]:
    """The check for exit-2 results, as a fixture (test modules never import conftest)."""
    return assert_unusable_input


@pytest.fixture(scope="session")
def public_dir() -> Iterator[Path]:
    """A world-traversable scratch folder an unprivileged user can reach."""
    path = Path(tempfile.mkdtemp(prefix="mailproof-cli-"))
    path.chmod(0o755)
    yield path
    for sub in path.rglob("*"):
        if sub.is_dir() and not sub.is_symlink():
            sub.chmod(0o755)
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture(scope="session")
def unprivileged(public_dir: Path) -> list[str]:
    """A command prefix under which file permissions are enforced.

    As root, chmod 000 does not stop reads, so the command runs as ``nobody`` via setpriv;
    as any other user, no prefix is needed. The prefix is proven to work before use.
    """
    prefix: list[str] = []
    if os.geteuid() == 0:
        setpriv = shutil.which("setpriv")
        if setpriv is None:
            pytest.fail("tests run as root but setpriv (util-linux) is missing")
        prefix = [setpriv, "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    probe = public_dir / "probe-unreadable"
    probe.write_bytes(b"secret")
    probe.chmod(0)
    try:
        result = subprocess.run([*prefix, "cat", str(probe)], capture_output=True)
        assert result.returncode != 0 and result.stdout == b"", "permissions are not enforced"
        works = subprocess.run([*prefix, str(MAILPROOF), "--version"], capture_output=True)
        assert works.returncode == 0, works.stderr
    finally:
        probe.unlink()
    return prefix
