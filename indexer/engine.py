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
Ranking by relevance (BM25) is still Whoosh's scorer (see :func:`ranked`).
"""

from __future__ import annotations

import heapq
import threading
import weakref
from bisect import bisect_left, bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from collections.abc import Set as AbstractSet
from itertools import count as numbering
from typing import Any

from whoosh import query as wq

from indexer.whoosh_private import (
    deleted_documents,
    fixed_width_column,
    kept_on,
    next_block,
    term_matcher,
)

Docs = AbstractSet[int]  # what evaluation returns: a set, or a frozen one from the cache
_VIEW = "_mailproof_view"  # the per-segment cache, kept on Whoosh's segment reader
RANGE_SCANS = 2  # ranges answered by a scan of the column before it is sorted once
CACHE_UNITS = 1_500_000  # decoded postings kept: a document number costs 1, a value 3 (~70 MB)


class _DecodedPostings:
    """The posting lists decoded lately, least recently used dropped first.

    Reading a common word's postings means unpickling and inflating hundreds of Whoosh
    blocks (at 100k messages, ~60 ms for a phrase of two words found in a quarter of the
    mail); refining a query as one types asks for the same words again and again. Entries
    are frozen (callers combine them into new sets) and belong to one segment's reader:
    they go when it does, or when the budget is reached.
    """

    def __init__(self, budget: int) -> None:
        self.budget = budget
        self.used = 0
        self.entries: OrderedDict[tuple[int, str, str, Any], tuple[Any, int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[int, str, str, Any]) -> Any:
        with self.lock:
            entry = self.entries.get(key)
            if entry is None:
                return None
            self.entries.move_to_end(key)
            return entry[0]

    def put(self, key: tuple[int, str, str, Any], value: Any, units: int) -> None:
        if units > self.budget // 2:
            return
        with self.lock:
            if key in self.entries:
                return
            self.entries[key] = (value, units)
            self.used += units
            while self.used > self.budget:
                _, (_, freed) = self.entries.popitem(last=False)
                self.used -= freed

    def forget(self, token: int) -> None:
        with self.lock:
            for key in [k for k in self.entries if k[0] == token]:
                self.used -= self.entries.pop(key)[1]

    def clear(self) -> None:
        with self.lock:
            self.entries.clear()
            self.used = 0


_CACHE = _DecodedPostings(CACHE_UNITS)
_TOKENS = numbering()


def clear_cache() -> None:
    """Forget every decoded posting list (the benchmark's uncached figures use this)."""
    _CACHE.clear()


class SegmentView:
    """What the engine keeps about one segment: its size, deletions and loaded columns."""

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.size = reader.doc_count_all()
        self.deleted: frozenset[int] = deleted_documents(reader)
        self._columns: dict[str, tuple[Any, Any]] = {}
        self._live: frozenset[int] | None = None
        self.searcher: Any = None  # the leaf searcher currently reading the segment
        self.token = next(_TOKENS)
        self._range_queries = 0
        weakref.finalize(self, _CACHE.forget, self.token)

    @classmethod
    def of(cls, reader: Any) -> SegmentView:
        return kept_on(reader, _VIEW, cls)

    def live(self) -> frozenset[int]:
        if self._live is None:
            self._live = frozenset(range(self.size)) - self.deleted
        return self._live

    # ---- postings -----------------------------------------------------------------------

    def postings(self, fieldname: str, text: Any) -> frozenset[int]:
        """Every document number holding the term (deleted ones included: ``matching`` takes
        them out). Frozen: it may be the cache's own copy."""
        key = (self.token, "ids", fieldname, text)
        cached = _CACHE.get(key)
        if cached is not None:
            return cached  # type: ignore[no-any-return]
        try:
            matcher = term_matcher(self.reader, fieldname, text)
        except AttributeError:  # not a segment reader of the layout we know: ask Whoosh
            return frozenset(self.reader.postings(fieldname, text).all_ids())
        if matcher is None:
            return frozenset()
        found = frozenset(_all_ids(matcher))
        _CACHE.put(key, found, len(found))
        return found

    def prefix(self, fieldname: str, prefix: str) -> set[int]:
        found: set[int] = set()
        if fieldname not in self.reader.schema:
            return found
        for term in self.reader.expand_prefix(fieldname, prefix):
            found |= self.postings(fieldname, term)
        return found

    def values(self, fieldname: str, text: str) -> Mapping[int, bytes]:
        """Document number → the posting's value (for positions), every block read once.
        Not to be changed: it may be the cache's own copy."""
        key = (self.token, "values", fieldname, text)
        cached = _CACHE.get(key)
        if cached is None:
            cached = self._values(fieldname, text)
            _CACHE.put(key, cached, 3 * len(cached))
        return cached  # type: ignore[no-any-return]

    def _values(self, fieldname: str, text: str) -> Mapping[int, bytes]:
        found: dict[int, bytes] = {}
        matcher = term_matcher(self.reader, fieldname, text)
        if matcher is None:
            return found
        if hasattr(matcher, "block_packed"):
            packed = _PackedValues()
            while matcher.is_active():
                if not packed.add(matcher.block_ids(), matcher.block_packed()):
                    break
                next_block(matcher)
            else:
                return packed
            matcher = term_matcher(
                self.reader, fieldname, text
            )  # fixed-size values: one by one below
        while matcher.is_active():
            found[matcher.id()] = matcher.value()
            matcher.next()
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
        start = getattr(query, "startdate", query.start)
        end = getattr(query, "enddate", query.end)
        low = field.to_column_value(start) if start is not None else None
        high = field.to_column_value(end) if end is not None else None
        self._range_queries += 1
        if self._range_queries <= RANGE_SCANS:
            # A scan costs a few ms per 100k values; sorting the column once costs ~30 ms and
            # pays off only when ranges are asked again (a window, not one `mailproof search`).
            values, missing = self.column(query.fieldname)
            lo = -1 if low is None else low
            hi = missing - 1 if high is None else min(high, missing - 1)
            if query.startexcl and low is not None:
                lo += 1
            if query.endexcl and high is not None and high <= hi:
                hi = high - 1
            return {d for d, v in enumerate(values) if lo <= v <= hi}
        order, ordered = self.ordered(query.fieldname)
        first, last = 0, len(ordered)
        if low is not None:
            first = (bisect_right if query.startexcl else bisect_left)(ordered, low)
        if high is not None:
            last = (bisect_left if query.endexcl else bisect_right)(ordered, high)
        return set(order[first:last]) if first < last else set()


class _PackedValues(Mapping[int, bytes]):
    """A term's posting values as its blocks hold them, sliced only when asked for: a phrase
    needs the positions of the few documents holding every word, not of all of them."""

    def __init__(self) -> None:
        self.where: dict[int, int] = {}  # document → block number << 8 | place in the block
        self.blocks: list[tuple[Any, bytes]] = []

    def add(self, ids: list[int], packed: tuple[Any, bytes] | None) -> bool:
        if packed is None or len(ids) > 256:
            return False
        base = len(self.blocks) << 8
        self.where.update(zip(ids, range(base, base + len(ids)), strict=True))
        self.blocks.append(packed)
        return True

    def __getitem__(self, docnum: int) -> bytes:
        code = self.where[docnum]
        offsets, joined = self.blocks[code >> 8]
        place = code & 255
        return joined[offsets[place] : offsets[place + 1]]

    def __iter__(self) -> Iterator[int]:
        return iter(self.where)

    def __len__(self) -> int:
        return len(self.where)

    def keys(self) -> Any:
        return self.where.keys()


def _all_ids(matcher: Any) -> Iterable[int]:
    """The document numbers of a term's postings, a block at a time where we can."""
    block_ids = getattr(matcher, "block_ids", None)
    if block_ids is None:
        return list(matcher.all_ids())  # inlined postings (a ListMatcher) and anything else
    ids: list[int] = []
    while matcher.is_active():
        ids.extend(block_ids())
        next_block(matcher)
    return ids


def _load_column(reader: Any, fieldname: str, size: int) -> tuple[Any, Any]:
    field = reader.schema[fieldname]
    missing = field.column_type.default_value() if field.column_type else None
    column = reader.column_reader(fieldname, translate=False)
    return fixed_width_column(column, size) or (list(column), missing)


# ---- evaluation -------------------------------------------------------------------------


def matching(view: SegmentView, query: wq.Query, within: Docs | None = None) -> Docs:
    """The live documents of the segment that match ``query`` (and are in ``within``)."""
    found = _eval(view, query, within)
    if within is not None:
        found &= within
    return found - view.deleted if view.deleted else found


def _eval(view: SegmentView, query: wq.Query, within: Docs | None) -> Docs:
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


def _and(view: SegmentView, subqueries: Iterable[wq.Query], within: Docs | None) -> Docs:
    current: Docs | None = within
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


def _phrase(view: SegmentView, query: wq.Phrase, within: Docs | None) -> Docs:
    words = list(query.words)
    if not words:
        return set()
    schema = view.reader.schema
    field = schema[query.fieldname] if query.fieldname in schema else None  # noqa: SIM401 - no .get
    if (
        len(words) == 1
        or field is None
        or query.slop != 1
        or not field.format.supports("positions")
    ):
        candidates: Docs | None = within
        for word in dict.fromkeys(words):
            holding = view.postings(query.fieldname, word)
            candidates = holding if candidates is None else candidates & holding
        if len(words) == 1 or not candidates:
            return set(candidates or ())
        return _phrase_by_whoosh(view, query, candidates)  # a sloppy phrase: Whoosh's check
    # Each word's postings are read once, with their values; positions are decoded only
    # for the documents holding every word.
    values = {}
    candidates = within
    for word in sorted(set(words), key=lambda w: view.reader.doc_frequency(query.fieldname, w)):
        values[word] = view.values(query.fieldname, word)
        keys = values[word].keys()
        candidates = set(keys) if candidates is None else candidates & keys
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


def _phrase_by_whoosh(view: SegmentView, query: wq.Phrase, candidates: Docs) -> Docs:
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
        if not sub.reader().doc_count_all():  # an empty store's index: Whoosh's EmptyReader
            continue
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


def ranked(
    searcher: Any,
    query: wq.Query,
    *,
    exclude: wq.Query | None = None,
    limit: int | None = None,
) -> tuple[list[tuple[int, float]], int]:
    """The matches by relevance: which documents match is decided here, as for newest first;
    Whoosh's BM25 then orders them by the words and phrases the query asks for (ranges,
    tags and exclusions only select). Matches no word scores are shown after, newest first.
    """
    everything, total = search(searcher, query, exclude=exclude)
    words = _scoring_leaves(query)
    if not words or not everything:
        chosen = everything if limit is None else everything[:limit]
        return [(docnum, 0.0) for docnum in chosen], total
    allowed = set(everything)
    results = searcher.search(wq.Or(words), filter=allowed, limit=limit)
    scored = [(hit.docnum, float(hit.score or 0.0)) for hit in results]
    if limit is None or len(scored) < limit:
        seen = {docnum for docnum, _ in scored}
        rest = (docnum for docnum in everything if docnum not in seen)
        more = limit - len(scored) if limit is not None else None
        scored.extend((docnum, 0.0) for docnum in (rest if more is None else _first(rest, more)))
    return scored, total


def _first(items: Iterable[int], count: int) -> list[int]:
    chosen: list[int] = []
    for item in items:
        if len(chosen) >= count:
            break
        chosen.append(item)
    return chosen


def _scoring_leaves(query: wq.Query, negated: bool = False) -> list[wq.Query]:
    """The words, phrases and prefixes a match is asked to have (not those it must lack)."""
    if isinstance(query, wq.Not):
        return _scoring_leaves(query.query, not negated)
    if isinstance(query, (wq.And, wq.Or)):
        return [leaf for sub in query.subqueries for leaf in _scoring_leaves(sub, negated)]
    if negated:
        return []
    if isinstance(query, wq.Term) and query.fieldname in ("subject", "body"):
        return [query]
    if isinstance(query, (wq.Phrase, wq.Prefix)) and query.fieldname in ("subject", "body"):
        return [query]
    return []
