"""The in-memory index of decrypted mail (the on-disk index never sees decrypted text), and how
hits are read from a searcher and merged across the two indexes."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from whoosh import query as wq

from app.errors import StoreError
from app.store.blobs import BlobStore
from app.store.index_state import encrypted_messages
from app.tasks import CancelToken, Progress
from indexer import engine
from indexer.results import Hit
from indexer.schema import SCHEMA, document
from indexer.state import Desired, copies

if TYPE_CHECKING:
    from app.store.library import Library


class PrivateIndex:
    """Decrypted messages, indexed in memory only (Whoosh RamStorage), with their text."""

    def __init__(self) -> None:
        from whoosh.filedb.filestore import RamStorage

        self.index = RamStorage().create_index(SCHEMA)
        self.bodies: dict[str, str] = {}

    def mask(self) -> wq.Query:
        """The messages this index answers for: their on-disk entries are not searched."""
        return wq.Or([wq.Term("sha256", sha) for sha in self.bodies])


def build(
    library: Library,
    blobs: BlobStore,
    wanted: Desired,
    load_keys: Callable[[], Any],
    progress: Progress,
    cancel: CancelToken | None,
) -> PrivateIndex:
    """Decrypt every stored encrypted message with a live copy and index it in memory."""
    from app.crypto.secure import read_secure
    from app.mime.facts import read_facts

    messages = encrypted_messages(library)
    private = PrivateIndex()
    material = load_keys()
    total = len(messages)
    progress(0, total)
    with private.index.writer() as writer:
        for done, message in enumerate(messages, start=1):
            if cancel is not None:
                cancel.check()
            sha256 = message.sha256
            if sha256 not in wanted:
                continue
            try:
                raw = blobs.get(sha256)
            except (OSError, StoreError):
                continue
            reading = read_secure(raw, keys=lambda: material)
            if reading.encryption.status != "decrypted":
                continue
            facts = read_facts(reading.content)
            facts = replace(
                facts,
                is_encrypted=True,
                is_signed=facts.is_signed or reading.signature.status != "none",
            )
            thread = str(message.thread_id or "").strip("<>") or None
            writer.add_document(
                **document(sha256, len(raw), facts, copies(wanted[sha256][1]), thread)
            )
            private.bodies[sha256] = facts.body
            progress(done, total)
    return private


def collect(
    searcher: Any,
    parsed: wq.Query,
    limit: int | None,
    sort: str,
    mask: wq.Query | None,
    cancel: CancelToken | None,
) -> tuple[list[Hit], int]:
    """The first ``limit`` hits in ``searcher`` (not those in ``mask``) and how many match."""
    if sort == "date":
        # Sets of document numbers and the date column (indexer.engine): what Whoosh would
        # do one matcher call per document.
        docnums, total = engine.search(searcher, parsed, exclude=mask, newest=limit)
        scored = [(docnum, 0.0) for docnum in docnums]
    else:
        scored, total = engine.ranked(searcher, parsed, exclude=mask, limit=limit)
    hits = []
    for docnum, score in scored:
        if cancel is not None:
            cancel.check()
        stored = searcher.stored_fields(docnum)
        shown = json.loads(stored["shown"])
        hits.append(
            Hit(
                sha256=stored["sha256"],
                message_id=shown.get("message_id"),
                subject=shown.get("subject") or "",
                from_=shown.get("from") or "",
                date=shown.get("date"),
                folders=tuple(shown.get("folders") or ()),
                places=tuple((a, f) for a, f in shown.get("places") or ()),
                score=score,
                preview=stored.get("preview") or b"",
            )
        )
    return hits, total


def merge(first: list[Hit], second: list[Hit], sort: str, limit: int | None) -> list[Hit]:
    """The hits of both indexes in one order, the first ``limit`` of them."""
    if sort == "date":
        merged = sorted([*first, *second], key=lambda h: h.date or "", reverse=True)
    else:
        merged = sorted([*first, *second], key=lambda h: h.score, reverse=True)
    return merged[:limit] if limit else merged
