"""Every use Mailproof makes of Whoosh's internals, written against whoosh-reloaded 2.7.5 (pinned
in pyproject.toml); tests/unit/test_whoosh_private.py fails on another version, or when
something listed here is gone.

What it relies on (RELIES_ON below lists the attributes; the test checks each on live objects):

- Import: ``whoosh.compat`` imports ``urllib.request`` (for a download helper Mailproof never
  calls) and ``whoosh.reading`` imports the ``cached_property`` package (which imports
  asyncio): together about a third of ``mailproof search``'s start-up. While Whoosh is first
  imported, both are stood in for: a ``urlretrieve`` that imports the real one when called,
  and the standard library's ``functools.cached_property``. The stand-ins are removed from
  ``sys.modules`` right after, so any later ``import urllib.request`` gets the real module.
  This runs when ``indexer`` is imported, before any other module of it imports Whoosh.
- Posting blocks (``whoosh.codec.whoosh3``): ``W3PostingsWriter._mini_*`` and
  ``W3LeafMatcher._read_*`` are overridden to lay a block out as arrays and joined bytes
  (:class:`MailPostingsWriter`, :class:`MailLeafMatcher`), reading their block buffers
  (``_ids``, ``_weights``, ``_values``, ``_data`` …); ``W3Codec``'s ``_blocklimit``,
  ``_compression``, ``_inlinelimit`` and ``length_stats`` (:class:`MailCodecBase`);
  ``W3PerDocWriter._create_column`` and the stored-fields column's ``_child.cutoff``
  (:class:`MailPerDocWriter`).
- Writing (``whoosh.writing``): ``PostingPool._write_run``/``_read_run`` (:class:`ChunkedPool`),
  a ``SegmentWriter``'s ``pool``, ``_tempstorage`` and ``newsegment``; ``SegmentWriter(_lk=False)``
  for a worker process's writer, its ``_finalize_segment``/``_close_segment``, and the parent's
  ``_merge_segments``, ``_added``, ``_commit_toc`` and ``_finish`` — what Whoosh's
  ``MpWriter._commit`` does with ``multisegment=True``.
- Reading (``whoosh.reading``, ``whoosh.columns``): a ``SegmentReader``'s ``_text_to_bytes``,
  ``_terms.matcher`` and ``deleted_docs_set``; a leaf matcher's ``_next_block``; a numeric
  column reader's ``_dbfile``, ``_typecode``, ``_count``, ``_basepos`` and ``_default``; and
  an attribute of Mailproof's own set on a segment reader (the engine's per-segment cache).
"""

from __future__ import annotations

import functools
import marshal
import operator
import sys
import types
from array import array
from collections.abc import Callable, Iterable, Iterator
from itertools import accumulate, islice
from typing import Any, TypeVar


def _urlretrieve(*args: Any, **kwargs: Any) -> Any:  # pragma: no cover - never called
    from urllib.request import urlretrieve

    return urlretrieve(*args, **kwargs)  # noqa: S310 - only Whoosh's own helper, unused


def _import_whoosh_lightly() -> None:
    if "whoosh.reading" in sys.modules:
        return
    stubs: dict[str, types.ModuleType] = {}
    if "urllib.request" not in sys.modules:
        stubs["urllib.request"] = types.ModuleType("urllib.request")
        stubs["urllib.request"].urlretrieve = _urlretrieve  # type: ignore[attr-defined]
    if "cached_property" not in sys.modules:
        stubs["cached_property"] = types.ModuleType("cached_property")
        stubs["cached_property"].cached_property = functools.cached_property  # type: ignore[attr-defined]
    sys.modules.update(stubs)
    try:
        import whoosh.compat  # noqa: F401
        import whoosh.reading  # noqa: F401
    finally:
        for name, stub in stubs.items():
            if sys.modules.get(name) is stub:
                del sys.modules[name]


_import_whoosh_lightly()

