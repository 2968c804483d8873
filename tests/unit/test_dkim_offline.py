"""DKIM and ARC verdicts on messages signed here with dkimpy (rsa-sha256, ed25519-sha256, l=),
checked against recorded DNS answers and against a real DNS server on loopback: pass, body or
header changed, key missing/revoked/garbage, expired, l=, alignment, offline, replay from the
record, a DNS server that never answers, and hostile input."""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator

import dkim
import dns.flags
import dns.message
import dns.rcode
import dns.rdata
import dns.rdataclass
import dns.rdatatype
import dns.rrset
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

from app.delivery.dkim import (
    MAX_SIGNATURES,
    OFFLINE,
    organisational,
    verify_arc,
    verify_dkim,
)
from app.delivery.dns import (
    DnsAnswer,
    Recorder,
    dkim_dnsfunc,
    live_resolver,
    now_iso,
    parse_server,
    recorded_resolver,
)
from app.errors import BadInput

MESSAGE = (
    b"From: Alice <alice@clinic.example>\r\nTo: bob@hospital.example\r\n"
    b"Subject: Lab results\r\nDate: Fri, 03 May 2024 09:15:00 +0000\r\n"
    b"Message-ID: <lab@clinic.example>\r\n\r\nPotassium 4.1 mmol/l.\r\nSodium 140 mmol/l.\r\n"
)
SIGNED_HEADERS = [b"from", b"to", b"subject", b"date", b"message-id"]


def _rsa() -> tuple[bytes, str]:
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


@pytest.fixture(scope="module")
def rsa_key() -> tuple[bytes, str]:
    return _rsa()


@pytest.fixture(scope="module")
def other_rsa_key() -> tuple[bytes, str]:
    return _rsa()


@pytest.fixture(scope="module")
def ed_key() -> tuple[bytes, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    seed = key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.Raw, serialization.PublicFormat.Raw
    )
    return base64.b64encode(seed), f"v=DKIM1; k=ed25519; p={base64.b64encode(public).decode()}"


def signature(
    message: bytes,
    private: bytes,
    domain: bytes = b"clinic.example",
    selector: bytes = b"sel1",
    **extra,
) -> bytes:
    extra.setdefault("include_headers", SIGNED_HEADERS)
    return dkim.sign(message, selector, domain, private, **extra)


def sign(message: bytes, private: bytes, **extra) -> bytes:
    return signature(message, private, **extra) + message


def answer(record: str | None, domain: str = "clinic.example", selector: str = "sel1",
           fetched_at: str | None = None) -> DnsAnswer:  # fmt: skip
    name = f"{selector}._domainkey.{domain}."
    return DnsAnswer(name, record, None, fetched_at or now_iso())


def dns_for(record: str | None, domain: str = "clinic.example", selector: str = "sel1"):
    return recorded_resolver([answer(record, domain, selector)])


# --- a real DNS server on loopback (dnspython wire format), for live_resolver -----------------


class TxtServer:
    """UDP DNS server on 127.0.0.1 answering TXT from a dict (strings split at 255 bytes),
    NXDOMAIN for any other name."""

    def __init__(self, records: dict[str, str]) -> None:
        self.records = {k.rstrip(".").lower() + ".": v for k, v in records.items()}
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(0.2)
        self.port = self.sock.getsockname()[1]
        self.queries: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                data, peer = self.sock.recvfrom(4096)
            except TimeoutError:
                continue
            query = dns.message.from_wire(data)
            question = query.question[0]
            name = question.name.to_text().lower()
            self.queries.append(name)
            response = dns.message.make_response(query)
            response.flags |= dns.flags.AA
            if name in self.records and question.rdtype == dns.rdatatype.TXT:
                value = self.records[name].encode()
                chunks = " ".join(
                    f'"{value[i : i + 255].decode()}"' for i in range(0, len(value), 255)
                )
                rdata = dns.rdata.from_text(dns.rdataclass.IN, dns.rdatatype.TXT, chunks)
                response.answer.append(dns.rrset.from_rdata(question.name, 300, rdata))
            else:
                response.set_rcode(dns.rcode.NXDOMAIN)
            self.sock.sendto(response.to_wire(), peer)

    def __enter__(self) -> TxtServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.sock.close()


