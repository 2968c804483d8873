"""``mailproof list``, ``show``, ``decrypt`` and ``import``: messages of a local source or of
the store, and copying an archive into the store."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from app import audit
from app.cli import command, json_flag
from app.cli.output import Record, Reply
from app.config import data_home
from app.errors import BadInput, Exit, MessageNotFound
from app.mime.summary import MessageSummary, summarize
from app.sources import MailSource, RawMessage, open_source
from app.store.library import Library, _one, local_account


def library() -> Library:
    return Library(data_home())


def shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def synced_folder(spec: str) -> tuple[Library, int] | None:
    """``ACCOUNT/FOLDER`` of a synced account, when ``spec`` is not a path on disk."""
    if Path(spec).exists() or "/" not in spec:
        return None
    account, folder = spec.split("/", 1)
    store = library()
    if not store.accounts.exists(account):
        return None
    folder_id = store.find_folder(account, folder)
    if folder_id is None:
        raise BadInput(f"account {account} has no synced folder {folder!r} (run `mailproof sync`)")
    return store, folder_id


def single_message(path: str) -> bytes:
    """The bytes of the one message in ``path`` (a .eml file, or a source holding one)."""
    messages = list(open_source(path).messages())
    if len(messages) != 1:
        raise BadInput(
            f"{path} holds {len(messages)} messages: give a single .eml file, or use --message-id"
        )
    return messages[0].raw


def find_message(path: str, identifier: str) -> RawMessage:
    """The message of a local source named by a SHA-256 prefix or a Message-ID."""
    ident = identifier.strip()
    by_message_id = ident.startswith("<") or "@" in ident
    wanted = ident if ident.startswith("<") else f"<{ident}>"
    if not by_message_id and len(ident) < 4:
        raise MessageNotFound(f"{identifier!r} is too short: give at least 4 characters of the id")
    found: dict[str, RawMessage] = {}
    for message in open_source(path).messages():
        summary = summarize(message.raw)
        if (by_message_id and summary.message_id == wanted) or (
            not by_message_id and summary.sha256.startswith(ident.lower())
        ):
            found.setdefault(summary.sha256, message)
    sha256 = _one(identifier, list(found))
    return found[sha256]


def renamed(source: MailSource, name: str) -> MailSource:
    """The source with its folders under ``name``: the top folder becomes ``name`` itself."""
    name = name.strip().strip("/")
    if not name:
        raise BadInput("--folder needs a name")
    top = source.folders[0].name if source.folders else ""
    folders = tuple(
        replace(folder, name=name if folder.name == top else f"{name}/{folder.name}")
        for folder in source.folders
    )
    return replace(source, folders=folders)


# -- list -----------------------------------------------------------------------------------
def _list_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path")
    json_flag(parser, "one JSON object per line")


def _list_record(message: RawMessage, summary: MessageSummary) -> dict[str, Any]:
    record = summary.to_json()
    return {
        "id": summary.sha256[:12],
        "date": record["date"],
        "from": record["from"],
        "to": record["to"],
        "subject": record["subject"],
        "size": summary.size,
        "sha256": summary.sha256,
        "has_attachments": summary.has_attachments,
        "message_id": summary.message_id,
        "folder": message.provenance.folder,
        "source": message.provenance.source_path,
        "source_offset": message.provenance.source_offset,
        "problems": list(message.problems) + list(summary.defects),
    }


def _synced_records(store: Library, folder_id: int) -> Iterator[Record]:
    for copy in store.folder_copies(folder_id):
        record: dict[str, Any] = {
            "id": copy.sha256[:12],
            "date": copy.date_utc,
            "from": copy.from_display,
            "to": copy.to_display,
            "subject": copy.subject,
            "size": copy.size,
            "sha256": copy.sha256,
            "has_attachments": copy.has_attachments,
            "message_id": copy.message_id,
            "folder": copy.folder,
            "uid": copy.uid,
            "uidvalidity": copy.uidvalidity,
            "internaldate": copy.internaldate,
            "flags": copy.flags.split(),
            "fetched_at": copy.fetched_at,
            "expunged_at": copy.expunged_at,
        }
        gone = "  [gone from server]" if copy.expunged_at else ""
        yield Record(
            record,
            f"{record['id']}  {record['date'] or '(no date)':20}  uid {copy.uid:<7} "
            f"{shorten(record['from'] or '', 30):30}  {shorten(record['subject'] or '', 60)}"
            f"{gone}",
        )


@command("list", "list the messages of a Maildir, mbox or .eml folder", _list_arguments)
def list_messages(args: argparse.Namespace) -> Reply:
    synced = synced_folder(args.path)
    if synced is not None:
        return Reply(records=_synced_records(*synced))
    source = open_source(args.path)
    reply = Reply()
    unreadable: list[str] = []

    def records() -> Iterator[Record]:
        for message in source.messages(unreadable):
            summary = summarize(message.raw)
            record = _list_record(message, summary)
            reply.warnings.extend(
                f"{record['id']} ({record['folder']}): {problem}" for problem in record["problems"]
            )
            to_count = len(summary.to) + len(summary.cc)
            yield Record(
                record,
                f"{record['id']}  {record['date'] or '(no date)':20}  "
                f"{shorten(record['folder'], 10):10}  {shorten(record['from'], 30):30}  "
                f"{shorten(record['subject'], 60)}"
                + (f"  [{to_count} recipients]" if to_count > 20 else ""),
            )
        reply.warnings.extend(unreadable)

    reply.records = records()
    reply.exit = lambda: Exit.PROBLEMS if reply.warnings else Exit.OK
    return reply


# -- show -----------------------------------------------------------------------------------
def _show_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path")
    parser.add_argument("id", help="the id from `list` (any unique SHA-256 prefix) or Message-ID")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--raw", action="store_true", help="the exact bytes, unchanged")
    form.add_argument("--json", action="store_true", help="one JSON document")


@command("show", "show one message of a local source", _show_arguments)
def show(args: argparse.Namespace) -> Reply:
    from app.delivery.received import hops_of  # delivery analysis loads dkimpy: only here
    from app.delivery.verdict import protection_of
    from app.investigate.cues import cues
    from app.mime.render import render

    message = find_message(args.path, args.id)
    summary = summarize(message.raw)
    audit.record(
        "message viewed",
        {"sha256": summary.sha256, "message_id": summary.message_id},
        source=message.provenance.source_path,
        form="raw" if args.raw else "json" if args.json else "text",
    )
    if args.raw:
        return Reply(raw=message.raw)
    rendered = render(message.raw)
    problems = list(message.problems) + list(rendered.warnings)
    reply = Reply(warnings=problems, exit=Exit.PROBLEMS if problems else Exit.OK, indent=2)
    if args.json:
        reply.document = {
            "id": summary.sha256[:12],
            "sha256": summary.sha256,
            "size": summary.size,
            "message_id": summary.message_id,
            "date_utc": summary.date_iso,
            "folder": message.provenance.folder,
            "source": message.provenance.source_path,
            **rendered.to_json(),
            "protection": protection_of(message.raw, hops_of(message.raw)).to_json(),
            "cues": [cue.to_json() for cue in cues(message.raw)],
        }
        return reply
    lines = [
        f"{name}: {value}"
        for name, value in (
            ("From", rendered.from_),
            ("To", rendered.to),
            ("Cc", rendered.cc),
            ("Date", rendered.date),
            ("Subject", rendered.subject),
        )
        if value
    ]
    lines += ["", rendered.text.rstrip()]
    if rendered.blocked_remote:
        lines += ["", f"[{len(rendered.blocked_remote)} remote item(s) blocked]"]
    lines += [
        f"[attachment {attachment.index}: {attachment.safe_name} "
        f"({attachment.content_type}, {attachment.size} bytes)]"
        for attachment in rendered.attachments
    ]
    reply.text = "\n".join(lines)
    return reply


# -- decrypt --------------------------------------------------------------------------------
def _decrypt_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "target", help="a .eml file, or a stored message's SHA-256 (prefix) or Message-ID"
    )
    json_flag(parser, "one JSON document")


@command(
    "decrypt",
    "decrypt and verify an S/MIME or OpenPGP message in memory; say what protected what",
    _decrypt_arguments,
)
def decrypt(args: argparse.Namespace) -> Reply:
    from app.crypto.present import WARNINGS, reading_lines
    from app.crypto.secure import read_secure

    if Path(args.target).exists():
        raw = single_message(args.target)
    else:
        store = library()
        raw = store.raw(store.resolve(args.target))
    reading = read_secure(raw)
    summary = summarize(raw)
    first, *rest = reading_lines(reading)
    lines = [first.text] + [line.plain for line in rest if line.section != WARNINGS]
    lines += ["", reading.body_text.rstrip()]
    problems = reading.encryption.status == "failed" or any(
        signature.status not in ("valid", "none")
        for signature in (reading.signature, *(part.signature for part in reading.parts))
    )
    return Reply(
        document={"sha256": summary.sha256, "message_id": summary.message_id, **reading.to_json()},
        text="\n".join(lines),
        warnings=list(reading.warnings),
        exit=Exit.PROBLEMS if problems else Exit.OK,
        indent=2,
    )


# -- import ---------------------------------------------------------------------------------
def _import_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path")
    parser.add_argument(
        "--folder",
        metavar="NAME",
        help="name of the folder it goes to (a Maildir's subfolders go below it)",
    )
    json_flag(parser, "one JSON document")


@command(
    "import",
    "copy a local archive (mbox, Maildir, .eml folder or file) into the store",
    _import_arguments,
)
def import_archive(args: argparse.Namespace) -> Reply:
    from app.cli.search import update_index_quietly
    from app.tasks import stderr_progress

    source = open_source(args.path)
    if args.folder:
        source = renamed(source, args.folder)
    store = library()
    report = store.ingest(source, progress=stderr_progress(f"import {source.root.name}"))
    index_problem = update_index_quietly(store)
    folders = [
        {"folder": info.name, "messages": info.total}
        for info in store.folders(local_account(source.root))
        if info.id in report.folder_ids
    ]
    return Reply(
        document={
            "source": str(source.root),
            "account": local_account(source.root),
            "added": report.copies,
            "new_messages": report.added,
            "known": report.known,
            "folders": folders,
            "problems": report.problems,
        },
        text=f"imported {source.root}: {report.copies} message(s) ({report.added} new to the "
        f"store), {report.known} already imported from here, in {len(folders)} folder(s)",
        warnings=([index_problem] if index_problem else []) + list(report.problems),
        exit=Exit.PROBLEMS if report.problems else Exit.OK,
    )
