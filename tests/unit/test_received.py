"""Received headers as real MTAs write them → hops in travel order with TLS, ids, delays."""

from __future__ import annotations

import random

from app.delivery.received import hops_of, parse_date, parse_one, parse_received

POSTFIX = (
    "from mail.example.org (mail.example.org [192.0.2.10])\r\n\t(using TLSv1.3 with cipher "
    "TLS_AES_256_GCM_SHA384 (256/256 bits)\r\n\t key-exchange X25519 server-signature RSA-PSS "
    "(2048 bits) server-digest SHA256)\r\n\t(No client certificate requested)\r\n\tby "
    "mx.example.com (Postfix) with ESMTPS id 4VXk2t3Z5Qz9sPl\r\n\tfor <bob@example.com>; "
    "Fri,  3 May 2024 09:15:04 +0000 (UTC)"
)
POSTFIX_AUTH = (
    "from [10.0.0.7] (unknown [198.51.100.20]) (Authenticated sender: alice@example.org) "
    "by smtp.example.org (Postfix) with ESMTPSA id 4VXk2s0AbCz9sPk for <bob@example.com>; "
    "Fri, 3 May 2024 09:15:02 +0000 (UTC)"
)
EXIM = (
    "from [198.51.100.7] (helo=client.example) by mx.exim.example with esmtps (TLS1.3) tls "
    "TLS_AES_256_GCM_SHA384 (Exim 4.96) (envelope-from <a@b.example>) id 1rXabc-000Def-2Q "
    "for bob@example.com; Tue, 07 May 2024 10:00:00 +0200"
)
SENDMAIL = (
    "from client.example (client.example [203.0.113.5]) by mail.sendmail.example "
    "(8.15.2/8.15.2) with ESMTPS id 44B2sQ1x012345 (version=TLSv1.2 "
    "cipher=ECDHE-RSA-AES256-GCM-SHA384 bits=256 verify=NO) for <bob@sendmail.example>; "
    "Sat, 11 May 2024 02:54:26 GMT"
)
QMAIL = "(qmail 1234 invoked by uid 89); 3 May 2024 09:15:04 -0000"
QMAIL_NETWORK = (
    "from unknown (HELO mail.qmail.example) (198.51.100.99) by mx.qmail.example with SMTP; "
    "3 May 2024 09:15:05 -0000"
)
EXCHANGE = (
    "from AM0PR01MB1234.eurprd01.prod.exchangelabs.com (2603:10a6:208:12::34) by "
    "AM0PR01MB5678.eurprd01.prod.exchangelabs.com (2603:10a6:208:56::78) with Microsoft SMTP "
    "Server (version=TLS1_2, cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384) id 15.20.7544.41; "
    "Fri, 3 May 2024 09:15:03 +0000"
)
EXCHANGE_MAPI = (
    "from AM0PR01MB1234.eurprd01.prod.exchangelabs.com ([fe80::1234:5678:9abc:def0]) by "
    "AM0PR01MB1234.eurprd01.prod.exchangelabs.com ([fe80::1234:5678:9abc:def0%4]) with mapi "
    "id 15.20.7544.041; Fri, 3 May 2024 09:15:01 +0000"
)
GMAIL_IN = (
    "from mail-sor-f41.google.com (mail-sor-f41.google.com. [209.85.220.41]) by mx.google.com "
    "with SMTPS id a1-20020a17090a000100b002a1234567sor1234567pjb.12.2024.05.03.02.15.04 for "
    "<bob@gmail.com> (Google Transport Security); Fri, 03 May 2024 02:15:04 -0700 (PDT)"
)
GMAIL_HTTP = "by 2002:a17:906:1234:: with HTTPREST; Fri, 3 May 2024 02:15:00 -0700"
LMTP = (
    "from mx.example.com by mx.example.com with LMTP id kK3bIxgFNWb2BQAAxyz (envelope-from "
    "<a@b.example>) for <bob@example.com>; Fri, 03 May 2024 09:15:05 +0000"
)
IPV6 = (
    "from [IPv6:2001:db8::1] (unknown [IPv6:2001:db8::1]) by mx.v6.example (Postfix) with "
    "ESMTPSA id ABC for <x@y.example>; Fri, 3 May 2024 09:15:04 +0000"
)


