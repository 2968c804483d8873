"""Benchmark: indexing and searching a 20,000-message Maildir, beside notmuch and mu.

Prints figures; it asserts nothing about time. On one generated Maildir (deterministic for
``--messages``/``--seed``: realistic headers, display names with German/Polish letters, RFC 2047
subjects, ~30 % replies with In-Reply-To/References, ~30 % multipart/alternative, ~20 % with a
pdf/docx/png attachment, 50–800-word bodies) it measures, each phase in its own process:

* Mailproof store import (``Library.ingest``) and index build (``MailIndex.update``) apart;
* a plain single-writer Whoosh index of the same files (the floor our indexer stands on);
* ``notmuch new`` (fresh database, ``database.mail_root`` = the Maildir) and ``mu index``;

then 10 fixed queries, the same in each tool's syntax: Mailproof warm in one process
(``search(limit=20, snippets=True)`` and ``count``; and the search again with the
decoded-postings cache emptied, "uncached"), ``mailproof search --json --limit 20`` as
a whole process, ``notmuch count`` and ``mu find --maxnum=20`` as processes; median and p95
(nearest rank) and each tool's hit count, side by side. Peak RSS is ``%M`` of ``/usr/bin/time``
(its child's own ``ru_maxrss``; a Python parent's RSS would floor ``os.wait4``'s figure).

    .venv/bin/python bench/index.py --messages 2000     # quick, ~1 min
    .venv/bin/python bench/index.py                     # 20,000 messages, ~10 min
    .venv/bin/python bench/index.py --queries-only      # reuse corpus and indexes
    .venv/bin/python bench/index.py --messages 2000 --profile   # + cProfile of the index build

The corpus is written once to ``<workdir>/maildir-<N>-s<seed>`` and reused; stores and
indexes live beside it. The output is also saved to ``bench/out/index.txt``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import unicodedata
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from common import OUT, ROOT, split_words, vm_hwm_mb

PYTHON = sys.executable
MAILPROOF = ROOT / ".venv" / "bin" / "mailproof"
GENERATOR_VERSION = 1
SEED = 2024
OWNER = ("Anna Kowalska", "anna.kowalska@mailproof.example")
PHRASE = "quarterly budget review"
LIMIT = 20

# ---------------------------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------------------------

COMMON = split_words(
    "the of and to in is that for it as was with be by on not this are or from at which but "
    "have an they you were we their has would when if so no will more out up into do any your "
    "what some can only other new time could these two may then first than like our over also "
    "after back most where meeting report budget invoice review draft contract schedule patient "
    "appointment results update please attached find regards thanks question follow policy "
    "audit team project deadline server backup archive delivery order payment reminder agenda "
    "minutes notes call tomorrow today monday friday week month office travel approval request"
)
SUBJECT_WORDS = split_words(
    "invoice contract schedule meeting report budget review draft agenda minutes proposal "
    "renewal shipment order payment reminder approval request update results appointment "
    "deadline project audit policy backup server migration release planning workshop training "
    "conference travel expenses offer quote feedback interview onboarding handover roadmap "
    "maintenance outage incident security certificate password license subscription newsletter "
    "summary status weekly monthly annual quarterly draft final revised urgent"
)
SUBJECT_EXTRA = ("Łódź", "Zürich", "Gdańsk", "München", "Kraków", "Köln", "Poznań", "Düsseldorf")
FIRST = split_words(
    "Alice Bob Carol David Erin Frank Grace Heidi Ivan Judy Laura Martin Nina Oscar Paula "
    "Quentin Rachel Simon Tina Victor Walter Yvonne Zoe Jürgen Jörg Björn Günther Käthe Uwe "
    "Małgorzata Łukasz Paweł Zofia Wojciech Krzysztof Agnieszka Grzegorz Michał Bartłomiej"
)
LAST = split_words(
    "Smith Jones Taylor Brown Wilson Evans Thomas Roberts Walker Wright Clarke Hughes Green "
    "Müller Schäfer Köhler Weiß Groß Schröder Becker Wagner Hoffmann Nowak Wójcik Kowalczyk "
    "Wiśniewski Dąbrowski Lewandowski Zieliński Szymański Woźniak Kamiński Jabłoński"
)
ORGS = split_words(
    "acme globex initech umbrella hooli stark wayne tyrell cyberdyne soylent massive wonka "
    "vandelay oceanic aperture gringotts monarch dunder nakatomi sirius zorg octan vought "
    "pied kite bluth prestige duff yoyodyne contoso fabrikam northwind"
)
TLDS = ("example", "example.com", "example.org", "example.net", "test", "example.de", "example.pl")
ATTACHMENTS = (
    ("application", "pdf", "pdf", b"%PDF-1.4\n"),
    (
        "application",
        "vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        b"PK\x03\x04",
    ),
    ("image", "png", "png", b"\x89PNG\r\n\x1a\n"),
)
ZONES = tuple(timezone(timedelta(hours=h)) for h in (0, 1, 2, -5, -8, 9, 5.5))


def _fold(text: str) -> str:
    """ASCII for an address local part: Jürgen → jurgen, Łukasz → lukasz."""
    text = text.replace("ł", "l").replace("Ł", "L").replace("ß", "ss")
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    """Common English words first, then deterministic pseudo-words that stemming leaves alone
    (so Mailproof and notmuch, which stem, and mu, which does not, count the same words)."""
    from whoosh.lang.porter import stem

    consonants, vowels = "bdfgklmnprstvz", "aiou"
    words: dict[str, None] = dict.fromkeys(COMMON)
    taken = set(SUBJECT_WORDS) | {_fold(n) for n in FIRST + LAST} | set(ORGS) | set(PHRASE.split())
    while len(words) < size:
        syllables = [rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4))]
        word = "".join(syllables)[:-1] + rng.choice("ao")
        if word not in taken and stem(word) == word and "ou" not in word:
            words[word] = None
    return list(words)


class Corpus:
    """Deterministic people, vocabulary and messages for one seed."""

    def __init__(self, seed: int) -> None:
        rng = random.Random(seed)
        self.vocab = _vocabulary(rng, 3000)
        # Zipf (s = 1.05) over the vocabulary: a few very common words, a long tail
        weights = [1 / (rank + 1) ** 1.05 for rank in range(len(self.vocab))]
        self.cum = list(_accumulate(weights))
        domains = []
        for org in rng.sample(ORGS, 30):
            domains.append(f"{org}.{rng.choice(TLDS)}")
        self.domains = domains
        people: dict[str, tuple[str, str]] = {}
        while len(people) < 300:
            first, last = rng.choice(FIRST), rng.choice(LAST)
            domain = rng.choice(domains)
            addr = f"{_fold(first)}.{_fold(last)}@{domain}"
            people.setdefault(addr, (f"{first} {last}", addr))
        self.people = list(people.values())
        rng.shuffle(self.people)
        self.person_cum = list(_accumulate(1 / (i + 1) ** 0.8 for i in range(len(self.people))))

    def person(self, rng: random.Random) -> tuple[str, str]:
        return rng.choices(self.people, cum_weights=self.person_cum)[0]

    def words(self, rng: random.Random, count: int) -> list[str]:
        return rng.choices(self.vocab, cum_weights=self.cum, k=count)

    def body(self, rng: random.Random) -> str:
        words = self.words(rng, rng.randint(50, 800))
        if rng.random() < 0.04:
            at = rng.randrange(len(words))
            words[at:at] = PHRASE.split()
        paragraphs, start = [], 0
        while start < len(words):
            size = rng.randint(30, 120)
            text = " ".join(words[start : start + size])
            paragraphs.append(textwrap.fill(text[:1].upper() + text[1:] + ".", 72))
            start += size
        return "\n\n".join(paragraphs)

    def message(
        self, rng: random.Random, index: int, recent: list[tuple[str, str, list[str]]]
    ) -> tuple[bytes, str, str, list[str], float]:
        start = datetime(2019, 1, 1, tzinfo=UTC).timestamp()
        stamp = start + rng.random() * (datetime(2025, 1, 1, tzinfo=UTC).timestamp() - start)
        when = datetime.fromtimestamp(int(stamp), rng.choice(ZONES))
        sent = rng.random() < 0.15
        sender = OWNER if sent else self.person(rng)
        recipients = [self.person(rng) for _ in range(rng.randint(1, 2))] if sent else [OWNER]
        if not sent and rng.random() < 0.2:
            recipients.append(self.person(rng))
        cc = [self.person(rng) for _ in range(rng.randint(1, 3))] if rng.random() < 0.25 else []
        domain = sender[1].rpartition("@")[2]
        message_id = f"<{index}.{rng.getrandbits(40):010x}@{domain}>"
        refs: list[str] = []
        if recent and rng.random() < 0.3:
            parent_id, parent_subject, parent_refs = rng.choice(recent)
            subject = (
                parent_subject if parent_subject.startswith("Re: ") else f"Re: {parent_subject}"
            )
            refs = (parent_refs + [parent_id])[-8:]
        else:
            words = rng.choices(SUBJECT_WORDS, k=rng.randint(2, 6))
            if rng.random() < 0.1:
                words.append(rng.choice(SUBJECT_EXTRA))  # RFC 2047 on the wire
            if rng.random() < 0.3:
                words.append(rng.choice(self.vocab[100:600]))
            subject = " ".join(words).capitalize()
        msg = EmailMessage()
        for hop in range(rng.randint(1, 2)):
            msg["Received"] = (
                f"from mx{hop + 1}.{domain} (mx{hop + 1}.{domain} [192.0.2.{rng.randint(1, 254)}])"
                f" by mx.mailproof.example (Postfix) with ESMTPS id {rng.getrandbits(36):09X}"
                f" for <{OWNER[1]}>; {format_datetime(when)}"
            )
        msg["Message-ID"] = message_id
        msg["Date"] = format_datetime(when)
        msg["From"] = Address(sender[0], addr_spec=sender[1])
        msg["To"] = [Address(n, addr_spec=a) for n, a in recipients]
        if cc:
            msg["Cc"] = [Address(n, addr_spec=a) for n, a in cc]
        msg["Subject"] = subject
        if refs:
            msg["In-Reply-To"] = refs[-1]
            msg["References"] = " ".join(refs)
        msg["X-Mailer"] = f"BenchMailer {rng.randint(1, 9)}.{rng.randint(0, 9)}"
        text = self.body(rng)
        msg.set_content(f"Hello {recipients[0][0].split()[0]},\n\n{text}\n\n-- \n{sender[0]}\n")
        if rng.random() < 0.3:
            html = "".join(f"<p>{p}</p>\n" for p in text.split("\n\n"))
            msg.add_alternative(f"<html><body>\n{html}</body></html>\n", subtype="html")
        if rng.random() < 0.2:
            maintype, subtype, ext, magic = rng.choice(ATTACHMENTS)
            name = f"{rng.choice(SUBJECT_WORDS)}-{when:%Y-%m}-{rng.randint(1, 99)}.{ext}"
            data = magic + rng.randbytes(rng.randint(1024, 12288))
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=name)
        return msg.as_bytes(), message_id, subject, refs, stamp


def _accumulate(values: Any) -> Any:
    total = 0.0
    for value in values:
        total += value
        yield total


def build_corpus(maildir: Path, messages: int, seed: int) -> dict[str, Any]:
    """Write the Maildir once; reuse it when ``corpus.json`` says it has the same parameters."""
    meta_path = maildir / "corpus.json"
    params = {"messages": messages, "seed": seed, "generator": GENERATOR_VERSION}
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        if meta.get("params") == params:
            return {**meta, "reused": True}
    if maildir.exists():
        shutil.rmtree(maildir)
    for sub in ("cur", "new", "tmp"):
        (maildir / sub).mkdir(parents=True)
    began = time.perf_counter()
    corpus = Corpus(seed)
    rng = random.Random(seed * 7919 + messages)
    recent: list[tuple[str, str, list[str]]] = []
    size = attachments = alternatives = replies = 0
    for index in range(messages):
        raw, message_id, subject, refs, stamp = corpus.message(rng, index, recent)
        recent.append((message_id, subject, refs))
        del recent[:-200]
        if rng.random() < 0.05:
            path = maildir / "new" / f"{int(stamp)}.M{index}P{seed}.bench"
        else:
            flags = rng.choices(("S", "RS", "FS", ""), weights=(80, 10, 4, 6))[0]
            path = maildir / "cur" / f"{int(stamp)}.M{index}P{seed}.bench:2,{flags}"
        path.write_bytes(raw)
        os.utime(path, (stamp, stamp))
        size += len(raw)
        attachments += b"Content-Disposition: attachment" in raw
        alternatives += b"multipart/alternative" in raw
        replies += bool(refs)
    meta = {
        "params": params,
        "bytes": size,
        "with_attachment": attachments,
        "alternative": alternatives,
        "replies": replies,
        "generated_s": round(time.perf_counter() - began, 1),
        "queries": make_queries(corpus),
    }
    meta_path.write_text(json.dumps(meta, indent=1, ensure_ascii=False))
    return meta


def make_queries(corpus: Corpus) -> list[dict[str, str]]:
    """The 10 queries in Mailproof's, notmuch's and mu's syntax (words that occur)."""
    vocab = corpus.vocab
    w1, w2, w3 = vocab[400], vocab[180], vocab[260]
    sender = corpus.people[0][1]  # the most frequent sender (Zipf-weighted pool)
    recipient = corpus.people[3][1]
    subject = "invoice"
    rows = [
        ("word", w1, w1, w1),
        ("two words", f"{w2} {w3}", f"{w2} and {w3}", f"{w2} AND {w3}"),
        ("phrase", f'"{PHRASE}"', f'"{PHRASE}"', f'"{PHRASE}"'),
        ("from:", f"from:{sender}", f"from:{sender}", f"from:{sender}"),
        ("subject:", f"subject:{subject}", f"subject:{subject}", f"subject:{subject}"),
        (
            "date range",
            "date:2021-03-01..2021-06-30",
            "date:2021-03-01..2021-06-30",
            "date:20210301..20210630",
        ),
        ("has:attachment", "has:attachment", "tag:attachment", "flag:attach"),
        (
            "combined",
            f"{w2} has:attachment date:2020-01-01..2022-12-31",
            f"{w2} and tag:attachment and date:2020-01-01..2022-12-31",
            f"{w2} AND flag:attach AND date:20200101..20221231",
        ),
        ("to:", f"to:{recipient}", f"to:{recipient}", f"to:{recipient}"),
        ("NOT", f"{w2} NOT {w3}", f"{w2} and not {w3}", f"{w2} AND NOT {w3}"),
    ]
    return [{"name": n, "mailproof": m, "notmuch": nm, "mu": mu} for n, m, nm, mu in rows]


