"""Tracking and phishing cues on crafted messages — each with a twin where it must not fire."""

from __future__ import annotations

from app.investigate.cues import cues

KNOWN = ["clinic.example", "hospital.example", "paypal.com"]


def msg(headers: str, html: str | None = None) -> bytes:
    head = "From: Lab <lab@hospital.example>\r\nTo: a@clinic.example\r\nSubject: s\r\n" + headers
    if html is None:
        return (head + "\r\nplain\r\n").encode()
    return (head + "Content-Type: text/html; charset=utf-8\r\n\r\n" + html + "\r\n").encode()


def kinds(raw: bytes) -> list[str]:
    return [c.kind for c in cues(raw, KNOWN)]


def test_tracking_pixels_and_tracked_links() -> None:
    pixel = '<p>Hi</p><img src="https://t.mailer.example/o/abc.gif" width="1" height="1">'
    hidden = '<img src="https://t.mailer.example/o.gif" style="display: none">'
    logo = '<img src="https://cdn.example/logo.png" width="120" height="40">'
    local = '<img src="cid:logo@x" width="1" height="1">'
    assert kinds(msg("", pixel)) == ["tracking-pixel"]
    assert kinds(msg("", hidden)) == ["tracking-pixel"]
    assert kinds(msg("", logo)) == [] and kinds(msg("", local)) == []
    token = '<a href="https://news.example/click?u=9f86d081884c7d659a2feaa0c55ad015a3bf4f1b">x</a>'
    plain = '<a href="https://www.hospital.example/contact?lang=de">contact</a>'
    (found,) = cues(msg("", token), KNOWN)
    assert found.kind == "tracked-links" and "news.example" in found.explanation
    assert kinds(msg("", plain)) == []


def test_read_receipt_display_name_and_reply_to() -> None:
    receipt = cues(msg("Disposition-Notification-To: lab@hospital.example\r\n"), KNOWN)
    assert [c.kind for c in receipt] == ["read-receipt"]
    assert "never sends one" in receipt[0].explanation
    assert kinds(msg("")) == []
    spoof = msg("").replace(
        b"From: Lab <lab@hospital.example>",
        b'From: "ceo@clinic.example" <attacker@mailer.example>',
    )
    assert "display-name-address" in kinds(spoof)
    honest = msg("").replace(
        b"From: Lab <lab@hospital.example>", b'From: "lab@hospital.example" <lab@hospital.example>'
    )
    assert "display-name-address" not in kinds(honest)
    assert "reply-to-elsewhere" in kinds(msg("Reply-To: pay@collector.example\r\n"))
    assert "reply-to-elsewhere" not in kinds(msg("Reply-To: desk@lab.hospital.example\r\n"))


def test_lookalike_mixed_script_and_punycode_domains() -> None:
    def sent_from(domain: str) -> bytes:
        return msg("").replace(b"lab@hospital.example", f"lab@{domain}".encode())

    assert "lookalike-domain" in kinds(sent_from("hospita1.example"))
    assert "lookalike-domain" in kinds(sent_from("hospitall.example"))
    assert kinds(sent_from("hospital.example")) == []
    assert kinds(sent_from("weather.example")) == []
    cyrillic = sent_from("xn--pypal-4ve.com")  # "pаypal.com" with a Cyrillic а
    found = kinds(cyrillic)
    assert "punycode-domain" in found and "mixed-script-domain" in found
    assert "lookalike-domain" in found
    german = sent_from("xn--mller-kva.example")  # müller.example: one script, not a look-alike
    assert kinds(german) == ["punycode-domain"]
    assert cues(b"\x00\xff garbage", KNOWN) == []