# Whoosh is imported only now, after the stand-ins above.
from whoosh.codec.whoosh3 import (  # noqa: E402
    W3Codec,
    W3LeafMatcher,
    W3PerDocWriter,
    W3PostingsWriter,
    W3TermsReader,
)
from whoosh.columns import NumericColumn, VarBytesColumn, WrappedColumnWriter  # noqa: E402
from whoosh.reading import SegmentReader  # noqa: E402
from whoosh.writing import PostingPool, SegmentWriter  # noqa: E402

WHOOSH_VERSION = "2.7.5"  # whoosh-reloaded: the version this module was written against

RELIES_ON: dict[type, tuple[str, ...]] = {
    W3Codec: ("_blocklimit", "_compression", "_inlinelimit", "length_stats"),
    W3PostingsWriter: (
        "_mini_ids", "_mini_weights", "_mini_values", "_ids", "_byteids", "_weights", "_values",
        "_format",
    ),
    W3LeafMatcher: (
        "_read_ids", "_read_weights", "_read_values", "_read_data", "_next_block", "_data",
        "_ids", "_byteids", "_weights", "_values", "_blocklength", "_fixedsize",
    ),
    W3PerDocWriter: ("_create_column", "_colwriters"),
    WrappedColumnWriter: ("_child",),
    VarBytesColumn.Writer: ("cutoff",),
    PostingPool: ("_write_run", "_read_run", "_open_run", "_remove_run"),
    SegmentWriter: (
        "pool", "_tempstorage", "newsegment", "_added", "_finalize_segment", "_close_segment",
        "_merge_segments", "_commit_toc", "_finish",
    ),
    SegmentReader: ("_text_to_bytes", "_terms", "deleted_docs_set"),
    W3TermsReader: ("matcher",),
    NumericColumn.Reader: ("_dbfile", "_typecode", "_count", "_basepos", "_default"),
}  # fmt: skip

RELIES_ON_PARAMETERS: dict[type, tuple[str, ...]] = {
    SegmentWriter: ("_lk", "limitmb", "compound", "codec"),
    PostingPool: ("tempstore", "segment", "limitmb"),
}

T = TypeVar("T")

_SWAP = sys.byteorder == "big"


def to_le_bytes(numbers: array) -> bytes:  # type: ignore[type-arg]
    """Little-endian on disk whatever the machine (posting blocks and positions)."""
    if _SWAP:  # pragma: no cover - little-endian machines
        numbers.byteswap()
    return numbers.tobytes()


def from_le_bytes(code: str, raw: bytes) -> array:  # type: ignore[type-arg]
    numbers = array(code)
    numbers.frombytes(raw)
    if _SWAP:  # pragma: no cover
        numbers.byteswap()
    return numbers


# ---- posting blocks ---------------------------------------------------------------------
#
# Whoosh 3 stores a block of up to 128 postings as a pickle of three tuples: the document
# gaps, the weights, the values (for ``subject``/``body``, each document's positions). Reading
# a block unpickles every number and every value as its own Python object; at 100k messages a
# phrase of two common words reads ~1,000 blocks that way (36 ms of its 90). Here the same
# three are arrays and one joined byte string with its offsets: unpickling makes five objects,
# and C code (``array``, ``itertools.accumulate``) rebuilds what the matcher hands out. Block
# headers, skipping, inlined single postings and everything above the block are Whoosh's.


class MailPostingsWriter(W3PostingsWriter):  # type: ignore[misc]
    def _mini_ids(self) -> Any:
        ids = self._ids
        if self._byteids:  # term vectors: Whoosh's own layout
            return tuple(ids)
        return to_le_bytes(array("I", map(operator.sub, ids, [0, *ids[:-1]])))

    def _mini_weights(self) -> Any:
        weights = self._weights
        first = weights[0]
        if all(w == first for w in weights):
            return None if first == 1.0 else first
        return to_le_bytes(array("f", weights))

    def _mini_values(self) -> Any:
        fixedsize = self._format.fixed_value_size()
        values = self._values
        if fixedsize is not None and fixedsize >= 0:
            return super()._mini_values()
        offsets = array("I", accumulate(map(len, values), initial=0))
        return (to_le_bytes(offsets), b"".join(values))


