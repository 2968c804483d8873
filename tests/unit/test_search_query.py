"""The query language: what each construct becomes, and errors that say where they are."""

from __future__ import annotations

from datetime import datetime

import pytest
from whoosh import query as wq

from indexer.query import QuerySyntaxError, _date_bounds, parse


def terms(text: str) -> set[tuple[str, str]]:
    return {(f, t if isinstance(t, str) else t.decode()) for f, t in parse(text).iter_all_terms()}


def test_address_forms_are_single_keyword_terms() -> None:
    assert terms("from:Alice@Clinic.example") == {("from", "alice@clinic.example")}
    assert terms("to:clinic.example") == {("to", "clinic.example")}
    assert terms('cc:"Carol Smith"') == {("cc", "carol"), ("cc", "smith")}


def test_free_words_are_stemmed_and_also_match_addresses() -> None:
    found = terms("results")
    assert ("body", "result") in found and ("subject", "result") in found
    assert ("from", "results") in found and ("bcc", "results") in found


def test_phrase_keeps_word_order() -> None:
    query = parse('"lab results ready"')
    phrases = [q for q in query.leaves() if isinstance(q, wq.Phrase)]
    assert {p.fieldname for p in phrases} == {"subject", "body"}
    assert all(p.words == ["lab", "result", "readi"] for p in phrases)


def test_operators_and_grouping() -> None:
    query = parse("(alpha OR beta) AND NOT gamma -delta")
    assert isinstance(query, wq.And)
    assert isinstance(query.subqueries[0], wq.Or)
    assert [type(q) for q in query.subqueries[1:]] == [wq.Not, wq.Not]
    assert isinstance(parse("alpha or beta"), wq.Or)  # case-insensitive, as in notmuch


def test_a_pure_exclusion_means_everything_else() -> None:
    query = parse("-from:spam.example")
    assert isinstance(query, wq.And) and isinstance(query.subqueries[0], wq.Every)


def test_star_alone_is_every_message_and_prefixes_work() -> None:
    assert isinstance(parse("*"), wq.Every)
    assert isinstance(parse("attachment:report*"), wq.Prefix)


def test_date_ranges_cover_whole_months_and_days() -> None:
    assert _date_bounds("2024-02")[0] == datetime(2024, 2, 1)
    assert _date_bounds("2024-02")[1].date() == datetime(2024, 2, 29).date()
    query = parse("date:2024-01..2024-03")
    assert isinstance(query, wq.DateRange)
    assert query.startdate == datetime(2024, 1, 1)
    assert query.enddate.strftime("%Y-%m-%d %H:%M") == "2024-03-31 23:59"
    after = parse("date:>2024-05-01")
    assert after.startexcl and after.startdate.strftime("%Y-%m-%d") == "2024-05-01"
    assert after.startdate.hour == 23  # strictly after the whole of May 1st


def test_sizes_understand_units() -> None:
    query = parse("size:>1M")
    assert isinstance(query, wq.NumericRange)
    assert query.start == 1024 * 1024 and query.startexcl
    between = parse("size:1k..2k")
    assert (between.start, between.end) == (1024, 2048)


@pytest.mark.parametrize(
    ("text", "position", "words"),
    [
        ('subject:"never closed', 9, "never closed"),
        ("(alpha OR beta", 1, "never closed"),
        ("alpha OR", 7, "nothing after"),
        ("alpha )", 7, "no matching"),
        ("AND alpha", 1, "nothing before"),
        ("is:shiny", 1, "is:shiny is unknown"),
        ("date:2024-13", 1, "cannot be read"),
        ("date:2024-02-30", 1, "cannot be read"),
        ("size:>lots", 1, "cannot be read"),
        ("frm:alice", 1, "unknown field 'frm'"),
        ("()", 1, "empty parentheses"),
        ("   ", 1, "empty"),
    ],
)
def test_syntax_errors_name_the_position(text: str, position: int, words: str) -> None:
    with pytest.raises(QuerySyntaxError) as caught:
        parse(text)
    assert caught.value.position + 1 == position, str(caught.value)
    assert words in str(caught.value)
    assert text.strip() in str(caught.value) or not text.strip()


def test_huge_and_deep_queries_are_refused_quickly() -> None:
    with pytest.raises(QuerySyntaxError, match="longer than"):
        parse("word " * 2000)
    with pytest.raises(QuerySyntaxError, match="more than 200 terms"):
        parse(" ".join(f"w{i}" for i in range(300)))
    with pytest.raises(QuerySyntaxError, match="nested"):
        parse("(" * 100 + "x" + ")" * 100)


def test_signature_states_are_checked_words() -> None:
    assert terms("sig:Valid") == {("sig", "valid")}
    with pytest.raises(QuerySyntaxError, match="sig:maybe is unknown"):
        parse("sig:maybe")
