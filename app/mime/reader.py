"""Reading a message: one parse, as deep as its caller's :class:`ReadPolicy` asks, and one set
of charset rules for its text and headers that never raises, whatever the charset or bytes.

How text is decoded (:func:`decode_text`), in order:

1. the declared charset, when Python has it as a text encoding (never a bytes-to-bytes codec
   such as ``rot13``, ``base64`` or ``zlib``, nor ``idna``, ``punycode``, ``undefined`` or the
   escape codecs, which would turn ``\\u202e`` into a character);
2. else its WHATWG or common alias (``x-mac-roman``, ``windows-874``, ``iso-8859-8-i`` …);
3. a real charset whose bytes do not fit is decoded with U+FFFD for the bad bytes — except
   us-ascii: 8-bit text labelled 7-bit is nearly always UTF-8;
4. no charset, us-ascii with 8-bit bytes, or an unknown charset: UTF-8 when the bytes are
   UTF-8, else Windows-1252 with replacement (what mail clients do; it cannot fail).

Every guess or replacement is named in the caller's ``problems`` list, fit to show a user.
"""

from __future__ import annotations

import codecs
import functools
import re
from dataclasses import dataclass
from email import message_from_bytes
from email.errors import MessageError
from email.header import Header, decode_header, make_header
from email.message import Message
from email.parser import BytesHeaderParser
from email.policy import EmailPolicy, Policy, compat32
from email.utils import collapse_rfc2231_value
from typing import Any


class _DisplayPolicy(EmailPolicy):
    """``policy.default``, except that a header its typed registry cannot parse is kept as
    its raw text: the registry raises on some hostile values (an RFC 2231 parameter in the
    ``idna`` or ``undefined`` charset), and a parse of the whole message must not."""

    def header_fetch_parse(self, name: str, value: str) -> Any:
        try:
            return super().header_fetch_parse(name, value)
        except Exception:  # noqa: BLE001 - stdlib parser bugs on hostile input
            return value


@dataclass(frozen=True)
class ReadPolicy:
    """What a caller needs from a message, and so how much of it is parsed and how."""

    name: str
    email_policy: Policy  # compat32: fast, headers are decoded by header_text; default: typed
    headers_only: bool  # parse the header block and not the body


HEADERS_ONLY = ReadPolicy("headers only", compat32, headers_only=True)
FOR_INDEX = ReadPolicy("for the index", compat32, headers_only=False)  # ~6x faster than default
FOR_DISPLAY = ReadPolicy("for display", _DisplayPolicy(), headers_only=False)  # typed headers


@functools.cache
def _header_parser(policy: Policy) -> BytesHeaderParser:
    return BytesHeaderParser(policy=policy)


def _strip_bom(raw: bytes) -> bytes:
    """Some Windows tools write a UTF-8 byte order mark before the first header."""
    return raw[3:] if raw.startswith(b"\xef\xbb\xbf") else raw


def _header_block(raw: bytes) -> bytes:
    """The bytes up to the first empty line: the header parser need not read the body."""
    ends = [i for i in (raw.find(b"\n\n"), raw.find(b"\n\r\n")) if i != -1]
    return raw[: min(ends) + 1] if ends else raw


def read_headers(block: bytes) -> Message:
    """A block of header lines (a message's or a MIME part's) parsed with ``compat32``."""
    return _header_parser(compat32).parsebytes(block)


def read_message(raw: bytes, policy: ReadPolicy) -> Message:
    """``raw`` parsed as ``policy`` says, a leading byte order mark dropped. The stdlib parser
    does not raise on malformed mail: it records ``defects`` on the parts."""
    raw = _strip_bom(raw)
    if policy.headers_only:
        return _header_parser(policy.email_policy).parsebytes(_header_block(raw))
    return message_from_bytes(raw, policy=policy.email_policy)


