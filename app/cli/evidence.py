"""``mailproof audit …`` and ``evidence …``: the tamper-evident log, and delivery-evidence
packages anyone can re-verify."""

from __future__ import annotations

import argparse
from pathlib import Path

from app import audit
from app.cli import command, group, json_flag
from app.cli.messages import library
from app.cli.output import Record, Reply
from app.dates import parse_day
from app.errors import Exit
from app.store.atomic import write_atomic

group("audit", "the tamper-evident log of who viewed, decrypted, exported what")
group("evidence", "delivery-evidence packages: export one, verify one")


def _show_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", metavar="DATE", help="YYYY-MM-DD or an ISO time (UTC)")
    json_flag(parser, "one JSON entry per line")


@command("audit show", "the entries, oldest first", _show_arguments)
def audit_show(args: argparse.Namespace) -> Reply:
    records = []
    for entry in audit.entries(parse_day(args.since, "--since")):
        target = entry.get("object")
        if isinstance(target, dict):
            target = " ".join(f"{k}={v}" for k, v in target.items())
        text = (
            f"{entry.get('seq')}  {entry.get('time')}  {entry.get('user')}  "
            f"{entry.get('action')}  {target or ''}  {entry.get('result')}"
        )
        records.append(Record(entry, text))
    return Reply(records=records)


@command(
    "audit verify",
    "check the hash chain; name the first edited/removed/reordered entry",
    json_flag,
)
def audit_verify(_args: argparse.Namespace) -> Reply:
    check = audit.verify()
    return Reply(
        document=check.to_json(),
        text=f"audit log intact: {check.entries} entries, hash chain unbroken"
        if check.ok
        else None,
        warnings=list(check.notes),
        errors=[] if check.ok else [f"audit log damaged: {check.problem}"],
        exit=Exit.OK if check.ok else Exit.PROBLEMS,
    )


def _export_log_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", metavar="FILE", help="write here, not stdout")


@command("audit export", "the log exactly as written", _export_log_arguments)
def audit_export(args: argparse.Namespace) -> Reply:
    data = audit.export_bytes()
    if args.output:
        write_atomic(Path(args.output), data)
        return Reply()
    return Reply(raw=data)


# -- evidence -------------------------------------------------------------------------------
def _export_arguments(parser: argparse.ArgumentParser) -> None:
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--message-id", metavar="ID")
    target.add_argument("--sha256", metavar="H")
    target.add_argument("file", nargs="?", metavar="FILE", help="a .eml file")
    parser.add_argument("-o", "--output", metavar="OUT.zip", required=True)
    parser.add_argument(
        "--sign", metavar="IDENTITY", help="S/MIME key id or address (see `keys list`)"
    )
    parser.add_argument(
        "--offline", action="store_true", help="record no DNS answers (DKIM not checked)"
    )
    parser.add_argument("--dns-server", metavar="HOST:PORT", help="resolver for DKIM keys")
    json_flag(parser)


@command("evidence export", "write the package of one message", _export_arguments)
def evidence_export(args: argparse.Namespace) -> Reply:
    from app.delivery.dns import live_resolver
    from app.evidence.package import export_evidence

    result = export_evidence(
        library(),
        Path(args.output),
        message_id=args.message_id,
        sha256=args.sha256,
        file=Path(args.file) if args.file else None,
        sign=args.sign,
        resolver=None if args.offline else live_resolver(args.dns_server),
        offline=args.offline,
    )
    signed = f", signed by {result.signed_by}" if result.signed_by else ""
    return Reply(
        document=result.to_json(),
        text=f"wrote {result.path}: {len(result.members)} files, {result.copies} stored "
        f"cop{'y' if result.copies == 1 else 'ies'}{signed}",
    )


def _verify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--live-dns", action="store_true", help="also re-check DKIM with today's DNS"
    )
    parser.add_argument("--dns-server", metavar="HOST:PORT", help="resolver for --live-dns")
    parser.add_argument("package", metavar="OUT.zip")
    parser.add_argument(
        "--ca-file", metavar="PEM", help="trust this CA for the signature (besides `keys trust`)"
    )
    json_flag(parser)


@command("evidence verify", "re-check every hash and the signature", _verify_arguments)
def evidence_verify(args: argparse.Namespace) -> Reply:
    from app.crypto import keys
    from app.delivery.dns import live_resolver
    from app.evidence.package import verify_evidence
    from app.evidence.signature import verify_manifest_signature

    anchors = keys.trust_anchors()
    if args.ca_file:
        anchors.append(keys.load_certificate(Path(args.ca_file)))
    report = verify_evidence(
        Path(args.package),
        lambda manifest, p7s: verify_manifest_signature(manifest, p7s, anchors),
        live=live_resolver(args.dns_server) if args.live_dns else None,
    )
    bad = next((check for check in report.checks if not check.ok), None)
    return Reply(
        document=report.to_json(),
        text="\n".join(
            f"{'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}"
            for check in report.checks
        ),
        errors=[f"{bad.name}: {bad.detail}"] if bad is not None and not report.ok else [],
        exit=Exit.OK if report.ok else Exit.PROBLEMS,
    )
