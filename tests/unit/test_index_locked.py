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
