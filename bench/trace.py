"""Delivery-trace throughput over stored messages; compared with `dkimverify`.

Generates N DKIM-signed messages (rsa-2048, dkimpy) with a three-hop Received trail into a
Maildir, imports them into a fresh store, starts unbound on loopback serving the key, then
prints: traces/s offline (no DNS), traces/s with the loopback resolver, DKIM verifications/s
from recorded DNS answers (Mailproof's offline re-check), and `dkimverify` run once per message
(a process each, same loopback DNS) on a sample; peak RSS. Prints figures, asserts nothing.

    .venv/bin/python bench/trace.py                 # 10,000 messages
    .venv/bin/python bench/trace.py --messages 1000 --sample 100
"""

from __future__ import annotations

import argparse
import base64
import random
import subprocess
import sys
import time
from pathlib import Path

import dkim
from common import print_table, scratch_dir, self_maxrss_mb  # (puts the repo root on sys.path)
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.delivery.dkim import verify_dkim
from app.delivery.dns import Recorder, live_resolver, recorded_resolver
from app.delivery.verdict import trace
from app.sources import open_source
from app.store.library import Library
from tests.harness.mta import Unbound

WORDS = "patient referral lab result potassium discharge letter ward shift plan".split()  # noqa: SIM905


def make_corpus(root: Path, count: int, private: bytes) -> None:
    rng = random.Random(42)
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    for index in range(count):
        minute, second = divmod(index % 3600, 60)
        body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(150, 600))) + "\r\n"
        headers = (
            f"Received: from mx.bench.example by mx.bench.example with LMTP id L{index} for "
            f"<bob@bench.example>; Fri, 03 May 2024 09:{minute:02d}:{second:02d} +0000\r\n"
            f"Received: from out.sender.example (out.sender.example [192.0.2.{index % 250}]) "
            f"(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)) by "
            f"mx.bench.example (Postfix) with ESMTPS id Q{index:08d} for <bob@bench.example>; "
            f"Fri, 03 May 2024 09:{minute:02d}:{second:02d} +0000\r\n"
            f"Received: from [10.0.0.{index % 250}] by out.sender.example (Postfix) with "
            f"ESMTPSA id S{index:08d}; Fri, 03 May 2024 09:{minute:02d}:{second:02d} +0000\r\n"
        )
        message = (
            f"From: Sender {index} <s{index}@bench.example>\r\nTo: bob@bench.example\r\n"
            f"Subject: {rng.choice(WORDS)} {index}\r\nDate: Fri, 03 May 2024 09:00:00 +0000\r\n"
            f"Message-ID: <m{index}@bench.example>\r\n\r\n{body}"
        ).encode()
        signature = dkim.sign(message, b"sel1", b"bench.example", private,
                              include_headers=[b"from", b"to", b"subject", b"date"])  # fmt: skip
        (root / "cur" / f"{index}.bench:2,S").write_bytes(headers.encode() + signature + message)


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}/s ({seconds:.2f} s for {count:,})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--sample", type=int, default=200, help="dkimverify runs (one each)")
    args = parser.parse_args()

    with scratch_dir("mp-bench-trace-") as work:
        work.chmod(0o755)  # unbound drops privileges
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.TraditionalOpenSSL,
            serialization.NoEncryption(),
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        record = f"v=DKIM1; k=rsa; p={base64.b64encode(public).decode()}"
        began = time.perf_counter()
        make_corpus(work / "Maildir", args.messages, private)
        print(f"generated {args.messages:,} signed messages in {time.perf_counter() - began:.1f} s")
        library = Library(work / "home")
        library.ingest(open_source(work / "Maildir"))
        hashes = [r[0] for r in library.db.execute("SELECT sha256 FROM messages ORDER BY rowid")]
        raws = [library.raw(h) for h in hashes]
        unbound = Unbound(work / "unbound", {"sel1._domainkey.bench.example": [record]}).start()
        try:
            server = f"127.0.0.1:{unbound.port}"
            results: list[tuple[str, str]] = []

            began = time.perf_counter()
            for raw in raws:
                trace(raw, resolver=None, offline=True, library=library)
            results.append(("trace, offline (no DNS), with copy lookup", rate(
                len(raws), time.perf_counter() - began)))  # fmt: skip

            resolver = live_resolver(server)
            recorder = Recorder(resolver)
            began = time.perf_counter()
            passes = 0
            for raw in raws:
                verdict = trace(raw, resolver=recorder, library=library)
                passes += verdict.dkim[0].result == "pass"
            results.append(("trace, loopback resolver (unbound)", rate(
                len(raws), time.perf_counter() - began)))  # fmt: skip
            assert passes == len(raws), f"only {passes} DKIM passes"

            replay = recorded_resolver(recorder.answers[:1])
            began = time.perf_counter()
            for raw in raws:
                verify_dkim(raw, replay)
            ours = len(raws) / (time.perf_counter() - began)
            results.append(("DKIM verify, recorded DNS (in process)", f"{ours:,.0f}/s"))

            prelude = (
                "import dns.resolver as r, runpy, sys; d=r.Resolver(configure=False); "
                f"d.nameservers=['127.0.0.1']; d.port={unbound.port}; r.default_resolver=d; "
                "sys.argv=['dkimverify']; runpy.run_module('dkim.dkimverify', run_name='__main__')"
            )
            sample = raws[: args.sample]
            began = time.perf_counter()
            ok = 0
            for raw in sample:
                done = subprocess.run([sys.executable, "-c", prelude], input=raw,
                                      capture_output=True)  # fmt: skip
                ok += done.returncode == 0
            theirs = len(sample) / (time.perf_counter() - began)
            results.append((f"dkimverify, a process per message ({ok}/{len(sample)} ok)",
                            f"{theirs:,.1f}/s"))  # fmt: skip
            results.append(("ratio in-process / dkimverify", f"{ours / theirs:,.0f} ×"))
        finally:
            unbound.stop()
        results.append(("peak RSS (this process)", f"{self_maxrss_mb():,.0f} MB"))
        print(f"\n{args.messages:,} stored messages, 3 Received hops + 1 DKIM signature each")
        print_table(results)


if __name__ == "__main__":
    main()
