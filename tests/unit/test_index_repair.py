"""Searching with repair: a damaged index is set aside, rebuilt from the store and searched
again, and the answer is the one the undamaged index gave."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import indexer.index as index_module
from app.sources import open_source
from app.store.library import Library
from indexer.index import CorruptIndex, MailIndex
from tests.builders import make_maildir, make_message


def _library(tmp_path: Path) -> Library:
    messages = {f"cur/{i}.x:2,S": make_message(f"hello number {i}") for i in range(30)}
    messages["cur/zebra.x:2,S"] = make_message("zebra crossing")
    library = Library(tmp_path / "home")
    library.ingest(open_source(str(make_maildir(tmp_path / "mail", messages))))
    return library


def _damage(directory: Path) -> None:
    for path in directory.iterdir():
        if path.suffix in (".seg", ".toc") or path.name.endswith(".trm"):
            path.write_bytes(os.urandom(64))


@pytest.mark.parametrize("processes", [1, 2])
def test_a_damaged_index_is_rebuilt_and_the_search_answers_as_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processes: int
) -> None:
    monkeypatch.setattr(index_module, "PARALLEL_FROM", 10)  # workers even for a small rebuild
    library = _library(tmp_path)
    built = MailIndex(library)
    built.update()
    before = {hit.sha256 for hit in built.search("hello", limit=None, snippets=False)}
    zebra = built.search("zebra")
    built.close()
    _damage(tmp_path / "home" / "index")

    index = MailIndex(tmp_path / "home")  # as `mailproof search` opens it: the data home only
    with pytest.raises(CorruptIndex):
        index.search("zebra")
    reported: list[tuple[int, int]] = []
    hits = index.repairing(
        lambda: index.search("zebra"),
        progress=lambda done, total: reported.append((done, total)),
        processes=processes,
    )
    assert hits == zebra and hits[0].snippet  # the same hit, with its snippet
    assert reported and reported[-1] == (31, 31)  # the rebuild read every message again
    assert any("damaged" in notice for notice in index.notices)
    assert list((tmp_path / "home").glob("index.damaged-*"))  # kept for a bug report
    assert {hit.sha256 for hit in index.search("hello", limit=None, snippets=False)} == before
    assert index.repairing(lambda: index.count("*")) == 31
    assert index.check(repair=False).clean


def test_an_undamaged_index_is_searched_once_and_left_alone(tmp_path: Path) -> None:
    index = MailIndex(_library(tmp_path))
    index.update()
    calls: list[int] = []

    def run() -> int:
        calls.append(1)
        return index.count("zebra")

    assert index.repairing(run) == 1
    assert calls == [1] and not index.notices
    assert not list((tmp_path / "home").glob("index.damaged-*"))
