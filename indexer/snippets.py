"""Snippets: the line of a hit's text around the first word the query asked for, with the spans
of every match in it."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import replace

from whoosh import query as wq

from app.errors import StoreError
from app.store.blobs import BlobStore
from indexer.results import Hit
from indexer.schema import TOKEN_PATTERN, stem_word

SNIPPET_CHARS = 160


def query_words(parsed: wq.Query) -> set[str]:
    """The words (as indexed) a snippet highlights: those the query asks of subject and body."""
    words = set()
    for fieldname, text in parsed.iter_all_terms():
        if fieldname in ("body", "subject"):
            words.add(text if isinstance(text, str) else text.decode("utf-8", "replace"))
    return words


def with_snippet(hit: Hit, words: set[str], decrypted: Mapping[str, str], blobs: BlobStore) -> Hit:
    """``hit`` with its snippet, from the decrypted text of an encrypted message, the preview
    kept in the index, or else the stored message."""
    if hit.sha256 in decrypted:
        body = decrypted[hit.sha256]
    elif hit.preview:
        try:
            body = zlib.decompress(hit.preview).decode("utf-8", "replace")
        except zlib.error:
            return hit
    else:
        from app.mime.facts import read_facts

        try:
            body = read_facts(blobs.get(hit.sha256)).body
        except (OSError, StoreError):
            return hit
    snippet, spans = make_snippet(body, words)
    return replace(hit, snippet=snippet, highlights=spans, preview=b"")


def make_snippet(body: str, words: set[str]) -> tuple[str, tuple[tuple[int, int], ...]]:
    """A line of ``body`` around the first matching word, with the spans of every match in it.

    Words are found as the index's analyser finds them (its tokeniser pattern, lower case, the
    Porter stem), without building a token object per word; reading stops past the line."""
    flat = " ".join(body.split())
    if not flat:
        return "", ()
    matches: list[tuple[int, int]] = []
    if words:
        stop = len(flat)
        for found in TOKEN_PATTERN.finditer(flat):
            begin = found.start()
            if begin > stop:
                break
            if stem_word(found.group().lower()) in words:
                if not matches:
                    stop = begin + SNIPPET_CHARS
                matches.append((begin, found.end()))
    if not matches:
        end = min(len(flat), SNIPPET_CHARS)
        return flat[:end] + ("…" if end < len(flat) else ""), ()
    first = matches[0][0]
    start = max(0, first - SNIPPET_CHARS // 3)
    if start:
        space = flat.find(" ", start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(flat), start + SNIPPET_CHARS)
    prefix = "…" if start else ""
    text = prefix + flat[start:end] + ("…" if end < len(flat) else "")
    shift = len(prefix) - start
    spans = tuple((s + shift, e + shift) for s, e in matches if s >= start and e <= end)
    return text, spans
