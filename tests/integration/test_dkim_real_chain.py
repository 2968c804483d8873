"""DKIM as OpenDKIM signs it in the real Postfix chain, with the key served by unbound."""

from __future__ import annotations

from app.delivery.dkim import verify_dkim
from app.delivery.dns import Recorder, live_resolver, recorded_resolver
from tests.harness.mta import MailChain


def test_opendkim_signature_passes_and_a_changed_body_fails(mail_chain: MailChain) -> None:
    _msgid, delivered = mail_chain.deliver(
        "Signed by OpenDKIM", "The referral for patient 4711 is attached.\n", "dkim"
    )

    recorder = Recorder(live_resolver(f"127.0.0.1:{mail_chain.dns_port}", timeout=3))
    (result,) = verify_dkim(delivered, recorder)
    assert result.result == "pass", result.explanation
    assert (result.domain, result.selector) == ("sender.test", mail_chain.dkim_selector)
    assert result.algorithm == "rsa-sha256" and result.canonicalization == "relaxed/relaxed"
    assert result.aligned_with_from
    (answer,) = recorder.answers
    assert answer.name == f"{mail_chain.dkim_selector}._domainkey.sender.test."
    assert answer.txt and answer.txt.replace(" ", "").startswith("v=DKIM1")

    changed = delivered.replace(b"patient 4711", b"patient 4712")
    (tampered,) = verify_dkim(changed, live_resolver(f"127.0.0.1:{mail_chain.dns_port}"))
    assert tampered.result == "fail" and "body changed" in tampered.explanation

    replay = recorded_resolver([a.to_json() for a in recorder.answers])
    assert verify_dkim(delivered, replay)[0].result == "pass"  # offline, from the record

    wrong_selector = delivered.replace(
        f"s={mail_chain.dkim_selector};".encode(), b"s=gone;", 1
    )
    (missing,) = verify_dkim(wrong_selector, live_resolver(f"127.0.0.1:{mail_chain.dns_port}"))
    assert missing.result == "permerror" and "key not found" in missing.explanation
