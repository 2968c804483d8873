"""The one message reader and its charset rules: hostile charset names and bytes never raise,
never pick a bytes-to-bytes codec, and every module reads an odd message the same way."""

from __future__ import annotations

import base64
import codecs
import encodings.aliases
import zlib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.delivery.verdict import trace
from app.investigate.cues import cues
from app.mime.facts import read_facts
from app.mime.reader import (
    FOR_DISPLAY,
    FOR_INDEX,
    HEADERS_ONLY,
    decode_text,
    filename,
    header_text,
    read_message,
    text_codec,
)
from app.mime.render import render
from app.mime.summary import summarize

HOSTILE_CHARSETS = [
    "x-unknown",
    "utf-8\x00",
    "",
    " ",
    "unicode-1-1-utf-7",
    "x-mac-klingon",
    "a" * 10_000,
    "rot13",
    "rot_13",
    "base64",
    "base64_codec",
    "zlib",
    "hex",
    "uu",
    "bz2",
    "quopri",
    "idna",
    "punycode",
    "undefined",
    "unicode_escape",
    "raw_unicode_escape",
    "charmap",
    "mbcs",
    "utf-8\n",
    "utf-8*en",
    '"utf-8"',
    "ütf-8",
    "../../etc/passwd",
    "utf-8?B?",
    "unknown-8bit",
    "x-user-defined",
]
HOSTILE_BYTES = [
    b"",
    b"plain",
    b"caf\xe9",
    b"\xff\xfe\x00x",
    b"\xc3",
    b"+ADw-script+AD4-",
    b"\x81\x8d",
]
EVERY_PYTHON_CODEC_NAME = sorted(
    set(encodings.aliases.aliases) | set(encodings.aliases.aliases.values())
)


@pytest.mark.parametrize("charset", HOSTILE_CHARSETS + EVERY_PYTHON_CODEC_NAME)
def test_no_charset_name_makes_the_decoder_raise(charset: str) -> None:
    for data in HOSTILE_BYTES:
        problems: list[str] = []
        text = decode_text(data, charset, problems)
        assert isinstance(text, str)
        assert all(isinstance(p, str) and len(p) < 300 for p in problems)


def test_bytes_to_bytes_codecs_are_never_used_as_charsets() -> None:
    assert decode_text(b"uryyb", "rot13") == "uryyb"
    assert decode_text(b"aGVsbG8=", "base64") == "aGVsbG8="
    assert decode_text(b"68656c6c6f", "hex") == "68656c6c6f"
    packed = zlib.compress(b"hello")
    assert decode_text(packed, "zlib") != "hello"
    for name in ("rot13", "base64", "hex", "zlib", "uu", "bz2", "quopri"):
        assert text_codec(name) is None


def test_escape_and_idna_codecs_are_not_charsets() -> None:
    assert decode_text(b"\\u202egpj.exe", "unicode_escape") == "\\u202egpj.exe"
    assert decode_text(b"xn--caf-dma", "idna") == "xn--caf-dma"
    assert decode_text(b"abc", "undefined") == "abc"


def test_an_unknown_charset_is_read_as_utf8_else_windows_1252_and_named() -> None:
    problems: list[str] = []
    assert decode_text("Grüße".encode(), "x-mac-klingon", problems) == "Grüße"
    assert problems == [
        "unknown charset 'x-mac-klingon': shown as UTF-8, some characters may be wrong"
    ]
    problems.clear()
    assert decode_text("Grüße €5".encode("cp1252"), "x-unknown", problems) == "Grüße €5"
    assert "unknown charset 'x-unknown': shown as Windows-1252" in problems[0]
    problems.clear()
    decode_text(b"x", "a" * 10_000, problems)
    assert len(problems[0]) < 150


def test_real_charsets_and_their_aliases_decode_without_problems() -> None:
    problems: list[str] = []
    assert decode_text("naïve".encode("latin-1"), "ISO-8859-1", problems) == "naïve"
    assert decode_text("こんにちは".encode("iso-2022-jp"), "iso-2022-jp", problems) == "こんにちは"
    assert decode_text(b"+AOk-t+AOk-", "unicode-1-1-utf-7", problems) == "été"
    assert decode_text("สวัสดี".encode("cp874"), "windows-874", problems) == "สวัสดี"
    assert decode_text("Café".encode("mac_roman"), "x-mac-roman", problems) == "Café"
    assert decode_text("שלום".encode("iso8859_8"), "iso-8859-8-i", problems) == "שלום"
    assert decode_text("été".encode(), "utf-8*fr", problems) == "été"
    assert problems == []