# Labels Python's codecs do not know, from the WHATWG Encoding Standard and mail in the wild.
_ALIASES = {
    **dict.fromkeys(("unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8"), "utf-8"),
    **dict.fromkeys(("x-unicode20utf8", "utf8mb4"), "utf-8"),
    **dict.fromkeys(("x-mac-roman", "mac", "csmacintosh"), "mac_roman"),
    **dict.fromkeys(("x-mac-cyrillic", "x-mac-ukrainian"), "mac_cyrillic"),
    "x-mac-ce": "mac_latin2",
    **dict.fromkeys(("windows-874", "dos-874", "iso885911"), "cp874"),
    **dict.fromkeys(("iso-8859-8-i", "iso-8859-8-e", "csiso88598i", "csiso88598e"), "iso8859_8"),
    **dict.fromkeys(("logical", "visual"), "iso8859_8"),
    **dict.fromkeys(("iso-8859-6-i", "iso-8859-6-e", "csiso88596i", "csiso88596e"), "iso8859_6"),
    **{f"x-cp125{digit}": f"cp125{digit}" for digit in range(9)},
    **dict.fromkeys(("x-gbk", "gb_2312-80", "csgb2312"), "gbk"),
    **dict.fromkeys(("x-x-big5", "cn-big5"), "big5"),
    **dict.fromkeys(("x-sjis", "windows-31j"), "cp932"),
    **dict.fromkeys(("x-euc-jp", "cseucpkdfmtjapanese"), "euc_jp"),
    **dict.fromkeys(("ks_c_5601-1989", "iso-ir-149", "csksc56011987", "ksc_5601"), "cp949"),
    "windows-949": "cp949",
    **dict.fromkeys(("csisolatin9", "iso885915", "latin-9"), "iso8859_15"),
    "iso88591": "cp1252",
    "iso88592": "iso8859_2",
    "iso88595": "iso8859_5",
    "iso88597": "iso8859_7",
    "iso885910": "iso8859_10",
    "iso885913": "iso8859_13",
    "iso885914": "iso8859_14",
    "x-cp866": "cp866",
    **dict.fromkeys(("koi", "koi8"), "koi8_r"),
    "koi8-ru": "koi8_u",
}
# Text codecs by Python's reckoning that are no character set: they fail on most input or
# decode escapes (``\u202e``, ``xn--``) into characters the sender never wrote.
_NOT_CHARSETS = frozenset(
    {"idna", "punycode", "undefined", "unicode-escape", "raw-unicode-escape", "charmap"}
)
# RFC 2978 charset names: at most 40 characters of these (the optional "*lang" of RFC 2231
# is cut off first).
_CHARSET_NAME = re.compile(r"[A-Za-z0-9!#$%&'+\-^_`{}~.:]{1,40}")
_ASCII = "ascii"


@functools.lru_cache(maxsize=512)
def text_codec(charset: str) -> str | None:
    """The Python codec that decodes ``charset`` as text, or None when there is none."""
    name = charset.strip().strip("\"'").partition("*")[0].strip().lower()
    if not _CHARSET_NAME.fullmatch(name):
        return None
    for candidate in (name, _ALIASES.get(name)):
        if candidate is None:
            continue
        try:
            info = codecs.lookup(candidate)
        except (LookupError, ValueError):
            continue
        if getattr(info, "_is_text_encoding", True) and info.name not in _NOT_CHARSETS:
            return info.name
    return None


def _shown(charset: str) -> str:
    return repr(charset if len(charset) <= 40 else charset[:40] + "…")


def _note(problems: list[str] | None, problem: str) -> None:
    if problems is not None:
        problems.append(problem)


def _try(data: bytes, codec: str, errors: str = "strict") -> str | None:
    try:
        return data.decode(codec, errors)
    except (UnicodeError, LookupError):
        return None


def _utf8_or_windows_1252(data: bytes) -> tuple[str, bool]:
    """``data`` as UTF-8 when it is, else as Windows-1252; and whether it was UTF-8."""
    text = _try(data, "utf-8")
    if text is not None:
        return text, True
    return data.decode("cp1252", "replace"), False


def decode_text(data: bytes, charset: str | None, problems: list[str] | None = None) -> str:
    """``data`` as text by the rules in this module's docstring; never raises."""
    codec = text_codec(charset) if charset else _ASCII
    if codec is not None and codec != _ASCII:
        text = _try(data, codec)
        if text is not None:
            return text
        text = _try(data, codec, "replace")
        if text is not None:
            _note(
                problems,
                f"some bytes are not valid {charset}: they are shown as \N{REPLACEMENT CHARACTER}",
            )
            return text
    text, utf8 = _utf8_or_windows_1252(data)
    fallback = "UTF-8" if utf8 else "Windows-1252"
    if codec is None:
        _note(
            problems,
            f"unknown charset {_shown(charset or '')}: shown as {fallback}, "
            "some characters may be wrong",
        )
    elif not utf8:
        _note(
            problems,
            f"some bytes are not valid {charset or 'us-ascii'}: shown as Windows-1252, "
            "some characters may be wrong",
        )
    return text