# ---------------------------------------------------------------------------------------------
# Children (one measured phase each): `bench/index.py --child PHASE CONFIG-JSON`
# ---------------------------------------------------------------------------------------------


def child_import(config: dict[str, Any]) -> dict[str, Any]:
    from app.sources import open_source
    from app.store.library import Library

    began = time.perf_counter()
    library = Library(Path(config["home"]))
    report = library.ingest(open_source(Path(config["maildir"])))
    library.close()
    return {"seconds": time.perf_counter() - began, "added": report.added,
            "problems": len(report.problems)}  # fmt: skip


def child_index(config: dict[str, Any]) -> dict[str, Any]:
    from app.store.library import Library
    from indexer.index import MailIndex

    began = time.perf_counter()
    index = MailIndex(Library(Path(config["home"])))
    if config.get("profile"):
        import cProfile
        import pstats

        profiler = cProfile.Profile()
        report = profiler.runcall(index.update, rebuild=True, processes=config["processes"])
        stats = pstats.Stats(profiler)
        stats.dump_stats(config["profile"])
    else:
        report = index.update(rebuild=True, processes=config["processes"])
    return {"seconds": time.perf_counter() - began, "indexed": report.indexed,
            "problems": len(report.problems)}  # fmt: skip


def child_whoosh(config: dict[str, Any]) -> dict[str, Any]:
    """A plain Whoosh index: one writer, one commit, the stdlib parser, no store."""
    import email
    from email import policy

    from whoosh import index as windex
    from whoosh.analysis import StandardAnalyzer
    from whoosh.fields import ID, TEXT, Schema

    began = time.perf_counter()
    schema = Schema(
        path=ID(stored=True, unique=True),
        subject=TEXT(stored=True),
        sender=TEXT,
        to=TEXT,
        body=TEXT(analyzer=StandardAnalyzer(stoplist=None, minsize=1)),
    )
    directory = Path(config["directory"])
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True)
    ix = windex.create_in(str(directory), schema)
    writer = ix.writer(limitmb=128)
    count = 0
    for sub in ("cur", "new"):
        for entry in os.scandir(Path(config["maildir"]) / sub):
            with open(entry.path, "rb") as handle:
                msg = email.message_from_binary_file(handle, policy=policy.default)
            part = msg.get_body(preferencelist=("plain", "html"))
            try:
                body = part.get_content() if part is not None else ""
            except (LookupError, ValueError):
                body = ""
            writer.add_document(
                path=entry.path,
                subject=str(msg.get("subject", "")),
                sender=str(msg.get("from", "")),
                to=" ".join(str(msg.get(h, "")) for h in ("to", "cc")),
                body=body,
            )
            count += 1
    writer.commit()
    return {"seconds": time.perf_counter() - began, "indexed": count}