@pytest.fixture
def silent_dns() -> Iterator[int]:
    """A UDP port on 127.0.0.1 that receives queries and never answers."""
    silent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    silent.bind(("127.0.0.1", 0))
    try:
        yield silent.getsockname()[1]
    finally:
        silent.close()


# --- verdicts ---------------------------------------------------------------------------------


def test_a_valid_rsa_signature_passes_with_its_details(rsa_key) -> None:
    private, record = rsa_key
    signed = sign(MESSAGE, private)
    (ok,) = verify_dkim(signed, dns_for(record))
    assert ok.result == "pass"
    assert (ok.domain, ok.selector, ok.algorithm) == ("clinic.example", "sel1", "rsa-sha256")
    assert ok.canonicalization == "relaxed/simple" and ok.header_index == 0
    assert ok.signed_headers == ("from", "to", "subject", "date", "message-id")
    assert ok.aligned_with_from and ok.body_length_limit is None and ok.warnings == ()
    assert ok.key_name == "sel1._domainkey.clinic.example."
    assert ok.explanation == (
        "the signature of clinic.example is valid: the signed headers and body are unchanged "
        "since clinic.example signed them"
    )
    data = json.loads(json.dumps(ok.to_json()))
    assert data["result"] == "pass" and data["signed_headers"][0] == "from"
    assert set(data) == {
        "domain", "selector", "algorithm", "canonicalization", "header_index", "result",
        "explanation", "body_length_limit", "aligned_with_from", "signed_headers", "warnings",
        "key_name",
    }  # fmt: skip


def test_one_changed_body_byte_is_body_changed(rsa_key) -> None:
    private, record = rsa_key
    signed = sign(MESSAGE, private)
    (body,) = verify_dkim(signed.replace(b"4.1 mmol", b"4.7 mmol"), dns_for(record))
    assert body.result == "fail"
    assert body.explanation.startswith("body changed after signing")


def test_a_changed_signed_header_fails_but_an_unsigned_one_does_not(rsa_key) -> None:
    private, record = rsa_key
    signed = sign(MESSAGE + b"", private)
    (header,) = verify_dkim(signed.replace(b"Lab results", b"Lab resulta"), dns_for(record))
    assert header.result == "fail" and header.explanation.startswith("a signed header changed")
    added = signed.replace(b"\r\n\r\n", b"\r\nX-Spam-Score: 0.1\r\n\r\n", 1)
    assert verify_dkim(added, dns_for(record))[0].result == "pass"  # X-Spam-Score is unsigned


def test_key_not_found_revoked_garbage_and_not_recorded(rsa_key, ed_key) -> None:
    private, record = rsa_key
    signed = sign(MESSAGE, private)
    (missing,) = verify_dkim(signed, dns_for(None))
    assert missing.result == "permerror"
    assert missing.explanation.startswith("key not found in DNS (sel1._domainkey.clinic.example)")
    (revoked,) = verify_dkim(signed, dns_for("v=DKIM1; k=rsa; p="))
    assert revoked.result == "permerror"
    assert revoked.explanation.startswith("key revoked by the domain")
    for garbage in ("v=DKIM1; k=rsa; p=bm90IGEga2V5", "hello world", "v=DKIM1; k=rsa; p=!!@@"):
        (bad,) = verify_dkim(signed, dns_for(garbage))
        assert bad.result == "permerror", garbage
        assert bad.explanation.startswith("the published key is malformed"), bad.explanation
    (mismatch,) = verify_dkim(signed, dns_for(ed_key[1]))
    assert mismatch.result == "permerror" and "key type does not match" in mismatch.explanation
    (absent,) = verify_dkim(signed, recorded_resolver([]))
    assert absent.result == "temperror"
    assert "is not in the recorded DNS answers" in absent.explanation


