"""DKIM as OpenDKIM signs it in the real Postfix chain, with the key served by unbound: pass,
one changed body byte, a second signature whose selector unbound does not serve, and a replay of
the recorded answers once the lookups are over."""

from __future__ import annotations

import base64
import json

import dkim
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.delivery.dkim import verify_arc, verify_dkim
from app.delivery.dns import Recorder, live_resolver, recorded_resolver
from tests.harness.mta import MailChain


def _private_key() -> bytes:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def test_opendkim_signature_through_the_real_chain(mail_chain: MailChain) -> None:
    _msgid, delivered = mail_chain.deliver(
        "Signed by OpenDKIM", "The referral for patient 4711 is attached.\n", "dkim"
    )
    server = f"127.0.0.1:{mail_chain.dns_port}"
    key_name = f"{mail_chain.dkim_selector}._domainkey.{mail_chain.dkim_domain}."

    recorder = Recorder(live_resolver(server, timeout=3))
    (result,) = verify_dkim(delivered, recorder)
    assert result.result == "pass", result.explanation
    assert (result.domain, result.selector) == (mail_chain.dkim_domain, mail_chain.dkim_selector)
    assert result.algorithm == "rsa-sha256" and result.canonicalization == "relaxed/relaxed"
    assert result.aligned_with_from and "from" in result.signed_headers
    assert result.key_name == key_name and result.explanation.startswith(
        f"the signature of {mail_chain.dkim_domain} is valid"
    )
    (answer,) = recorder.answers
    assert answer.name == key_name and answer.error is None
    assert answer.txt == mail_chain.opendkim.txt_record_value  # unbound's strings, joined
    assert verify_arc(delivered, recorder).result == "none"

    body_at = delivered.index(b"patient 4711")
    changed = delivered[:body_at] + b"patient 4712" + delivered[body_at + len(b"patient 4711") :]
    (tampered,) = verify_dkim(changed, live_resolver(server))
    assert tampered.result == "fail" and tampered.explanation.startswith("body changed")

    # A second signature, made here over the delivered message, under a selector that unbound
    # does not serve: key not found for it, while OpenDKIM's still passes on its own.
    resigned = (
        dkim.sign(
            delivered,
            b"gone",
            mail_chain.dkim_domain.encode(),
            _private_key(),
            include_headers=[b"from", b"to", b"subject", b"date"],
        )
        + delivered
    )
    both = Recorder(live_resolver(server, timeout=3))
    missing, opendkim = verify_dkim(resigned, both)
    assert missing.result == "permerror" and missing.selector == "gone"
    assert missing.explanation.startswith(
        f"key not found in DNS (gone._domainkey.{mail_chain.dkim_domain})"
    )
    assert opendkim.result == "pass" and opendkim.header_index == 1
    assert [a.name for a in both.answers] == [
        f"gone._domainkey.{mail_chain.dkim_domain}.",
        key_name,
    ]
    assert both.answers[0].txt is None and both.answers[0].error is None  # NXDOMAIN, not failure

    # The record alone (as an evidence package stores it) repeats both verdicts without DNS.
    stored = json.loads(json.dumps([a.to_json() for a in both.answers]))
    replay = verify_dkim(resigned, recorded_resolver(stored))
    assert [(r.result, r.explanation) for r in replay] == [
        (missing.result, missing.explanation), (opendkim.result, opendkim.explanation)
    ]  # fmt: skip
    assert base64.b64decode(answer.txt.split("p=")[1])  # the key really is in the record