def child_queries(config: dict[str, Any]) -> dict[str, Any]:
    """Mailproof warm: one MailIndex, each query ``runs`` times after one untimed run."""
    from indexer import engine
    from indexer.index import MailIndex

    index = MailIndex(Path(config["home"]))
    results = []
    for query in config["queries"]:
        hits = index.search(query, limit=LIMIT, snippets=True)  # warm-up, untimed
        count = index.count(query)
        search_ms, count_ms, uncached_ms = [], [], []
        for _ in range(config["runs"]):
            began = time.perf_counter()
            index.search(query, limit=LIMIT, snippets=True)
            search_ms.append((time.perf_counter() - began) * 1000)
            began = time.perf_counter()
            index.count(query)
            count_ms.append((time.perf_counter() - began) * 1000)
            # The same search with the decoded-postings cache emptied: every posting list is
            # read and decoded again (files in the OS cache, searcher and columns kept).
            engine.clear_cache()
            began = time.perf_counter()
            index.search(query, limit=LIMIT, snippets=True)
            uncached_ms.append((time.perf_counter() - began) * 1000)
        results.append({"query": query, "count": count, "shown": len(hits),
                        "search_ms": search_ms, "count_ms": count_ms,
                        "uncached_ms": uncached_ms})  # fmt: skip
    return {"queries": results}


