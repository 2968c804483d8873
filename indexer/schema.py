"""The Whoosh schema of the search index and how a message's facts become one document."""

from __future__ import annotations

import functools
import json
import re
import struct
import zlib
from array import array
from collections import OrderedDict
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from whoosh.analysis import RegexTokenizer, StemmingAnalyzer
from whoosh.fields import DATETIME, ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.formats import Positions
from whoosh.lang.porter import stem as porter_stem

from indexer.whoosh_private import MailCodecBase, from_le_bytes, to_le_bytes

if TYPE_CHECKING:
    from app.mime.facts import Facts
    from app.mime.summary import Address

SCHEMA_VERSION = 7
PREVIEW_CHARS = 16 * 1024  # body text kept for snippets; a match further in shows the start

# Stop words are kept: notmuch indexes every word, and "to be or not to be" is a phrase.
TEXT_ANALYZER = StemmingAnalyzer(stoplist=None, minsize=1)
TOKEN_PATTERN = RegexTokenizer().expression  # what TEXT_ANALYZER calls a word (snippets reuse it)
stem_word = functools.lru_cache(maxsize=100_000)(porter_stem)


_CHECKED: OrderedDict[int, tuple[Any, bool]] = OrderedDict()


def _is_text_analyzer(analyzer: Any) -> bool:
    """Whether ``analyzer`` is TEXT_ANALYZER — by value: a writer's schema is read back from the
    index's table of contents, so its analyser is an equal copy, never the same object. The
    answer is kept for the last few analysers (holding them, so an id is not reused)."""
    known = _CHECKED.get(id(analyzer))
    if known is None or known[0] is not analyzer:
        known = (analyzer, analyzer == TEXT_ANALYZER)
        _CHECKED[id(analyzer)] = known
        while len(_CHECKED) > 8:
            _CHECKED.popitem(last=False)
    return known[1]


class StemmedPositions(Positions):  # type: ignore[misc]
    """Whoosh's Positions format, made from the text in one pass.

    Indexing ``subject`` and ``body`` through TEXT_ANALYZER makes a Token object per word and
    passes it through three generator filters (measured: about a third of the indexing time).
    This yields the very same terms, frequencies and positions — TEXT_ANALYZER's pattern,
    lower case, the Porter stem — from ``re.finditer`` and a stem cache (a test compares the
    two on random text). Queries and anything else that asks the analyser still use it.
    """

    def word_values(self, value: Any, analyzer: Any, **kwargs: Any) -> Any:
        if not isinstance(value, str) or not _is_text_analyzer(analyzer):
            yield from super().word_values(value, analyzer, **kwargs)
            return
        places: dict[str, list[int]] = {}
        for position, found in enumerate(TOKEN_PATTERN.finditer(value)):
            word = stem_word(found.group().lower())
            if word in places:
                places[word].append(position)
            else:
                places[word] = [position]
        boost = self.field_boost
        encode = self.encode
        for word, where in places.items():
            yield (word, len(where), len(where) * boost, encode(where))

    # Positions as a little-endian array after Whoosh's count, not a pickle of the gaps: the
    # same count (frequency and weight decode as before), but reading a phrase's positions
    # is one C call instead of an unpickling and a Python loop per document.

    def encode(self, poslist: list[int]) -> bytes:
        code = "H" if not poslist or poslist[-1] < 65536 else "I"
        numbers = to_le_bytes(array(code, poslist))
        return struct.pack("!I", len(poslist)) + code.encode() + numbers

    def decode_positions(self, valuestring: bytes) -> list[int]:
        return from_le_bytes(chr(valuestring[4]), valuestring[5:]).tolist()

    def decode_position_boosts(self, valuestring: bytes) -> list[tuple[int, int]]:
        return [(position, 1) for position in self.decode_positions(valuestring)]

    def combine(self, vs: Any) -> bytes:
        merged: set[int] = set()
        for value in vs:
            merged.update(self.decode_positions(value))
        return self.encode(sorted(merged))


class MailCodec(MailCodecBase):
    """Whoosh's codec as Mailproof writes it: posting blocks as arrays and joined bytes, no
    per-block length statistics (see indexer.whoosh_private).

    Defined here, not beside its base: an index's table of contents names this class
    (pickled), so ``indexer.schema.MailCodec`` is part of the on-disk layout.
    """

    def __init__(self, blocklimit: int = 128, compression: int = 0, inlinelimit: int = 1) -> None:
        # Posting blocks are not zlib-compressed: inflating them was the largest cost left in
        # reading a common word (at 100k messages, 14 of a phrase's 54 ms); the index is ~1.5x
        # larger (20k messages: 179 MB instead of 121 MB; notmuch's: 386 MB).
        super().__init__(blocklimit, compression, inlinelimit)


def _column_only(field: Any) -> Any:
    """A date or size kept only as a sortable column, without Whoosh's trie terms: ranges
    and newest-first are answered from the column (indexer.engine), and making the terms
    cost a third of the indexing time (measured: 2.0 -> 1.25 ms per message)."""
    field.indexed = False
    return field


def _text_field() -> TEXT:
    field = TEXT(analyzer=TEXT_ANALYZER, phrase=True)
    field.format = StemmedPositions(field_boost=field.format.field_boost)
    return field