def test_8bit_text_labelled_ascii_or_unlabelled_is_utf8_or_windows_1252() -> None:
    problems: list[str] = []
    assert decode_text("café".encode(), "us-ascii", problems) == "café"
    assert decode_text("café".encode(), None, problems) == "café"
    assert problems == []
    assert decode_text(b"caf\xe9 \x93q\x94", None, problems) == "café “q”"
    assert problems == [
        "some bytes are not valid us-ascii: shown as Windows-1252, some characters may be wrong"
    ]


def test_bad_bytes_in_a_real_charset_are_replaced_and_named() -> None:
    problems: list[str] = []
    assert decode_text(b"ok \xff end", "utf-8", problems) == "ok \N{REPLACEMENT CHARACTER} end"
    assert problems == [
        "some bytes are not valid utf-8: they are shown as \N{REPLACEMENT CHARACTER}"
    ]


@settings(max_examples=400, deadline=None)
@given(data=st.binary(max_size=200), charset=st.one_of(st.none(), st.text(max_size=60)))
def test_fuzzed_charsets_and_bytes_never_raise(data: bytes, charset: str | None) -> None:
    problems: list[str] = []
    assert isinstance(decode_text(data, charset, problems), str)
    assert isinstance(header_text(f"=?{charset}?Q?x?= y", problems), str)


@settings(max_examples=300, deadline=None)
@given(
    charset=st.sampled_from(HOSTILE_CHARSETS + EVERY_PYTHON_CODEC_NAME) | st.text(max_size=30),
    data=st.binary(max_size=60),
    encoding=st.sampled_from("BbQq"),
    prefix=st.text(max_size=20),
)
def test_fuzzed_encoded_words_never_raise(
    charset: str, data: bytes, encoding: str, prefix: str
) -> None:
    body = base64.b64encode(data).decode() if encoding in "Bb" else data.hex("=").upper()
    value = f"{prefix} =?{charset}?{encoding}?{body}?= tail"
    assert isinstance(header_text(value, []), str)


def test_header_text_decodes_good_words_as_the_stdlib_does() -> None:
    assert (
        header_text("=?utf-8?q?Gr=C3=BC=C3=9Fe?= aus =?iso-8859-1?q?K=F6ln?=") == "Grüße aus Köln"
    )
    assert header_text("=?utf-8?q?a?= =?utf-8?q?b?=") == "ab"
    assert header_text("plain   text\r\n\tfolded") == "plain text folded"


def test_header_text_reads_unknown_charsets_and_names_the_header() -> None:
    problems: list[str] = []
    value = "=?x-unknown?Q?caf=E9?= and =?rot13?B?" + base64.b64encode(b"uryyb").decode() + "?="
    assert header_text(value, problems) == "café and uryyb"
    assert problems == [f"undecodable encoded header: {value[:80]!r}"]


def test_raw_8bit_headers_are_utf8_else_windows_1252_with_their_encoded_words_decoded() -> None:
    raw = (
        "Subject: Größe – alt =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n".encode("cp1252")
        + "From: Jürgen <j@example.org>\r\n\r\nx\r\n".encode()
    )
    for policy in (HEADERS_ONLY, FOR_INDEX):  # FOR_DISPLAY's typed headers come decoded
        message = read_message(raw, policy)
        assert header_text(message["Subject"]) == "Größe – alt Grüße"
        assert header_text(message["From"]) == "Jürgen <j@example.org>"
    assert summarize(raw).subject == read_facts(raw).subject == render(raw).subject


def test_read_policies_parse_as_much_as_asked() -> None:
    raw = b"\xef\xbb\xbfSubject: s\r\nContent-Type: text/plain\r\n\r\nbody\r\n"
    headers = read_message(raw, HEADERS_ONLY)
    assert headers["Subject"] == "s" and headers.get_payload() == ""
    assert read_message(raw, FOR_INDEX).get_payload() == "body\r\n"
    assert read_message(raw, FOR_DISPLAY)["Subject"].__class__.__name__ != "str"  # typed


