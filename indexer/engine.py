"""Evaluating a parsed query as sets of document numbers, straight from Whoosh's postings.

Whoosh answers a query by walking a tree of matcher objects one document at a time, in
Python: fine for ranking a few hundred hits, slow for what an archive search mostly asks —
every message that matches, newest first, and how many there are. Measured at 20,000
messages: a date range becomes a union of hundreds of trie terms (175 ms), a ``NOT`` walks
every document (26 ms), sorting by date looks each hit up one by one.

Here each term's postings are read a block at a time (Whoosh's own block format, decoded
with C-level ``array``/``itertools`` operations) into a Python set, and the boolean structure
is set algebra: intersection, union, difference. Dates and sizes are compared on the sortable
column, loaded once per segment and kept while the segment is. Phrases are the one place
positions matter: the candidates (documents holding every word, already narrowed by the rest
of the query) are checked with Whoosh's own phrase matcher. Newest-first is a partial sort
(``heapq.nlargest``) on the date column.

Whoosh stays the oracle: tests compare every kind of query with ``searcher.docs_for_query``.
Ranking by relevance (BM25) is still Whoosh's scorer (see :func:`indexer.index._collect`).
"""

from __future__ import annotations

import heapq
import sys
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from itertools import accumulate
from typing import Any

from whoosh import query as wq

_VIEW = "_mailproof_view"  # the per-segment cache, kept on Whoosh's segment reader


class SegmentView:
    """What the engine keeps about one segment: its size, deletions and loaded columns."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.size = reader.doc_count_all()
        self.deleted: frozenset[int] = frozenset(reader.deleted_docs_set)
        self._columns: dict[str, tuple[Any, Any]] = {}
        self._live: frozenset[int] | None = None
        self.searcher: Any = None  # the leaf searcher currently reading the segment

    @classmethod
    def of(cls, reader: Any) -> SegmentView:
        view = getattr(reader, _VIEW, None)
        if view is None:
            view = cls(reader)
            setattr(reader, _VIEW, view)
        return view

    def live(self) -> frozenset[int]:
        if self._live is None:
            self._live = frozenset(range(self.size)) - self.deleted
        return self._live

    # ---- postings -----------------------------------------------------------------------

    def postings(self, fieldname: str, text: Any) -> set[int]:
        """Every document number holding the term (deleted ones included: see ``finish``)."""
        reader = self.reader
        if fieldname not in reader.schema:
            return set()
        try:
            raw = reader._text_to_bytes(fieldname, text)
            if (fieldname, raw) not in reader:
                return set()
            matcher = reader._terms.matcher(fieldname, raw, reader.schema[fieldname].format)
        except AttributeError:  # not a segment reader of the layout we know: ask Whoosh
            return set(reader.postings(fieldname, text).all_ids())
        return set(_all_ids(matcher))

    def prefix(self, fieldname: str, prefix: str) -> set[int]:
        found: set[int] = set()
        if fieldname not in self.reader.schema:
            return found
        for term in self.reader.expand_prefix(fieldname, prefix):
            found |= self.postings(fieldname, term)
        return found

    def values(self, fieldname: str, text: str) -> dict[int, bytes]:
        """Document number → the posting's value (for positions), every block read once."""
        reader = self.reader
        found: dict[int, bytes] = {}
        if fieldname not in reader.schema:
            return found
        raw = reader._text_to_bytes(fieldname, text)
        if (fieldname, raw) not in reader:
            return found
        matcher = reader._terms.matcher(fieldname, raw, reader.schema[fieldname].format)
        if not hasattr(matcher, "_read_values") or not hasattr(matcher, "_byteids"):
            while matcher.is_active():
                found[matcher.id()] = matcher.value()
                matcher.next()
            return found
        while matcher.is_active():
            matcher._read_ids()
            matcher._read_values()
            found.update(zip(matcher._ids, matcher._values, strict=True))
            matcher._next_block()
        return found

    # ---- columns ------------------------------------------------------------------------

    def column(self, fieldname: str) -> tuple[Any, Any]:
        """The sortable column of ``fieldname`` as a sequence of raw (order-preserving) values,
        with the value that stands for "none"."""
        if fieldname not in self._columns:
            self._columns[fieldname] = _load_column(self.reader, fieldname, self.size)
        return self._columns[fieldname]

    def ordered(self, fieldname: str) -> tuple[list[int], list[int]]:
        """The documents that have a value in the column, in value order, and those values."""
        key = f"{fieldname}#ordered"
        if key not in self._columns:
            values, missing = self.column(fieldname)
            order = sorted(
                (d for d in range(len(values)) if values[d] != missing), key=values.__getitem__
            )
            self._columns[key] = (order, [values[d] for d in order])
        return self._columns[key]

    def in_range(self, query: wq.NumericRange) -> set[int]:
        field = self.reader.schema[query.fieldname]
        order, values = self.ordered(query.fieldname)
        start = getattr(query, "startdate", query.start)
        end = getattr(query, "enddate", query.end)
        first, last = 0, len(values)
        if start is not None:
            low = field.to_column_value(start)
            first = (bisect_right if query.startexcl else bisect_left)(values, low)
        if end is not None:
            high = field.to_column_value(end)
            last = (bisect_left if query.endexcl else bisect_right)(values, high)
        return set(order[first:last]) if first < last else set()