def test_a_key_that_does_not_match_the_signature_is_a_failure(rsa_key, other_rsa_key) -> None:
    signed = sign(MESSAGE, rsa_key[0])
    (wrong,) = verify_dkim(signed, dns_for(other_rsa_key[1]))
    assert wrong.result == "fail" and wrong.explanation.startswith("a signed header changed")


def _sign_at(monkeypatch, private: bytes, signed_at: int, expires: int) -> bytes:
    """A signature with t= and x= in the past (dkimpy writes t= from the clock, never x=)."""
    original = dkim.DKIM.gen_header

    def with_expiry(self, fields, *args, **kwargs):
        fields = [(b"t", str(signed_at).encode()) if k == b"t" else (k, v) for k, v in fields]
        return original(self, [*fields[:-1], (b"x", str(expires).encode()), fields[-1]],
                        *args, **kwargs)  # fmt: skip

    with monkeypatch.context() as patch:
        patch.setattr(dkim.DKIM, "gen_header", with_expiry)
        return sign(MESSAGE, private)


def test_expired_x_is_judged_at_the_time_the_key_was_fetched(rsa_key, monkeypatch) -> None:
    private, record = rsa_key
    day = 86400
    made = int(time.time()) - 30 * day
    signed = _sign_at(monkeypatch, private, made, made + 7 * day)
    assert b"x=" in signed.split(b"\r\nFrom:")[0]
    (expired,) = verify_dkim(signed, dns_for(record))
    assert expired.result == "fail"
    when = time.strftime("%Y-%m-%d", time.gmtime(made + 7 * day))
    assert expired.explanation.startswith(f"the signature expired on {when}")
    assert ":" not in expired.explanation  # summaries cut at the first ":"
    # The same signature, checked against the answer recorded the day after it was made, is
    # judged as of that day: a replay repeats the old verdict, it does not age.
    recorded_then = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(made + day))
    (then,) = verify_dkim(signed, recorded_resolver([answer(record, fetched_at=recorded_then)]))
    assert then.result == "pass", then.explanation
    # x= before t= is not a date problem but a malformed signature
    (odd,) = verify_dkim(_sign_at(monkeypatch, private, made, made - day), dns_for(record))
    assert odd.result == "permerror" and "before it was made" in odd.explanation


def test_l_limits_the_signed_body_and_says_how_much_is_unsigned(rsa_key) -> None:
    private, record = rsa_key
    partial = sign(MESSAGE, private, length=True)
    (exact,) = verify_dkim(partial, dns_for(record))
    assert exact.result == "pass" and exact.body_length_limit == len(MESSAGE.split(b"\r\n\r\n")[1])
    assert f"only the first {exact.body_length_limit} bytes of the body are signed" in (
        exact.explanation
    )
    assert exact.warnings and "follow that no signature covers" not in exact.explanation
    tail = b"Click here to confirm your password.\r\n"
    (grown,) = verify_dkim(partial + tail, dns_for(record))
    assert grown.result == "pass"
    assert f"here {len(tail)} bytes follow that no signature covers" in grown.explanation
    assert any(f"{len(tail)} bytes follow" in w for w in grown.warnings)
    (plain,) = verify_dkim(sign(MESSAGE, private) + tail, dns_for(record))
    assert plain.result == "fail" and plain.explanation.startswith("body changed")