def part_text(part: Message, problems: list[str] | None = None, limit: int | None = None) -> str:
    """The text of a leaf part: transfer encoding undone, then :func:`decode_text`. Only the
    first ``limit`` bytes are read; a character cut in two there is not a problem."""
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, TypeError, AssertionError) as err:
        _note(problems, f"unreadable {part.get_content_type()} part: {err}")
        return ""
    if not isinstance(payload, bytes):
        return ""
    if limit is not None and len(payload) > limit:
        return decode_text(payload[:limit], part.get_content_charset())
    return decode_text(payload, part.get_content_charset(), problems)


def filename(part: Message, problems: list[str] | None = None) -> str:
    """The file name the sender gave ``part`` (``filename``, else ``name``), its RFC 2231
    charset and encoded-words decoded by the rules above; "" when it has none."""
    value = part.get_param("filename", None, "content-disposition")
    if value is None:
        value = part.get_param("name", None, "content-type")
    if isinstance(value, tuple):  # RFC 2231: (charset, language, the bytes as latin-1 text)
        charset, _language, text = value
        name = decode_text(text.encode("raw-unicode-escape"), charset, problems)
        return header_text(name, problems)
    return header_text(collapse_rfc2231_value(value) if value else None, problems)


_SURROGATE = re.compile("[\udc80-\udcff]")


def raw_header_text(value: str | Header) -> str:
    """A header value as it was sent, its raw 8-bit bytes (which ``compat32`` keeps in a
    ``Header`` and ``policy.default`` as surrogate escapes) read as UTF-8, else Windows-1252."""
    if isinstance(value, Header):
        return "".join(decode_text(chunk, None) for chunk, _charset in decode_header(value))
    if value.isascii() or not _SURROGATE.search(value):
        return value
    return decode_text(value.encode("utf-8", "surrogateescape"), None)


def header_text(value: str | Header | None, problems: list[str] | None = None) -> str:
    """A header value as a reader sees it: raw 8-bit bytes as :func:`raw_header_text` reads
    them, RFC 2047 encoded-words decoded by :func:`decode_text`, whitespace collapsed."""
    if value is None:
        return ""
    text = raw_header_text(value)
    if "=?" in text:
        text = _encoded_words(text, problems)
    return " ".join(text.split())


def _encoded_words(value: str, problems: list[str] | None) -> str:
    try:
        chunks = decode_header(value)
    except (MessageError, ValueError, AssertionError):  # a broken base64 word
        _note(problems, f"undecodable encoded header: {value[:80]!r}")
        return value
    if all(charset is None or text_codec(charset) for _chunk, charset in chunks):
        try:  # the stdlib's own joining, for the mail that is well formed
            return str(make_header(chunks))
        except (LookupError, UnicodeError, ValueError, AssertionError, MessageError):
            pass
    words: list[tuple[str, bool]] = []
    found: list[str] = []
    for chunk, charset in chunks:
        if isinstance(chunk, str):
            words.append((chunk, True))
        elif charset is None:  # the text between encoded-words, as decode_header kept it
            text = chunk.decode("ascii" if chunk.isascii() else "raw-unicode-escape", "replace")
            words.append((text, True))
        else:
            words.append((decode_text(chunk, charset, found), text_codec(charset) == _ASCII))
    if found:
        _note(problems, f"undecodable encoded header: {value[:80]!r}")
    return _joined(words)


def _joined(words: list[tuple[str, bool]]) -> str:
    """(text, is plain) words joined as ``email.header.Header`` joins them: a space where an
    encoded word meets plain text that has none."""
    out: list[str] = []
    last_plain, last_space = True, False
    for text, plain in words:
        if out and plain != last_plain:
            spaced = (bool(text) and _separates(text[0])) if plain else last_space
            if not spaced:
                out.append(" ")
        last_space = bool(text) and _separates(text[-1])
        last_plain = plain
        out.append(text)
    return "".join(out)


def _separates(char: str) -> bool:
    return char.isspace() or char in "()\\"
