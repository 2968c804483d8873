"""kill -9 in the middle of an ingest: the store stays consistent and the next ingest completes."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.sources import open_source
from app.store.library import Library

MESSAGES = 3000

CHILD = """
import sys
from pathlib import Path
from app.sources import open_source
from app.store.library import Library

def progress(done, total):
    print(done, total, flush=True)

Library(Path(sys.argv[2])).ingest(open_source(Path(sys.argv[1])), progress)
print("finished", flush=True)
"""


@pytest.fixture(scope="module")
def big_maildir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("crash") / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    filler = ("All work and no play makes Jack a dull boy. " * 400).encode()
    for i in range(MESSAGES):
        raw = (
            (
                f"From: Sender {i} <s{i}@example.org>\nTo: r@example.org\n"
                f"Subject: message {i}\nMessage-ID: <m{i}@example.org>\n"
                f"Date: Mon, 01 Jan 2024 10:{i // 60 % 60:02d}:{i % 60:02d} +0000\n\n"
            ).encode()
            + filler
            + f"\nnumber {i}\n".encode()
        )
        (root / "cur" / f"{1700000000 + i}.M{i}P1.host:2,S").write_bytes(raw)
    return root


def _check_store(home: Path) -> int:
    """Assert the store is consistent; return how many copies it holds."""
    library = Library(home)
    try:
        assert library.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = library.db.execute("SELECT sha256, source_path FROM copies").fetchall()
        for row in rows:
            blob = library.blobs.path(row["sha256"])
            assert not blob.name.startswith(".tmp-")
            assert ".tmp-" not in row["source_path"]
            data = blob.read_bytes()
            assert hashlib.sha256(data).hexdigest() == row["sha256"]
            assert data == Path(row["source_path"]).read_bytes()
        messages = library.db.execute("SELECT COUNT(*) FROM messages").fetchone()[0]
        orphans = library.db.execute(
            "SELECT COUNT(*) FROM messages m WHERE NOT EXISTS "
            "(SELECT 1 FROM copies c WHERE c.sha256 = m.sha256)"
        ).fetchone()[0]
        assert orphans == 0
        assert messages == len(rows)  # every message here is distinct
        return len(rows)
    finally:
        library.close()


@pytest.mark.parametrize(
    ("committed_at_least", "delay"),
    [(50, 0.0), (450, 0.05), (1650, 0.12)],
    ids=["after-first-batch", "inside-third-batch", "late"],
)
def test_kill_9_mid_ingest_leaves_a_consistent_store_that_a_second_ingest_completes(
    tmp_path: Path, big_maildir: Path, committed_at_least: int, delay: float
) -> None:
    home = tmp_path / "home"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(big_maildir), str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "MAILPROOF_HOME": str(home)},
    )
    seen: list[bytes] = []
    try:
        assert child.stdout is not None
        while True:
            line = child.stdout.readline()
            assert line, f"ingest ended early: {seen!r} {child.stderr.read()!r}"
            seen.append(line)
            if int(line.split()[0]) >= committed_at_least:
                break
        time.sleep(delay)
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    rest = child.stdout.read()
    child.stdout.close()
    child.stderr.close()

    assert child.returncode == -signal.SIGKILL
    assert b"finished" not in rest  # it was killed mid-way, not after the end

    committed = _check_store(home)
    assert committed_at_least <= committed < MESSAGES

    library = Library(home)
    try:
        report = library.ingest(open_source(big_maildir))
        folder_id = library.folders()[0].id
        assert report.added == MESSAGES - committed
        assert library.count(folder_id) == MESSAGES
    finally:
        library.close()
    assert _check_store(home) == MESSAGES