SCHEMA = Schema(
    sha256=ID(stored=True, unique=True),
    message_id=ID(stored=True),
    thread=ID,
    folder=KEYWORD(commas=True, lowercase=True),
    account=KEYWORD(commas=True, lowercase=True),
    # Addresses are pre-tokenised (see address_terms) into space-separated keywords.
    **{"from": KEYWORD(lowercase=True)},
    to=KEYWORD(lowercase=True),
    cc=KEYWORD(lowercase=True),
    bcc=KEYWORD(lowercase=True),
    subject=_text_field(),
    body=_text_field(),
    attachment=KEYWORD(lowercase=True),
    mimetype=KEYWORD(lowercase=True),
    tag=KEYWORD(lowercase=True),  # encrypted signed unread flagged replied attachment malformed
    dkim=ID,
    sig=ID,  # valid invalid expired untrusted signer-mismatch unknown-key partial unchecked
    date=_column_only(DATETIME(sortable=True)),
    size=_column_only(NUMERIC(int, bits=64, sortable=True)),
    # What a hit shows without reading the message again.
    shown=STORED,
    # The start of the body text, zlib-compressed, for snippets: reading and parsing each hit's
    # message again cost more than the search (~1 ms per hit). Never set for encrypted mail:
    # the on-disk index holds only what the message shows without a key.
    preview=STORED,
)

_WORDS = re.compile(r"[^\W_]+", re.UNICODE)


def address_terms(addresses: Iterable[Address]) -> str:
    """Keywords that let ``from:alice``, ``from:alice@clinic.example``, ``from:clinic.example``,
    ``from:example`` and ``from:smith`` (display name) all match."""
    terms: list[str] = []
    for address in addresses:
        addr = address.addr.lower().strip("<> ")
        if addr:
            terms.append(addr)
            local, _, domain = addr.rpartition("@")
            if local:
                terms.append(local)
                terms.extend(_WORDS.findall(local))
            labels = domain.split(".")
            terms.extend(".".join(labels[i:]) for i in range(len(labels)) if labels[i])
        terms.extend(word.lower() for word in _WORDS.findall(address.name))
    return " ".join(dict.fromkeys(t for t in terms if t))


def attachment_terms(names: Iterable[str]) -> str:
    terms: list[str] = []
    for name in names:
        lowered = "".join(name.lower().split())
        if lowered:
            terms.append(lowered)
            terms.extend(_WORDS.findall(lowered))
    return " ".join(dict.fromkeys(terms))


def _utc(moment: datetime | None) -> datetime | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(tzinfo=None)  # Whoosh stores naive datetimes


def document(
    sha256: str,
    size: int,
    facts: Facts,
    copies: Iterable[tuple[str, str, str]],
    thread: str | None,
) -> dict[str, object]:
    """One index document for the message ``sha256``; ``copies`` are its live
    (account, folder, flags) places."""
    places = sorted(set(copies))
    folders = sorted({folder for _, folder, _ in places})
    accounts = sorted({account for account, _, _ in places})
    tags = set()
    flag_sets = [set(flags.split()) for _, _, flags in places]
    if facts.is_encrypted:
        tags.add("encrypted")
    if facts.is_signed:
        tags.add("signed")
    if facts.attachments:
        tags.add("attachment")
    if facts.problems:
        tags.add("malformed")
    if any("\\Seen" not in flags for flags in flag_sets):
        tags.add("unread")
    if any("\\Flagged" in flags for flags in flag_sets):
        tags.add("flagged")
    if any("\\Answered" in flags for flags in flag_sets):
        tags.add("replied")
    date = _utc(facts.date)
    message_id = (facts.message_id or "").strip("<>")
    doc: dict[str, object] = {
        "sha256": sha256,
        "message_id": message_id,
        "thread": thread or message_id or sha256,
        "folder": ",".join(_folder_terms(folders)),
        "account": ",".join(accounts),
        "from": address_terms(facts.from_),
        "to": address_terms(facts.to),
        "cc": address_terms(facts.cc),
        "bcc": address_terms(facts.bcc),
        "subject": facts.subject,
        "body": facts.body,
        "attachment": attachment_terms(name for name, _ in facts.attachments),
        "mimetype": " ".join(sorted({kind for _, kind in facts.attachments})),
        "tag": " ".join(sorted(tags)),
        "size": size,
        "preview": zlib.compress(" ".join(facts.body[:PREVIEW_CHARS].split()).encode(), 1),
        "shown": json.dumps(
            {
                "message_id": facts.message_id,
                "subject": facts.subject,
                "from": ", ".join(a.display() for a in facts.from_),
                "date": date.strftime("%Y-%m-%dT%H:%M:%SZ") if date else None,
                "folders": folders,
                "places": sorted({(account, folder) for account, folder, _ in places}),
            },
            ensure_ascii=False,
        ),
    }
    if facts.dkim:
        doc["dkim"] = facts.dkim
    if date is not None:
        doc["date"] = date
    return doc


def _folder_terms(folders: Iterable[str]) -> list[str]:
    """A folder is found by its full name (``Archive/2023``) and by its last part (``2023``)."""
    terms: list[str] = []
    for folder in folders:
        cleaned = folder.replace(",", " ").strip()
        terms.append(cleaned)
        for separator in ("/", "."):
            if separator in cleaned:
                terms.append(cleaned.rsplit(separator, 1)[-1])
    return list(dict.fromkeys(t for t in terms if t))