def test_d_not_aligned_with_from_is_said_even_when_valid(rsa_key) -> None:
    private, record = rsa_key
    other = sign(MESSAGE, private, domain=b"bulkmailer.example")
    (foreign,) = verify_dkim(other, dns_for(record, domain="bulkmailer.example"))
    assert foreign.result == "pass" and not foreign.aligned_with_from
    assert "signed by d=bulkmailer.example, not by the From domain clinic.example" in (
        foreign.explanation
    )
    assert any("not by the From domain" in w for w in foreign.warnings)
    sub = sign(MESSAGE, private, domain=b"mail.clinic.example")
    (aligned,) = verify_dkim(sub, dns_for(record, domain="mail.clinic.example"))
    assert aligned.result == "pass" and aligned.aligned_with_from and not aligned.warnings
    uk = sign(MESSAGE.replace(b"clinic.example", b"bank.co.uk"), private, domain=b"evil.co.uk")
    (lookalike,) = verify_dkim(uk, dns_for(record, domain="evil.co.uk"))
    assert lookalike.result == "pass" and not lookalike.aligned_with_from


def test_organisational_domain() -> None:
    assert organisational("Mail.Clinic.Example.") == "clinic.example"
    assert organisational("a.b.bank.co.uk") == "bank.co.uk"
    assert organisational("bank.co.uk") == "bank.co.uk"
    assert organisational("example.org") == "example.org"


def test_ed25519_passes_and_fails(ed_key) -> None:
    seed, record = ed_key
    signed = sign(MESSAGE, seed, selector=b"ed", signature_algorithm=b"ed25519-sha256")
    dns = dns_for(record, selector="ed")
    (ok,) = verify_dkim(signed, dns)
    assert ok.result == "pass" and ok.algorithm == "ed25519-sha256"
    (body,) = verify_dkim(signed.replace(b"Sodium 140", b"Sodium 150"), dns)
    assert body.result == "fail" and body.explanation.startswith("body changed")
    (header,) = verify_dkim(signed.replace(b"To: bob@", b"To: eve@"), dns)
    assert header.result == "fail" and header.explanation.startswith("a signed header changed")


def test_offline_checks_nothing_and_no_signature_is_an_empty_list(rsa_key) -> None:
    private, record = rsa_key
    spy = Recorder(dns_for(record))
    (offline,) = verify_dkim(sign(MESSAGE, private), spy, offline=True)
    assert offline.result == "not-checked" and offline.explanation == OFFLINE
    assert "not checked (offline)" in offline.explanation
    assert offline.domain == "clinic.example" and offline.selector == "sel1"
    assert verify_dkim(sign(MESSAGE, private), None)[0].result == "not-checked"
    assert spy.answers == []  # not one lookup
    assert verify_dkim(MESSAGE, spy) == []


def test_each_signature_is_checked_on_its_own(rsa_key, other_rsa_key) -> None:
    private, record = rsa_key
    inner = sign(MESSAGE, private)
    outer = signature(inner, other_rsa_key[0], domain=b"relay.example", selector=b"gone") + inner
    resolver = recorded_resolver([answer(record), answer(None, "relay.example", "gone")])
    first, second = verify_dkim(outer, resolver)
    assert (first.header_index, first.domain, first.result) == (0, "relay.example", "permerror")
    assert first.explanation.startswith("key not found in DNS (gone._domainkey.relay.example)")
    assert (second.header_index, second.domain, second.result) == (1, "clinic.example", "pass")


def test_live_lookups_are_recorded_and_replay_to_the_same_results(rsa_key) -> None:
    private, record = rsa_key
    garbage_key = "v=DKIM1; k=rsa; p=" + "QUJD" * 100  # base64 of "ABC…", not a key
    inner = sign(MESSAGE, private)
    message = (
        signature(inner, private, domain=b"broken.example", selector=b"junk")
        + signature(inner, private, domain=b"relay.example", selector=b"nokey")
        + inner
    )
    with TxtServer(
        {"sel1._domainkey.clinic.example": record, "junk._domainkey.broken.example": garbage_key}
    ) as server:
        recorder = Recorder(live_resolver(f"127.0.0.1:{server.port}", timeout=2))
        live = verify_dkim(message, recorder)
    assert [r.result for r in live] == ["permerror", "permerror", "pass"]
    assert live[0].explanation.startswith("the published key is malformed")
    assert live[1].explanation.startswith("key not found in DNS")
    assert sorted(server.queries) == sorted(a.name for a in recorder.answers)
    by_name = {a.name: a for a in recorder.answers}
    assert by_name["sel1._domainkey.clinic.example."].txt == record  # 255-byte strings joined
    assert by_name["nokey._domainkey.relay.example."].txt is None
    assert all(a.error is None and a.fetched_at.endswith("Z") for a in recorder.answers)

    stored = json.loads(json.dumps([a.to_json() for a in recorder.answers]))
    replay = verify_dkim(message, recorded_resolver(stored))  # the server is gone by now
    assert [(r.result, r.explanation) for r in replay] == [(r.result, r.explanation) for r in live]