def test_postfix_with_tls_and_authenticated_sender() -> None:
    hop = parse_one(POSTFIX)
    assert (hop.from_host, hop.from_ip, hop.by_host) == (
        "mail.example.org",
        "192.0.2.10",
        "mx.example.com",
    )
    assert (hop.protocol, hop.id, hop.for_) == ("ESMTPS", "4VXk2t3Z5Qz9sPl", "bob@example.com")
    assert hop.tls == {"version": "TLSv1.3", "cipher": "TLS_AES_256_GCM_SHA384"}
    assert hop.timestamp == "2024-05-03T09:15:04Z" and hop.parsed
    assert "\r\n" not in hop.raw and hop.raw.startswith("from mail.example.org")
    auth = parse_one(POSTFIX_AUTH)
    assert auth.protocol == "ESMTPSA" and auth.tls is True and auth.from_ip == "198.51.100.20"


def test_exim_sendmail_qmail() -> None:
    exim = parse_one(EXIM)
    assert exim.id == "1rXabc-000Def-2Q" and exim.protocol == "ESMTPS"
    assert exim.tls == {"version": "TLS1.3", "cipher": "TLS_AES_256_GCM_SHA384"}
    assert exim.timestamp == "2024-05-07T08:00:00Z"  # +0200 → UTC
    sendmail = parse_one(SENDMAIL)
    assert sendmail.tls == {"version": "TLSv1.2", "cipher": "ECDHE-RSA-AES256-GCM-SHA384"}
    assert sendmail.id == "44B2sQ1x012345" and sendmail.timestamp == "2024-05-11T02:54:26Z"
    qmail = parse_one(QMAIL)
    assert qmail.parsed and qmail.timestamp == "2024-05-03T09:15:04Z"
    assert any("qmail" in w for w in qmail.warnings)
    network = parse_one(QMAIL_NETWORK)
    assert network.from_ip == "198.51.100.99" and network.by_host == "mx.qmail.example"
    assert network.tls is False


def test_exchange_gmail_lmtp_ipv6() -> None:
    exchange = parse_one(EXCHANGE)
    assert exchange.from_ip == "2603:10a6:208:12::34" and exchange.id == "15.20.7544.41"
    assert exchange.tls == {"version": "TLS1_2", "cipher": "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384"}
    mapi = parse_one(EXCHANGE_MAPI)
    assert mapi.protocol == "MAPI" and mapi.id == "15.20.7544.041"
    gmail = parse_one(GMAIL_IN)
    assert gmail.protocol == "SMTPS" and gmail.tls is True and gmail.for_ == "bob@gmail.com"
    assert gmail.timestamp == "2024-05-03T09:15:04Z"  # -0700 (PDT)
    http = parse_one(GMAIL_HTTP)
    assert http.protocol == "HTTPREST" and http.by_host == "2002:a17:906:1234::"
    lmtp = parse_one(LMTP)
    assert (lmtp.protocol, lmtp.tls, lmtp.for_) == ("LMTP", False, "bob@example.com")
    v6 = parse_one(IPV6)
    assert v6.from_ip == "2001:db8::1" and v6.from_host == "2001:db8::1"


def test_travel_order_delays_skew_and_private_addresses() -> None:
    header_order = [LMTP, POSTFIX, POSTFIX_AUTH]  # as in the message: newest first
    hops = parse_received(header_order)
    assert [h.by_host for h in hops] == ["smtp.example.org", "mx.example.com", "mx.example.com"]
    assert [h.delay_seconds for h in hops] == [None, 2, 1]
    skewed = parse_received([POSTFIX_AUTH.replace("09:15:02", "09:20:00"), POSTFIX])
    assert skewed[1].delay_seconds == 296
    backwards = parse_received([POSTFIX, POSTFIX_AUTH.replace("09:15:02", "09:20:00")])
    assert backwards[1].delay_seconds == -296
    assert any("clock skew" in w for w in backwards[1].warnings)
    leak = parse_received([POSTFIX.replace("192.0.2.10", "10.1.2.3"), GMAIL_IN])
    assert any("private address 10.1.2.3" in w for w in leak[1].warnings)


