"""``mailproof account …``, ``sync`` and ``flag``: IMAP accounts, downloading their mail, and
changing a synced message's flags on the server."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from app import secrets
from app.accounts import (
    add_account,
    choose_folders,
    remove_account,
    server_folder_list,
    set_flags,
    sync_accounts,
    test_login,
)
from app.cli import command, group, json_flag
from app.cli.messages import library, synced_folder
from app.cli.output import Record, Reply
from app.cli.prompt import read_secret
from app.errors import BadInput, Exit, MailproofError
from app.imap.account import DEFAULT_PORTS, Account
from app.imap.account import load as load_account
from app.imap.account import load_all as load_accounts

group("account", "IMAP accounts: add, list, remove, test")


def _name_and_json(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name")
    json_flag(parser)


def _add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name")
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", type=int, help="default 993 for tls, 143 for starttls")
    parser.add_argument("--security", choices=("tls", "starttls", "plain"), default="tls")
    parser.add_argument("--user", required=True)
    parser.add_argument("--ca-file", metavar="PEM", help="trust this CA (else the system's)")
    parser.add_argument(
        "--allow-insecure",
        action="store_true",
        help="lab servers only: allow plaintext; shows a permanent warning",
    )
    parser.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (else asked without echo)",
    )
    parser.add_argument("--no-test", action="store_true", help="save without logging in first")
    parser.add_argument(
        "--folder",
        action="append",
        metavar="F",
        help="sync only this folder (repeat; default every folder; an update keeps the choice)",
    )
    json_flag(parser)


@command("account add", "add (or update) an account", _add_arguments)
def account_add(args: argparse.Namespace) -> Reply:
    store = library()
    existing = {a.name: a for a in load_accounts(store)}.get(args.name)
    account = Account(
        name=args.name,
        host=args.host,
        port=args.port or DEFAULT_PORTS[args.security],
        security=args.security,
        user=args.user,
        ca_file=str(Path(args.ca_file).resolve()) if args.ca_file else None,
        allow_insecure=args.allow_insecure,
        folders=tuple(args.folder) if args.folder else (existing.folders if existing else None),
    ).check_files()
    secrets.backend()  # no usable keyring: say so before asking for a password
    password = read_secret(
        f"Password for {args.user} at {args.host}: ",
        what="the password",
        from_stdin=args.password_stdin,
    )
    info = add_account(store, account, password, test=not args.no_test)
    document: dict[str, Any] = {"account": account.to_json(), "tested": info is not None}
    if info is not None:
        document["connection"] = info.to_json()
    return Reply(
        document=document,
        text=f"account {account.name} saved" + (" (login tested)" if info else ""),
        warnings=[account.warning] if account.warning else [],
    )


@command("account list", "list the accounts", json_flag)
def account_list(_args: argparse.Namespace) -> Reply:
    records = []
    for account in load_accounts(library()):
        flag = "  INSECURE" if account.allow_insecure else ""
        text = f"{account.name}  {account.user}@{account.host}:{account.port} ({account.security})"
        records.append(Record(account.to_json(), text + flag))
    return Reply(records=records)


@command("account remove", "remove an account", _name_and_json)
def account_remove(args: argparse.Namespace) -> Reply:
    account = remove_account(library(), args.name)
    return Reply(
        document={"account": account.name, "removed": True},
        text=f"account {account.name} removed; its synced messages stay in the store",
    )


@command("account test", "connect and log in, report TLS and capabilities", _name_and_json)
def account_test(args: argparse.Namespace) -> Reply:
    account = load_account(library(), args.name)
    warnings = [account.warning] if account.warning else []
    try:
        info = test_login(account)
    except MailproofError as err:
        document = {"account": account.name, "ok": False, "error": str(err)}
        return Reply(document=document if args.json else None, warnings=warnings, failure=err)
    tls = f"{info.tls_version} {info.cipher}" if info.tls_version else "NO TLS"
    return Reply(
        document={"account": account.name, "ok": True, **info.to_json()},
        text=f"{account.name}: login ok at {info.server} ({tls})",
        warnings=warnings,
    )


def _folders_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name")
    choice = parser.add_mutually_exclusive_group()
    choice.add_argument(
        "--only", action="append", metavar="F", help="sync only these folders (repeat)"
    )
    choice.add_argument("--all", action="store_true", help="sync every folder (the default)")
    json_flag(parser, "one JSON object per folder")


@command(
    "account folders",
    "list the server's folders and which are synced; choose them",
    _folders_arguments,
)
def account_folders(args: argparse.Namespace) -> Reply:
    """List the server's folders with the sync choice; ``--only``/``--all`` change it."""
    store = library()
    account = load_account(store, args.name)
    warnings = [account.warning] if account.warning else []
    remote = server_folder_list(account)
    names = [folder.name for folder in remote]
    if args.only or args.all:
        account = choose_folders(store, account, args.only if args.only else None, names)
    chosen = set(account.folders) if account.folders is not None else set(names)
    records = []
    for folder in remote:
        mark = "[x]" if folder.name in chosen else "[ ]"
        role = f"  ({folder.role.lstrip(chr(92))})" if folder.role else ""
        data = {
            "folder": folder.name,
            "role": folder.role,
            "attributes": list(folder.attributes),
            "sync": folder.name in chosen,
        }
        records.append(Record(data, f"{mark} {folder.name}{role}"))
    warnings += [
        f"{account.name}/{name} is chosen for sync but no longer on the server"
        for name in sorted(chosen - set(names))
    ]
    return Reply(records=records, warnings=warnings)


