"""indexer.engine answers exactly what Whoosh's own matchers answer, on an index with several
segments, deleted and replaced documents and messages without a date; newest first is by date."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from whoosh import index as windex
from whoosh import query as wq

from indexer import engine
from indexer import query as mq
from indexer.schema import SCHEMA, MailCodec

WORDS = ["budget", "review", "patient", "results", "quarterly", "audit", "to", "be", "or", "not"]
PEOPLE = ["alice@clinic.example", "bob@lab.clinic.example", "carol@other.example"]
TAGS = ["attachment", "encrypted", "signed", "unread", "flagged"]


def _doc(rng: random.Random, number: int) -> dict[str, object]:
    body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(0, 40)))
    if rng.random() < 0.3:
        body += " quarterly budget review"
    if rng.random() < 0.1:
        body += " to be or not to be"
    doc: dict[str, object] = {
        "sha256": f"{number:064x}",
        "message_id": f"m{number}@x",
        "thread": f"t{number % 7}",
        "folder": rng.choice(["inbox", "inbox,backup", "archive/2023,2023", "junk"]),
        "account": "work",
        "from": rng.choice(PEOPLE),
        "to": rng.choice(PEOPLE),
        "subject": " ".join(rng.sample(WORDS, 3)),
        "body": body,
        "tag": " ".join(t for t in TAGS if rng.random() < 0.3),
        "size": rng.randint(100, 3_000_000),
        "shown": "{}",
    }
    if rng.random() < 0.9:  # some messages have no Date
        doc["date"] = datetime(2020, 1, 1) + timedelta(minutes=rng.randint(0, 3 * 525_600))
    return doc


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory):
    rng = random.Random(11)
    directory: Path = tmp_path_factory.mktemp("engine-index")
    index = windex.create_in(str(directory), SCHEMA, indexname="t")
    number = 0
    for _ in range(4):  # four segments (no merging)
        writer = index.writer(compound=False, codec=MailCodec())
        for _ in range(150):
            writer.add_document(**_doc(rng, number))
            number += 1
        writer.commit(merge=False)
    writer = index.writer(compound=False, codec=MailCodec())
    edges = [  # exactly on the bounds the queries below draw
        (datetime(2021, 1, 1), 1024 * 1024),
        (datetime(2021, 12, 31, 23, 59, 59), 10 * 1024),
        (datetime(2022, 5, 1), 1024 * 1024 + 1),
        (datetime(2022, 5, 1, 23, 59, 59), 10 * 1024 - 1),
    ]
    for moment, size in edges:
        doc = _doc(rng, number)
        doc.update(date=moment, size=size)
        writer.add_document(**doc)
        number += 1
    for victim in rng.sample(range(number - len(edges)), 60):  # deletions in every segment
        writer.delete_by_term("sha256", f"{victim:064x}")
    for changed in rng.sample(range(number), 40):  # replaced: old copy deleted, new one added
        writer.update_document(**_doc(rng, changed))
    writer.commit(merge=False)
    with index.searcher() as searcher:
        assert len(searcher.leaf_searchers()) >= 4
        assert any(sub.reader().has_deletions() for sub, _ in searcher.leaf_searchers())
        yield searcher


def _whoosh(searcher, parsed: wq.Query) -> set[int]:
    """Whoosh's answer, without deleted documents: its inverse matcher inside an OR
    (``-a OR -b``) returns them (a Whoosh bug the engine does not share).

    Dates and sizes are columns only (no terms Whoosh could match), so each range is first
    replaced by the documents whose column value, read one by one through Whoosh's column
    reader and compared as datetimes or numbers, lies in it."""
    reader = searcher.reader()
    query = _ranges_by_hand(searcher, parsed)
    return {d for d in searcher.docs_for_query(query) if not reader.is_deleted(d)}


def _ranges_by_hand(searcher, query: wq.Query) -> wq.Query:
    if isinstance(query, wq.NumericRange):
        reader = searcher.reader()
        column = reader.column_reader(query.fieldname)  # datetimes / ints
        raw = reader.column_reader(query.fieldname, translate=False)
        unset = SCHEMA[query.fieldname].column_type.default_value()
        low = getattr(query, "startdate", query.start)
        high = getattr(query, "enddate", query.end)
        inside = []
        for docnum in range(searcher.doc_count_all()):
            if reader.is_deleted(docnum) or raw[docnum] == unset:
                continue
            value = column[docnum]
            if low is not None and (value < low or (query.startexcl and value == low)):
                continue
            if high is not None and (value > high or (query.endexcl and value == high)):
                continue
            inside.append(wq.Term("sha256", searcher.stored_fields(docnum)["sha256"]))
        return wq.Or(inside) if inside else wq.NullQuery
    if isinstance(query, (wq.And, wq.Or)):
        return type(query)([_ranges_by_hand(searcher, sub) for sub in query.subqueries])
    if isinstance(query, wq.Not):
        return wq.Not(_ranges_by_hand(searcher, query.query))
    return query


QUERIES = [
    "budget",
    "budget review",
    '"quarterly budget review"',
    '"budget quarterly"',
    '"to be or not to be"',
    "budget -review",
    "budget NOT (review OR audit)",
    "-budget",
    "NOT budget AND NOT patient",
    "budget OR patient",
    "(budget OR patient) -audit",
    "from:alice",
    "from:clinic.example",
    "to:carol@other.example",
    "subject:audit",
    'subject:"patient results"',
    "folder:backup",
    "folder:2023",
    "folder:arch*",
    "has:attachment",
    "is:encrypted -is:signed",
    "date:2021",
    "date:2021-03..2021-06",
    "date:>2022-05-01",
    "date:<2020-06-01",
    "size:>1M",
    "size:<10k",
    "size:<=10k",
    "size:>=1M",
    "size:1M",
    "size:10k..1M",
    "date:>=2022-05-01",
    "date:<=2022-05-01",
    "date:2022-05-01",
    "date:2021..2021",
    "size:>1M date:2021 budget",
    "budg*",
    "*",
    "budget AND (from:alice OR -has:attachment) date:2020..2021",
    '"budget review" -subject:audit',
    "thread:t3",
    "nosuchword",
    "nosuchword OR budget",
    "-to OR -audit",
]


@pytest.mark.parametrize("text", QUERIES)
def test_the_engine_matches_exactly_what_whoosh_matches(searcher, text: str) -> None:
    parsed = mq.parse(text)
    expected = _whoosh(searcher, parsed)
    everything, total = engine.search(searcher, parsed)
    assert set(everything) == expected
    assert len(everything) == total == len(expected) == engine.count(searcher, parsed)


def test_random_boolean_queries_agree_with_whoosh(searcher) -> None:
    rng = random.Random(5)
    words = [w for w in WORDS if w not in ("or", "not")]  # those two are operators
    atoms = [*words, "from:alice", "has:attachment", "date:2021", "size:>1M", '"budget review"']

    def make(depth: int) -> str:
        if depth == 0 or rng.random() < 0.3:
            atom = rng.choice(atoms)
            return f"-{atom}" if rng.random() < 0.2 else atom
        joiner = rng.choice([" ", " OR ", " AND "])
        return "(" + joiner.join(make(depth - 1) for _ in range(rng.randint(2, 3))) + ")"

    for _ in range(150):
        text = make(3)
        parsed = mq.parse(text)
        ours, total = engine.search(searcher, parsed)
        assert set(ours) == _whoosh(searcher, parsed), text
        assert total == len(ours)


def test_newest_first_is_by_date_and_dateless_mail_comes_last(searcher) -> None:
    parsed = mq.parse("*")
    newest, total = engine.search(searcher, parsed, newest=25)
    everything, _ = engine.search(searcher, parsed)
    assert len(newest) == 25 and total == len(everything) == searcher.doc_count()
    assert newest == everything[:25]
    column = searcher.reader().column_reader("date", translate=False)
    missing = SCHEMA["date"].column_type.default_value()
    keys = [column[docnum] for docnum in everything]
    present = [k for k in keys if k != missing]
    assert 0 < len(present) < len(keys)  # the corpus has dateless messages
    assert present == sorted(present, reverse=True)
    assert keys[len(present) :] == [missing] * (len(keys) - len(present))  # last


def test_exclude_removes_documents(searcher) -> None:
    parsed = mq.parse("budget")
    everything, _ = engine.search(searcher, parsed)
    gone = [searcher.stored_fields(d)["sha256"] for d in everything[:5]]
    mask = wq.Or([wq.Term("sha256", sha) for sha in gone])
    kept, total = engine.search(searcher, parsed, exclude=mask)
    assert total == len(everything) - 5
    assert set(kept) == set(everything) - set(everything[:5])


def test_the_one_pass_positions_equal_whoosh_analysers() -> None:
    """StemmedPositions (indexing) and TEXT_ANALYZER (queries) must agree on every term."""
    from whoosh.formats import Positions

    from indexer.schema import TEXT_ANALYZER, StemmedPositions

    rng = random.Random(3)
    pieces = [
        *WORDS, "Quarterly", "REVIEWS", "e.g.", "3.14", "foo_bar", "naïve", "Łódź", "straße",
        "x*y", "...", "--", "don't", "U.S.A", "running", "ran", "emails", "\t", "\n", "😀",
    ]  # fmt: skip
    ours, theirs = StemmedPositions(), Positions()
    for _ in range(300):
        text = " ".join(rng.choice(pieces) for _ in range(rng.randint(0, 60)))
        text = text.replace(" .", ".") if rng.random() < 0.3 else text
        mine = {
            (w, f, wt, tuple(ours.decode_positions(v)), ours.decode_frequency(v))
            for w, f, wt, v in ours.word_values(text, TEXT_ANALYZER)
        }
        whooshs = {
            (w, f, wt, tuple(theirs.decode_positions(v)), theirs.decode_frequency(v))
            for w, f, wt, v in theirs.word_values(text, TEXT_ANALYZER)
        }
        assert mine == whooshs, text
    many = list(range(0, 200_000, 7))  # positions past 65,535 take four bytes each
    assert ours.decode_positions(ours.encode(many)) == many
    assert ours.decode_frequency(ours.encode(many)) == len(many)


def test_relevance_orders_the_engines_matches_by_whooshs_bm25(searcher) -> None:
    words = mq.parse("budget review")  # Or(fields) per word: what a free-word search scores
    scores = {hit.docnum: hit.score for hit in searcher.search(words, limit=None)}
    for text in ("budget review", "budget review date:2021", "budget review -from:alice"):
        parsed = mq.parse(text)
        ranked, total = engine.ranked(searcher, parsed, limit=None)
        matching, _ = engine.search(searcher, parsed)
        assert {d for d, _ in ranked} == set(matching) and total == len(matching) > 0
        got = [score for _, score in ranked]
        assert got == sorted(got, reverse=True), text
        for docnum, score in ranked:  # the same BM25 score as Whoosh gives the words alone
            assert score == pytest.approx(scores[docnum]), text
    top, _ = engine.ranked(searcher, mq.parse("budget review date:2021"), limit=5)
    assert [d for d, _ in top] == [d for d, _ in ranked_all(searcher, "budget review date:2021")][
        :5
    ]


def ranked_all(searcher, text: str) -> list[tuple[int, float]]:
    return engine.ranked(searcher, mq.parse(text), limit=None)[0]


def test_relevance_without_words_is_newest_first(searcher) -> None:
    parsed = mq.parse("has:attachment date:2021")
    ranked, total = engine.ranked(searcher, parsed, limit=7)
    newest, _ = engine.search(searcher, parsed, newest=7)
    assert [d for d, _ in ranked] == newest and total > 7


def test_cached_postings_give_the_same_answers_and_are_never_changed(
    searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = {text: engine.search(searcher, mq.parse(text))[0] for text in QUERIES}
    assert engine._CACHE.used > 0  # the answers above filled the cache
    again = {text: engine.search(searcher, mq.parse(text))[0] for text in QUERIES}
    assert again == first  # read from the cache: a caller changing an entry would show here
    monkeypatch.setattr(engine._CACHE, "budget", 50)  # evicting all the time
    engine.clear_cache()
    assert {text: engine.search(searcher, mq.parse(text))[0] for text in QUERIES} == first
    assert engine._CACHE.used <= 50


@pytest.mark.parametrize("scans", [0, 10**9])  # the sorted column, and the scan of it
def test_ranges_both_ways_match_whoosh(searcher, monkeypatch: pytest.MonkeyPatch, scans) -> None:
    monkeypatch.setattr(engine, "RANGE_SCANS", scans)
    ranges = [q for q in QUERIES if "date:" in q or "size:" in q]
    assert len(ranges) >= 15
    for text in ranges:
        parsed = mq.parse(text)
        assert set(engine.search(searcher, parsed)[0]) == _whoosh(searcher, parsed), text


def test_mailproofs_posting_blocks_hold_what_whooshs_hold(tmp_path: Path) -> None:
    """The same documents through Whoosh's codec and MailCodec: every term's postings,
    weights, frequencies and positions read back equal (blocks of 128, several blocks)."""
    from whoosh.codec.whoosh3 import W3Codec

    rng = random.Random(9)
    docs = [_doc(rng, n) for n in range(700)]
    readers = []
    for name, codec in (("whoosh", W3Codec()), ("mail", MailCodec())):
        index = windex.create_in(str(tmp_path), SCHEMA, indexname=name)
        writer = index.writer(compound=False, codec=codec)
        for doc in docs:
            writer.add_document(**doc)
        writer.commit()
        readers.append(index.reader())
    theirs, ours = readers
    terms = list(theirs.all_terms())
    assert terms == list(ours.all_terms()) and len(terms) > 100
    long_lists = 0
    for fieldname, text in terms:
        a, b = theirs.postings(fieldname, text), ours.postings(fieldname, text)
        items_a, items_b = [], []
        for matcher, items in ((a, items_a), (b, items_b)):
            while matcher.is_active():
                positions = (
                    tuple(matcher.value_as("positions")) if matcher.supports("positions") else None
                )
                items.append((matcher.id(), matcher.weight(), positions))
                matcher.next()
        assert items_a == items_b, (fieldname, text)
        long_lists += len(items_a) > 128
    assert long_lists > 5  # terms spanning several blocks were compared


def test_the_one_pass_positions_are_used_by_a_schema_read_back_from_disk(tmp_path: Path) -> None:
    """An index opened from disk has its schema from the table of contents: its analyser is an
    equal copy of TEXT_ANALYZER, not the same object, and must still take the one-pass path."""
    from whoosh.analysis import StandardAnalyzer

    from indexer.schema import TEXT_ANALYZER, _is_text_analyzer

    windex.create_in(str(tmp_path), SCHEMA, indexname="t")
    stored = windex.open_dir(str(tmp_path), indexname="t").schema["body"].analyzer
    assert stored is not TEXT_ANALYZER
    assert _is_text_analyzer(stored) and _is_text_analyzer(TEXT_ANALYZER)
    assert not _is_text_analyzer(StandardAnalyzer())
