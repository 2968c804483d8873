"""Decoding what a reader sees: RFC 2047 headers, RFC 2231 names, legacy charsets, bad MIME."""

from __future__ import annotations

import base64
import hashlib
from email.message import EmailMessage

from app.mime.render import attachment_bytes, render
from app.mime.summary import summarize


def _b(text: str, charset: str = "utf-8") -> str:
    return f"=?{charset}?B?{base64.b64encode(text.encode(charset)).decode()}?="


def test_rfc2047_subjects_in_utf8_q_utf8_b_and_latin1_are_decoded() -> None:
    cases = {
        "=?utf-8?Q?Gr=C3=BC=C3=9Fe_aus_K=C3=B6ln?=": "Grüße aus Köln",
        _b("日本語のメール"): "日本語のメール",
        "=?iso-8859-1?Q?Caf=E9_cr=E8me?=": "Café crème",
        "Re: =?ISO-8859-1?B?" + base64.b64encode("Öl".encode("latin-1")).decode() + "?= ok": (
            "Re: Öl ok"
        ),
    }
    for encoded, expected in cases.items():
        raw = f"From: a@example.org\nSubject: {encoded}\n\nbody\n".encode()
        assert summarize(raw).subject == expected
        assert render(raw).subject == expected


def test_encoded_display_names_are_decoded_in_summary_and_render() -> None:
    raw = (
        b"From: =?utf-8?Q?J=C3=B6rg_M=C3=BCller?= <joerg@example.de>\n"
        b"To: =?iso-8859-1?Q?Ren=E9?= <rene@example.fr>, plain@example.org\n"
        b"Subject: names\n\nbody\n"
    )
    summary = summarize(raw)
    assert [(a.name, a.addr) for a in summary.from_] == [("Jörg Müller", "joerg@example.de")]
    assert [(a.name, a.addr) for a in summary.to] == [
        ("René", "rene@example.fr"),
        ("", "plain@example.org"),
    ]
    rendered = render(raw)
    assert rendered.from_ == "Jörg Müller <joerg@example.de>"
    assert "René <rene@example.fr>" in rendered.to


def test_rfc2231_filename_is_decoded_and_attachment_bytes_are_exact() -> None:
    pdf = b"%PDF-1.4\n" + bytes(range(256)) * 3
    raw = (
        b"From: a@example.org\nSubject: Befund\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="XYZ"\n\n'
        b"--XYZ\nContent-Type: text/plain; charset=utf-8\n\nsiehe Anhang\n"
        b"--XYZ\nContent-Type: application/pdf\n"
        b"Content-Disposition: attachment; filename*=UTF-8''Befund_M%C3%BCller.pdf\n"
        b"Content-Transfer-Encoding: base64\n\n" + base64.encodebytes(pdf) + b"--XYZ--\n"
    )

    rendered = render(raw)

    assert [
        (a.filename, a.safe_name, a.content_type, a.size, a.inline) for a in rendered.attachments
    ] == [("Befund_Müller.pdf", "Befund_Müller.pdf", "application/pdf", len(pdf), False)]
    assert attachment_bytes(raw, rendered.attachments[0].index) == pdf
    assert rendered.text.strip() == "siehe Anhang"
    assert summarize(raw).has_attachments is True


def test_rfc2231_continuations_and_latin1_filenames_are_joined() -> None:
    raw = (
        b"From: a@example.org\nSubject: x\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="B"\n\n'
        b"--B\nContent-Type: text/plain\n\nhi\n"
        b"--B\nContent-Type: application/octet-stream\n"
        b"Content-Disposition: attachment;\n filename*0*=iso-8859-1''Befund_M%FCl;\n"
        b" filename*1*=ler_%E4rztlich.pdf\n\nDATA\n"
        b"--B--\n"
    )
    assert [a.filename for a in render(raw).attachments] == ["Befund_Müller_ärztlich.pdf"]


def test_text_in_latin1_windows1252_and_iso2022jp_is_decoded() -> None:
    raw = (
        b"From: a@example.org\nSubject: charsets\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="CS"\n\n'
        b"--CS\nContent-Type: text/plain; charset=iso-8859-1\n"
        b"Content-Transfer-Encoding: 8bit\n\n" + "Grüße aus Köln\n".encode("latin-1") + b"--CS\n"
        b"Content-Type: text/plain; charset=windows-1252\n"
        b"Content-Transfer-Encoding: quoted-printable\n\n=80 100 =93quoted=94 =96 fin\n"
        b"--CS\nContent-Type: text/plain; charset=iso-2022-jp\n"
        b"Content-Transfer-Encoding: 7bit\n\n"
        + "こんにちは、世界\n".encode("iso-2022-jp")
        + b"--CS--\n"
    )

    rendered = render(raw)

    assert "Grüße aus Köln" in rendered.text
    assert "€ 100 “quoted” – fin" in rendered.text
    assert "こんにちは、世界" in rendered.text
    assert rendered.warnings == ()
    assert rendered.attachments == ()


