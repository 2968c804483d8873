"""Benchmark: IMAP sync of a 10,000-message account from a real Dovecot, and mbsync beside it.

Prints figures; it asserts nothing about time. The script starts its own Dovecot 2.3 on
127.0.0.1 with implicit TLS from a throwaway CA (``tests.harness``), user ``bench``, and fills
it with a deterministic corpus: INBOX plus BACKUP (3 %, byte copies of INBOX mail), 2–8 KB
messages (plain, HTML, alternative, about 10 % with a small attachment), made by the generator
``open_folder.py`` uses too (``bench/common.py``). The Maildir files (``,S=``/``,W=`` sizes,
mtime = INTERNALDATE) are written straight into Dovecot's maildir before it starts — much
faster than APPEND — and Dovecot's index is then built once (SELECT + FETCH
FLAGS/SIZE/INTERNALDATE) before any timing.

Each measurement runs ``sync_account()`` in a child Python process (fresh ``MAILPROOF_HOME``,
password given directly, so no keyring is needed). Peak RSS is the child's own ``VmHWM`` at
its end (``ru_maxrss`` from ``os.wait4`` is floored at the parent's RSS on Linux, see
``common.wait_child``); mbsync's is ``VmHWM`` sampled every few ms while it runs.

* initial sync — empty store → every message (messages/s, MB/s);
* no-change re-sync — the same store again, nothing changed on the server;
* re-sync after 100 new messages (IMAP APPEND) and 100 flag changes (\\Flagged added),
  made with imapclient; undone afterwards so every repeat starts from the same corpus;
* mbsync (isync), if installed: the same account pulled into a Maildir (initial, no-change,
  after the same 100 + 100 changes), with an mbsyncrc written to ``bench/out``.

    .venv/bin/python bench/sync.py --messages 2000      # quick
    .venv/bin/python bench/sync.py                      # 10,000 messages
    .venv/bin/python bench/sync.py --repeat 3 --profile # + cProfile of one extra child each
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import ssl
import statistics
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import (
    CORPUS_SPAN,
    CORPUS_START,
    OUT,
    ROOT,
    child_env,
    fresh_home,
    make_message,
    median,
    print_table,
    received_flags,
    run_measured,
    spread,
    vm_hwm_mb,
    wait_child,
    wrap_timed,
)

SEED = 20_000
USER = "bench"
PASSWORD = "benchpw"  # a throwaway Dovecot on loopback
FOLDERS = ("INBOX", "BACKUP")
BACKUP_SHARE = 0.03
DELTA_NEW = 100
DELTA_FLAGS = 100
TARGET_MSGS_PER_S = 1000.0
TARGET_NOOP_S = 1.0
TARGET_RSS_MB = 300.0
MBSYNC_MISSING = "mbsync not installed (apt-get install isync): comparison skipped"


# ---------------------------------------------------------------------------------------------
# The corpus, written into Dovecot's Maildir before it starts
# ---------------------------------------------------------------------------------------------


def folder_counts(total: int) -> dict[str, int]:
    backup = max(1, round(total * BACKUP_SHARE))
    return {"INBOX": total - backup, "BACKUP": backup}


def _maildir_name(index: int, stamp: float, raw: bytes, flags: str) -> str:
    vsize = len(raw) + raw.count(b"\n") - raw.count(b"\r\n")  # as served, with CRLF
    unique = f"{int(stamp)}.M{index:06d}P{4000 + index % 997}.bench.example"
    return f"{unique},S={len(raw)},W={vsize}:2,{flags}"


def populate_maildir(root: Path, total: int) -> dict[str, Any]:
    """INBOX (``root/cur``) and BACKUP (``root/.BACKUP/cur``); deterministic for ``total``."""
    rng = random.Random(SEED + total)
    counts = folder_counts(total)
    slots = ["INBOX"] * counts["INBOX"] + ["BACKUP"] * counts["BACKUP"]
    rng.shuffle(slots)
    dirs = {"INBOX": root, "BACKUP": root / ".BACKUP"}
    for directory in dirs.values():
        for sub in ("cur", "new", "tmp"):
            (directory / sub).mkdir(parents=True, exist_ok=True)
    (root / ".BACKUP" / "maildirfolder").touch()
    recent: deque[tuple[str, str, str]] = deque(maxlen=300)
    inbox_raw: deque[bytes] = deque(maxlen=2000)
    sizes: list[int] = []
    served = 0
    attachments = 0
    for index, folder in enumerate(slots):
        stamp = CORPUS_START + CORPUS_SPAN * index / total + rng.uniform(0, 600)
        if folder == "BACKUP" and inbox_raw:
            raw = rng.choice(inbox_raw)  # a backup copy: the same bytes as an INBOX message
            flags = "S"
        else:
            raw, message_id, subject, refs = make_message(rng, index, stamp, "", recent)
            recent.append((message_id, subject, refs))
            inbox_raw.append(raw)
            flags = received_flags(rng)
            if folder == "BACKUP":
                flags = "S"
        attachments += b"Content-Disposition: attachment" in raw
        sizes.append(len(raw))
        served += len(raw) + raw.count(b"\n") - raw.count(b"\r\n")
        path = dirs[folder] / "cur" / _maildir_name(index, stamp, raw, flags)
        path.write_bytes(raw)
        os.utime(path, (stamp, stamp))  # Maildir INTERNALDATE is the file's mtime
    return {
        "counts": counts,
        "bytes": sum(sizes),
        "served_bytes": served,  # as IMAP sends them (CRLF), what BODY[] and MB/s count
        "min_size": min(sizes),
        "median_size": statistics.median(sizes),
        "max_size": max(sizes),
        "with_attachment": attachments,
    }


def chown_tree(root: Path, user: str = "nobody", group: str = "nogroup") -> None:
    """Dovecot (run as root by the harness) reads the mail as nobody:nogroup."""
    if os.geteuid() != 0:
        return
    for directory, subdirs, files in os.walk(root):
        for name in [directory, *(os.path.join(directory, n) for n in subdirs + files)]:
            shutil.chown(name, user, group)


# ---------------------------------------------------------------------------------------------
# Server-side helpers (imapclient, in the parent)
# ---------------------------------------------------------------------------------------------


def imap_client(server: Any) -> Any:
    import imapclient

    context = ssl.create_default_context(cafile=str(server.ca_pem))
    client = imapclient.IMAPClient(
        server.host, port=server.imaps_port, ssl=True, ssl_context=context, timeout=60
    )
    client.login(USER, PASSWORD)
    return client


def prime_server(server: Any) -> dict[str, int]:
    """Let Dovecot build its index and cache before any timing; return the message counts."""
    counts = {}
    client = imap_client(server)
    try:
        for folder in FOLDERS:
            selected = client.select_folder(folder, readonly=True)
            counts[folder] = int(selected[b"EXISTS"])
            client.fetch(client.search("ALL"), [b"FLAGS", b"RFC822.SIZE", b"INTERNALDATE"])
    finally:
        client.logout()
    return counts


def make_changes(server: Any, repeat: int, total: int) -> dict[str, Any]:
    """APPEND ``DELTA_NEW`` messages to INBOX and add \\Flagged to ``DELTA_FLAGS`` others."""
    rng = random.Random(SEED * 7 + repeat)
    client = imap_client(server)
    try:
        selected = client.select_folder("INBOX")
        uidnext = int(selected[b"UIDNEXT"])
        uids = sorted(client.search("ALL"))
        step = max(1, len(uids) // (DELTA_FLAGS * 2))
        candidates = uids[::step]
        facts = client.fetch(candidates, [b"FLAGS"])
        flagged = [u for u in candidates if b"\\Flagged" not in facts[u][b"FLAGS"]][:DELTA_FLAGS]
        client.add_flags(flagged, [b"\\Flagged"])
        recent: deque[tuple[str, str, str]] = deque(maxlen=50)
        now = time.time()
        for j in range(DELTA_NEW):
            stamp = now - (DELTA_NEW - j) * 60
            raw, message_id, subject, refs = make_message(
                rng, total + 1000 * (repeat + 1) + j, stamp, "", recent
            )
            recent.append((message_id, subject, refs))
            client.append("INBOX", raw, msg_time=datetime.fromtimestamp(stamp, UTC))
    finally:
        client.logout()
    return {"uidnext": uidnext, "flagged": flagged}


def undo_changes(server: Any, changes: dict[str, Any]) -> None:
    client = imap_client(server)
    try:
        client.select_folder("INBOX")
        appended = [u for u in client.search(["UID", f"{changes['uidnext']}:*"])]
        appended = [u for u in appended if u >= changes["uidnext"]]
        if appended:
            client.delete_messages(appended)
            client.uid_expunge(appended)
        client.remove_flags(changes["flagged"], [b"\\Flagged"])
    finally:
        client.logout()


# ---------------------------------------------------------------------------------------------
# The child: one sync_account() call, timings as JSON on stdout
# ---------------------------------------------------------------------------------------------


def child_main(profile_to: str | None) -> None:
    config = json.loads(sys.stdin.read())
    marks: dict[str, Any] = {"t_script": time.time()}
    import imapclient.imapclient as imapclient_module

    import app.imap.sync as sync_module
    from app.imap.account import Account, save
    from app.imap.connection import connect
    from app.store.library import Library

    marks["t_imported"] = time.time()
    library = Library(Path(config["home"]))
    account = Account(**config["account"])
    save(library, account)  # as `mailproof account add` would
    marks["t_library"] = time.time()

    calls: dict[str, list[float]] = {}

    def add(label: str, seconds: float) -> None:
        entry = calls.setdefault(label, [0, 0.0])
        entry[0] += 1
        entry[1] += seconds

    def timed(owner: Any, name: str, label: Callable[..., str]) -> None:
        wrap_timed(owner, name, lambda start, end, a, k: add(label(*a, **k), end - start))

    def fetch_label(_self: Any, _messages: Any, data: Any, modifiers: Any = None) -> str:
        items = b" ".join(d if isinstance(d, bytes) else str(d).encode() for d in data)
        if b"BODY" in items:
            return "IMAP UID FETCH BODY.PEEK[] (bodies)"
        if b"RFC822.SIZE" in items:
            return "IMAP UID FETCH (RFC822.SIZE INTERNALDATE FLAGS)"
        return "IMAP UID FETCH FLAGS" + (" CHANGEDSINCE" if modifiers else "")

    client_class = imapclient_module.IMAPClient
    timed(client_class, "fetch", fetch_label)
    timed(
        client_class,
        "search",
        lambda _self, criteria="ALL", *a, **k: (
            "IMAP UID SEARCH ALL" if criteria in ("ALL", ["ALL"]) else "IMAP UID SEARCH UID n:*"
        ),
    )
    timed(client_class, "select_folder", lambda *a, **k: "IMAP SELECT/EXAMINE")
    timed(
        sync_module,
        "changed_since",
        lambda *a, **k: "IMAP UID FETCH 1:* (FLAGS) (CHANGEDSINCE … VANISHED)",
    )
    timed(client_class, "logout", lambda *a, **k: "IMAP LOGOUT")
    timed(
        imapclient_module,
        "parse_fetch_response",
        lambda *a, **k: "  of FETCH: imapclient parse_fetch_response",
    )
    timed(sync_module, "list_folders", lambda *a, **k: "IMAP LIST (+ capabilities)")
    timed(sync_module, "summarize", lambda *a, **k: "summarize() (MIME facts + SHA-256)")
    timed(library.blobs, "put", lambda *a, **k: "  of store_batch: BlobStore.put()")
    timed(os, "sync", lambda *a, **k: "  of store_batch: os.sync()")

    original_store_batch = library.store_batch

    def store_batch(raws: Any, write_rows: Callable[..., int]) -> int:
        def rows(transaction: Any) -> int:
            began = time.perf_counter()
            try:
                return write_rows(transaction)
            finally:
                add("  of store_batch: SQL rows (messages + copies)", time.perf_counter() - began)

        began = time.perf_counter()
        try:
            return original_store_batch(raws, rows)
        finally:
            add("Library.store_batch() (blobs, os.sync, SQL, COMMIT)", time.perf_counter() - began)

    library.store_batch = store_batch  # type: ignore[method-assign]

    def connector(acc: Any, password: str) -> Any:
        began = time.perf_counter()
        try:
            return connect(acc, password)
        finally:
            add("connect + TLS + LOGIN", time.perf_counter() - began)

    profiler = None
    if profile_to:
        import cProfile

        profiler = cProfile.Profile()
    marks["t_sync_start"] = time.time()
    began = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    report = sync_module.sync_account(
        library,
        account,
        config["password"],
        only_folders=config["folders"],
        connector=connector,
    )
    if profiler is not None:
        profiler.disable()
    marks["sync_s"] = time.perf_counter() - began
    marks["t_sync_end"] = time.time()
    if profiler is not None and profile_to:
        profiler.dump_stats(profile_to)
    marks["stored_copies"] = library.db.execute(
        "SELECT COUNT(*) FROM copies WHERE expunged_at IS NULL"
    ).fetchone()[0]
    library.close()
    marks["vm_hwm_mb"] = vm_hwm_mb()  # the child's peak RSS: exact, unlike the parent's wait4
    marks["report"] = report.to_json()
    marks["calls"] = calls
    print(json.dumps(marks), flush=True)


# ---------------------------------------------------------------------------------------------
# The parent: run children and mbsync, collect figures, print the table
# ---------------------------------------------------------------------------------------------


def run_child(
    label: str, server: Any, home: Path, timeout: float, profile_to: str | None = None
) -> dict[str, Any]:
    config = {
        "home": str(home),
        "password": PASSWORD,
        "folders": list(FOLDERS),
        "account": {
            "name": "bench",
            "host": server.host,
            "port": server.imaps_port,
            "security": "tls",
            "user": USER,
            "ca_file": str(server.ca_pem),
        },
    }
    command = [sys.executable, str(Path(__file__).resolve()), "--child"]
    if profile_to:
        command += ["--profile-to", profile_to]
    os.sync()  # earlier dirty pages are not billed to this child's os.sync() per batch
    run = run_measured(command, child_env(home), timeout, stdin=json.dumps(config).encode())
    marks = run.figures()
    if run.returncode != 0 or marks is None:
        raise RuntimeError(f"child ({label}) exited {run.returncode}:\n{run.stdout}\n{run.stderr}")
    folders = marks["report"]["folders"]
    errors = [f"{f['folder']}: {f['error']}" for f in folders if f.get("error")]
    figures = {
        "label": label,
        "wall_s": run.ended - run.started,
        "sync_s": marks["sync_s"],
        "startup_s": marks["t_sync_start"] - run.started,
        "maxrss_mb": marks["vm_hwm_mb"],
        "ru_maxrss_mb": run.ru_maxrss_mb,
        "new": sum(f["new"] for f in folders),
        "changed": sum(f["changed"] for f in folders),
        "expunged": sum(f["expunged"] for f in folders),
        "bytes": sum(f["bytes_downloaded"] for f in folders),
        "stored_copies": marks["stored_copies"],
        "errors": errors,
        "warnings": sum(len(f.get("warnings", [])) for f in folders),
        "calls": marks["calls"],
    }
    figures["messages_per_s"] = figures["new"] / figures["sync_s"] if figures["sync_s"] else None
    figures["mb_per_s"] = figures["bytes"] / 1e6 / figures["sync_s"] if figures["sync_s"] else None
    if errors:
        print(f"  ! {label}: {errors}", file=sys.stderr)
    return figures


def mbsync_version(binary: str) -> tuple[int, ...]:
    text = subprocess.run([binary, "--version"], capture_output=True, text=True).stdout
    found = re.search(r"(\d+)\.(\d+)(?:\.(\d+))?", text)
    return tuple(int(x) for x in found.groups() if x is not None) if found else (0,)


def write_mbsyncrc(server: Any, binary: str, maildir: Path, rc: Path) -> None:
    # isync 1.5 renamed SSLType to TLSType; 1.4 (Debian 12) only knows SSLType.
    tls_key = "TLSType" if mbsync_version(binary) >= (1, 5) else "SSLType"
    # isync 1.4 matches the certificate against DNS names only (not IP SANs): the harness
    # certificate's DNS:localhost, which resolves to the same 127.0.0.1.
    host = "localhost" if server.host == "127.0.0.1" else server.host
    rc.write_text(
        f"""# generated by bench/sync.py
