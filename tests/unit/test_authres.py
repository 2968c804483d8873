"""Authentication-Results as real servers write them (Gmail, Microsoft 365 with compauth and no
authserv-id, Fastmail, OpenDKIM), several in one message, and malformed ones kept raw."""

from __future__ import annotations

import json

from app.delivery.authres import (
    CLAIM_WARNING,
    NO_AUTHSERV_ID,
    authentication_results,
    parse_authentication_results,
)

GMAIL = (
    b"Authentication-Results: mx.google.com;\r\n"
    b"       dkim=pass header.i=@clinic.example header.s=20230601 header.b=Zk3lQ0uT;\r\n"
    b"       arc=pass (i=1 spf=pass spfdomain=clinic.example dkim=pass dkdomain=clinic.example"
    b" dmarc=pass fromdomain=clinic.example);\r\n"
    b"       spf=pass (google.com: domain of alice@clinic.example designates 209.85.220.41 as"
    b" permitted sender) smtp.mailfrom=alice@clinic.example;\r\n"
    b"       dmarc=pass (p=REJECT sp=REJECT dis=NONE) header.from=clinic.example\r\n"
)
MICROSOFT = (
    b"Authentication-Results: spf=pass (sender IP is 40.107.22.52)\r\n"
    b" smtp.mailfrom=contoso.com; dkim=pass (signature was verified)\r\n"
    b" header.d=contoso.com;dmarc=pass action=none\r\n"
    b" header.from=contoso.com;compauth=pass reason=100\r\n"
)
MICROSOFT_FAIL = (
    b"Authentication-Results: spf=fail (sender IP is 192.0.2.7) smtp.mailfrom=fabrikam.com;"
    b" dkim=none (message not signed) header.d=none;dmarc=fail action=quarantine"
    b" header.from=fabrikam.com;compauth=fail reason=001\r\n"
)
FASTMAIL = (
    b"Authentication-Results: mx3.messagingengine.com;\r\n"
    b"    dkim=pass (2048-bit rsa key sha256) header.d=example.org header.i=@example.org\r\n"
    b"      header.b=KkNd1Zf7 header.a=rsa-sha256 header.s=fm2 x-bits=2048;\r\n"
    b"    dmarc=pass policy.published-domain-policy=none header.from=example.org;\r\n"
    b"    iprev=pass smtp.remote-ip=66.111.4.28 (out4-smtp.messagingengine.com);\r\n"
    b"    spf=pass smtp.mailfrom=bob@example.org smtp.helo=out4-smtp.messagingengine.com;\r\n"
    b"    x-aligned-from=pass (Address match);\r\n"
    b"    x-tls=pass smtp.version=TLSv1.3 smtp.cipher=TLS_AES_256_GCM_SHA384 smtp.bits=256/256\r\n"
)
OPENDKIM = (
    b"Authentication-Results: mx.example.test;\r\n"
    b"\tdkim=pass (2048-bit key; unprotected) header.d=sender.test header.i=@sender.test "
    b'header.b="AbCdEf"\r\n'
)
NONE = b"Authentication-Results: mail.example.org 1; none\r\n"
MALFORMED = b"Authentication-Results: spf.example; this is not ; valid === \r\n"
BODY = b"From: a@clinic.example\r\nSubject: x\r\n\r\nbody\r\n"


def by_method(header) -> dict:
    return {r["method"]: r for r in header.results}


def test_gmail() -> None:
    (gmail,) = authentication_results(GMAIL + BODY)
    assert gmail.parsed and gmail.authserv_id == "mx.google.com" and gmail.warnings == ()
    methods = by_method(gmail)
    assert list(methods) == ["dkim", "arc", "spf", "dmarc"]
    assert methods["dkim"]["result"] == "pass"
    assert methods["dkim"]["properties"] == {
        "header.i": "@clinic.example", "header.s": "20230601", "header.b": "Zk3lQ0uT"
    }  # fmt: skip
    assert methods["spf"]["properties"]["smtp.mailfrom"] == "alice@clinic.example"
    assert methods["dmarc"]["properties"]["header.from"] == "clinic.example"
    assert gmail.raw.startswith("mx.google.com; dkim=pass header.i=@clinic.example")
    assert "\r" not in gmail.raw and "  " not in gmail.raw  # unfolded