def test_a_dns_server_that_never_answers_is_a_bounded_temperror(rsa_key, silent_dns) -> None:
    private, _record = rsa_key
    inner = sign(MESSAGE, private)
    message = (
        signature(inner, private, selector=b"two") + signature(inner, private, selector=b"three")
        + inner
    )  # fmt: skip
    recorder = Recorder(live_resolver(f"127.0.0.1:{silent_dns}", timeout=1))
    began = time.monotonic()
    results = verify_dkim(message, recorder)
    elapsed = time.monotonic() - began
    assert [r.result for r in results] == ["temperror"] * 3
    assert "did not answer within 1 s" in results[0].explanation
    assert "was not looked up" in results[1].explanation
    assert 0.9 < elapsed < 2.5  # one timeout for the whole message, not one per signature
    assert len(recorder.answers) == 1 and recorder.answers[0].error.startswith("timeout")
    replay = verify_dkim(message, recorded_resolver(recorder.answers))
    assert [(r.result, r.explanation) for r in replay] == [
        (r.result, r.explanation) for r in results
    ]  # the recorded failure replays as the same verdict


def test_hostile_input_gives_results_not_exceptions(rsa_key) -> None:
    private, record = rsa_key
    eight_bit = MESSAGE.replace(b"Lab results", b"Labor \xe4rger \xff").replace(
        b"Sodium", b"Natrium \xc3\xa4\xfe"
    )
    signed = sign(eight_bit, private)
    hostile = (
        b"".join(b"Received: from a%d by b; Fri, 3 May 2024 09:15:00 +0000\r\n" % i
                 for i in range(300))
        + b"X-Long: " + b"y" * 100_000 + b"\r\nX-8bit: \xff\xfe\x80\r\n" + signed
    )  # fmt: skip
    (result,) = verify_dkim(hostile, dns_for(record))
    assert result.result == "pass"
    (tampered,) = verify_dkim(hostile.replace(b"\xc3\xa4\xfe", b"\xc3\xa4\xfd"), dns_for(record))
    assert tampered.result == "fail" and tampered.explanation.startswith("body changed")

    (garbage,) = verify_dkim(b"DKIM-Signature: garbage;;;\r\nFrom: a@b.example\r\n\r\nx",
                             dns_for(record))  # fmt: skip
    assert garbage.result == "permerror" and "malformed" in garbage.explanation
    (no_domain,) = verify_dkim(
        b"DKIM-Signature: v=1; a=rsa-sha256; s=x; h=from; bh=AAAA; b=AAAA\r\n\r\nx",
        dns_for(record),
    )
    assert no_domain.result == "permerror" and "missing d=" in no_domain.explanation
    broken = b"this line is not a header\r\n" + signed
    (unreadable,) = verify_dkim(broken, dns_for(record))
    assert unreadable.result == "permerror" and "not a header field" in unreadable.explanation
    assert verify_dkim(b"", dns_for(record)) == [] and verify_dkim(b"\xff\xfe", None) == []

    many = b"".join(signature(MESSAGE, private) for _ in range(MAX_SIGNATURES + 5)) + MESSAGE
    recorder = Recorder(dns_for(record))
    results = verify_dkim(many, recorder)
    assert [r.result for r in results] == ["pass"] * MAX_SIGNATURES + ["not-checked"] * 5
    assert len(recorder.answers) == 1  # the same key is asked once per message