IMAPAccount bench
Host {host}
Port {server.imaps_port}
User {USER}
Pass {PASSWORD}
{tls_key} IMAPS
CertificateFile {server.ca_pem}

IMAPStore bench-far
Account bench

MaildirStore bench-near
Path {maildir}/
Inbox {maildir}/INBOX
SubFolders Verbatim

Channel bench
Far :bench-far:
Near :bench-near:
Patterns {" ".join(FOLDERS)}
Sync Pull
Create Near
SyncState *
"""
    )
    rc.chmod(0o600)


def run_mbsync(label: str, binary: str, rc: Path, maildir: Path, timeout: float) -> dict[str, Any]:
    os.sync()
    with tempfile.TemporaryFile() as out:
        t0 = time.time()
        process = subprocess.Popen(
            [binary, "-q", "-c", str(rc), "bench"], stdout=out, stderr=subprocess.STDOUT
        )
        code, ru_maxrss, hwm = wait_child(process, timeout, sample=True)
        wall = time.time() - t0
        out.seek(0)
        output = out.read().decode("utf-8", "replace")
    if code != 0:
        raise RuntimeError(f"mbsync ({label}) exited {code}:\n{output}")
    files = sum(
        1
        for folder in FOLDERS
        for sub in ("cur", "new")
        if (maildir / folder / sub).is_dir()
        for _ in (maildir / folder / sub).iterdir()
    )
    return {
        "label": label,
        "wall_s": wall,
        "maxrss_mb": hwm,
        "ru_maxrss_mb": ru_maxrss,
        "files": files,
        "output": output,
    }


def _verdict(value: float | None, limit: float, at_least: bool) -> str:
    if value is None:
        return ""
    ok = value >= limit if at_least else value <= limit
    return "ok" if ok else "MISSED"


def print_results(
    runs: dict[str, list[dict[str, Any]]], corpus: dict[str, Any], mbsync_note: str | None
) -> None:
    def col(label: str, key: str) -> list[Any]:
        return [run.get(key) for run in runs.get(label, [])]

    rows: list[tuple[str, str, str, str]] = []

    def row(
        metric: str,
        values: list[Any],
        unit: str,
        digits: int = 2,
        target: str = "",
        limit: float | None = None,
        at_least: bool = False,
    ) -> None:
        verdict = _verdict(median(values), limit, at_least) if limit is not None else ""
        rows.append((metric, spread(values, unit, digits, ","), target, verdict))

    rss_target = f"≤ {TARGET_RSS_MB:.0f} MB"
    row("initial sync: sync_account() time", col("initial", "sync_s"), "s")
    row(
        "initial sync: messages/s",
        col("initial", "messages_per_s"),
        "msg/s",
        0,
        f"≥ {TARGET_MSGS_PER_S:,.0f} msg/s",
        TARGET_MSGS_PER_S,
        True,
    )
    row("initial sync: MB/s", col("initial", "mb_per_s"), "MB/s", 1)
    row("initial sync: Popen → exit", col("initial", "wall_s"), "s")
    row("initial sync: peak RSS", col("initial", "maxrss_mb"), "MB", 0, rss_target, TARGET_RSS_MB)
    row(
        "no-change re-sync: sync_account() time",
        col("noop", "sync_s"),
        "s",
        3,
        f"≤ {TARGET_NOOP_S:g} s",
        TARGET_NOOP_S,
    )
    row("no-change re-sync: Popen → exit", col("noop", "wall_s"), "s", 3)
    row("no-change re-sync: peak RSS", col("noop", "maxrss_mb"), "MB", 0, rss_target, TARGET_RSS_MB)
    delta = f"+{DELTA_NEW} new, {DELTA_FLAGS} flags"
    row(f"re-sync {delta}: sync_account()", col("delta", "sync_s"), "s", 3)
    row(f"re-sync {delta}: Popen → exit", col("delta", "wall_s"), "s", 3)
    row(
        f"re-sync {delta}: peak RSS",
        col("delta", "maxrss_mb"),
        "MB",
        0,
        rss_target,
        TARGET_RSS_MB,
    )
    if runs.get("mbsync-initial"):
        total = corpus["total"]
        mb_initial = col("mbsync-initial", "wall_s")
        row("mbsync initial: time", mb_initial, "s")
        row("mbsync initial: messages/s", [total / t for t in mb_initial], "msg/s", 0)
        served = corpus["served_bytes"] / 1e6
        row("mbsync initial: MB/s", [served / t for t in mb_initial], "MB/s", 1)
        row("mbsync initial: peak RSS (sampled)", col("mbsync-initial", "maxrss_mb"), "MB", 0)
        row("mbsync no-change re-sync: time", col("mbsync-noop", "wall_s"), "s", 3)
        row(f"mbsync re-sync {delta}: time", col("mbsync-delta", "wall_s"), "s", 3)
        for name, ours, theirs in (
            ("initial", "initial", "mbsync-initial"),
            ("no-change re-sync", "noop", "mbsync-noop"),
            (f"re-sync {delta}", "delta", "mbsync-delta"),
        ):
            a, b = median(col(ours, "wall_s")), median(col(theirs, "wall_s"))
            if a is not None and b:
                rows.append((f"ratio Mailproof/mbsync, {name}", f"{a / b:.2f} ×", "", ""))
    repeats = max((len(v) for v in runs.values()), default=0)
    counts = corpus["counts"]
    print()
    print(
        f"sync: {corpus['total']:,} messages (INBOX {counts['INBOX']:,} + BACKUP "
        f"{counts['BACKUP']:,}), {corpus['bytes'] / 1e6:.1f} MB on disk "
        f"({corpus['served_bytes'] / 1e6:.1f} MB as served, CRLF), "
        f"{corpus['min_size']}–{corpus['max_size']} B (median {corpus['median_size']:.0f}), "
        f"{corpus['with_attachment']} with an attachment; Dovecot IMAPS on 127.0.0.1; "
        f"median of {repeats} run(s) (min–max)"
    )
    print_table(rows, header=("metric", "value", "target", ""), right=(1,))
    if mbsync_note:
        print(mbsync_note)
    if runs.get("mbsync-initial"):
        print(
            "ratios compare whole-process wall times (Popen → exit: interpreter start, imports, "
            "TLS, login, sync) with mbsync's; > 1 means Mailproof is slower"
        )
    for label in ("initial", "noop", "delta"):
        if not runs.get(label):
            continue
        last = runs[label][-1]
        print(
            f"\ncheck {label}: {last['new']} new, {last['changed']} changed, "
            f"{last['expunged']} expunged, {last['bytes'] / 1e6:.1f} MB, "
            f"{last['stored_copies']} copies in the store, {len(last['errors'])} error(s), "
            f"{last['warnings']} warning(s)"
        )
        print(
            f"where the time goes, {label} (last run; sync_account() {last['sync_s']:.3f} s, "
            f"Popen → sync_account() {last['startup_s']:.3f} s):"
        )
        top = sum(seconds for name, (_, seconds) in last["calls"].items() if name[0] != " ")
        for name, (count, seconds) in sorted(
            last["calls"].items(), key=lambda i: (i[0].startswith(" "), -i[1][1])
        ):
            print(f"  {name:<56} {count:6d}  {seconds:8.3f} s")
        print(
            f"  {'other (known-UID query, Python glue)':<56} {'':6}  {last['sync_s'] - top:8.3f} s"
        )
    for label in ("mbsync-initial", "mbsync-noop", "mbsync-delta"):
        if runs.get(label):
            print(f"check {label}: {runs[label][-1]['files']} files in the Maildir")


def parent_main(args: argparse.Namespace) -> None:
    from tests.harness.dovecot import Dovecot
    from tests.harness.pki import Pki

    mbsync = None if args.skip_mbsync else shutil.which("mbsync")
    mbsync_note = None
    if args.skip_mbsync:
        mbsync_note = "mbsync: skipped (--skip-mbsync)"
    elif mbsync is None:
        mbsync_note = MBSYNC_MISSING
        print(MBSYNC_MISSING, flush=True)

    OUT.mkdir(parents=True, exist_ok=True)
    work = OUT / "sync-server"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir()
    server = Dovecot(work / "dovecot", Pki(work / "pki"), users={USER: PASSWORD})
    print(f"generating {args.messages:,} messages into Dovecot's Maildir…", flush=True)
    began = time.perf_counter()
    corpus = populate_maildir(server.maildir(USER), args.messages)
    corpus["total"] = args.messages
    chown_tree(server.home(USER))
    print(
        f"  {time.perf_counter() - began:.1f} s, {corpus['bytes'] / 1e6:.1f} MB, "
        f"{corpus['counts']}",
        flush=True,
    )
    runs: dict[str, list[dict[str, Any]]] = {}
    profiles: list[Path] = []
    server.start()
    try:
        began = time.perf_counter()
        served = prime_server(server)
        print(f"Dovecot indexed {served} in {time.perf_counter() - began:.1f} s", flush=True)
        if served != corpus["counts"]:
            raise RuntimeError(f"Dovecot serves {served}, expected {corpus['counts']}")

        def measure(label: str, home: Path, repeat: int, profile: str | None = None) -> None:
            print(f"  run {repeat + 1}/{args.repeat}: {label} …", end=" ", flush=True)
            figures = run_child(label, server, home, args.timeout, profile)
            runs.setdefault(label, []).append(figures)
            print(
                f"{figures['sync_s']:.3f} s, {figures['new']} new, {figures['changed']} changed, "
                f"RSS {figures['maxrss_mb']:.0f} MB",
                flush=True,
            )

        for repeat in range(args.repeat):
            home = fresh_home("sync")
            measure("initial", home, repeat)
            measure("noop", home, repeat)
            changes = make_changes(server, repeat, args.messages)
            measure("delta", home, repeat)
            undo_changes(server, changes)
            shutil.rmtree(home, ignore_errors=True)

        if mbsync is not None:
            rc = OUT / "mbsyncrc"
            near = OUT / "mbsync-maildir"
            write_mbsyncrc(server, mbsync, near, rc)
            for repeat in range(args.repeat):
                shutil.rmtree(near, ignore_errors=True)
                near.mkdir()
                for label in ("mbsync-initial", "mbsync-noop", "mbsync-delta"):
                    if label != "mbsync-initial":
                        # mbsync sleeps up to 1 s ("Maildir notice: sleeping due to recent
                        # directory modification") when its Maildir changed in this second:
                        # a re-sync comes minutes after the last one, so let that second pass.
                        time.sleep(1.1)
                    changes = (
                        make_changes(server, repeat, args.messages) if "delta" in label else None
                    )
                    print(f"  run {repeat + 1}/{args.repeat}: {label} …", end=" ", flush=True)
                    result = run_mbsync(label, mbsync, rc, near, args.timeout)
                    runs.setdefault(label, []).append(result)
                    print(f"{result['wall_s']:.3f} s, RSS {result['maxrss_mb']:.0f} MB", flush=True)
                    if changes is not None:
                        undo_changes(server, changes)
            if not args.keep:
                shutil.rmtree(near, ignore_errors=True)

        if args.profile:
            profile_dir = OUT / "profiles"
            profile_dir.mkdir(exist_ok=True)
            home = fresh_home("sync-profile")
            for label in ("initial", "noop"):
                path = profile_dir / f"sync-{args.messages}-{label}.prof"
                print(f"  profiled run: {label} …", end=" ", flush=True)
                figures = run_child(label, server, home, args.timeout, str(path))
                print(f"{figures['sync_s']:.3f} s under cProfile", flush=True)
                profiles.append(path)
            shutil.rmtree(home, ignore_errors=True)
    finally:
        server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)

    print_results(runs, corpus, mbsync_note)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    result = OUT / f"sync-{args.messages}-{stamp}.json"
    result.write_text(json.dumps({"corpus": corpus, "runs": runs}, indent=1, default=str))
    print(f"\nraw figures: {result.relative_to(ROOT)}")
    if profiles:
        import pstats

        for path in profiles:
            for order in ("tottime", "cumulative"):
                print(f"\n== {path.relative_to(ROOT)} (top 20 by {order})")
                stats = pstats.Stats(str(path), stream=sys.stdout)
                stats.strip_dirs().sort_stats(order).print_stats(20)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--messages", type=int, default=10_000, help="size of the account")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each measurement")
    parser.add_argument("--skip-mbsync", action="store_true", help="no mbsync comparison")
    parser.add_argument("--timeout", type=float, default=900, help="per child, seconds")
    parser.add_argument(
        "--profile", action="store_true", help="one extra cProfile'd initial + no-change child"
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep bench/out/sync-server and the mbsync Maildir"
    )
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_main(args.profile_to)
    else:
        if args.messages < 2 * DELTA_FLAGS:
            sys.exit(f"sync: --messages must be at least {2 * DELTA_FLAGS}")
        parent_main(args)


if __name__ == "__main__":
    main()
