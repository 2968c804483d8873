"""An index's table of contents names Mailproof's classes by module (Whoosh pickles the schema
and the segments' codec): they stay where the indexes already on disk expect them."""

from __future__ import annotations

import re
from pathlib import Path

from app.sources import open_source
from app.store.library import Library
from indexer import schema
from indexer.index import MailIndex
from tests.builders import make_maildir, make_message

PICKLED = {"MailCodec", "StemmedPositions"}  # what tables of contents name, in indexer.schema


def test_the_classes_a_table_of_contents_names_stay_in_indexer_schema(tmp_path: Path) -> None:
    for name in PICKLED:
        kind = getattr(schema, name)
        assert (kind.__module__, kind.__qualname__) == ("indexer.schema", name)
    root = make_maildir(tmp_path / "mail", {"cur/1.x:2,S": make_message("hello zebra")})
    library = Library(tmp_path / "home")
    library.ingest(open_source(str(root)))
    MailIndex(library).update()
    (toc,) = (tmp_path / "home" / "index").glob("*.toc")
    text = toc.read_bytes()
    assert {m.decode() for m in re.findall(rb"indexer\.\w+", text)} == {"indexer.schema"}
    assert all(name.encode() in text for name in PICKLED)
