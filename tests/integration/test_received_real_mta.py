"""The Received trail a real Postfix → Postfix → Dovecot LMTP chain writes, read hop by hop."""

from __future__ import annotations

from app.delivery.received import hops_of
from tests.harness.mta import MailChain


def test_every_hop_of_the_real_chain_is_read_in_travel_order(mail_chain: MailChain) -> None:
    _msgid, delivered = mail_chain.deliver("Hop test", "hops\n", "hops")

    hops = hops_of(delivered)
    assert len(hops) >= 3 and all(h.parsed for h in hops), [h.raw for h in hops]
    assert hops[0].by_host == "smtp.sender.test" and hops[0].protocol in ("ESMTP", "ESMTPS")
    assert hops[0].from_ip == "127.0.0.1"
    assert hops[-1].by_host == "mx.example.test" and hops[-1].protocol == "LMTP"
    assert hops[-1].for_ == "alice@example.test"
    postfix_ids = [h.id for h in hops if h.protocol != "LMTP"]
    assert all(postfix_ids) and len(set(postfix_ids)) == len(postfix_ids)
    assert all(h.timestamp and h.timestamp.endswith("Z") for h in hops)
    assert hops[0].delay_seconds is None
    assert all(h.delay_seconds is not None and 0 <= h.delay_seconds < 60 for h in hops[1:])
    for hop in hops:
        if hop.protocol in ("ESMTPS", "ESMTPSA"):
            assert hop.tls is not False
        elif hop.protocol in ("ESMTP", "SMTP", "LMTP") and not isinstance(hop.tls, dict):
            assert hop.tls is False