def test_obsolete_dates_and_nested_comments() -> None:
    for text, expected in [
        ("Fri, 3 May 24 09:15:04 EST", "2024-05-03T14:15:04Z"),
        ("3 May 2024 09:15 GMT", "2024-05-03T09:15:00Z"),
        ("Fri, 03 May 2024 09:15:04 UT", "2024-05-03T09:15:04Z"),
        ("Fri, 03 May 1999 09:15:04 -0000", "1999-05-03T09:15:04Z"),
        ("Fri, 3 May 2024 09:15:04 +0000 (Coordinated Universal Time)", "2024-05-03T09:15:04Z"),
    ]:
        moment = parse_date(text)
        assert moment is not None, text
        assert moment.strftime("%Y-%m-%dT%H:%M:%SZ") == expected, text
    nested = parse_one("from h (a (b (c by evil) d) e) by real.example with ESMTP id Q; "
                       "3 May 2024 09:15:04 +0000")  # fmt: skip
    assert nested.by_host == "real.example" and nested.id == "Q"
    undated = parse_one("from a.example by b.example with ESMTP id X")
    assert undated.timestamp is None and any("no date" in w for w in undated.warnings)


def test_unreadable_headers_are_kept_and_nothing_ever_raises() -> None:
    odd = parse_one("((( garbage )")
    assert odd.parsed is False and odd.raw == "((( garbage )"
    rng = random.Random(1234)
    samples = [POSTFIX, EXIM, SENDMAIL, QMAIL, EXCHANGE, GMAIL_IN, LMTP, IPV6]
    for _ in range(2000):
        text = rng.choice(samples)
        chars = list(text)
        for _ in range(rng.randint(1, 12)):
            action = rng.random()
            position = rng.randrange(len(chars) + 1)
            if action < 0.3:
                chars.insert(position, rng.choice("()[];<> \t\x00é\udcff"))
            elif action < 0.6 and chars:
                del chars[min(position, len(chars) - 1)]
            else:
                chars = chars[:position]
        hop = parse_one("".join(chars))
        assert hop.raw == " ".join("".join(chars).split())
        assert isinstance(hop.parsed, bool)
    huge = parse_one("(" * 100_000)
    assert huge.parsed is False
    many = parse_received([POSTFIX] * 500)
    assert len(many) == 500 and all(h.delay_seconds in (None, 0) for h in many)
    raw = ("Received: " + POSTFIX + "\r\n").encode() + b"Received: from \xff\xfe by x\r\n\r\nx"
    assert len(hops_of(raw)) == 2
    assert hops_of(b"\x00\x01\x02") == []


def test_protection_level_end_to_end_tls_only_and_none() -> None:
    from app.delivery.verdict import protection_of

    body = b"From: a@x.example\r\nSubject: s\r\n"
    tls_only = (f"Received: {POSTFIX}\r\n" + f"Received: {POSTFIX_AUTH}\r\n").encode() + body
    level = protection_of(tls_only + b"\r\nhi\r\n", hops_of(tls_only + b"\r\nhi\r\n"))
    assert level.level == "tls-in-transit" and "stored unencrypted" in level.explanation
    weak = POSTFIX.replace("TLSv1.3", "TLSv1.1")
    raw = f"Received: {weak}\r\n".encode() + body + b"\r\nhi\r\n"
    assert protection_of(raw, hops_of(raw)).weak_tls_hops == (1,)
    plain = f"Received: {LMTP}\r\n".encode() + body + b"\r\nhi\r\n"
    assert protection_of(plain, hops_of(plain)).level == "none-seen"
    encrypted = (
        f"Received: {LMTP}\r\n".encode()
        + body
        + b'Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name="smime.p7m"'
        + b"\r\nContent-Transfer-Encoding: base64\r\n\r\nMIAGCSqGSIb3DQEHA6CAMIACAQAx\r\n"
    )
    assert protection_of(encrypted, hops_of(encrypted)).level == "end-to-end"