def _all_ids(matcher: Any) -> Iterable[int]:
    """The document numbers of a term's postings, a block at a time where we can."""
    read_data = getattr(matcher, "_read_data", None)
    if read_data is None or not hasattr(matcher, "_byteids"):
        return list(matcher.all_ids())  # inlined postings (a ListMatcher) and anything else
    ids: list[int] = []
    while matcher.is_active():
        if matcher._data is None:
            read_data()
        block = matcher._data[0]
        ids.extend(block if matcher._byteids else accumulate(block))
        matcher._next_block()
    return ids


def _load_column(reader: Any, fieldname: str, size: int) -> tuple[Any, Any]:
    field = reader.schema[fieldname]
    missing = field.column_type.default_value() if field.column_type else None
    column = reader.column_reader(fieldname, translate=False)
    dbfile = getattr(column, "_dbfile", None)
    typecode = getattr(column, "_typecode", None)
    if dbfile is not None and typecode in ("q", "Q", "i", "I") and hasattr(column, "_count"):
        # A fixed-width big-endian column: one read instead of one unpack per document.
        values = array(typecode)
        count = min(column._count, size)
        values.frombytes(dbfile.get(column._basepos, count * values.itemsize))
        if sys.byteorder == "little":
            values.byteswap()
        if count < size:
            values.extend([column._default] * (size - count))
        return values, column._default
    return list(column), missing


# ---- evaluation -------------------------------------------------------------------------


def matching(view: SegmentView, query: wq.Query, within: set[int] | None = None) -> set[int]:
    """The live documents of the segment that match ``query`` (and are in ``within``)."""
    found = _eval(view, query, within)
    if within is not None:
        found &= within
    return found - view.deleted if view.deleted else found


def _eval(view: SegmentView, query: wq.Query, within: set[int] | None) -> set[int]:
    if isinstance(query, wq.Term):
        return view.postings(query.fieldname, query.text)
    if isinstance(query, wq.And):
        return _and(view, query.subqueries, within)
    if isinstance(query, wq.Or):
        found: set[int] = set()
        for sub in query.subqueries:
            found |= _eval(view, sub, within)
        return found
    if isinstance(query, wq.Not):
        base = set(view.live()) if within is None else set(within)
        return base - _eval(view, query.query, within)
    if isinstance(query, wq.Every):
        return set(view.live()) if within is None else set(within)
    if isinstance(query, wq.NumericRange):  # DateRange too
        return view.in_range(query)
    if isinstance(query, wq.Prefix):
        return view.prefix(query.fieldname, query.text)
    if isinstance(query, wq.Phrase):
        return _phrase(view, query, within)
    if query is wq.NullQuery or isinstance(query, type(wq.NullQuery)):
        return set()
    # Anything else the parser may one day produce: Whoosh's own matcher, still correct.
    return set(query.matcher(view.searcher).all_ids())


def _cost(query: wq.Query) -> int:
    """Cheap clauses first: terms, then ranges and negations, then phrases."""
    if isinstance(query, wq.Phrase):
        return 3
    if isinstance(query, (wq.Not, wq.NumericRange, wq.Every)):
        return 2
    if isinstance(query, (wq.And, wq.Or)) and any(
        isinstance(s, wq.Phrase) for s in query.subqueries
    ):
        return 3
    return 1