CHILDREN: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "import": child_import,
    "index": child_index,
    "whoosh": child_whoosh,
    "queries": child_queries,
}


def run_child_main(phase: str, config_json: str) -> None:
    result = CHILDREN[phase](json.loads(config_json))
    result["self_hwm_mb"] = vm_hwm_mb() or 0.0
    print("RESULT " + json.dumps(result))


# ---------------------------------------------------------------------------------------------
# The parent
# ---------------------------------------------------------------------------------------------


def timed(command: list[str], env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run ``command`` under ``/usr/bin/time``: wall seconds, peak RSS (MB), CPU seconds (user +
    system, so a multi-threaded indexer shows), output."""
    with tempfile.NamedTemporaryFile(prefix="bench-time-", suffix=".txt") as report:
        prefix = ["/usr/bin/time", "-f", "%M %U %S", "-o", report.name] if HAVE_TIME else []
        began = time.perf_counter()
        done = subprocess.run(prefix + command, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - began
        rss = cpu = None
        if HAVE_TIME:
            fields = Path(report.name).read_text().split()[-3:]
            with contextlib.suppress(ValueError, IndexError):
                rss, cpu = int(fields[0]) / 1024, float(fields[1]) + float(fields[2])
    if done.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command[:3])}… exited {done.returncode}: {done.stderr.strip()[-2000:]}"
        )
    return {"wall": wall, "rss_mb": rss, "cpu": cpu, "stdout": done.stdout, "stderr": done.stderr}


HAVE_TIME = Path("/usr/bin/time").exists()


def child(phase: str, config: dict[str, Any]) -> dict[str, Any]:
    os.sync()  # earlier phases' dirty pages are not billed to this one
    env = {**os.environ, "TZ": "UTC", "PYTHONHASHSEED": "0"}
    run = timed([PYTHON, str(Path(__file__).resolve()), "--child", phase, json.dumps(config)], env)
    line = next(x for x in reversed(run["stdout"].splitlines()) if x.startswith("RESULT "))
    result = json.loads(line[len("RESULT ") :])
    result["wall"] = run["wall"]
    result["cpu"] = run["cpu"]
    result["rss_mb"] = max(run["rss_mb"] or 0.0, result["self_hwm_mb"])
    return result


def du_mb(path: Path) -> float:
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(OSError):
                total += os.lstat(os.path.join(directory, name)).st_size
    return total / 1e6


def notmuch_env(work: Path, maildir: Path) -> dict[str, str]:
    config = work / "notmuch-config"
    config.write_text(
        f"[database]\npath={work / 'notmuch-db'}\nmail_root={maildir}\n\n"
        f"[user]\nname={OWNER[0]}\nprimary_email={OWNER[1]}\n\n"
        "[new]\ntags=\nignore=corpus.json\n\n[search]\nexclude_tags=\n\n"
        "[maildir]\nsynchronize_flags=true\n"
    )
    return {**os.environ, "NOTMUCH_CONFIG": str(config), "TZ": "UTC"}


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def latency(command: list[str], runs: int, env: dict[str, str]) -> tuple[list[float], str]:
    """Wall ms of ``runs`` processes after one untimed run, and that run's output."""
    first = subprocess.run(command, capture_output=True, text=True, env=env)
    if first.returncode not in (0, 4):  # mu find: 4 = no matches
        raise RuntimeError(f"{' '.join(command)} exited {first.returncode}: {first.stderr}")
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        subprocess.run(command, capture_output=True, env=env)
        times.append((time.perf_counter() - began) * 1000)
    return times, first.stdout


def build_all(args: argparse.Namespace, work: Path, maildir: Path, n: int) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    home = work / "mailproof-home"
    shutil.rmtree(home, ignore_errors=True)
    say(f"  Mailproof import into {home} …")
    figures["import"] = child("import", {"home": str(home), "maildir": str(maildir)})
    figures["import"]["disk_mb"] = du_mb(home) - du_mb(home / "index")
    say("  Mailproof index (MailIndex.update) …")
    # as `mailproof index` does: as many worker processes as there are cores (≤ 4)
    figures["index"] = child("index", {"home": str(home), "processes": args.processes})
    figures["index"]["disk_mb"] = du_mb(home / "index")
    if not args.skip_whoosh:
        say("  plain Whoosh baseline …")
        figures["whoosh"] = child(
            "whoosh", {"directory": str(work / "whoosh"), "maildir": str(maildir)}
        )
        figures["whoosh"]["disk_mb"] = du_mb(work / "whoosh")
    if not args.skip_notmuch:
        say("  notmuch new …")
        shutil.rmtree(work / "notmuch-db", ignore_errors=True)
        (work / "notmuch-db").mkdir()
        env = notmuch_env(work, maildir)
        os.sync()
        run = timed(["notmuch", "new", "--quiet"], env)
        figures["notmuch"] = {"seconds": run["wall"], "rss_mb": run["rss_mb"], "cpu": run["cpu"],
                              "disk_mb": du_mb(work / "notmuch-db")}  # fmt: skip
    if not args.skip_mu:
        say("  mu init + mu index …")
        muhome = work / "mu-home"
        shutil.rmtree(muhome, ignore_errors=True)
        env = {**os.environ, "TZ": "UTC"}
        init = timed(["mu", "init", f"--maildir={maildir}", f"--muhome={muhome}",
                      f"--my-address={OWNER[1]}"], env)  # fmt: skip
        os.sync()
        run = timed(["mu", "index", "--quiet", f"--muhome={muhome}"], env)
        figures["mu"] = {"seconds": run["wall"], "rss_mb": run["rss_mb"], "cpu": run["cpu"],
                         "init_s": init["wall"], "disk_mb": du_mb(muhome)}  # fmt: skip
    return figures


def run_queries(args: argparse.Namespace, work: Path, maildir: Path, queries: list[dict[str, str]]):
    home = work / "mailproof-home"
    out: dict[str, Any] = {}
    say(f"  Mailproof warm, in one process ({args.runs} runs each) …")
    warm = child("queries", {"home": str(home), "runs": args.runs,
                             "queries": [q["mailproof"] for q in queries]})  # fmt: skip
    out["warm"] = warm["queries"]
    out["warm_rss_mb"] = warm["rss_mb"]
    say(f"  mailproof search as a process ({args.proc_runs} runs each) …")
    env = {**os.environ, "MAILPROOF_HOME": str(home), "TZ": "UTC"}
    cli, cli_rss = [], 0.0
    for q in queries:
        command = [str(MAILPROOF), "search", q["mailproof"], "--json", "--limit", str(LIMIT)]
        times, stdout = latency(command, args.proc_runs, env)
        cli_rss = max(cli_rss, timed(command, env)["rss_mb"] or 0.0)
        cli.append({"ms": times, "shown": len(stdout.splitlines())})
    out["cli"], out["cli_rss_mb"] = cli, cli_rss
    if not args.skip_notmuch:
        say(f"  notmuch count ({args.proc_runs} runs each) …")
        env = notmuch_env(work, maildir)
        rows, rss = [], 0.0
        for q in queries:
            times, stdout = latency(["notmuch", "count", q["notmuch"]], args.proc_runs, env)
            rss = max(rss, timed(["notmuch", "count", q["notmuch"]], env)["rss_mb"] or 0.0)
            rows.append({"ms": times, "count": int(stdout.strip() or 0)})
        out["notmuch"], out["notmuch_rss_mb"] = rows, rss
    if not args.skip_mu:
        say(f"  mu find --maxnum={LIMIT} ({args.proc_runs} runs each) …")
        env = {**os.environ, "TZ": "UTC"}
        muhome = f"--muhome={work / 'mu-home'}"
        rows, rss = [], 0.0
        for q in queries:
            command = ["mu", "find", muhome, f"--maxnum={LIMIT}", q["mu"]]
            times, _ = latency(command, args.proc_runs, env)
            every = subprocess.run(["mu", "find", muhome, "--fields=i", q["mu"]],
                                   capture_output=True, text=True, env=env)  # fmt: skip
            with contextlib.suppress(RuntimeError):  # no matches: exit code 4
                rss = max(rss, timed(command, env)["rss_mb"] or 0.0)
            rows.append({"ms": times, "count": len(every.stdout.splitlines())})
        out["mu"], out["mu_rss_mb"] = rows, rss
    return out


# ---------------------------------------------------------------------------------------------
# Output
# ---------------------------------------------------------------------------------------------

LINES: list[str] = []


def say(text: str = "") -> None:
    print(text, flush=True)
    LINES.append(text)


def ratio(ours: float | None, theirs: float | None) -> str:
    if not ours or not theirs:
        return "—"
    return f"{ours / theirs:.2f}×"


def print_index_table(figures: dict[str, Any], n: int, skipped: dict[str, str]) -> None:
    say()
    say(f"Index build, {n:,} messages (each phase a fresh process; peak RSS of that process)")
    header = (f"{'tool':<42}{'seconds':>9}{'msgs/s':>9}{'CPU s':>8}{'peak RSS MB':>13}"
              f"{'on disk MB':>12}")  # fmt: skip
    say(header)
    say("-" * len(header))
    rows: list[tuple[str, dict[str, Any] | None]] = []
    imp, idx = figures.get("import"), figures.get("index")
    rows.append(("Mailproof import (Library.ingest, store)", imp))
    rows.append(("Mailproof index (MailIndex.update, fresh)", idx))
    if imp and idx:
        both = {"seconds": imp["seconds"] + idx["seconds"],
                "rss_mb": max(imp["rss_mb"], idx["rss_mb"]),
                "disk_mb": imp["disk_mb"] + idx["disk_mb"],
                "cpu": (imp.get("cpu") or 0) + (idx.get("cpu") or 0)}  # fmt: skip
        figures["both"] = both
        rows.append(("Mailproof import + index", both))
    rows.append(("plain Whoosh, 1 writer (baseline)", figures.get("whoosh")))
    rows.append(("notmuch new", figures.get("notmuch")))
    rows.append(("mu index", figures.get("mu")))
    for name, row in rows:
        if row is None:
            tool = name.split()[0]
            say(f"{name:<42}{skipped.get(tool, 'not run'):>51}")
            continue
        cpu = f"{row['cpu']:.1f}" if row.get("cpu") else "—"
        say(f"{name:<42}{row['seconds']:>9.1f}{n / row['seconds']:>9,.0f}{cpu:>8}"
            f"{row['rss_mb']:>13.0f}{row.get('disk_mb', 0):>12.0f}")  # fmt: skip
    if "mu" in figures:
        say(
            f"(mu init, not counted: {figures['mu']['init_s']:.2f} s; seconds = wall time of the "
            "phase (Mailproof: inside its process, without interpreter start); CPU s = user + "
            "system of the whole process)"
        )
    say()
    say("Ratios of index time (> 1: Mailproof slower):")
    pairs = [
        ("Mailproof index / plain Whoosh", "index", "whoosh"),
        ("Mailproof import+index / notmuch new", "both", "notmuch"),
        ("Mailproof import+index / mu index", "both", "mu"),
        ("Mailproof index only / notmuch new", "index", "notmuch"),
        ("Mailproof index only / mu index", "index", "mu"),
    ]
    for label, ours, theirs in pairs:
        a, b = figures.get(ours), figures.get(theirs)
        rss = ratio(a and a["rss_mb"], b and b["rss_mb"])
        say(f"  {label:<40}{ratio(a and a['seconds'], b and b['seconds']):>8}   peak RSS {rss}")


def _ms(values: list[float] | None) -> str:
    if not values:
        return "—"
    return f"{statistics.median(values):.1f}/{p95(values):.1f}"


def print_query_tables(queries: list[dict[str, str]], out: dict[str, Any], args: Any) -> None:
    say()
    say("Queries (Mailproof syntax | notmuch | mu):")
    for i, q in enumerate(queries, 1):
        say(f"  {i:>2} {q['name']:<15} {q['mailproof']}  |  {q['notmuch']}  |  {q['mu']}")
    say()
    say("Hit counts (do the semantics agree?)")
    header = f"{'#':>3} {'query':<15}{'Mailproof':>10}{'notmuch':>10}{'mu':>10}"
    say(header)
    say("-" * len(header))
    for i, q in enumerate(queries):
        nm = out["notmuch"][i]["count"] if "notmuch" in out else "—"
        mu = out["mu"][i]["count"] if "mu" in out else "—"
        say(f"{i + 1:>3} {q['name']:<15}{out['warm'][i]['count']:>10}{nm:>10}{mu:>10}")
    if "notmuch" in out or "mu" in out:
        differ = [
            q["name"]
            for i, q in enumerate(queries)
            if len({out["warm"][i]["count"]} | {out[t][i]["count"] for t in ("notmuch", "mu")
                                                if t in out}) > 1
        ]  # fmt: skip
        say(f"counts differ for: {', '.join(differ) or 'none'}"
            + (" (notmuch's to: also matches Cc and Bcc)" if "to:" in differ else ""))  # fmt: skip
    say()
    say(f"Query latency, ms, median/p95 (warm: {args.runs} runs in one process; "
        f"processes: {args.proc_runs} runs each)")  # fmt: skip
    cols = ("MP search warm", "MP uncached", "MP count warm", "MP search CLI", "notmuch count",
            "mu find")  # fmt: skip
    header = f"{'#':>3} {'query':<15}" + "".join(f"{c:>16}" for c in cols)
    header += f"{'CLI/notmuch':>13}{'CLI/mu':>9}{'warm/notmuch':>14}{'warm/mu':>9}"
    say(header)
    say("-" * len(header))
    med = statistics.median
    totals: dict[str, list[float]] = {k: [] for k in ("warm", "uncached", "cli", "notmuch", "mu")}
    for i, q in enumerate(queries):
        warm = out["warm"][i]
        cli = out["cli"][i]["ms"]
        nm = out["notmuch"][i]["ms"] if "notmuch" in out else None
        mu = out["mu"][i]["ms"] if "mu" in out else None
        totals["warm"].append(med(warm["search_ms"]))
        totals["uncached"].append(med(warm["uncached_ms"]))
        totals["cli"].append(med(cli))
        if nm:
            totals["notmuch"].append(med(nm))
        if mu:
            totals["mu"].append(med(mu))
        cells = [_ms(warm["search_ms"]), _ms(warm["uncached_ms"]), _ms(warm["count_ms"]),
                 _ms(cli), _ms(nm), _ms(mu)]  # fmt: skip
        say(f"{i + 1:>3} {q['name']:<15}" + "".join(f"{c:>16}" for c in cells)
            + f"{ratio(med(cli), nm and med(nm)):>13}{ratio(med(cli), mu and med(mu)):>9}"
            + f"{ratio(med(warm['search_ms']), nm and med(nm)):>14}"
            + f"{ratio(med(warm['search_ms']), mu and med(mu)):>9}")  # fmt: skip
    gm = {k: (statistics.geometric_mean(v) if v else None) for k, v in totals.items()}
    say(f"{'':>3} {'geo. mean':<15}{gm['warm']:>16.1f}{gm['uncached']:>16.1f}{'':>16}"
        f"{gm['cli']:>16.1f}"
        f"{gm['notmuch'] or 0:>16.1f}{gm['mu'] or 0:>16.1f}"
        f"{ratio(gm['cli'], gm['notmuch']):>13}{ratio(gm['cli'], gm['mu']):>9}"
        f"{ratio(gm['warm'], gm['notmuch']):>14}{ratio(gm['warm'], gm['mu']):>9}")  # fmt: skip
    say()
    rss = [f"Mailproof warm process {out['warm_rss_mb']:.0f}",
           f"mailproof search CLI {out['cli_rss_mb']:.0f}"]  # fmt: skip
    if "notmuch_rss_mb" in out:
        rss.append(f"notmuch count {out['notmuch_rss_mb']:.0f}")
    if "mu_rss_mb" in out:
        rss.append(f"mu find {out['mu_rss_mb']:.0f}")
    say("Peak RSS of the query processes, MB: " + ", ".join(rss))
    say(
        f"(MP search = search(limit={LIMIT}, snippets=True), newest first; MP uncached = the "
        "same with the decoded-postings cache emptied first; all p95 are nearest-rank; "
        f"CLI = `mailproof "
        f"search Q --json --limit {LIMIT}`; mu find --maxnum={LIMIT}; notmuch count prints a "
        "number only; ratios > 1: Mailproof slower)"
    )


def print_profile(path: Path) -> None:
    import pstats

    say()
    say("cProfile of MailIndex.update (top 10 by cumulative time; times inflated by profiling):")
    stream = __import__("io").StringIO()
    stats = pstats.Stats(str(path), stream=stream)
    stats.sort_stats("cumulative").print_stats(10)
    for line in stream.getvalue().splitlines():
        if line.strip() and not line.startswith(("   Ordered", "   List")):
            say("  " + line.rstrip())


# ---------------------------------------------------------------------------------------------


def tool_present(name: str) -> bool:
    return shutil.which(name) is not None


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        run_child_main(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/bench-index"))
    parser.add_argument("--runs", type=int, default=20, help="warm in-process runs per query")
    parser.add_argument("--proc-runs", type=int, default=10, help="process runs per query")
    parser.add_argument("--skip-notmuch", action="store_true")
    parser.add_argument("--skip-whoosh", action="store_true",
                        help="no plain-Whoosh baseline (~7 min at 100k)")  # fmt: skip
    parser.add_argument("--skip-mu", action="store_true")
    parser.add_argument("--queries-only", action="store_true",
                        help="reuse the corpus, store and indexes of an earlier run")  # fmt: skip
    parser.add_argument("--processes", type=int, default=max(1, min(os.cpu_count() or 1, 4)),
                        help="Whoosh writer processes for Mailproof's index (default: as "
                        "`mailproof index`, the cores up to 4)")  # fmt: skip
    parser.add_argument("--profile", action="store_true",
                        help="also cProfile one extra MailIndex.update (top 10)")  # fmt: skip
    args = parser.parse_args()

    skipped: dict[str, str] = {}
    for tool, package in (("notmuch", "notmuch"), ("mu", "maildir-utils")):
        if getattr(args, f"skip_{tool}"):
            skipped[tool] = "skipped"
        elif not tool_present(tool):
            setattr(args, f"skip_{tool}", True)
            skipped[tool] = "not installed"
            say(f"{tool} not installed (apt-get install {package}): comparison skipped")

    n = args.messages
    work = args.workdir / f"run-{n}-s{args.seed}"
    maildir = args.workdir / f"maildir-{n}-s{args.seed}"
    work.mkdir(parents=True, exist_ok=True)
    meta = build_corpus(maildir, n, args.seed)
    reused = meta.get("reused", False)
    say(f"Corpus {maildir}: {n:,} messages, {meta['bytes'] / 1e6:.0f} MB, "
        f"{meta['with_attachment']:,} with an attachment, {meta['alternative']:,} "
        f"multipart/alternative, {meta['replies']:,} replies"
        + (" (reused)" if reused else f" (generated in {meta['generated_s']} s)"))  # fmt: skip
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    say(f"Machine: {os.cpu_count()} CPUs (load average at start {load}), "
        f"Python {sys.version.split()[0]}; notmuch "
        f"{_version(['notmuch', '--version'])}, mu {_version(['mu', '--version'])}")  # fmt: skip

    figures_path = work / "index-figures.json"
    if args.queries_only:
        if not figures_path.exists():
            sys.exit(f"no earlier build in {work}: run without --queries-only first")
        figures = json.loads(figures_path.read_text())
        say(f"Index figures from the earlier build ({figures_path})")
    else:
        say("Building …")
        figures = build_all(args, work, maildir, n)
        figures_path.write_text(json.dumps(figures, indent=1))
    say("Querying …")
    out = run_queries(args, work, maildir, meta["queries"])
    (work / "query-figures.json").write_text(json.dumps(out, indent=1))

    print_index_table(figures, n, skipped)
    print_query_tables(meta["queries"], out, args)
    if args.profile:
        profile = work / "index-update.prof"
        say()
        say("Profiling one more MailIndex.update …")
        child("index", {"home": str(work / "mailproof-home"), "profile": str(profile),
                        "processes": 1})  # fmt: skip
        print_profile(profile)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "index.txt").write_text("\n".join(LINES) + "\n")
    print(f"\n(saved to {OUT / 'index.txt'})")


def _version(command: list[str]) -> str:
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=10)
    except OSError:
        return "not installed"
    words = done.stdout.split()
    return next((w for w in words if w[:1].isdigit()), "?")


if __name__ == "__main__":
    main()