# -- sync -----------------------------------------------------------------------------------
def _sync_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", nargs="?", help="the account (default: every account)")
    parser.add_argument("--folder", action="append", metavar="F", help="only this folder (repeat)")
    json_flag(parser, "one JSON object per account")


@command("sync", "download new mail from IMAP accounts into the store", _sync_arguments)
def sync(args: argparse.Namespace) -> Reply:
    from app.cli.search import update_index_quietly
    from app.tasks import stderr_progress

    store = library()
    if not args.name and not load_accounts(store):
        raise BadInput("no account configured: add one with `mailproof account add`")
    reports = sync_accounts(
        store,
        [args.name] if args.name else None,
        only_folders=args.folder,
        progress_for=lambda account: stderr_progress(account.name),
    )
    reply = Reply()
    failed = []

    def records() -> Iterator[Record]:  # each account's report as soon as it is synced
        for account, report in reports:
            if account.warning:
                reply.warnings.append(account.warning)
            failed.append(report.failed)
            lines = []
            for folder in report.folders:
                where = f"{report.account}/{folder.folder}"
                lines.append(
                    f"{where}: {folder.new} new, {folder.changed} changed, {folder.expunged} "
                    f"gone from the server, {folder.bytes_downloaded} bytes"
                    + (f" — ERROR: {folder.error}" if folder.error else "")
                )
                reply.warnings.extend(f"{where}: {warning}" for warning in folder.warnings)
                if folder.error:
                    reply.errors.append(f"{where}: {folder.error}")
            yield Record(report.to_json(), "\n".join(lines) if lines else None)
        index_problem = update_index_quietly(store)
        if index_problem:
            reply.warnings.append(index_problem)

    reply.records = records()
    reply.exit = lambda: Exit.PROBLEMS if any(failed) else Exit.OK
    return reply


# -- flag -----------------------------------------------------------------------------------
def _flag_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("where", metavar="ACCOUNT/FOLDER")
    parser.add_argument("uid", type=int)
    for name, text in (
        ("seen", "mark read"),
        ("unseen", "mark unread"),
        ("flagged", "flag"),
        ("unflagged", "remove the flag"),
    ):
        parser.add_argument(f"--{name}", action="store_true", help=text)
    json_flag(parser)


@command("flag", "change \\Seen or \\Flagged of a synced message", _flag_arguments)
def flag(args: argparse.Namespace) -> Reply:
    from app.cli.search import update_index_quietly

    synced = synced_folder(args.where)
    if synced is None:
        raise BadInput(f"{args.where} is not a synced ACCOUNT/FOLDER")
    store, folder_id = synced
    copy_id = store.sync_state.copy_at_uid(folder_id, args.uid)
    if copy_id is None:
        raise BadInput(f"no message with UID {args.uid} in {args.where}")
    add = [f for f, on in (("\\Seen", args.seen), ("\\Flagged", args.flagged)) if on]
    remove = [f for f, on in (("\\Seen", args.unseen), ("\\Flagged", args.unflagged)) if on]
    if not add and not remove:
        raise BadInput("say what to change: --seen, --unseen, --flagged or --unflagged")
    flags = set_flags(store, copy_id, add=add, remove=remove)
    index_problem = update_index_quietly(store)
    return Reply(
        document={"folder": args.where, "uid": args.uid, "flags": flags.split()},
        text=f"{args.where} UID {args.uid}: {flags or '(no flags)'}",
        warnings=[index_problem] if index_problem else [],
    )
