"""Mailproof's query language, parsed to Whoosh queries; a mistake is reported with its position.

    words "a phrase" from:alice to: cc: bcc: subject: body: folder: account: message-id:
    thread: has:attachment attachment:NAME mimetype:TYPE is:encrypted|signed|unread|flagged|
    replied|malformed dkim:pass|fail|none sig:valid|invalid|… date:2024-01..2024-03
    date:>2024-05-01 size:>1M
    AND OR NOT -word ( ) word* *

Words next to each other must all match (AND), as in notmuch. Operators are case-insensitive.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from whoosh import query as wq

from app.errors import BadInput
from indexer.schema import TEXT_ANALYZER

MAX_QUERY_CHARS = 4000
MAX_TERMS = 200
MAX_DEPTH = 40

ADDRESS_FIELDS = ("from", "to", "cc", "bcc")
SIGNATURE_STATES = (
    "valid", "invalid", "expired", "untrusted", "signer-mismatch", "unknown-key", "partial",
    "unchecked",
)  # fmt: skip
TAGS = ("encrypted", "signed", "unread", "flagged", "replied", "malformed", "attachment")
FIELDS = (
    *ADDRESS_FIELDS,
    "subject",
    "body",
    "folder",
    "account",
    "message-id",
    "id",
    "mid",
    "thread",
    "has",
    "attachment",
    "mimetype",
    "is",
    "dkim",
    "sig",
    "date",
    "size",
)
_FIELD_PREFIX = re.compile(r"([A-Za-z][A-Za-z-]{0,15}):")
_UNITS = {"": 1, "b": 1, "k": 1024, "kb": 1024, "m": 1024**2, "mb": 1024**2, "g": 1024**3}


class QuerySyntaxError(BadInput):
    """A query that cannot be read; the message shows where."""

    def __init__(self, message: str, query: str, position: int) -> None:
        self.position = position
        self.reason = message
        pointer = " " * min(position, len(query)) + "^"
        super().__init__(f"{message} (at position {position + 1})\n  {query}\n  {pointer}")


@dataclass(frozen=True)
class _Token:
    kind: str  # word | phrase | field | lparen | rparen | and | or | not
    text: str
    position: int
    field: str = ""
    negated: bool = False


def _lex(text: str) -> list[_Token]:
    tokens: list[_Token] = []
    i = 0
    n = len(text)
    while i < n:
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if char == "(":
            tokens.append(_Token("lparen", char, i))
            i += 1
            continue
        if char == ")":
            tokens.append(_Token("rparen", char, i))
            i += 1
            continue
        start = i
        negated = False
        if char == "-" and i + 1 < n and not text[i + 1].isspace() and text[i + 1] != ")":
            negated = True
            i += 1
        field = ""
        match = _FIELD_PREFIX.match(text, i)
        if match and match.group(1).lower() in FIELDS:
            field = match.group(1).lower()
            i = match.end()
        elif match and not text.startswith("//", match.end()):
            raise QuerySyntaxError(
                f"unknown field {match.group(1)!r}; fields are {', '.join(FIELDS)} "
                '(put text with a colon in "quotes")',
                text,
                i,
            )
        if i < n and text[i] == '"':
            end = text.find('"', i + 1)
            if end == -1:
                raise QuerySyntaxError("this quote is never closed", text, i)
            value = text[i + 1 : end]
            kind = "field" if field else "phrase"
            tokens.append(_Token(kind, value, start, field, negated))
            i = end + 1
            continue
        j = i
        while j < n and not text[j].isspace() and text[j] not in '()"':
            j += 1
        if j < n and text[j] == '"':
            raise QuerySyntaxError("a quote must start a word or phrase", text, j)
        value = text[i:j]
        i = j
        if field:
            if not value:
                raise QuerySyntaxError(f"{field}: needs a value", text, start)
            tokens.append(_Token("field", value, start, field, negated))
            continue
        upper = value.upper()
        if not negated and upper in ("AND", "OR", "NOT"):
            tokens.append(_Token(upper.lower(), value, start))
        elif value:
            tokens.append(_Token("word", value, start, negated=negated))
    return tokens


class _Parser:
    def __init__(self, text: str, tokens: list[_Token]) -> None:
        self.text = text
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    def error(self, message: str, position: int) -> QuerySyntaxError:
        return QuerySyntaxError(message, self.text, position)

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self) -> wq.Query:
        result = self.parse_or()
        token = self.peek()
        if token is not None:
            raise self.error("this ')' has no matching '('", token.position)
        return result

    def parse_or(self) -> wq.Query:
        parts = [self.parse_and()]
        while (token := self.peek()) is not None and token.kind == "or":
            self.take()
            if self.peek() is None or self.peek().kind in ("or", "and", "rparen"):  # type: ignore[union-attr]
                raise self.error("OR has nothing after it", token.position)
            parts.append(self.parse_and())
        return parts[0] if len(parts) == 1 else wq.Or(parts)

    def parse_and(self) -> wq.Query:
        parts: list[wq.Query] = []
        while (token := self.peek()) is not None and token.kind not in ("or", "rparen"):
            if token.kind == "and":
                self.take()
                if not parts:
                    raise self.error("AND has nothing before it", token.position)
                following = self.peek()
                if following is None or following.kind in ("or", "and", "rparen"):
                    raise self.error("AND has nothing after it", token.position)
                continue
            parts.append(self.parse_unary())
        if not parts:
            token = self.peek()
            if token is None:
                raise self.error("the query ends where a search term was expected", len(self.text))
            raise self.error(f"{token.text!r} has nothing before it", token.position)
        return parts[0] if len(parts) == 1 else wq.And(parts)

    def parse_unary(self) -> wq.Query:
        token = self.take()
        if token.kind == "not":
            if self.peek() is None or self.peek().kind in ("or", "and", "rparen"):  # type: ignore[union-attr]
                raise self.error("NOT has nothing after it", token.position)
            return wq.Not(self.parse_unary())
        if token.kind == "lparen":
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self.error(f"more than {MAX_DEPTH} nested parentheses", token.position)
            if self.peek() is not None and self.peek().kind == "rparen":  # type: ignore[union-attr]
                raise self.error("empty parentheses", token.position)
            inner = self.parse_or()
            closing = self.peek()
            if closing is None or closing.kind != "rparen":
                raise self.error("this '(' is never closed", token.position)
            self.take()
            self.depth -= 1
            return inner
        if token.kind == "rparen":
            raise self.error("this ')' has no matching '('", token.position)
        built = self.term(token)
        return wq.Not(built) if token.negated else built

    # ---- terms --------------------------------------------------------------------------

    def term(self, token: _Token) -> wq.Query:
        if token.kind == "word":
            return self.free_text(token.text, token.position, phrase=False)
        if token.kind == "phrase":
            return self.free_text(token.text, token.position, phrase=True)
        field = token.field
        value = token.text
        if field in ADDRESS_FIELDS:
            return _keywords(field, value)
        if field in ("subject", "body"):
            return self.text_query(field, value, token.position)
        if field in ("folder", "account"):
            lowered = value.strip().lower()
            if lowered.endswith("*") and len(lowered) > 1:
                return wq.Prefix(field, lowered[:-1])
            return wq.Term(field, lowered)
        if field in ("message-id", "id", "mid"):
            return wq.Term("message_id", value.strip().strip("<>"))
        if field == "thread":
            return wq.Term("thread", value.strip().strip("<>"))
        if field == "attachment":
            lowered = "".join(value.lower().split())
            if lowered.endswith("*") and len(lowered) > 1:
                return wq.Prefix("attachment", lowered[:-1])
            return wq.Term("attachment", lowered)
        if field == "mimetype":
            lowered = value.lower()
            if lowered.endswith("/*"):
                return wq.Prefix("mimetype", lowered[:-1])
            return wq.Term("mimetype", lowered)
        if field == "has":
            if value.lower() not in ("attachment", "attachments"):
                raise self.error(f"has:{value} is unknown; use has:attachment", token.position)
            return wq.Term("tag", "attachment")
        if field == "is":
            if value.lower() not in TAGS:
                raise self.error(
                    f"is:{value} is unknown; use one of {', '.join(TAGS)}", token.position
                )
            return wq.Term("tag", value.lower())
        if field == "dkim":
            if value.lower() not in ("pass", "fail", "none"):
                raise self.error(f"dkim:{value} is unknown; use pass, fail or none", token.position)
            return wq.Term("dkim", value.lower())
        if field == "sig":
            if value.lower() not in SIGNATURE_STATES:
                raise self.error(
                    f"sig:{value} is unknown; use one of {', '.join(SIGNATURE_STATES)}",
                    token.position,
                )
            return wq.Term("sig", value.lower())
        if field == "date":
            return self.date_query(value, token.position)
        if field == "size":
            return self.size_query(value, token.position)
        raise self.error(f"unknown field {field!r}", token.position)  # pragma: no cover

    def free_text(self, value: str, position: int, *, phrase: bool) -> wq.Query:
        if not phrase and value == "*":
            return wq.Every()
        if not phrase and value.endswith("*") and len(value) > 1:
            stem = value[:-1].lower()
            return wq.Or([wq.Prefix("subject", stem), wq.Prefix("body", stem)])
        words = _analyse(value)
        if not words:
            raise self.error(f"{value!r} holds no word to search for", position)
        options: list[wq.Query] = [_text("subject", words), _text("body", words)]
        if not phrase and len(words) == 1 and "@" not in value:
            raw = value.lower()
            options += [wq.Term(name, raw) for name in ADDRESS_FIELDS]
        elif not phrase and "@" in value:
            options += [_keywords(name, value) for name in ADDRESS_FIELDS]
        return wq.Or(options)

    def text_query(self, field: str, value: str, position: int) -> wq.Query:
        if value.endswith("*") and len(value) > 1 and " " not in value:
            return wq.Prefix(field, value[:-1].lower())
        words = _analyse(value)
        if not words:
            raise self.error(f"{field}:{value} holds no word to search for", position)
        return _text(field, words)

    def date_query(self, value: str, position: int) -> wq.Query:
        text = value.strip()
        try:
            for operator in (">=", "<=", ">", "<"):
                if text.startswith(operator):
                    start, end = _date_bounds(text[len(operator) :])
                    if operator == ">=":
                        return wq.DateRange("date", start, None)
                    if operator == ">":
                        return wq.DateRange("date", end, None, startexcl=True)
                    if operator == "<=":
                        return wq.DateRange("date", None, end)
                    return wq.DateRange("date", None, start, endexcl=True)
            if ".." in text:
                low, high = text.split("..", 1)
                first = _date_bounds(low)[0] if low else None
                last = _date_bounds(high)[1] if high else None
                if first is None and last is None:
                    raise ValueError("date:.. needs a start or an end")
                if first is not None and last is not None and first > last:
                    raise ValueError("the start of the range is after its end")
                return wq.DateRange("date", first, last)
            start, end = _date_bounds(text)
            return wq.DateRange("date", start, end)
        except ValueError as err:
            raise self.error(
                f"date:{value} cannot be read ({err}); use e.g. date:2024-01..2024-03, "
                "date:>2024-05-01, date:2024, date:30d",
                position,
            ) from err

    def size_query(self, value: str, position: int) -> wq.Query:
        text = value.strip().lower()
        try:
            for operator in (">=", "<=", ">", "<"):
                if text.startswith(operator):
                    number = _size(text[len(operator) :])
                    if operator == ">=":
                        return wq.NumericRange("size", number, None)
                    if operator == ">":
                        return wq.NumericRange("size", number, None, startexcl=True)
                    if operator == "<=":
                        return wq.NumericRange("size", None, number)
                    return wq.NumericRange("size", None, number, endexcl=True)
            if ".." in text:
                low, high = text.split("..", 1)
                return wq.NumericRange(
                    "size", _size(low) if low else None, _size(high) if high else None
                )
            number = _size(text)
            return wq.NumericRange("size", number, number)
        except ValueError as err:
            raise self.error(
                f"size:{value} cannot be read ({err}); use e.g. size:>1M, size:<10k, size:1k..2M",
                position,
            ) from err


def _analyse(text: str) -> list[str]:
    return [token.text for token in TEXT_ANALYZER(text)]


def _text(field: str, words: list[str]) -> wq.Query:
    if len(words) == 1:
        return wq.Term(field, words[0])
    return wq.Phrase(field, words)


def _keywords(field: str, value: str) -> wq.Query:
    words = [w.strip("<>,;").lower() for w in value.split()]
    words = [w for w in words if w]
    if not words:
        return wq.NullQuery
    if len(words) == 1 and words[0].endswith("*") and len(words[0]) > 1:
        return wq.Prefix(field, words[0][:-1])
    if len(words) == 1:
        return wq.Term(field, words[0])
    return wq.And([wq.Term(field, w) for w in words])


def _size(text: str) -> int:
    match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*([a-z]*)", text.strip())
    if not match or match.group(2) not in _UNITS:
        raise ValueError(f"{text!r} is not a size")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


_RELATIVE = re.compile(r"(\d+)\s*([dwmy])")


def _date_bounds(text: str, now: datetime | None = None) -> tuple[datetime, datetime]:
    """The first and last instant (naive UTC, as the index stores dates) of a date expression."""
    text = text.strip().lower()
    now = (now or datetime.now(UTC)).replace(tzinfo=None)
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    last_of_day = timedelta(days=1) - timedelta(microseconds=1)
    if text == "today":
        return today, today + last_of_day
    if text == "yesterday":
        day = today - timedelta(days=1)
        return day, day + last_of_day
    relative = _RELATIVE.fullmatch(text)
    if relative:
        amount = int(relative.group(1))
        days = {"d": 1, "w": 7, "m": 30, "y": 365}[relative.group(2)] * amount
        return today - timedelta(days=days), now
    match = re.fullmatch(r"(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?", text)
    if not match:
        raise ValueError(f"{text!r} is not a date")
    year = int(match.group(1))
    if match.group(2) is None:
        return datetime(year, 1, 1), datetime(year, 12, 31) + last_of_day
    month = int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError(f"month {month} does not exist")
    if match.group(3) is None:
        last = calendar.monthrange(year, month)[1]
        return datetime(year, month, 1), datetime(year, month, last) + last_of_day
    day = datetime(year, month, int(match.group(3)))  # ValueError for 2024-02-30
    return day, day + last_of_day


def parse(text: str) -> wq.Query:
    """The Whoosh query for ``text``; raises QuerySyntaxError saying where it went wrong."""
    if len(text) > MAX_QUERY_CHARS:
        raise QuerySyntaxError(
            f"the query is longer than {MAX_QUERY_CHARS} characters", text[:60], MAX_QUERY_CHARS
        )
    if not text.strip():
        raise QuerySyntaxError("the query is empty; use * to match every message", text, 0)
    tokens = _lex(text)
    if sum(t.kind in ("word", "phrase", "field") for t in tokens) > MAX_TERMS:
        raise QuerySyntaxError(f"the query has more than {MAX_TERMS} terms", text[:60], 0)
    result = _Parser(text, tokens).parse()
    return _positive(result)


def _positive(query: wq.Query) -> wq.Query:
    """A query made only of exclusions (``-spam``) means "everything but"."""
    if isinstance(query, wq.Not):
        return wq.And([wq.Every(), query])
    if isinstance(query, wq.And) and all(isinstance(q, wq.Not) for q in query.subqueries):
        return wq.And([wq.Every(), *query.subqueries])
    return query
