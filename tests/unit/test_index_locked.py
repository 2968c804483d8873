"""A search index held by another writer: the update waits, then says so plainly; the index
and the store are untouched."""

from __future__ import annotations

from pathlib import Path

import pytest

import indexer.index as index_module
from app.sources import open_source
from app.store.library import Library
from indexer.index import IndexBusy, MailIndex
from tests.builders import make_maildir, make_message


def test_a_locked_index_is_reported_not_corrupted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = make_maildir(
        tmp_path / "mail", {f"cur/{i}.x:2,S": make_message(f"hello {i}") for i in range(3)}
    )
    library = Library(tmp_path / "home")
    library.ingest(open_source(str(root)))
    index = MailIndex(library)
    index.update()
    root.joinpath("cur", "9.x:2,S").write_bytes(make_message("zebra crossing"))
    library.ingest(open_source(str(root)))
    monkeypatch.setattr(index_module, "LOCK_WAIT_SECONDS", 0.5)
    holder = index._open(create=False).writer()  # another writer holds the lock
    try:
        with pytest.raises(IndexBusy, match="another Mailproof process"):
            index.update()
    finally:
        holder.cancel()
    assert index.count("zebra") == 0  # nothing half-written
    report = index.update()
    assert report.indexed == 1 and index.count("zebra") == 1


def test_two_damaged_indexes_in_one_second_are_both_kept(tmp_path: Path) -> None:
    root = make_maildir(tmp_path / "mail", {"cur/1.x:2,S": make_message("hello zebra")})
    library = Library(tmp_path / "home")
    library.ingest(open_source(str(root)))
    for _ in range(2):
        index = MailIndex(library)
        index.update()
        for toc in (tmp_path / "home" / "index").glob("*.toc"):
            toc.write_bytes(b"garbage")
        fresh = MailIndex(library)
        fresh.open_or_rebuild()
        assert any("damaged" in notice for notice in fresh.notices)
        fresh.update()
        assert fresh.count("zebra") == 1
    kept = sorted((tmp_path / "home").glob("index.damaged-*"))
    assert len(kept) == 2  # the second did not overwrite the first (same second or not)
    assert all((copy / "state.sqlite").exists() for copy in kept)
