"""Indexing in forked worker processes gives the very index one process gives: the same hits
for every kind of query, replaced (not duplicated) documents on a later update, unreadable
messages reported, and a failing worker reported without a half-written index."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import indexer.index as index_module
from app.sources import open_source
from app.store.library import Library
from indexer.index import CorruptIndex, MailIndex
from tests.builders import make_maildir, make_message

QUERIES = [
    "*",
    "hello",
    '"number 7"',
    "is:unread",
    "is:flagged",
    "-is:unread",
    "subject:hello -number",
    "folder:inbox",
]


def _library(tmp_path: Path, name: str, count: int = 60) -> Library:
    messages = {}
    for i in range(count):
        flags = ":2,S" if i % 3 else ":2,"
        messages[f"cur/{i}.x{flags}"] = make_message(f"hello number {i}")
    root = make_maildir(tmp_path / f"mail-{name}", messages)
    library = Library(tmp_path / name)
    library.ingest(open_source(str(root)))
    return library


def _answers(index: MailIndex) -> dict[str, set[str]]:
    return {q: {h.sha256 for h in index.search(q, limit=None, snippets=False)} for q in QUERIES}


@pytest.fixture(autouse=True)
def _small_batches(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index_module, "PARALLEL_FROM", 10)  # workers even for a small update
    monkeypatch.setattr(index_module, "PARALLEL_BATCH", 25)  # and several commits


def test_workers_build_the_index_one_process_builds(tmp_path: Path) -> None:
    serial = MailIndex(_library(tmp_path, "one"))
    parallel = MailIndex(_library(tmp_path, "two"))
    assert serial.update(processes=1).indexed == 60
    report = parallel.update(processes=2)
    assert report.indexed == 60 and not report.problems
    expected = _answers(serial)
    assert expected["*"] and expected["is:unread"] and len(expected["*"]) == 60
    assert _answers(parallel) == expected
    with parallel.searcher() as searcher:
        assert searcher.doc_count() == 60
        assert len(searcher.leaf_searchers()) >= 2  # the workers' own segments
    assert parallel.check(repair=False).clean


@pytest.mark.parametrize("processes", [1, 2])
def test_a_later_update_replaces_documents_and_the_kept_searcher_sees_it(
    tmp_path: Path, processes: int
) -> None:
    library = _library(tmp_path, "home")
    index = MailIndex(library)
    index.update(processes=processes)
    assert index.count("is:flagged") == 0  # a searcher is now kept open across the update
    library.db.execute("UPDATE copies SET flags = flags || ' \\Flagged'")
    library.db.commit()
    report = index.update(processes=processes)
    assert report.indexed == 60
    assert index.count("*") == 60  # replaced, not added beside the old entries
    assert index.count("is:flagged") == 60
    assert len(index.search("*", limit=None, snippets=False)) == 60
    assert index.check(repair=False).clean


def test_unreadable_messages_are_reported_by_the_workers(tmp_path: Path) -> None:
    library = _library(tmp_path, "home")
    gone = library.db.execute("SELECT sha256 FROM messages LIMIT 2").fetchall()
    for (sha,) in gone:
        library.blobs.path(sha).unlink()
    report = MailIndex(library).update(processes=2)
    assert report.indexed == 58
    assert len(report.problems) == 2
    assert all("cannot be read" in problem for problem in report.problems)


def test_a_failing_worker_is_reported_and_the_index_keeps_what_it_had(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    library = _library(tmp_path, "home")
    index = MailIndex(library)
    index.update(processes=1)
    before = _answers(index)
    library.db.execute("UPDATE copies SET flags = flags || ' \\Flagged'")
    library.db.commit()

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(MailIndex, "_document", broken)
    fresh = MailIndex(library)
    with pytest.raises(CorruptIndex, match="disk on fire"):
        fresh.update(processes=2)
    fresh.close()
    again = MailIndex(library)
    assert _answers(again) == before  # the old entries, none lost, none half-replaced
    monkeypatch.undo()
    assert MailIndex(library).update(processes=2).indexed == 60
    assert MailIndex(library).count("is:flagged") == 60
    shutil.rmtree(tmp_path / "home" / "index")
