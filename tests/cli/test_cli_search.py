"""`mailproof search`, `count` and `index` over a generated archive: exact address, date and
folder hits (expected sets computed from how the corpus was made), one hit per message with all
its folders, incremental updates, drift repair, a damaged index, kill -9 while indexing."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from tests.cli.conftest import MAILPROOF, error_lines
from tests.corpus import SENDERS, Made, build, corpus, write_maildir


@pytest.fixture
def archive(cli, tmp_path: Path) -> tuple[list[Made], Path]:
    made = corpus()
    root = write_maildir(tmp_path / "Mail", made)
    result = cli("import", root, "--json")
    assert result.returncode == 0, result.stderr
    return made, root


def search(cli, *query: str, extra: tuple[str, ...] = ()) -> list[dict]:
    result = cli("search", "--json", "--limit", "0", *extra, "--", *query)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def ids(hits: list[dict]) -> set[str]:
    return {hit["message_id"].strip("<>") for hit in hits}


def expected(made: list[Made], keep) -> set[str]:  # noqa: ANN001
    return {m.message_id for m in made if keep(m)}


def test_address_queries_match_every_form_exactly(cli, archive) -> None:
    made, _ = archive
    alice = expected(made, lambda m: m.sender[1] == "alice@clinic.example")
    assert alice and ids(search(cli, "from:alice")) == alice
    assert ids(search(cli, "from:alice@clinic.example")) == alice
    assert ids(search(cli, "from:Meyer")) == alice  # the display name
    clinic = expected(made, lambda m: m.sender[1].endswith("clinic.example"))
    assert clinic > alice and ids(search(cli, "from:clinic.example")) == clinic
    assert ids(search(cli, "-from:clinic.example")) == expected(made, lambda m: True) - clinic


def test_date_ranges_and_after(cli, archive) -> None:
    made, _ = archive
    first_quarter = expected(made, lambda m: 1 <= m.month <= 3)
    assert first_quarter and ids(search(cli, "date:2024-01..2024-03")) == first_quarter
    after = expected(made, lambda m: (m.month, m.day) > (5, 1))
    assert after and ids(search(cli, "date:>2024-05-01")) == after


def test_one_hit_per_message_with_every_folder_and_the_json_contract(cli, archive) -> None:
    made, _ = archive
    hits = search(cli, "folder:BACKUP")
    assert ids(hits) == expected(made, lambda m: "BACKUP" in m.folders)
    both = [h for h in search(cli, "*") if h["message_id"] == "<m3@corpus.example>"]
    assert len(both) == 1 and sorted(both[0]["folders"]) == ["BACKUP", "INBOX"]
    for key in ("message_id", "subject", "from", "date", "folders", "sha256", "snippet"):
        assert key in both[0]
    assert both[0]["date"].startswith("2024-") and len(both[0]["sha256"]) == 64
    assert len(search(cli, "*")) == len(made)


def test_words_stems_phrases_attachments_flags_and_boolean_logic(cli, archive) -> None:
    made, _ = archive
    # "result" finds "results" (stemming); the snippet marks the match.
    hits = search(cli, "result")
    assert ids(hits) == expected(made, lambda m: m.word == "results")
    start, end = hits[0]["highlights"][0]
    assert hits[0]["snippet"][start:end].lower().startswith("result")
    assert ids(search(cli, '"see the biopsy notes"')) == expected(
        made, lambda m: m.word == "biopsy"
    )
    assert ids(search(cli, '"biopsy the see"')) == set()
    with_pdf = expected(made, lambda m: m.attachment)
    assert with_pdf and ids(search(cli, "has:attachment")) == with_pdf
    assert ids(search(cli, "attachment:report-2024.pdf")) == with_pdf
    assert ids(search(cli, "size:>1k", "has:attachment")) <= with_pdf
    assert ids(search(cli, "is:unread")) == expected(made, lambda m: not m.seen)
    combined = expected(
        made, lambda m: m.word in ("invoice", "holiday") and m.sender[0] != "Carol Smith"
    )
    assert ids(search(cli, "(invoice OR holiday) AND NOT from:carol")) == combined
    result = cli("count", "subject:invoice")
    assert int(result.stdout) == len(expected(made, lambda m: m.word == "invoice"))


def test_sort_by_date_is_newest_first(cli, archive) -> None:
    dates = [h["date"] for h in search(cli, "*")]
    assert dates == sorted(dates, reverse=True)
    result = cli("search", "*", "--json", "--limit", "5", "--sort", "relevance")
    assert len(result.stdout.splitlines()) == 5


def test_syntax_errors_are_one_clear_line_with_a_position(cli, archive) -> None:
    for query in ('"unbalanced', "(a OR b", "date:2024-99"):
        result = cli("search", query)
        assert result.returncode == 2, result.stderr
        assert b"Traceback" not in result.stderr
        assert "position" in error_lines(result)[0]


def test_the_light_search_path_logs_errors_like_every_command(cli, tmp_path: Path) -> None:
    """`mailproof search` skips the full CLI at start but not its last guard: the error is
    one line on stderr, and the details go to mailproof.log as for any other command."""
    result = cli("search", "(a OR")
    assert result.returncode == 2 and b"Traceback" not in result.stderr
    log = (tmp_path / "mailproof-home" / "mailproof.log").read_text(encoding="utf-8")
    assert "error: OR has nothing after it" in log


def test_new_and_removed_mail_updates_the_index_incrementally(cli, archive, tmp_path) -> None:
    made, root = archive
    extra = Made(999, SENDERS[0], 6, 15, "zeppelin", False, True, ("INBOX",))
    (root / "cur" / "999.corpus:2,S").write_bytes(build(extra))
    gone = next(m for m in made if m.folders == ("INBOX",))
    next((root / "cur").glob(f"{gone.index}.corpus:2,*")).unlink()
    result = cli("import", root, "--json")
    assert result.returncode == 0, result.stderr
    assert ids(search(cli, "zeppelin")) == {extra.message_id}
    assert gone.message_id not in ids(search(cli, "*"))
    report = json.loads(cli("index", "--json").stdout)
    assert report["indexed"] == 0 and report["removed"] == 0  # nothing left to do


def test_index_check_finds_and_repairs_drift(cli, archive, tmp_path) -> None:
    made, _ = archive
    state = sqlite3.connect(tmp_path / "mailproof-home" / "index" / "state.sqlite")
    state.execute("UPDATE docs SET state='old' WHERE rowid IN (SELECT rowid FROM docs LIMIT 3)")
    state.commit()
    state.close()
    result = cli("index", "--check", "--json")
    report = json.loads(result.stdout)
    assert result.returncode == 1 and report["stale"] == 3 and report["repaired"]
    again = cli("index", "--check", "--json")
    assert again.returncode == 0 and json.loads(again.stdout)["clean"]
    assert len(search(cli, "*")) == len(made)


def test_a_damaged_index_is_rebuilt_with_a_clear_message(cli, archive, tmp_path) -> None:
    made, _ = archive
    index_dir = tmp_path / "mailproof-home" / "index"
    for path in index_dir.iterdir():
        if path.suffix in (".seg", ".toc") or path.name.endswith(".trm"):
            path.write_bytes(os.urandom(64))
    result = cli("search", "*", "--json", "--limit", "0")
    assert result.returncode == 0, result.stderr
    assert b"Traceback" not in result.stderr
    assert b"damaged" in result.stderr and b"rebuilt" in result.stderr
    assert len(result.stdout.splitlines()) == len(made)
    assert list(tmp_path.glob("mailproof-home/index.damaged-*"))


def test_kill_9_while_indexing_leaves_an_index_a_rerun_completes(cli, tmp_path) -> None:
    made = corpus(count=2500, seed=3)
    root = write_maildir(tmp_path / "Big", made)
    home = tmp_path / "mailproof-home"
    assert cli("import", root, "--json").returncode == 0
    # Commits of 300 documents (by the worker processes: 2,500 is a parallel rebuild), so the
    # kill can land between two commits, whatever the speed of the machine.
    env = {**os.environ, "MAILPROOF_HOME": str(home), "MAILPROOF_INDEX_BATCH": "300"}
    process = subprocess.Popen(
        [str(MAILPROOF), "index", "--rebuild"],
        env=env,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its writer processes too: killed together, like a crash
    )
    index_dir = home / "index"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        if 0 < _committed(index_dir / "state.sqlite") < len(made):  # some batches are in
            break
        time.sleep(0.005)
    assert process.poll() is None, "the rebuild ended before it could be killed"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    kept = _committed(index_dir / "state.sqlite")
    assert 0 < kept < len(made)
    result = cli("index", "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["indexed"] == len(made) - kept  # only what was lost
    check = cli("index", "--check", "--json")
    assert check.returncode == 0 and json.loads(check.stdout)["clean"]
    assert int(cli("count", "*").stdout) == len(made)


def _committed(state: Path) -> int:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{state}?mode=ro", uri=True)) as db:
            return int(db.execute("SELECT COUNT(*) FROM docs").fetchone()[0])
    except sqlite3.Error:
        return 0  # not created yet, or being created


def test_unparsable_mail_is_found_by_what_can_be_read(cli, tmp_path: Path) -> None:
    root = tmp_path / "Odd"
    for part in ("cur", "new", "tmp"):
        (root / part).mkdir(parents=True)
    (root / "cur" / "1.odd:2,S").write_bytes(
        b"From: Dora <dora@odd.example>\nSubject: broken quokka\nMessage-ID: <odd@x>\n"
        b'Content-Type: multipart/mixed; boundary="never"\n\nno boundary quokka text\n'
    )
    assert cli("import", root).returncode in (0, 1)
    hits = search(cli, "quokka")
    assert ids(hits) == {"odd@x"}
    assert ids(search(cli, "is:malformed")) == {"odd@x"}


def test_a_search_before_any_mail_is_imported_finds_nothing_without_an_error(cli) -> None:
    """A fresh install: the index of an empty store has no segment (Whoosh's EmptyReader)."""
    counted = cli("count", "anything", "--json")
    assert counted.returncode == 0, counted.stderr
    assert json.loads(counted.stdout) == {"query": "anything", "count": 0}
    found = cli("search", "from:alice OR subject:referral", "--json")
    assert found.returncode == 0 and found.stdout == b"" and b"error" not in found.stderr