ODD = (
    b'From: "=?x-unknown?Q?S=E9rvice_support=40paypa1.com?=" <help@evil.example>\r\n'
    b"To: Lena <lena@clinic.example>\r\n"
    b"Subject: =?x-unknown?B?" + base64.b64encode("Café olé".encode("cp1252")) + b"?=\r\n"
    b"Date: Mon, 1 Jan 2024 10:00:00 +0000\r\n"
    b"Message-ID: <odd@evil.example>\r\n"
    b"Received: from mx.evil.example by mx.clinic.example; Mon, 1 Jan 2024 10:00:01 +0000\r\n"
    b"MIME-Version: 1.0\r\n"
    b"Content-Type: multipart/alternative; boundary=B\r\n\r\n"
    b'--B\r\nContent-Type: text/plain; charset="x-mac-klingon"\r\n'
    b"Content-Transfer-Encoding: 8bit\r\n\r\nGr\xfc\xdfe uryyb\r\n"
    b"--B\r\nContent-Type: text/html; charset=rot13\r\n\r\n"
    b'<p>uryyb</p><img src="https://t.evil.example/o.gif" width="1" height="1">\r\n'
    b"--B--\r\n"
)


def test_summary_facts_render_and_cues_read_an_odd_message_alike() -> None:
    summary, facts, rendered = summarize(ODD), read_facts(ODD), render(ODD)

    assert summary.subject == facts.subject == rendered.subject == "Café olé"
    assert summary.from_[0].name == facts.from_[0].name == "Sérvice support@paypa1.com"
    assert rendered.from_ == '" Sérvice support@paypa1.com " <help@evil.example>'  # as stdlib joins
    assert "Grüße uryyb" in facts.body and "Grüße uryyb" in rendered.text
    assert "hello" not in facts.body + rendered.text  # rot13 is not a charset
    assert "uryyb" in (rendered.html or "")
    assert any("x-mac-klingon" in p for p in facts.problems)
    assert any("x-mac-klingon" in w for w in rendered.warnings)
    assert any("rot13" in w for w in rendered.warnings)
    assert any("undecodable encoded header" in d for d in summary.defects)

    found = {c.kind: c for c in cues(ODD, ["paypal.com"])}
    assert "support@paypa1.com" in found["display-name-address"].explanation
    assert "t.evil.example" in found["tracking-pixel"].explanation


def test_trace_reads_a_message_in_unknown_charsets() -> None:
    verdict = trace(ODD, resolver=None, offline=True, clock=lambda: "2024-01-02T00:00:00Z")

    assert [hop.by_host for hop in verdict.hops] == ["mx.clinic.example"]
    assert {"tracking-pixel", "display-name-address"} <= {c.kind for c in verdict.cues}


@pytest.mark.parametrize("charset", ["idna", "punycode", "undefined", "x-unknown", "rot13"])
def test_hostile_rfc2231_charsets_in_parameters_do_not_break_any_reader(charset: str) -> None:
    raw = (
        "From: a@example.org\r\nSubject: s\r\nMIME-Version: 1.0\r\n"
        "Content-Type: multipart/mixed; boundary=Z\r\n\r\n"
        f"--Z\r\nContent-Type: text/plain; charset*={charset}''%E9x\r\n\r\nbody\r\n"
        f"--Z\r\nContent-Type: application/pdf; name*={charset}''r%C3%A9sum%C3%A9.pdf\r\n"
        f"Content-Disposition: inline; filename*={charset}''r%C3%A9sum%C3%A9.pdf\r\n\r\n"
        "%PDF\r\n--Z--\r\n"
    ).encode()

    assert read_facts(raw).attachments == (("résumé.pdf", "application/pdf"),)
    assert summarize(raw).has_attachments
    assert "body" in render(raw).text
    assert cues(raw) == []
    part = list(read_message(raw, FOR_INDEX).walk())[2]
    assert filename(part) == "résumé.pdf"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    charset=st.sampled_from(HOSTILE_CHARSETS + EVERY_PYTHON_CODEC_NAME) | st.text(max_size=20),
    body=st.binary(max_size=80),
    kind=st.sampled_from(["plain", "html"]),
)
def test_every_reader_survives_fuzzed_charsets_in_a_message(
    charset: str, body: bytes, kind: str
) -> None:
    safe = charset.replace("\r", "").replace("\n", "").replace('"', "")
    raw = (
        f"From: =?{safe}?Q?x=E9?= <a@example.org>\r\nSubject: =?{safe}?B?6Q==?=\r\n"
        f'MIME-Version: 1.0\r\nContent-Type: text/{kind}; charset="{safe}"\r\n\r\n'
    ).encode("utf-8", "surrogatepass") + body
    assert isinstance(summarize(raw).subject, str)
    assert isinstance(read_facts(raw).body, str)
    assert isinstance(render(raw).text, str)
    assert isinstance(cues(raw), list)


def test_codec_lookup_is_cached_and_bounded() -> None:
    assert text_codec("UTF-8") == text_codec("utf8") == codecs.lookup("utf-8").name
    assert text_codec.cache_info().maxsize == 512
