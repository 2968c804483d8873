"""DKIM verdicts from dkimpy signatures checked against recorded DNS answers: pass, body or
header changed, key missing/revoked/garbage, expired, l=, ed25519, alignment, offline; and a
DNS server that never answers gives temperror, not a hang."""

from __future__ import annotations

import base64
import socket
import time

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from app.delivery.authres import CLAIM_WARNING, authentication_results
from app.delivery.dkim import verify_arc, verify_dkim
from app.delivery.dns import DnsAnswer, Recorder, live_resolver, recorded_resolver

MESSAGE = (
    b"From: Alice <alice@clinic.example>\r\nTo: bob@hospital.example\r\n"
    b"Subject: Lab results\r\nDate: Fri, 03 May 2024 09:15:00 +0000\r\n"
    b"Message-ID: <lab@clinic.example>\r\n\r\nPotassium 4.1 mmol/l.\r\n"
)
NOW = "2026-11-23T00:00:00Z"


@pytest.fixture(scope="module")
def rsa_key() -> tuple[bytes, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"


def sign(message: bytes, private: bytes, domain: bytes = b"clinic.example", **extra) -> bytes:
    signature = dkim.sign(message, b"sel1", domain, private, include_headers=[b"from",
                          b"to", b"subject", b"date"], **extra)  # fmt: skip
    return signature + message


def dns_for(record: str | None, domain: str = "clinic.example", selector: str = "sel1"):
    name = f"{selector}._domainkey.{domain}."
    return recorded_resolver([DnsAnswer(name, record, None, NOW)])


def test_pass_body_changed_header_changed(rsa_key) -> None:
    private, record = rsa_key
    signed = sign(MESSAGE, private)
    (ok,) = verify_dkim(signed, dns_for(record))
    assert ok.result == "pass" and ok.domain == "clinic.example" and ok.selector == "sel1"
    assert ok.algorithm == "rsa-sha256" and ok.aligned_with_from and not ok.warnings
    assert "from" in ok.signed_headers
    (body,) = verify_dkim(signed.replace(b"4.1", b"9.1"), dns_for(record))
    assert body.result == "fail" and "body changed" in body.explanation
    (header,) = verify_dkim(signed.replace(b"Lab results", b"Lab resulta"), dns_for(record))
    assert header.result == "fail" and "header changed" in header.explanation


def test_key_missing_revoked_garbage_and_unrecorded(rsa_key) -> None:
    private, _record = rsa_key
    signed = sign(MESSAGE, private)
    (missing,) = verify_dkim(signed, dns_for(None))
    assert missing.result == "permerror" and "key not found" in missing.explanation
    (revoked,) = verify_dkim(signed, dns_for("v=DKIM1; k=rsa; p="))
    assert revoked.result == "permerror" and "revoked" in revoked.explanation
    (garbage,) = verify_dkim(signed, dns_for("v=DKIM1; k=rsa; p=bm90IGEga2V5"))
    assert garbage.result == "permerror" and "malformed" in garbage.explanation
    (absent,) = verify_dkim(signed, recorded_resolver([]))
    assert absent.result == "temperror" and "not in the recorded" in absent.explanation


def test_expiry_length_limit_alignment_ed25519_offline(rsa_key, monkeypatch) -> None:
    private, record = rsa_key
    past = str(int(time.time()) - 10 * 86400).encode()
    original = dkim.DKIM.gen_header

    def with_expiry(self, fields, *args, **kwargs):  # dkimpy cannot write x= itself
        return original(self, [*fields[:-1], (b"x", past), fields[-1]], *args, **kwargs)

    monkeypatch.setattr(dkim.DKIM, "gen_header", with_expiry)
    expiring = sign(MESSAGE, private)
    monkeypatch.undo()
    assert b"x=" in expiring.split(b"\r\nFrom:")[0]
    (expired,) = verify_dkim(expiring, dns_for(record))
    assert expired.result == "fail" and "expired on" in expired.explanation
    partial = sign(MESSAGE, private, length=True)
    (limited,) = verify_dkim(partial + b"Appended by someone else.\r\n", dns_for(record))
    assert limited.result == "pass" and limited.body_length_limit is not None
    assert any("only the first" in w for w in limited.warnings)
    other = sign(MESSAGE, private, domain=b"bulkmailer.example")
    (foreign,) = verify_dkim(other, dns_for(record, domain="bulkmailer.example"))
    assert foreign.result == "pass" and not foreign.aligned_with_from
    assert any("not by the From domain" in w for w in foreign.warnings)

    key = ed25519.Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    ed_signed = dkim.sign(MESSAGE, b"ed", b"clinic.example", base64.b64encode(seed),
                          signature_algorithm=b"ed25519-sha256") + MESSAGE  # fmt: skip
    ed_dns = dns_for(f"v=DKIM1; k=ed25519; p={base64.b64encode(public).decode()}", selector="ed")
    (ed,) = verify_dkim(ed_signed, ed_dns)
    assert ed.result == "pass" and ed.algorithm == "ed25519-sha256"

    (offline,) = verify_dkim(sign(MESSAGE, private), None, offline=True)
    assert offline.result == "not-checked" and "offline" in offline.explanation
    assert verify_dkim(MESSAGE, dns_for(record)) == []
    assert verify_arc(MESSAGE, dns_for(record)).result == "none"


def test_recorded_answers_repeat_the_live_verdict(rsa_key) -> None:
    private, record = rsa_key
    signed = sign(MESSAGE, private)
    recorder = Recorder(dns_for(record))
    first = verify_dkim(signed, recorder)
    again = verify_dkim(signed, recorded_resolver([a.to_json() for a in recorder.answers]))
    assert [r.result for r in first] == [r.result for r in again] == ["pass"]
    assert recorder.answers[0].name == "sel1._domainkey.clinic.example."


def test_a_dns_server_that_never_answers_is_a_bounded_temperror(rsa_key) -> None:
    private, _record = rsa_key
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        port = silent.getsockname()[1]
        began = time.monotonic()
        (result,) = verify_dkim(sign(MESSAGE, private), live_resolver(f"127.0.0.1:{port}", 1.0))
        assert result.result == "temperror" and "did not answer" in result.explanation
        assert time.monotonic() - began < 20  # bounded, not a hang
    finally:
        silent.close()


def test_hostile_input_never_raises(rsa_key) -> None:
    private, record = rsa_key
    signed = sign(MESSAGE, private)
    hostile = (
        b"".join(b"Received: from a by b; Fri, 3 May 2024 09:15:00 +0000\r\n" for _ in range(300))
        + b"X-Long: " + b"y" * 100_000 + b"\r\nX-8bit: \xff\xfe\r\n" + signed
    )  # fmt: skip
    (result,) = verify_dkim(hostile, dns_for(record))
    assert result.result == "pass"
    assert verify_dkim(b"DKIM-Signature: garbage;;;\r\n\r\nx", dns_for(record))[0].result in (
        "permerror",
        "fail",
    )


def test_authentication_results_are_parsed_and_labelled_as_claims() -> None:
    raw = (
        b"Authentication-Results: mx.google.com;\r\n dkim=pass header.i=@clinic.example "
        b"header.s=sel1 header.b=AbCd;\r\n spf=pass (google.com: domain of a@clinic.example "
        b"designates 192.0.2.1 as permitted sender) smtp.mailfrom=a@clinic.example;\r\n "
        b"dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=clinic.example\r\n"
        b"Authentication-Results: spf.example; this is not ; valid === \r\n\r\nbody"
    )
    first, broken = authentication_results(raw)
    assert first.parsed and first.authserv_id == "mx.google.com"
    methods = {r["method"]: r for r in first.results}
    assert methods["dkim"]["result"] == "pass"
    assert methods["dkim"]["properties"]["header.s"] == "sel1"
    assert methods["spf"]["properties"]["smtp.mailfrom"] == "a@clinic.example"
    assert methods["dmarc"]["result"] == "pass"
    assert broken.parsed is False and broken.raw.startswith("spf.example")
    assert "claims" in CLAIM_WARNING
