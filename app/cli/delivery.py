"""``mailproof trace``, ``investigate`` and ``locate``: was it delivered, where is it, and
where are its copies."""

from __future__ import annotations

import argparse

from app.cli import command, json_flag
from app.cli.messages import library, single_message
from app.cli.output import Record, Reply
from app.dates import parse_day
from app.errors import Exit


# -- trace ----------------------------------------------------------------------------------
def _trace_arguments(parser: argparse.ArgumentParser) -> None:
    traced = parser.add_mutually_exclusive_group(required=True)
    traced.add_argument("file", nargs="?", metavar="FILE", help="a .eml file")
    traced.add_argument("--message-id", metavar="ID", help="a stored message")
    json_flag(parser, "one JSON document")
    parser.add_argument(
        "--offline", action="store_true", help="no DNS lookups: DKIM/ARC are 'not checked'"
    )
    parser.add_argument(
        "--dns-server", metavar="HOST:PORT", help="resolver for DKIM keys (default: the system's)"
    )


@command(
    "trace", "the delivery verdict: hops, TLS, DKIM/ARC, claims, copies, hints", _trace_arguments
)
def trace(args: argparse.Namespace) -> Reply:
    from app.delivery.dns import live_resolver
    from app.delivery.present import HOPS, WARNINGS, delivery_lines
    from app.delivery.verdict import trace as trace_message

    store = library()
    stored = None if args.file else store.resolve(args.message_id)
    raw = single_message(args.file) if stored is None else store.raw(stored)
    verdict = trace_message(
        raw,
        resolver=None if args.offline else live_resolver(args.dns_server),
        offline=args.offline,
        library=store,
    )
    lines = delivery_lines(verdict)
    text = [verdict.summary, ""] + [
        f"{line.label} {line.text}" if line.section == HOPS else line.plain
        for line in lines
        if line.section != WARNINGS
    ]
    warnings = [line.text for line in lines if line.section == WARNINGS]
    return Reply(
        document=verdict.to_json(),
        text="\n".join(text),
        warnings=[] if args.json else warnings,
    )


# -- investigate ----------------------------------------------------------------------------
def _investigate_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--message-id", metavar="ID")
    parser.add_argument("--from", dest="from_addr", metavar="A", help="the sender's address")
    parser.add_argument("--to", dest="to_addr", metavar="B", help="the recipient's address")
    parser.add_argument("--subject", metavar="TEXT")
    parser.add_argument("--date", metavar="DAY", help="YYYY-MM-DD or an ISO time (UTC)")
    parser.add_argument("--window", type=float, default=24.0, metavar="HOURS", help="± hours")
    parser.add_argument(
        "--retention-days", type=int, default=14, help="how long providers keep logs (14)"
    )
    parser.add_argument(
        "--account", metavar="NAME", help="read this account's server filters (ManageSieve)"
    )
    parser.add_argument("--sieve-port", type=int, default=4190, help="ManageSieve port (4190)")
    parser.add_argument(
        "--list", action="store_true", help="the investigations made so far (newest first)"
    )
    json_flag(parser, "one JSON document")


@command(
    "investigate",
    "where is my message? every folder, bounces, an outcome, next steps",
    _investigate_arguments,
)
def investigate(args: argparse.Namespace) -> Reply:
    from app.delivery.locate import normalise_message_id
    from app.errors import MailproofError
    from app.investigate.present import HITS, NEXT, OUTCOME, REASONS, investigation_lines
    from app.investigate.search import Query, recorded
    from app.investigate.search import investigate as run_investigation

    if args.list:
        records = []
        for record in recorded():
            asked = ", ".join(f"{k}={v}" for k, v in record["query"].items() if v)
            records.append(
                Record(
                    record,
                    f"{record['investigated_at']}  {record['outcome']:<15} {asked}  "
                    f"({len(record['hits'])} hits) {record['file']}",
                )
            )
        return Reply(records=records)

    query = Query(
        message_id=normalise_message_id(args.message_id) if args.message_id else None,
        from_addr=args.from_addr,
        to_addr=args.to_addr,
        subject=args.subject,
        date=parse_day(args.date, "--date"),
        window_hours=args.window,
    )
    store = library()
    scripts, problem = None, "give --account to read the server's filters (ManageSieve)"
    if args.account:
        from app import secrets
        from app.imap.account import load as load_account
        from app.investigate.sieve import read_scripts

        account = load_account(store, args.account)
        try:
            scripts = read_scripts(account, secrets.get_password(account.name), args.sieve_port)
        except MailproofError as err:
            problem = str(err)
    result = run_investigation(
        store, query, retention_days=args.retention_days, sieve=scripts, sieve_problem=problem
    )
    shown = investigation_lines(result)
    lines = [f"outcome: {line.label} — {line.text}" for line in shown if line.section == OUTCOME]
    lines += [f"  - {line.text}" for line in shown if line.section == REASONS]
    lines += [f"  {line.label}  {line.text}" for line in shown if line.section == HITS]
    lines += [line.plain for line in shown if line.section == NEXT]
    lines += ["", result.provider_request]
    return Reply(document=result.to_json(), text="\n".join(lines))


# -- locate ---------------------------------------------------------------------------------
def _locate_arguments(parser: argparse.ArgumentParser) -> None:
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--message-id", metavar="ID")
    which.add_argument("--sha256", metavar="H", help="the stored bytes' SHA-256")
    which.add_argument("file", nargs="?", metavar="FILE", help="a .eml file: find its copies")
    json_flag(parser, "one JSON document")


@command(
    "locate",
    "every stored copy of a message: accounts, folders, imports, provenance",
    _locate_arguments,
)
def locate(args: argparse.Namespace) -> Reply:
    from app.delivery.locate import locate as find_copies
    from app.mime.summary import summarize

    store = library()
    if args.file:
        summary = summarize(single_message(args.file))
        result = find_copies(
            store,
            message_id=summary.message_id,
            sha256=None if summary.message_id else summary.sha256,
            subject=summary.subject,
            from_addr=summary.from_[0].addr if summary.from_ else None,
            date_ts=int(summary.date.timestamp()) if summary.date else None,
        )
    else:
        result = find_copies(store, message_id=args.message_id, sha256=args.sha256)
    lines = [result.summary]
    if result.note:
        lines.append(f"note: {result.note}")
    for copy in result.copies:
        where = copy.where + (f"  UID {copy.uid}" if copy.uid is not None else "")
        when = copy.internaldate or copy.imported_at or ""
        state = "  (deleted on the server, kept here)" if copy.expunged_at else ""
        lines.append(f"  {where}  {when}  sha256 {copy.sha256[:16]}…{state}")
    if not result.copies:
        lines += ["searched:"] + [f"  {place}" for place in result.searched]
    return Reply(
        document=result.to_json(),
        text="\n".join(lines),
        exit=Exit.OK if result.copies else Exit.PROBLEMS,
    )