def test_microsoft_365_without_authserv_id_and_with_compauth() -> None:
    ok = parse_authentication_results(MICROSOFT.split(b":", 1)[1].decode())
    assert ok.parsed and ok.authserv_id is None and ok.warnings == (NO_AUTHSERV_ID,)
    methods = by_method(ok)
    assert list(methods) == ["spf", "dkim", "dmarc", "compauth"]
    assert methods["compauth"] == {
        "method": "compauth", "result": "pass", "reason": "100", "properties": {}
    }  # fmt: skip
    assert methods["dkim"]["properties"] == {"header.d": "contoso.com"}
    assert methods["spf"]["properties"] == {"smtp.mailfrom": "contoso.com"}
    (failed,) = authentication_results(MICROSOFT_FAIL + BODY)
    methods = by_method(failed)
    assert failed.parsed and failed.authserv_id is None
    assert [methods[m]["result"] for m in ("spf", "dkim", "dmarc", "compauth")] == [
        "fail", "none", "fail", "fail"
    ]  # fmt: skip
    assert methods["compauth"]["reason"] == "001"


def test_fastmail_with_its_own_methods() -> None:
    (fastmail,) = authentication_results(FASTMAIL + BODY)
    assert fastmail.parsed and fastmail.authserv_id == "mx3.messagingengine.com"
    methods = by_method(fastmail)
    assert set(methods) == {"dkim", "dmarc", "iprev", "spf", "x-aligned-from", "x-tls"}
    assert methods["dkim"]["properties"]["header.s"] == "fm2"
    assert methods["dkim"]["properties"]["header.a"] == "rsa-sha256"
    assert methods["iprev"]["properties"] == {"smtp.remote-ip": "66.111.4.28"}
    assert methods["x-tls"]["properties"]["smtp.version"] == "TLSv1.3"
    assert methods["dmarc"]["properties"]["policy.published-domain-policy"] == "none"


def test_several_headers_in_order_with_a_malformed_one_kept_raw() -> None:
    raw = GMAIL + OPENDKIM + MALFORMED + NONE + MICROSOFT + BODY
    headers = authentication_results(raw)
    assert [h.authserv_id for h in headers] == [
        "mx.google.com", "mx.example.test", "spf.example", "mail.example.org", None
    ]  # fmt: skip
    assert [h.parsed for h in headers] == [True, True, False, True, True]
    opendkim, broken, none = headers[1], headers[2], headers[3]
    assert by_method(opendkim)["dkim"]["properties"]["header.b"] == "AbCdEf"
    assert broken.results == () and broken.raw == "spf.example; this is not ; valid ==="
    assert broken.warnings == ("not readable as RFC 8601",)
    assert none.parsed and none.results == ()
    data = json.loads(json.dumps([h.to_json() for h in headers]))
    assert data[2] == {
        "authserv_id": "spf.example", "results": [], "raw": broken.raw, "parsed": False,
        "warnings": ["not readable as RFC 8601"],
    }  # fmt: skip
    assert data[0]["results"][0] == {
        "method": "dkim", "result": "pass", "reason": None,
        "properties": {"header.i": "@clinic.example", "header.s": "20230601",
                       "header.b": "Zk3lQ0uT"},
    }  # fmt: skip


def test_hostile_headers_never_raise() -> None:
    assert authentication_results(b"") == [] and authentication_results(BODY) == []
    eight_bit = b"Authentication-Results: mx.\xff\xfe.example; dkim=pass header.d=\xe4.example\r\n"
    (odd,) = authentication_results(eight_bit + BODY)
    assert "\ufffd" in odd.raw  # kept, undecodable bytes replaced, never a crash
    json.dumps(odd.to_json()).encode("utf-8")
    long = b"Authentication-Results: mx.example; dkim=pass header.b=" + b"A" * 100_000 + b"\r\n"
    (big,) = authentication_results(long + BODY)
    assert big.parsed is False and big.authserv_id == "mx.example" and len(big.raw) > 100_000
    many = authentication_results(OPENDKIM * 300 + BODY)
    assert len(many) == 300 and all(h.parsed for h in many)
    (unbalanced,) = authentication_results(b"Authentication-Results: x; dkim=pass (((\r\n" + BODY)
    assert unbalanced.parsed is False and unbalanced.authserv_id == "x"
    (garbage_ms,) = authentication_results(b"Authentication-Results: spf=pass ===\r\n" + BODY)
    assert garbage_ms.parsed is False and garbage_ms.authserv_id is None


def test_the_claim_warning_says_these_are_not_our_verification() -> None:
    assert CLAIM_WARNING == (
        "Authentication-Results are claims written by the servers that handled the message; "
        "Mailproof did not verify them — see the DKIM results above for what it checked itself."
    )