def test_unknown_charset_becomes_a_warning_not_an_exception() -> None:
    raw = (
        b"From: a@example.org\nSubject: =?x-unknown?Q?caf=E9?=\nMIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=x-unknown\n\nplain ascii survives\n"
    )
    rendered = render(raw)
    summary = summarize(raw)

    assert "plain ascii survives" in rendered.text
    assert any("x-unknown" in w for w in rendered.warnings)
    assert summary.subject.startswith("caf")
    assert any("undecodable" in d for d in summary.defects)


def test_invalid_utf8_bytes_are_replaced_and_warned() -> None:
    raw = (
        b"From: a@example.org\nSubject: bad\nMIME-Version: 1.0\n"
        b"Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n"
        b"good \xc3\xa9 bad \xff\xfe end\n"
    )
    rendered = render(raw)

    assert rendered.text.startswith("good é bad ")
    assert "\N{REPLACEMENT CHARACTER}" in rendered.text
    assert rendered.text.rstrip().endswith("end")
    assert any("not valid utf-8" in w for w in rendered.warnings)


def test_missing_close_boundary_keeps_the_parts_and_warns() -> None:
    raw = (
        b"From: a@example.org\nSubject: unclosed\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/mixed; boundary="XX"\n\n'
        b"--XX\nContent-Type: text/plain\n\nhello part\n"
        b"--XX\nContent-Type: application/pdf; name=a.pdf\nContent-Transfer-Encoding: base64\n\n"
        b"JVBERg==\n"
    )
    rendered = render(raw)
    summary = summarize(raw)

    assert rendered.text.strip() == "hello part"
    assert [(a.filename, a.size) for a in rendered.attachments] == [("a.pdf", 4)]
    assert any("CloseBoundaryNotFound" in w for w in rendered.warnings)
    assert any("CloseBoundaryNotFound" in d for d in summary.defects)
    assert summary.has_attachments is True


def test_multipart_without_boundary_shows_its_body_as_text() -> None:
    """A multipart header with no boundary: the body is all the sender wrote; it must show.

    The list (summarize) says there is no attachment, so the reader must not turn the
    body into an anonymous 'multipart/mixed' attachment and leave the text empty.
    """
    raw = (
        b"From: a@example.org\nSubject: no boundary\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/mixed\n\nhello, this is the whole message\n"
    )
    rendered = render(raw)
    summary = summarize(raw)

    assert summary.has_attachments is False
    assert any("NoBoundaryInMultipart" in w for w in rendered.warnings)
    assert "hello, this is the whole message" in rendered.text
    assert rendered.attachments == ()


def test_summary_dates_are_converted_to_utc_iso() -> None:
    cases = {
        "Mon, 01 Jan 2024 12:30:00 +0200": "2024-01-01T10:30:00Z",
        "Sun, 31 Dec 2023 23:30:00 -0500": "2024-01-01T04:30:00Z",
        "Mon, 01 Jan 2024 10:00:00 -0000": "2024-01-01T10:00:00Z",
    }
    for header, expected in cases.items():
        raw = f"From: a@example.org\nDate: {header}\nSubject: d\n\nx\n".encode()
        assert summarize(raw).date_iso == expected
    broken = summarize(b"From: a@example.org\nDate: yesterday-ish\nSubject: d\n\nx\n")
    assert broken.date is None
    assert any("Date" in d for d in broken.defects)


def test_summary_sha256_and_size_are_of_the_exact_bytes() -> None:
    raw = b"From: a@example.org\r\nSubject: crlf\r\n\r\nbody\r\n"
    summary = summarize(raw)
    assert summary.sha256 == hashlib.sha256(raw).hexdigest()
    assert summary.size == len(raw)