def _and(view: SegmentView, subqueries: Iterable[wq.Query], within: set[int] | None) -> set[int]:
    current = within
    for sub in sorted(subqueries, key=_cost):
        if isinstance(sub, wq.Not):
            base = set(view.live()) if current is None else current
            found = base - _eval(view, sub.query, current)
        else:
            found = _eval(view, sub, current)
            if current is not None:
                found &= current
        current = found
        if not current:
            return set()
    return current if current is not None else set()


def _phrase(view: SegmentView, query: wq.Phrase, within: set[int] | None) -> set[int]:
    words = list(query.words)
    if not words:
        return set()
    schema = view.reader.schema
    field = schema[query.fieldname] if query.fieldname in schema else None  # noqa: SIM401 - no .get
    if len(words) == 1 or field is None or not field.format.supports("positions"):
        candidates: set[int] | None = within
        for word in dict.fromkeys(words):
            holding = view.postings(query.fieldname, word)
            candidates = holding if candidates is None else candidates & holding
        if len(words) == 1 or not candidates:
            return set(candidates or ())
        return _phrase_by_whoosh(view, query, candidates)
    if query.slop != 1:
        candidates = within
        for word in dict.fromkeys(words):
            holding = view.postings(query.fieldname, word)
            candidates = holding if candidates is None else candidates & holding
        return _phrase_by_whoosh(view, query, candidates) if candidates else set()
    # Each word's postings are read once, with their values; positions are decoded only
    # for the documents holding every word.
    values = {}
    candidates = within
    for word in sorted(set(words), key=lambda w: view.reader.doc_frequency(query.fieldname, w)):
        values[word] = view.values(query.fieldname, word)
        holding = set(values[word])
        candidates = holding if candidates is None else candidates & holding
        if not candidates:
            return set()
    decode = field.format.decode_positions
    found = set()
    first, rest = words[0], list(enumerate(words[1:], start=1))
    for docnum in candidates or ():
        later = [(i, set(decode(values[word][docnum]))) for i, word in rest]
        if any(all(p + i in places for i, places in later) for p in decode(values[first][docnum])):
            found.add(docnum)
    return found


def _phrase_by_whoosh(view: SegmentView, query: wq.Phrase, candidates: set[int]) -> set[int]:
    matcher = query.matcher(view.searcher)
    found = set()
    for docnum in sorted(candidates):
        if not matcher.is_active():
            break
        if matcher.id() < docnum:
            matcher.skip_to(docnum)
            if not matcher.is_active():
                break
        if matcher.id() == docnum:
            found.add(docnum)
    return found


# ---- the whole index --------------------------------------------------------------------


def segments(searcher: Any) -> list[tuple[SegmentView, int]]:
    """(view, first document number) of each segment the searcher reads."""
    views = []
    for sub, offset in searcher.leaf_searchers():
        view = SegmentView.of(sub.reader())
        view.searcher = sub
        views.append((view, offset))
    return views


def search(
    searcher: Any,
    query: wq.Query,
    *,
    exclude: wq.Query | None = None,
    newest: int | None = None,
) -> tuple[list[int], int]:
    """Global document numbers of the ``newest`` matches (all, newest first, when None) and
    how many match in all. ``exclude`` removes documents (the private index's masks)."""
    total = 0
    ranked: list[tuple[int, int]] = []  # (date key, global docnum)
    for view, offset in segments(searcher):
        found = matching(view, query)
        if exclude is not None and found:
            found -= _eval(view, exclude, None)
        if not found:
            continue
        total += len(found)
        values, missing = view.column("date")
        keys = {d: (v if (v := values[d]) != missing else -1) for d in found}
        best = (
            heapq.nlargest(newest, keys, key=keys.__getitem__)
            if newest is not None
            else sorted(keys, key=keys.__getitem__, reverse=True)
        )
        ranked.extend((keys[d], d + offset) for d in best)
    ranked.sort(key=lambda pair: pair[0], reverse=True)
    if newest is not None:
        ranked = ranked[:newest]
    return [docnum for _, docnum in ranked], total


def count(searcher: Any, query: wq.Query) -> int:
    return sum(len(matching(view, query)) for view, _ in segments(searcher))
