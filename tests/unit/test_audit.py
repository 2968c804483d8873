"""The audit log: a hash chain that names the first edited, removed, reordered or inserted
entry, survives kill -9 with at most the entry in flight lost, and records what users do."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app import audit


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("MAILPROOF_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


def write(count: int) -> list[bytes]:
    for index in range(count):
        audit.record("message viewed", {"sha256": f"{index:064x}"}, detail_index=index)
    return audit.log_path().read_bytes().splitlines()


def rewrite(lines: list[bytes]) -> None:
    audit.log_path().write_bytes(b"".join(line + b"\n" for line in lines))


def test_entries_are_chained_and_durable(home: Path) -> None:
    lines = write(4)
    entries = [json.loads(line) for line in lines]
    assert [e["seq"] for e in entries] == [1, 2, 3, 4]
    assert entries[0]["prev"] == audit.GENESIS
    for before, line in zip(lines, entries[1:], strict=False):
        assert line["prev"] == audit.line_hash(before)
    assert entries[2]["user"] and entries[2]["time"].endswith("Z")
    assert entries[2]["object"] == {"sha256": f"{2:064x}"}
    assert entries[2]["detail"] == {"detail_index": 2}
    check = audit.verify()
    assert check.ok and check.entries == 4 and check.first_bad is None


def test_an_edited_entry_is_named(home: Path) -> None:
    lines = write(5)
    lines[1] = lines[1].replace(b"message viewed", b"message ignored")
    rewrite(lines)
    check = audit.verify()
    assert not check.ok and check.first_bad == 2 and "changed" in check.problem


def test_a_removed_entry_is_named(home: Path) -> None:
    lines = write(5)
    del lines[2]
    rewrite(lines)
    check = audit.verify()
    assert not check.ok and check.first_bad == 3 and "removed" in check.problem


def test_reordered_and_inserted_entries_are_named(home: Path) -> None:
    lines = write(5)
    swapped = [lines[0], lines[2], lines[1], lines[3], lines[4]]
    rewrite(swapped)
    check = audit.verify()
    assert not check.ok and check.first_bad == 2

    forged = json.loads(lines[1])
    forged["action"] = "evidence exported"
    rewrite([lines[0], lines[1], json.dumps(forged).encode(), *lines[2:]])
    check = audit.verify()
    assert not check.ok and check.first_bad == 3


def test_removing_or_editing_the_last_entries_is_caught_by_the_head(home: Path) -> None:
    lines = write(4)
    rewrite(lines[:2])
    check = audit.verify()
    assert not check.ok and check.first_bad == 3 and "removed from the end" in check.problem

    rewrite([*lines[:3], lines[3].replace(b"message viewed", b"message skipped")])
    check = audit.verify()
    assert not check.ok and check.first_bad == 4


def test_a_half_written_entry_is_dropped_and_the_chain_continues(home: Path) -> None:
    lines = write(3)
    with audit.log_path().open("ab") as handle:
        handle.write(b'{"seq": 4, "time": "2026-11-2')  # kill -9 in the middle of a write
    check = audit.verify()
    assert check.ok and check.entries == 3 and any("cut short" in n for n in check.notes)
    entry = audit.record("key removed", {"key": "smime:abc"})
    assert entry["seq"] == 4 and entry["prev"] == audit.line_hash(lines[-1])
    assert audit.verify().ok
    stored = audit.log_path().read_bytes().splitlines()
    assert len(stored) == 4 and json.loads(stored[3])["action"] == "key removed"


WRITER = """
import sys
from app import audit
i = 0
while True:
    audit.record("message viewed", {"sha256": "%064x" % i})
    i += 1
    if i == 20:
        print("ready", flush=True)
"""


def test_kill_9_while_writing_never_breaks_the_chain(home: Path) -> None:
    for attempt in range(3):
        process = subprocess.Popen(
            [sys.executable, "-c", WRITER],
            env={**os.environ, "MAILPROOF_HOME": str(home)},
            stdout=subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[2],
        )
        assert process.stdout is not None
        assert process.stdout.readline().strip() == b"ready"
        time.sleep(0.05 * (attempt + 1))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        check = audit.verify()
        assert check.ok, check.problem
        before = check.entries
        audit.record("sync", {"account": "after-crash"})
        after = audit.verify()
        assert after.ok and after.entries == before + 1


def test_the_cli_shows_verifies_and_exports(home: Path, tmp_path: Path) -> None:
    write(3)
    env = {**os.environ, "MAILPROOF_HOME": str(home)}
    mailproof = Path(sys.executable).with_name("mailproof")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(mailproof), *args], env=env, capture_output=True, text=True, timeout=60
        )

    shown = [json.loads(line) for line in cli("audit", "show", "--json").stdout.splitlines()]
    assert [e["seq"] for e in shown] == [1, 2, 3]
    assert cli("audit", "show", "--since", "2999-01-01").stdout == ""
    ok = cli("audit", "verify")
    assert ok.returncode == 0 and "3 entries" in ok.stdout
    out = tmp_path / "handover.jsonl"
    assert cli("audit", "export", "-o", str(out)).returncode == 0
    assert out.read_bytes() == audit.log_path().read_bytes()

    lines = audit.log_path().read_bytes().splitlines()
    rewrite([lines[0], lines[1].replace(b"viewed", b"VIEWED"), lines[2]])
    bad = cli("audit", "verify", "--json")
    assert bad.returncode == 1
    assert json.loads(bad.stdout)["first_bad"] == 2
    assert "audit log damaged: entry 2" in bad.stderr
    assert "Traceback" not in bad.stderr
    wrong_date = cli("audit", "show", "--since", "yesterday")
    assert wrong_date.returncode == 2 and "--since" in wrong_date.stderr


def test_user_actions_are_recorded(home: Path, tmp_path: Path) -> None:
    from app.mime.attachments import save_into
    from app.sources import open_source
    from app.store.library import Library
    from tests.builders import make_maildir, make_message

    root = make_maildir(tmp_path / "md", {"cur/1:2,S": make_message("audited")})
    Library(home).ingest(open_source(root))
    saved = save_into(tmp_path, "../../etc/passwd", b"attachment bytes")
    actions = [(e["action"], e["result"]) for e in audit.entries()]
    assert ("archive imported", "ok") in actions
    assert ("attachment saved", "ok") in actions
    saved_entry = next(e for e in audit.entries() if e["action"] == "attachment saved")
    assert saved_entry["object"] == {"file": str(saved)}
    assert audit.verify().ok