def test_summary_threading_fields_and_flags_for_signed_and_encrypted() -> None:
    reply = (
        b"From: a@example.org\nSubject: Re: x\nMessage-ID: <c@example.org>\n"
        b"In-Reply-To: <b@example.org>\nReferences: <a@example.org>\n <b@example.org>\n\nok\n"
    )
    summary = summarize(reply)
    assert summary.message_id == "<c@example.org>"
    assert summary.references == ("<a@example.org>", "<b@example.org>")
    assert summary.in_reply_to == "<b@example.org>"
    assert summary.thread_root == "<a@example.org>"

    encrypted = (
        b"From: a@example.org\nSubject: secret\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; boundary=E\n\n'
        b"--E\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n"
        b"--E\nContent-Type: application/octet-stream\n\n-----BEGIN PGP MESSAGE-----\n--E--\n"
    )
    assert summarize(encrypted).is_encrypted is True
    assert summarize(encrypted).has_attachments is False

    signed = (
        b"From: a@example.org\nSubject: signed\nMIME-Version: 1.0\n"
        b'Content-Type: multipart/signed; protocol="application/pgp-signature"; boundary=S\n\n'
        b"--S\nContent-Type: text/plain\n\nhi\n"
        b"--S\nContent-Type: application/pgp-signature\n\nSIG\n--S--\n"
    )
    assert summarize(signed).is_signed is True


def test_html_only_message_renders_sanitized_html_and_plain_text() -> None:
    message = EmailMessage()
    message["From"] = "a@example.org"
    message["Subject"] = "html"
    message.set_content(
        "<html><body><p>Hi <b>you</b></p><script>alert('x')</script>"
        '<img src="https://tracker.example/p.gif"></body></html>',
        subtype="html",
    )
    rendered = render(message.as_bytes())

    assert rendered.html is not None
    assert "<script" not in rendered.html and "alert" not in rendered.html
    assert "tracker.example" not in rendered.html
    assert rendered.blocked_remote == ("https://tracker.example/p.gif",)
    assert rendered.text == "Hi you"


def test_cid_image_of_a_related_part_is_kept_and_listed_inline() -> None:
    message = EmailMessage()
    message["From"] = "a@example.org"
    message["Subject"] = "logo"
    message.set_content("plain alternative")
    message.add_alternative(
        '<p>Logo: <img src="cid:logo@example.org" alt="logo"></p>', subtype="html"
    )
    html_part = message.get_payload()[1]
    png = b"\x89PNG\r\n\x1a\n" + bytes(32)
    html_part.add_related(png, "image", "png", cid="<logo@example.org>")
    raw = message.as_bytes()

    rendered = render(raw)

    assert rendered.html is not None
    assert 'src="cid:logo@example.org"' in rendered.html
    assert rendered.blocked_remote == ()
    images = [a for a in rendered.attachments if a.content_type == "image/png"]
    assert len(images) == 1
    assert images[0].inline is True
    assert images[0].content_id == "logo@example.org"
    assert attachment_bytes(raw, images[0].index) == png


def test_utf8_bom_before_the_first_header_does_not_hide_the_headers() -> None:
    raw = b"\xef\xbb\xbfFrom: bom@example.org\nSubject: with BOM\n\nbody\n"

    summary = summarize(raw)
    rendered = render(raw)

    assert summary.subject == "with BOM"
    assert [a.addr for a in summary.from_] == ["bom@example.org"]
    assert rendered.subject == "with BOM"
    assert rendered.text == "body\n"


def test_raw_8bit_headers_are_read_as_utf8_or_else_windows_1252() -> None:
    from app.mime.summary import summarize

    utf8 = "From: Jürgen Müller <jm@clinic.example>\r\nSubject: Größe\r\n\r\nx\r\n".encode()
    assert summarize(utf8).subject == "Größe"
    assert summarize(utf8).from_[0].name == "Jürgen Müller"
    legacy = "Subject: Größe – alt\r\n\r\nx\r\n".encode("cp1252")
    assert summarize(legacy).subject == "Größe – alt"


def test_the_reader_shows_raw_8bit_headers_like_the_summary_does() -> None:
    raw = (
        "From: Jürgen Müller <jm@clinic.example>\r\n".encode()
        + "Subject: Größe – alt\r\n".encode("cp1252")
        + b"To: =?utf-8?q?Gr=C3=BC=C3=9Fe?= <g@clinic.example>\r\n"
        + b"Received: from a by b; Tue, 5 Mar 2024 10:00:00 +0100\r\n"
        + b"Received: from c by d; Tue, 5 Mar 2024 09:59:00 +0100\r\n\r\nx\r\n"
    )
    rendered = render(raw)
    assert rendered.from_ == "Jürgen Müller <jm@clinic.example>"
    assert rendered.subject == "Größe – alt"
    assert rendered.to == "Grüße <g@clinic.example>"
    assert rendered.header("Subject") == "Größe – alt"
    assert "\N{REPLACEMENT CHARACTER}" not in str(rendered.headers)
    received = [value for name, value in rendered.headers if name == "Received"]
    assert received == [
        "from a by b; Tue, 5 Mar 2024 10:00:00 +0100",
        "from c by d; Tue, 5 Mar 2024 09:59:00 +0100",
    ]