class MailLeafMatcher(W3LeafMatcher):  # type: ignore[misc]
    def _read_ids(self) -> None:
        if self._data is None:
            self._read_data()
        raw = self._data[0]
        self._ids = raw if self._byteids else list(accumulate(from_le_bytes("I", raw)))

    def block_ids(self) -> list[int]:
        """Every document number of the current block (the engine reads blocks whole)."""
        if self._ids is None:
            self._read_ids()
        return self._ids

    def _read_weights(self) -> None:
        if self._data is None:
            self._read_data()
        weights = self._data[1]
        count = self._blocklength
        if weights is None:
            self._weights = array("f", [1.0]) * count
        elif isinstance(weights, float):
            self._weights = array("f", [weights]) * count
        else:
            self._weights = from_le_bytes("f", weights)

    def _read_values(self) -> None:
        packed = self.block_packed()
        if packed is None:  # fixed-size values: Whoosh's own layout
            super()._read_values()
            return
        offsets, joined = packed
        self._values = [joined[a:b] for a, b in zip(offsets, offsets[1:], strict=False)]

    def block_values(self) -> list[Any]:
        if self._values is None:
            self._read_values()
        return self._values

    def block_packed(self) -> tuple[array, bytes] | None:  # type: ignore[type-arg]
        """The block's values unsliced (offsets, joined bytes); None for fixed-size ones."""
        if self._data is None:
            self._read_data()
        fixedsize = self._fixedsize
        if fixedsize is not None and fixedsize >= 0:
            return None
        packed, joined = self._data[2]
        return from_le_bytes("I", packed), joined


class MailPerDocWriter(W3PerDocWriter):  # type: ignore[misc]
    """Whoosh's per-document writer, writing the stored fields' offsets in every segment.

    Whoosh writes them only past 32,768 documents; below that a reader rebuilds them from
    the lengths, one Python append per document (12 ms of every `mailproof search` at 100k
    messages in segments of 10k)."""

    def _create_column(self, fieldname: str, column: Any) -> None:
        super()._create_column(fieldname, column)
        if fieldname == "_stored":
            child = getattr(self._colwriters[fieldname], "_child", None)
            if child is not None and hasattr(child, "cutoff"):
                child.cutoff = 0


class MailCodecBase(W3Codec):  # type: ignore[misc]
    """What :class:`indexer.schema.MailCodec` changes in Whoosh's codec (the class itself is
    defined there: an index's table of contents names it, pickled).

    No per-block length statistics: writing them looks up each posting's document length
    again, a column read per posting (measured: a fifth of the indexing time). They only let
    BM25 skip blocks that cannot reach the top hits; without them the bound is looser, never
    wrong, and newest-first searches (indexer.engine) never use them. Posting blocks as arrays
    and joined bytes, and the stored fields' offsets in every segment (above).
    """

    length_stats = False

    def per_document_writer(self, storage: Any, segment: Any) -> Any:
        return MailPerDocWriter(self, storage, segment)

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> Any:
        return MailPostingsWriter(
            dbfile,
            blocklimit=self._blocklimit,
            byteids=byteids,
            compression=self._compression,
            inlinelimit=self._inlinelimit,
        )

    def postings_reader(
        self, dbfile: Any, terminfo: Any, format_: Any, term: Any = None, scorer: Any = None
    ) -> Any:
        if terminfo.is_inlined():
            return super().postings_reader(dbfile, terminfo, format_, term=term, scorer=scorer)
        offset, length = terminfo.extent()
        return MailLeafMatcher(dbfile, offset, length, format_, term=term, scorer=scorer)


# ---- writers ----------------------------------------------------------------------------
#
# Plain files (``compound=False``): Whoosh opens a compound segment by copying each of its parts
# into a BytesIO (measured: 100 ms and 200 MB for every `mailproof search` at 20k messages);
# plain files are read where they lie.
#
# Whoosh sorts a segment's postings in a pool; past ``limitmb`` it writes sorted runs to disk
# and merges them at the end, pickling and unpickling every posting one call at a time
# (measured: a third of the time of indexing 3,000 messages in one writer). Here a run is
# written as ``marshal`` dumps of 20,000 postings each and read back a chunk at a time: the
# same sorted stream, a C call per chunk.