def test_dkimpy_dnsfunc_adapter_distinguishes_no_key_from_failure(rsa_key) -> None:
    _private, record = rsa_key
    dnsfunc = dkim_dnsfunc(recorded_resolver([answer(record), answer(None, selector="none")]))
    assert dnsfunc(b"sel1._domainkey.clinic.example.", timeout=5) == record.encode()
    assert dnsfunc(b"none._domainkey.clinic.example.") == b""
    with pytest.raises(dkim.DnsTimeoutError):
        dnsfunc(b"other._domainkey.clinic.example.")


def test_dns_server_addresses() -> None:
    assert parse_server("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_server("[::1]:53") == ("::1", 53)
    assert parse_server("::1") == ("::1", 53)
    assert parse_server("dns.example") == ("dns.example", 53)
    for bad in ("127.0.0.1:x", "127.0.0.1:0", ":53", "[::1]x"):
        with pytest.raises(BadInput):
            parse_server(bad)


# --- ARC ---------------------------------------------------------------------------------------


def _arc_sealed(private: bytes) -> bytes:
    message = (
        b"Authentication-Results: lists.example; dkim=pass header.d=clinic.example\r\n" + MESSAGE
    )
    arc = dkim.arc_sign(message, b"arc", b"lists.example", private, b"lists.example",
                        include_headers=[b"from", b"to", b"subject", b"date"])  # fmt: skip
    return b"".join(arc) + message


def test_arc_chain_pass_fail_offline_and_none(rsa_key, silent_dns) -> None:
    private, record = rsa_key
    sealed = _arc_sealed(private)
    dns = dns_for(record, domain="lists.example", selector="arc")
    good = verify_arc(sealed, dns)
    assert good.result == "pass" and good.instances == 1, good.explanation
    assert "sealed by lists.example" in good.explanation
    (arc_set,) = good.sets
    assert (arc_set.instance, arc_set.seal_domain, arc_set.seal_selector) == (
        1, "lists.example", "arc"
    )  # fmt: skip
    assert arc_set.seal_valid and arc_set.signature_valid and arc_set.chain_status == "none"
    assert json.loads(json.dumps(good.to_json()))["sets"][0]["seal_valid"] is True

    broken = verify_arc(sealed.replace(b"4.1 mmol", b"9.1 mmol"), dns)
    assert broken.result == "fail" and broken.explanation.startswith("the ARC chain is broken")
    nokey = verify_arc(sealed, dns_for(None, domain="lists.example", selector="arc"))
    assert nokey.result == "fail" and "key not found in DNS (arc._domainkey.lists.example)" in (
        nokey.explanation
    )
    began = time.monotonic()
    silent = verify_arc(sealed, live_resolver(f"127.0.0.1:{silent_dns}", timeout=1))
    assert silent.result == "temperror" and "did not answer within 1 s" in silent.explanation
    assert time.monotonic() - began < 4
    offline = verify_arc(sealed, dns, offline=True)
    assert offline.result == "not-checked" and offline.explanation == OFFLINE
    assert verify_arc(MESSAGE, dns).result == "none"
    assert verify_arc(b"ARC-Seal: i=x; garbage\r\n\r\nbody", dns).result == "fail"


def test_organisational_domain_without_a_public_suffix_list(monkeypatch) -> None:
    from app.delivery import dkim as module

    monkeypatch.setattr(module, "PUBLIC_SUFFIX_LISTS", ())
    module._suffix_rules.cache_clear()
    try:
        assert module._suffix_rules() is None
        assert organisational("a.b.bank.co.uk") == "bank.co.uk"  # a well-known 2nd level
        assert organisational("mail.clinic.example") == "clinic.example"  # else: last two
    finally:
        module._suffix_rules.cache_clear()
