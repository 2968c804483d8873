"""``mailproof search``, ``count`` and ``index``: the archive search verbs. They import the
indexer only when run, and ``search``/``count`` start light (see ``app.cli``)."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from app.cli import command, json_flag
from app.cli.output import Record, Reply
from app.config import data_home
from app.errors import BadInput, Exit
from app.tasks import stderr_progress

if TYPE_CHECKING:
    from indexer.index import MailIndex

QUERY_HELP = "a query (see the README's query language)"


def _search_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", nargs="+", help=QUERY_HELP)
    json_flag(parser, "one JSON object per hit (JSON lines)")
    parser.add_argument(
        "--limit", type=int, default=100, metavar="N", help="at most N hits (0: all; default 100)"
    )
    parser.add_argument(
        "--sort", choices=("date", "relevance"), default="date", help="newest first (default)"
    )
    parser.add_argument(
        "--decrypted",
        action="store_true",
        help="also search inside encrypted mail: decrypted in memory with your keys, "
        "for this search only",
    )


def _count_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("query", nargs="+", help=QUERY_HELP)
    json_flag(parser, "one JSON document")


def _index_arguments(parser: argparse.ArgumentParser) -> None:
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--rebuild", action="store_true", help="throw the index away and rebuild it")
    mode.add_argument(
        "--check", action="store_true", help="compare index and store; repair any drift"
    )
    json_flag(parser, "one JSON document")


def processes() -> int:
    """Writer processes for a large index update from the CLI: the cores there are."""
    return max(1, min(os.cpu_count() or 1, 4))


def _open_index() -> MailIndex:
    from indexer.index import MailIndex

    index = MailIndex(data_home())
    if not index.exists():
        index.update(progress=stderr_progress("building the search index"), processes=processes())
        index.notices.append("The search index was built from the store.")
    return index


def _tell(index: MailIndex) -> None:
    """What the index has to say (rebuilt, set aside, …), said once on stderr."""
    for notice in index.notices:
        print(f"mailproof: {notice}", file=sys.stderr)
    index.notices.clear()


@command(
    "search",
    "search every stored message (all accounts, folders and imports)",
    _search_arguments,
    light=True,
)
def search(args: argparse.Namespace) -> Reply:
    text = " ".join(args.query)
    if args.limit < 0:
        raise BadInput("--limit must be 0 (all) or more")
    index = _open_index()
    if args.decrypted:
        from app.crypto.secure import load_key_material

        index.build_private(load_key_material, progress=stderr_progress("decrypting in memory"))
    hits = index.repairing(
        lambda: index.search(text, limit=args.limit or None, sort=args.sort),
        progress=stderr_progress("rebuilding the search index"),
        processes=processes(),
    )
    _tell(index)
    records = []
    for hit in hits:
        date = (hit.date or "")[:10] or "?" * 10
        line = f"{date}  {hit.from_[:28]:<28}  {hit.subject[:60]}  [{', '.join(hit.folders)}]"
        if hit.snippet:
            line += f"\n            {hit.snippet}"
        records.append(Record(hit.to_json(), line))
    return Reply(records=records)


@command("count", "how many messages match a query", _count_arguments, light=True)
def count(args: argparse.Namespace) -> Reply:
    text = " ".join(args.query)
    index = _open_index()
    number = index.repairing(
        lambda: index.count(text),
        progress=stderr_progress("rebuilding the search index"),
        processes=processes(),
    )
    _tell(index)
    return Reply(document={"query": text, "count": number}, text=str(number))


@command("index", "bring the search index up to date, check or rebuild", _index_arguments)
def index_command(args: argparse.Namespace) -> Reply:
    from app.store.library import Library
    from indexer.index import MailIndex

    index = MailIndex(Library(data_home()))
    if args.check:
        check = index.check(repair=True, progress=stderr_progress("repairing the search index"))
        _tell(index)
        state = "in step with the store" if check.clean else "repaired"
        return Reply(
            document={"action": "check", **check.to_json(), "repaired": not check.clean},
            text=f"index: {check.documents} document(s) for {check.expected} stored message(s); "
            f"{len(check.missing)} missing, {len(check.extra)} extra, {len(check.stale)} "
            f"stale — {state}",
            exit=Exit.OK if check.clean else Exit.PROBLEMS,
        )
    report = index.update(
        progress=stderr_progress("indexing"), rebuild=args.rebuild, processes=processes()
    )
    _tell(index)
    return Reply(
        document={
            "action": "rebuild" if args.rebuild else "update",
            "indexed": report.indexed,
            "removed": report.removed,
            "unchanged": report.unchanged,
            "problems": report.problems,
            "rebuilt_because": report.rebuilt_because,
        },
        text=f"index: {report.indexed} message(s) indexed, {report.removed} removed, "
        f"{report.unchanged} unchanged",
        warnings=list(report.problems),
        exit=Exit.PROBLEMS if report.problems else Exit.OK,
    )


def update_index_quietly(library: Any) -> str | None:
    """After an import, sync or flag change: bring the index in step; a failure is a warning
    (the mail is stored; the index can be rebuilt) returned as text."""
    from app.errors import MailproofError
    from indexer.index import MailIndex

    index = MailIndex(library)
    try:
        index.update(progress=stderr_progress("indexing"), processes=processes())
    except MailproofError as err:
        return f"the search index was not updated: {err}; run `mailproof index --check`"
    _tell(index)
    return None
