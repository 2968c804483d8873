"""``mailproof search``, ``count`` and ``index``: the archive search verbs.

Kept apart from ``app.cli`` so that ``mailproof search`` starts without importing Qt, the
keyring, IMAP or crypto (``app.entry`` sends those verbs here directly).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

from app.config import data_home
from app.errors import BadInput
from app.tasks import stderr_progress

if TYPE_CHECKING:
    from indexer.index import MailIndex

EXIT_OK, EXIT_PROBLEMS = 0, 1
FAST_VERBS = ("search", "count")


def add_commands(commands: Any) -> None:
    """Register the verbs on the main parser's subcommands."""
    search = commands.add_parser(
        "search", help="search every stored message (all accounts, folders and imports)"
    )
    _search_arguments(search)
    count = commands.add_parser("count", help="how many messages match a query")
    count.add_argument("query", nargs="+", help="a query (see the README's query language)")
    count.add_argument("--json", action="store_true", help="one JSON document")
    index = commands.add_parser("index", help="bring the search index up to date, check or rebuild")
    mode = index.add_mutually_exclusive_group()
    mode.add_argument("--rebuild", action="store_true", help="throw the index away and rebuild it")
    mode.add_argument(
        "--check", action="store_true", help="compare index and store; repair any drift"
    )
    index.add_argument("--json", action="store_true", help="one JSON document")


def _search_arguments(search: argparse.ArgumentParser) -> None:
    search.add_argument("query", nargs="+", help="a query (see the README's query language)")
    search.add_argument("--json", action="store_true", help="one JSON object per hit (JSON lines)")
    search.add_argument(
        "--limit", type=int, default=100, metavar="N", help="at most N hits (0: all; default 100)"
    )
    search.add_argument(
        "--sort", choices=("date", "relevance"), default="date", help="newest first (default)"
    )
    search.add_argument(
        "--decrypted",
        action="store_true",
        help="also search inside encrypted mail: decrypted in memory with your keys, "
        "for this search only",
    )


def _open_index() -> MailIndex:
    from indexer.index import MailIndex

    index = MailIndex(data_home())
    if not index.exists():
        index.update(progress=stderr_progress("building the search index"), processes=_processes())
        index.notices.append("The search index was built from the store.")
    return index


def _tell(index: MailIndex) -> None:
    for notice in index.notices:
        print(f"mailproof: {notice}", file=sys.stderr)
    index.notices.clear()


def _search_with_repair(index: MailIndex, run: Any) -> Any:
    """Run a search; a damaged index is set aside, rebuilt from the store and searched again."""
    return index.repairing(
        run, progress=stderr_progress("rebuilding the search index"), processes=_processes()
    )


def cmd_search(args: argparse.Namespace, out: TextIO) -> int:
    text = " ".join(args.query)
    if args.limit < 0:
        raise BadInput("--limit must be 0 (all) or more")
    index = _open_index()
    if args.decrypted:
        from app.crypto.secure import load_key_material

        index.build_private(load_key_material, progress=stderr_progress("decrypting in memory"))
    hits = _search_with_repair(
        index, lambda: index.search(text, limit=args.limit or None, sort=args.sort)
    )
    _tell(index)
    for hit in hits:
        if args.json:
            out.write(json.dumps(hit.to_json(), ensure_ascii=False) + "\n")
        else:
            date = (hit.date or "")[:10] or "?" * 10
            folders = ", ".join(hit.folders)
            out.write(f"{date}  {hit.from_[:28]:<28}  {hit.subject[:60]}  [{folders}]\n")
            if hit.snippet:
                out.write(f"            {hit.snippet}\n")
    return EXIT_OK


def cmd_count(args: argparse.Namespace, out: TextIO) -> int:
    text = " ".join(args.query)
    index = _open_index()
    number = _search_with_repair(index, lambda: index.count(text))
    _tell(index)
    if args.json:
        out.write(json.dumps({"query": text, "count": number}) + "\n")
    else:
        out.write(f"{number}\n")
    return EXIT_OK


def cmd_index(args: argparse.Namespace, out: TextIO) -> int:
    from app.store.library import Library
    from indexer.index import MailIndex

    index = MailIndex(Library(data_home()))
    if args.check:
        check = index.check(repair=True, progress=stderr_progress("repairing the search index"))
        _tell(index)
        result: dict[str, Any] = {"action": "check", **check.to_json(), "repaired": not check.clean}
        if args.json:
            out.write(json.dumps(result) + "\n")
        else:
            state = "in step with the store" if check.clean else "repaired"
            out.write(
                f"index: {check.documents} document(s) for {check.expected} stored message(s); "
                f"{len(check.missing)} missing, {len(check.extra)} extra, {len(check.stale)} "
                f"stale — {state}\n"
            )
        return EXIT_OK if check.clean else EXIT_PROBLEMS
    report = index.update(
        progress=stderr_progress("indexing"), rebuild=args.rebuild, processes=_processes()
    )
    _tell(index)
    result = {
        "action": "rebuild" if args.rebuild else "update",
        "indexed": report.indexed,
        "removed": report.removed,
        "unchanged": report.unchanged,
        "problems": report.problems,
        "rebuilt_because": report.rebuilt_because,
    }
    if args.json:
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        out.write(
            f"index: {report.indexed} message(s) indexed, {report.removed} removed, "
            f"{report.unchanged} unchanged\n"
        )
    for problem in report.problems:
        print(f"mailproof: warning: {problem}", file=sys.stderr)
    return EXIT_PROBLEMS if report.problems else EXIT_OK


def update_index_quietly(library: Any) -> str | None:
    """After an import, sync or flag change: bring the index in step; a failure is a warning
    (the mail is stored; the index can be rebuilt) returned as text."""
    from app.errors import MailproofError
    from indexer.index import MailIndex

    index = MailIndex(library)
    try:
        index.update(progress=stderr_progress("indexing"), processes=_processes())
    except MailproofError as err:
        return f"the search index was not updated: {err}; run `mailproof index --check`"
    _tell(index)
    return None


def _processes() -> int:
    """Writer processes for a large index update from the CLI: the cores there are."""
    import os

    return max(1, min(os.cpu_count() or 1, 4))


COMMANDS = {"search": cmd_search, "count": cmd_count, "index": cmd_index}


def fast_main(argv: list[str]) -> int:
    """``mailproof search|count …`` without loading the rest of the CLI; the same last guard
    (``app.guard``), whose log file is opened only when there is something to write."""
    from app.guard import guarded

    parser = argparse.ArgumentParser(prog="mailproof")
    parser.add_argument("--debug", action="store_true")
    commands = parser.add_subparsers(dest="command", required=True)
    search = commands.add_parser("search")
    _search_arguments(search)
    count = commands.add_parser("count")
    count.add_argument("query", nargs="+")
    count.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    return guarded(lambda: int(COMMANDS[args.command](args, sys.stdout)), debug=args.debug)