LIMIT_MB = 128  # per writer: the pool spills past this (Whoosh's estimate of its size)
CHUNK = 20_000


class ChunkedPool(PostingPool):  # type: ignore[misc]
    def _write_run(self, f: Any, items: Iterable[Any]) -> None:
        try:
            if isinstance(items, list):
                for start in range(0, len(items), CHUNK):
                    marshal.dump(items[start : start + CHUNK], f)
            else:
                iterator = iter(items)
                while chunk := list(islice(iterator, CHUNK)):
                    marshal.dump(chunk, f)
        finally:
            f.close()

    def _read_run(self, path: str) -> Iterator[Any]:
        f = self._open_run(path)
        try:
            while True:
                try:
                    chunk = marshal.load(f)  # noqa: S302 - our own run, written just now
                except EOFError:
                    return
                yield from chunk
        finally:
            f.close()
            self._remove_run(path)


def _with_pool(writer: Any) -> Any:
    writer.pool = ChunkedPool(writer._tempstorage, writer.newsegment, limitmb=LIMIT_MB)
    return writer


def open_writer(index: Any, codec: MailCodecBase) -> Any:
    """The writer that holds the index's lock (raises Whoosh's LockError when it is held)."""
    return _with_pool(index.writer(limitmb=LIMIT_MB, compound=False, codec=codec))


def worker_writer(index: Any, codec: MailCodecBase) -> Any:
    """A writer for a worker process, writing a segment of its own under the parent's lock."""
    return _with_pool(
        SegmentWriter(index, _lk=False, limitmb=LIMIT_MB, compound=False, codec=codec)
    )


def finish_worker_segment(worker: Any, wrote: bool) -> Any:
    """The segment a worker's writer made (None when it ``wrote`` nothing), its files closed."""
    segment = worker._finalize_segment() if wrote else None
    if segment is None:
        worker._close_segment()
    return segment


def commit_with_segments(writer: Any, segments: list[Any]) -> None:
    """Commit ``writer`` (the lock holder) with the workers' ``segments`` added to the index:
    Whoosh's ``MpWriter._commit`` with ``multisegment=True``."""
    final = writer._merge_segments(None, None, None) + segments
    if writer._added:
        final.append(writer._finalize_segment())
    else:
        writer._close_segment()
    writer._commit_toc(final)
    writer._finish()


# ---- readers ----------------------------------------------------------------------------


def kept_on(reader: Any, name: str, make: Callable[[Any], T]) -> T:
    """The object kept on Whoosh's segment ``reader`` under ``name`` (made on first use): it
    lives exactly as long as the reader does."""
    kept = getattr(reader, name, None)
    if kept is None:
        kept = make(reader)
        setattr(reader, name, kept)
    return kept


def deleted_documents(reader: Any) -> frozenset[int]:
    return frozenset(reader.deleted_docs_set)


def term_matcher(reader: Any, fieldname: str, text: Any) -> Any:
    """The term's raw postings in a segment (deleted documents included), or None when it has
    none. Raises AttributeError for a reader that is not a segment reader of this layout."""
    if fieldname not in reader.schema:
        return None
    raw = reader._text_to_bytes(fieldname, text)
    if (fieldname, raw) not in reader:
        return None
    return reader._terms.matcher(fieldname, raw, reader.schema[fieldname].format)


def next_block(matcher: Any) -> None:
    matcher._next_block()


def fixed_width_column(column: Any, size: int) -> tuple[array, Any] | None:  # type: ignore[type-arg]
    """A fixed-width big-endian integer column's first ``size`` values and its default, in one
    read instead of one unpack per document; None for any other kind of column."""
    dbfile = getattr(column, "_dbfile", None)
    typecode = getattr(column, "_typecode", None)
    if dbfile is None or typecode not in ("q", "Q", "i", "I") or not hasattr(column, "_count"):
        return None
    values = array(typecode)
    count = min(column._count, size)
    values.frombytes(dbfile.get(column._basepos, count * values.itemsize))
    if sys.byteorder == "little":
        values.byteswap()
    if count < size:
        values.extend([column._default] * (size - count))
    return values, column._default
