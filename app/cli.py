"""The ``mailproof`` command: no arguments opens the window, subcommands are the CLI.

Conventions (the README's CLI reference is the contract): ``--json`` writes JSON to stdout and
nothing else; messages go to stderr; exit 0 success, 1 done but the input had problems (each named
on stderr), 2 bad usage or unusable input, 3 environment unavailable (store, display).
"""

from __future__ import annotations

import argparse
import datetime as dt
import getpass
import importlib
import json
import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, TextIO

from app import __version__, audit, search_cli, secrets
from app.config import data_home
from app.crypto import keys
from app.delivery.locate import locate
from app.errors import BadInput, MailproofError, MessageNotFound
from app.guard import guarded, setup_logging
from app.imap.account import DEFAULT_PORTS, Account
from app.imap.account import delete as delete_account
from app.imap.account import load as load_account
from app.imap.account import load_all as load_accounts
from app.imap.account import save as save_account
from app.imap.connection import check_login, server_folders
from app.imap.flags import change_flags
from app.imap.sync import sync_account
from app.mime.render import render
from app.mime.summary import MessageSummary, summarize
from app.sources import MailSource, RawMessage, open_source
from app.store.atomic import write_atomic
from app.store.library import Library, _one, local_account
from app.tasks import stderr_progress

log = logging.getLogger("mailproof")

EXIT_OK, EXIT_PROBLEMS, EXIT_USAGE, EXIT_ENVIRONMENT = 0, 1, 2, 3


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own usage errors: one line, exit 2
        self.print_usage(sys.stderr)
        self.exit(EXIT_USAGE, f"mailproof: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mailproof",
        description="Secure-mail reader, archive search and delivery forensics.",
    )
    parser.add_argument("--version", action="version", version=f"mailproof {__version__}")
    parser.add_argument("--debug", action="store_true", help="print tracebacks to stderr")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    open_cmd = commands.add_parser("open", help="open the window on a Maildir, mbox or .eml folder")
    open_cmd.add_argument("path")

    list_cmd = commands.add_parser(
        "list", help="list the messages of a Maildir, mbox or .eml folder"
    )
    list_cmd.add_argument("path")
    list_cmd.add_argument("--json", action="store_true", help="one JSON object per line")

    show_cmd = commands.add_parser("show", help="show one message of a local source")
    show_cmd.add_argument("path")
    show_cmd.add_argument("id", help="the id from `list` (any unique SHA-256 prefix) or Message-ID")
    fmt = show_cmd.add_mutually_exclusive_group()
    fmt.add_argument("--raw", action="store_true", help="the exact bytes, unchanged")
    fmt.add_argument("--json", action="store_true", help="one JSON document")

    decrypt_cmd = commands.add_parser(
        "decrypt",
        help="decrypt and verify an S/MIME or OpenPGP message in memory; say what protected what",
    )
    decrypt_cmd.add_argument(
        "target", help="a .eml file, or a stored message's SHA-256 (prefix) or Message-ID"
    )
    decrypt_cmd.add_argument("--json", action="store_true", help="one JSON document")

    account = commands.add_parser("account", help="IMAP accounts: add, list, remove, test")
    account_commands = account.add_subparsers(
        dest="account_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    add = account_commands.add_parser("add", help="add (or update) an account")
    add.add_argument("name")
    add.add_argument("--host", required=True)
    add.add_argument("--port", type=int, help="default 993 for tls, 143 for starttls")
    add.add_argument("--security", choices=("tls", "starttls", "plain"), default="tls")
    add.add_argument("--user", required=True)
    add.add_argument("--ca-file", metavar="PEM", help="trust this CA (else the system's)")
    add.add_argument(
        "--allow-insecure",
        action="store_true",
        help="lab servers only: allow plaintext; shows a permanent warning",
    )
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (else asked without echo)",
    )
    add.add_argument("--no-test", action="store_true", help="save without logging in first")
    add.add_argument(
        "--folder",
        action="append",
        metavar="F",
        help="sync only this folder (repeat; default every folder; an update keeps the choice)",
    )
    add.add_argument("--json", action="store_true")
    for action, text in (
        ("list", "list the accounts"),
        ("remove", "remove an account"),
        ("test", "connect and log in, report TLS and capabilities"),
    ):
        sub_parser = account_commands.add_parser(action, help=text)
        if action != "list":
            sub_parser.add_argument("name")
        sub_parser.add_argument("--json", action="store_true")
    folders_cmd = account_commands.add_parser(
        "folders", help="list the server's folders and which are synced; choose them"
    )
    folders_cmd.add_argument("name")
    choice = folders_cmd.add_mutually_exclusive_group()
    choice.add_argument(
        "--only", action="append", metavar="F", help="sync only these folders (repeat)"
    )
    choice.add_argument("--all", action="store_true", help="sync every folder (the default)")
    folders_cmd.add_argument("--json", action="store_true", help="one JSON object per folder")

    trace_cmd = commands.add_parser(
        "trace", help="the delivery verdict: hops, TLS, DKIM/ARC, claims, copies, hints"
    )
    traced = trace_cmd.add_mutually_exclusive_group(required=True)
    traced.add_argument("file", nargs="?", metavar="FILE", help="a .eml file")
    traced.add_argument("--message-id", metavar="ID", help="a stored message")
    trace_cmd.add_argument("--json", action="store_true", help="one JSON document")
    trace_cmd.add_argument(
        "--offline", action="store_true", help="no DNS lookups: DKIM/ARC are 'not checked'"
    )
    trace_cmd.add_argument(
        "--dns-server", metavar="HOST:PORT", help="resolver for DKIM keys (default: the system's)"
    )

    inv = commands.add_parser(
        "investigate", help="where is my message? every folder, bounces, an outcome, next steps"
    )
    inv.add_argument("--message-id", metavar="ID")
    inv.add_argument("--from", dest="from_addr", metavar="A", help="the sender's address")
    inv.add_argument("--to", dest="to_addr", metavar="B", help="the recipient's address")
    inv.add_argument("--subject", metavar="TEXT")
    inv.add_argument("--date", metavar="DAY", help="YYYY-MM-DD or an ISO time (UTC)")
    inv.add_argument("--window", type=float, default=24.0, metavar="HOURS", help="± hours")
    inv.add_argument(
        "--retention-days", type=int, default=14, help="how long providers keep logs (14)"
    )
    inv.add_argument(
        "--account", metavar="NAME", help="read this account's server filters (ManageSieve)"
    )
    inv.add_argument("--sieve-port", type=int, default=4190, help="ManageSieve port (4190)")
    inv.add_argument(
        "--list", action="store_true", help="the investigations made so far (newest first)"
    )
    inv.add_argument("--json", action="store_true", help="one JSON document")

    import_cmd = commands.add_parser(
        "import", help="copy a local archive (mbox, Maildir, .eml folder or file) into the store"
    )
    import_cmd.add_argument("path")
    import_cmd.add_argument(
        "--folder",
        metavar="NAME",
        help="name of the folder it goes to (a Maildir's subfolders go below it)",
    )
    import_cmd.add_argument("--json", action="store_true", help="one JSON document")

    locate_cmd = commands.add_parser(
        "locate", help="every stored copy of a message: accounts, folders, imports, provenance"
    )
    which = locate_cmd.add_mutually_exclusive_group(required=True)
    which.add_argument("--message-id", metavar="ID")
    which.add_argument("--sha256", metavar="H", help="the stored bytes' SHA-256")
    which.add_argument("file", nargs="?", metavar="FILE", help="a .eml file: find its copies")
    locate_cmd.add_argument("--json", action="store_true", help="one JSON document")

    keys_cmd = commands.add_parser(
        "keys", help="your S/MIME and OpenPGP keys (private parts only in the OS keyring)"
    )
    keys_commands = keys_cmd.add_subparsers(
        dest="keys_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    key_import = keys_commands.add_parser(
        "import", help="import a PKCS#12 (.p12/.pfx) identity or an OpenPGP secret key"
    )
    key_import.add_argument("file")
    key_import.add_argument(
        "--passphrase-stdin",
        action="store_true",
        help="read the passphrase from standard input (else asked without echo)",
    )
    key_import.add_argument("--json", action="store_true")
    key_list = keys_commands.add_parser("list", help="the imported keys")
    key_list.add_argument("--json", action="store_true")
    key_remove = keys_commands.add_parser("remove", help="forget a key and its secret")
    key_remove.add_argument("id")
    key_remove.add_argument("--json", action="store_true")
    key_export = keys_commands.add_parser(
        "export-public", help="print the certificate (PEM) or public key (armored)"
    )
    key_export.add_argument("id")
    key_trust = keys_commands.add_parser("trust", help="add a CA certificate as trust anchor")
    key_trust.add_argument("ca", metavar="CA.pem")
    key_trust.add_argument("--json", action="store_true")

    audit_cmd = commands.add_parser(
        "audit", help="the tamper-evident log of who viewed, decrypted, exported what"
    )
    audit_commands = audit_cmd.add_subparsers(
        dest="audit_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    audit_show = audit_commands.add_parser("show", help="the entries, oldest first")
    audit_show.add_argument("--since", metavar="DATE", help="YYYY-MM-DD or an ISO time (UTC)")
    audit_show.add_argument("--json", action="store_true", help="one JSON entry per line")
    audit_verify = audit_commands.add_parser(
        "verify", help="check the hash chain; name the first edited/removed/reordered entry"
    )
    audit_verify.add_argument("--json", action="store_true")
    audit_export = audit_commands.add_parser("export", help="the log exactly as written")
    audit_export.add_argument("-o", "--output", metavar="FILE", help="write here, not stdout")

    evidence_cmd = commands.add_parser(
        "evidence", help="delivery-evidence packages: export one, verify one"
    )
    evidence_commands = evidence_cmd.add_subparsers(
        dest="evidence_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    export = evidence_commands.add_parser("export", help="write the package of one message")
    target = export.add_mutually_exclusive_group(required=True)
    target.add_argument("--message-id", metavar="ID")
    target.add_argument("--sha256", metavar="H")
    target.add_argument("file", nargs="?", metavar="FILE", help="a .eml file")
    export.add_argument("-o", "--output", metavar="OUT.zip", required=True)
    export.add_argument(
        "--sign", metavar="IDENTITY", help="S/MIME key id or address (see `keys list`)"
    )
    export.add_argument(
        "--offline", action="store_true", help="record no DNS answers (DKIM not checked)"
    )
    export.add_argument("--dns-server", metavar="HOST:PORT", help="resolver for DKIM keys")
    export.add_argument("--json", action="store_true")
    check = evidence_commands.add_parser("verify", help="re-check every hash and the signature")
    check.add_argument(
        "--live-dns", action="store_true", help="also re-check DKIM with today's DNS"
    )
    check.add_argument("--dns-server", metavar="HOST:PORT", help="resolver for --live-dns")
    check.add_argument("package", metavar="OUT.zip")
    check.add_argument(
        "--ca-file", metavar="PEM", help="trust this CA for the signature (besides `keys trust`)"
    )
    check.add_argument("--json", action="store_true")

    keyring_cmd = commands.add_parser(
        "keyring", help="where passwords are kept: the OS keyring or an encrypted file"
    )
    keyring_commands = keyring_cmd.add_subparsers(
        dest="keyring_command", metavar="ACTION", parser_class=_Parser, required=True
    )
    status = keyring_commands.add_parser("status", help="which keyring holds the secrets")
    status.add_argument("--json", action="store_true")
    use_file = keyring_commands.add_parser(
        "use-file",
        help="keep secrets in an encrypted file protected by a master password "
        "(when no OS keyring is usable)",
    )
    use_file.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the master password from standard input (else asked twice without echo)",
    )
    use_file.add_argument("--json", action="store_true")
    use_os = keyring_commands.add_parser("use-os", help="go back to the OS keyring")
    use_os.add_argument("--json", action="store_true")

    sync = commands.add_parser("sync", help="download new mail from IMAP accounts into the store")
    sync.add_argument("name", nargs="?", help="the account (default: every account)")
    sync.add_argument("--folder", action="append", metavar="F", help="only this folder (repeat)")
    sync.add_argument("--json", action="store_true", help="one JSON object per account")

    flag = commands.add_parser("flag", help="change \\Seen or \\Flagged of a synced message")
    flag.add_argument("where", metavar="ACCOUNT/FOLDER")
    flag.add_argument("uid", type=int)
    for name, text in (
        ("seen", "mark read"),
        ("unseen", "mark unread"),
        ("flagged", "flag"),
        ("unflagged", "remove the flag"),
    ):
        flag.add_argument(f"--{name}", action="store_true", help=text)
    flag.add_argument("--json", action="store_true")

    search_cli.add_commands(commands)

    settings_cmd = commands.add_parser("settings", help="show or change settings")
    settings_commands = settings_cmd.add_subparsers(dest="settings_command")
    settings_show = settings_commands.add_parser("show", help="every setting and its value")
    settings_show.add_argument("--json", action="store_true", help="one JSON document")
    settings_set = settings_commands.add_parser("set", help="change one setting (audited)")
    settings_set.add_argument("name", help="e.g. lock-minutes")
    settings_set.add_argument("value", type=int)
    settings_set.add_argument("--json", action="store_true", help="one JSON document")

    shot = commands.add_parser("screenshot", help="render the window and save it as a PNG")
    shot.add_argument("out", metavar="OUT.png")
    shot.add_argument("path", nargs="?", help="mail to show (default: the demo archive)")
    shot.add_argument("--size", default="1280x800", help="window size, WIDTHxHEIGHT")
    return parser


def _warn(message: str) -> None:
    print(f"mailproof: warning: {message}", file=sys.stderr)


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


def _shorten(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _synced_folder(spec: str) -> tuple[Library, int] | None:
    """``ACCOUNT/FOLDER`` of a synced account, when ``spec`` is not a path on disk."""
    if Path(spec).exists() or "/" not in spec:
        return None
    account, folder = spec.split("/", 1)
    library = _library()
    if not library.accounts.exists(account):
        return None
    folder_id = library.find_folder(account, folder)
    if folder_id is None:
        raise BadInput(f"account {account} has no synced folder {folder!r} (run `mailproof sync`)")
    return library, folder_id


def _list_synced(library: Library, folder_id: int, as_json: bool, out: TextIO) -> int:
    for copy in library.folder_copies(folder_id):
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
        if as_json:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            gone = "  [gone from server]" if copy.expunged_at else ""
            out.write(
                f"{record['id']}  {record['date'] or '(no date)':20}  uid {copy.uid:<7} "
                f"{_shorten(record['from'] or '', 30):30}  {_shorten(record['subject'] or '', 60)}"
                f"{gone}\n"
            )
    return EXIT_OK


def cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    synced = _synced_folder(args.path)
    if synced is not None:
        return _list_synced(*synced, args.json, out)
    source = open_source(args.path)
    problems = 0
    unreadable: list[str] = []
    for message in source.messages(unreadable):
        summary = summarize(message.raw)
        record = _list_record(message, summary)
        for problem in record["problems"]:
            problems += 1
            _warn(f"{record['id']} ({record['folder']}): {problem}")
        if args.json:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            to_count = len(summary.to) + len(summary.cc)
            out.write(
                f"{record['id']}  {record['date'] or '(no date)':20}  "
                f"{_shorten(record['folder'], 10):10}  {_shorten(record['from'], 30):30}  "
                f"{_shorten(record['subject'], 60)}"
                + (f"  [{to_count} recipients]" if to_count > 20 else "")
                + "\n"
            )
    for error in unreadable:
        _warn(error)
    return EXIT_PROBLEMS if problems or unreadable else EXIT_OK


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


def _protection(raw: bytes) -> dict[str, Any]:
    from app.delivery.received import hops_of  # delivery analysis loads dkimpy: only here
    from app.delivery.verdict import protection_of

    return protection_of(raw, hops_of(raw)).to_json()


def _cues(raw: bytes) -> list[Any]:
    from app.investigate.cues import cues

    return cues(raw)


def cmd_show(args: argparse.Namespace, out: TextIO) -> int:
    message = find_message(args.path, args.id)
    summary = summarize(message.raw)
    audit.record(
        "message viewed",
        {"sha256": summary.sha256, "message_id": summary.message_id},
        source=message.provenance.source_path,
        form="raw" if args.raw else "json" if args.json else "text",
    )
    if args.raw:
        out.flush()
        sys.stdout.buffer.write(message.raw)
        sys.stdout.buffer.flush()
        return EXIT_OK
    rendered = render(message.raw)
    problems = list(message.problems) + list(rendered.warnings)
    if args.json:
        document = {
            "id": summary.sha256[:12],
            "sha256": summary.sha256,
            "size": summary.size,
            "message_id": summary.message_id,
            "date_utc": summary.date_iso,
            "folder": message.provenance.folder,
            "source": message.provenance.source_path,
            **rendered.to_json(),
            "protection": _protection(message.raw),
            "cues": [c.to_json() for c in _cues(message.raw)],
        }
        out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    else:
        for name, value in (
            ("From", rendered.from_),
            ("To", rendered.to),
            ("Cc", rendered.cc),
            ("Date", rendered.date),
            ("Subject", rendered.subject),
        ):
            if value:
                out.write(f"{name}: {value}\n")
        out.write("\n" + rendered.text.rstrip() + "\n")
        if rendered.blocked_remote:
            out.write(f"\n[{len(rendered.blocked_remote)} remote item(s) blocked]\n")
        for attachment in rendered.attachments:
            out.write(
                f"[attachment {attachment.index}: {attachment.safe_name} "
                f"({attachment.content_type}, {attachment.size} bytes)]\n"
            )
    for problem in problems:
        _warn(problem)
    return EXIT_PROBLEMS if problems else EXIT_OK


def _window(args: argparse.Namespace) -> int:
    # The window lives in ui/ (Qt); the core only dispatches to it by name.
    ui_main = importlib.import_module("ui.main")
    code: int = ui_main.run(args)
    return code


def _library() -> Library:
    return Library(data_home())


def _read_password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif sys.stdin.isatty():
        password = getpass.getpass(f"Password for {args.user} at {args.host}: ")
    else:
        raise BadInput("no terminal to ask for the password: use --password-stdin")
    if not password:
        raise BadInput("the password is empty")
    return password


def cmd_account(args: argparse.Namespace, out: TextIO) -> int:
    library = _library()
    action = args.account_command
    if action == "add":
        security = args.security
        existing = {a.name: a for a in load_accounts(library)}.get(args.name)
        account = Account(
            name=args.name,
            host=args.host,
            port=args.port or DEFAULT_PORTS[security],
            security=security,
            user=args.user,
            ca_file=str(Path(args.ca_file).resolve()) if args.ca_file else None,
            allow_insecure=args.allow_insecure,
            folders=tuple(args.folder) if args.folder else (existing.folders if existing else None),
        ).check_files()
        secrets.backend()  # no usable keyring: say so before asking for a password
        password = _read_password(args)
        info = None if args.no_test else check_login(account, password)
        secrets.set_password(account.name, password)
        save_account(library, account)
        if account.warning:
            _warn(account.warning)
        result: dict[str, Any] = {"account": account.to_json(), "tested": info is not None}
        if info is not None:
            result["connection"] = info.to_json()
        if args.json:
            out.write(json.dumps(result) + "\n")
        else:
            out.write(f"account {account.name} saved" + (" (login tested)" if info else "") + "\n")
        return EXIT_OK
    if action == "list":
        for account in load_accounts(library):
            if args.json:
                out.write(json.dumps(account.to_json()) + "\n")
            else:
                flag = "  INSECURE" if account.allow_insecure else ""
                out.write(
                    f"{account.name}  {account.user}@{account.host}:{account.port} "
                    f"({account.security}){flag}\n"
                )
        return EXIT_OK
    account = load_account(library, args.name)
    if action == "folders":
        return _account_folders(library, account, args, out)
    if action == "remove":
        delete_account(library, account.name)
        secrets.delete_password(account.name)
        if args.json:
            out.write(json.dumps({"account": account.name, "removed": True}) + "\n")
        else:
            out.write(f"account {account.name} removed; its synced messages stay in the store\n")
        return EXIT_OK
    # test
    if account.warning:
        _warn(account.warning)
    try:
        info = check_login(account, secrets.get_password(account.name))
    except MailproofError as err:
        if args.json:
            out.write(json.dumps({"account": account.name, "ok": False, "error": str(err)}) + "\n")
        raise
    if args.json:
        out.write(json.dumps({"account": account.name, "ok": True, **info.to_json()}) + "\n")
    else:
        tls = f"{info.tls_version} {info.cipher}" if info.tls_version else "NO TLS"
        out.write(f"{account.name}: login ok at {info.server} ({tls})\n")
    return EXIT_OK


def _account_folders(
    library: Library, account: Account, args: argparse.Namespace, out: TextIO
) -> int:
    """List the server's folders with the sync choice; ``--only``/``--all`` change it."""
    if account.warning:
        _warn(account.warning)
    remote = server_folders(account, secrets.get_password(account.name))
    names = [folder.name for folder in remote]
    if args.only:
        unknown = [name for name in args.only if name not in names]
        if unknown:
            raise BadInput(
                f"{account.name} has no folder {', '.join(map(repr, unknown))} on the server "
                f"(it has: {', '.join(names)})"
            )
        account = replace(account, folders=tuple(dict.fromkeys(args.only)))
        save_account(library, account)
    elif args.all:
        account = replace(account, folders=None)
        save_account(library, account)
    chosen = set(account.folders) if account.folders is not None else set(names)
    for folder in remote:
        record = {
            "folder": folder.name,
            "role": folder.role,
            "attributes": list(folder.attributes),
            "sync": folder.name in chosen,
        }
        if args.json:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
        else:
            mark = "[x]" if record["sync"] else "[ ]"
            role = f"  ({folder.role.lstrip(chr(92))})" if folder.role else ""
            out.write(f"{mark} {folder.name}{role}\n")
    for name in sorted(chosen - set(names)):
        _warn(f"{account.name}/{name} is chosen for sync but no longer on the server")
    return EXIT_OK


def cmd_trace(args: argparse.Namespace, out: TextIO) -> int:
    from app.delivery.dns import live_resolver
    from app.delivery.verdict import trace

    library = _library()
    stored = None if args.file else library.resolve(args.message_id)
    raw = single_message(args.file) if stored is None else library.raw(stored)
    own = [a.user.rsplit("@", 1)[1] for a in load_accounts(library) if "@" in a.user]
    verdict = trace(
        raw,
        resolver=None if args.offline else live_resolver(args.dns_server),
        offline=args.offline,
        library=library,
        own_domains=own,
    )
    if args.json:
        out.write(json.dumps(verdict.to_json(), ensure_ascii=False) + "\n")
        return EXIT_OK
    out.write(verdict.summary + "\n\n")
    for number, hop in enumerate(verdict.hops, start=1):
        shown = hop.tls_text
        delay = f" +{hop.delay_seconds}s" if hop.delay_seconds is not None else ""
        if not hop.parsed:
            out.write(f"{number:>2}. (unreadable) {hop.raw[:100]}\n")
            continue
        out.write(
            f"{number:>2}. {hop.timestamp or 'no date'}{delay}  {hop.from_host or '?'} "
            f"[{hop.from_ip or '?'}] → {hop.by_host or '?'}  {hop.protocol or ''}  {shown}"
            f"  id {hop.id or '-'}\n"
        )
    for result in verdict.dkim:
        out.write(f"DKIM {result.result}: {result.domain} ({result.selector}) — "
                  f"{result.explanation}\n")  # fmt: skip
    out.write(f"ARC {verdict.arc.result}: {verdict.arc.explanation}\n")
    if verdict.protection is not None:
        out.write(f"protection: {verdict.protection.level} — {verdict.protection.explanation}\n")
    for claim in verdict.authentication_results:
        said = ", ".join(f"{r['method']}={r['result']}" for r in claim.results) or claim.raw
        out.write(f"claimed by {claim.authserv_id}: {said}\n")
    for copy in verdict.locations:
        out.write(f"copy: {copy.account}/{copy.folder} sha256 {copy.sha256[:16]}…\n")
    for hint in verdict.hints:
        out.write(f"hint: {hint}\n")
    for cue in verdict.cues:
        out.write(f"cue ({cue.severity}): {cue.explanation}\n")
    for warning in verdict.warnings:
        _warn(warning)
    return EXIT_OK


def cmd_investigate(args: argparse.Namespace, out: TextIO) -> int:
    from app.delivery.locate import normalise_message_id
    from app.investigate.search import Query, investigate, recorded

    if args.list:
        for record in recorded():
            if args.json:
                out.write(json.dumps(record, ensure_ascii=False) + "\n")
            else:
                asked = ", ".join(f"{k}={v}" for k, v in record["query"].items() if v)
                out.write(
                    f"{record['investigated_at']}  {record['outcome']:<15} {asked}  "
                    f"({len(record['hits'])} hits) {record['file']}\n"
                )
        return EXIT_OK

    query = Query(
        message_id=normalise_message_id(args.message_id) if args.message_id else None,
        from_addr=args.from_addr,
        to_addr=args.to_addr,
        subject=args.subject,
        date=_since(args.date, "--date"),
        window_hours=args.window,
    )
    library = _library()
    scripts, problem = None, "give --account to read the server's filters (ManageSieve)"
    if args.account:
        from app.investigate.sieve import read_scripts

        account = load_account(library, args.account)
        try:
            scripts = read_scripts(account, secrets.get_password(account.name), args.sieve_port)
        except MailproofError as err:
            problem = str(err)
    result = investigate(
        library,
        query,
        retention_days=args.retention_days,
        sieve=scripts,
        sieve_problem=problem,
    )
    if args.json:
        out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
        return EXIT_OK
    out.write(f"outcome: {result.outcome}\n")
    for reason in result.reasons:
        out.write(f"  - {reason}\n")
    for hit in result.hits[:20]:
        out.write(
            f"  {hit.score:.2f}  {hit.account}/{hit.folder}  {hit.date_utc or '-'}  "
            f"{hit.subject[:60]}  ({hit.state}; {', '.join(hit.reasons)})\n"
        )
    for step in result.next_steps:
        out.write(f"next: {step}\n")
    out.write("\n" + result.provider_request + "\n")
    return EXIT_OK


def cmd_import(args: argparse.Namespace, out: TextIO) -> int:
    source = open_source(args.path)
    if args.folder:
        source = renamed(source, args.folder)
    library = _library()
    report = library.ingest(source, progress=stderr_progress(f"import {source.root.name}"))
    index_problem = search_cli.update_index_quietly(library)
    if index_problem:
        _warn(index_problem)
    folders = [
        {"folder": info.name, "messages": info.total}
        for info in library.folders(local_account(source.root))
        if info.id in report.folder_ids
    ]
    result = {
        "source": str(source.root),
        "account": local_account(source.root),
        "added": report.copies,
        "new_messages": report.added,
        "known": report.known,
        "folders": folders,
        "problems": report.problems,
    }
    if args.json:
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    else:
        out.write(
            f"imported {source.root}: {report.copies} message(s) ({report.added} new to the "
            f"store), {report.known} already imported from here, in {len(folders)} folder(s)\n"
        )
    for problem in report.problems:
        _warn(problem)
    return EXIT_PROBLEMS if report.problems else EXIT_OK


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


def single_message(path: str) -> bytes:
    """The bytes of the one message in ``path`` (a .eml file, or a source holding one)."""
    messages = list(open_source(path).messages())
    if len(messages) != 1:
        raise BadInput(
            f"{path} holds {len(messages)} messages: give a single .eml file, or use --message-id"
        )
    return messages[0].raw


def cmd_decrypt(args: argparse.Namespace, out: TextIO) -> int:
    from app.crypto.secure import read_secure

    if Path(args.target).exists():
        raw = single_message(args.target)
    else:
        library = _library()
        raw = library.raw(library.resolve(args.target))
    reading = read_secure(raw)
    summary = summarize(raw)
    if args.json:
        document = {"sha256": summary.sha256, "message_id": summary.message_id}
        document.update(reading.to_json())
        out.write(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(reading.badge + "\n")
        if reading.encryption.error:
            out.write(f"encryption: {reading.encryption.error}\n")
        out.write(f"signature: {reading.signature.explanation}\n")
        for part in reading.parts:
            words = [part.encryption.status, part.signature.status]
            out.write(f"  part {part.path} {part.content_type}: encryption {words[0]}, ")
            out.write(f"signature {words[1]}\n")
        out.write("\n" + reading.body_text.rstrip() + "\n")
    for warning in reading.warnings:
        _warn(warning)
    problems = reading.encryption.status == "failed" or reading.signature.status not in (
        "valid",
        "none",
    )
    problems = problems or any(
        part.signature.status not in ("valid", "none") for part in reading.parts
    )
    return EXIT_PROBLEMS if problems else EXIT_OK


def cmd_settings(args: argparse.Namespace, out: TextIO) -> int:
    from app import settings

    if args.settings_command == "set":
        settings.set_value(args.name, args.value)
    values = settings.load()
    if getattr(args, "json", False):
        out.write(json.dumps(values) + "\n")
    else:
        for name, value in values.items():
            out.write(f"{name} = {value}    # {settings.DESCRIPTIONS[name]}\n")
    return EXIT_OK


def cmd_locate(args: argparse.Namespace, out: TextIO) -> int:
    library = _library()
    if args.file:
        summary = summarize(single_message(args.file))
        result = locate(
            library,
            message_id=summary.message_id,
            sha256=None if summary.message_id else summary.sha256,
            subject=summary.subject,
            from_addr=summary.from_[0].addr if summary.from_ else None,
            date_ts=int(summary.date.timestamp()) if summary.date else None,
        )
    else:
        result = locate(library, message_id=args.message_id, sha256=args.sha256)
    if args.json:
        out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
    else:
        out.write(result.summary + "\n")
        if result.note:
            out.write(f"note: {result.note}\n")
        for copy in result.copies:
            where = copy.where + (f"  UID {copy.uid}" if copy.uid is not None else "")
            when = copy.internaldate or copy.imported_at or ""
            state = "  (deleted on the server, kept here)" if copy.expunged_at else ""
            out.write(f"  {where}  {when}  sha256 {copy.sha256[:16]}…{state}\n")
        if not result.copies:
            out.write("searched:\n" + "".join(f"  {place}\n" for place in result.searched))
    return EXIT_OK if result.copies else EXIT_PROBLEMS


def cmd_keys(args: argparse.Namespace, out: TextIO) -> int:
    action = args.keys_command
    if action == "import":
        path = Path(args.file)
        if args.passphrase_stdin:
            passphrase: str | None = sys.stdin.readline().rstrip("\r\n") or None
        elif sys.stdin.isatty():
            passphrase = getpass.getpass(f"Passphrase of {path.name} (empty if none): ") or None
        else:
            passphrase = None
        secrets.backend()  # no usable keyring: say so before anything else
        info = keys.import_key_file(path, passphrase)
        if args.json:
            out.write(json.dumps(info.to_json(), ensure_ascii=False) + "\n")
        else:
            out.write(f"imported {info.id} ({info.subject}); its secret is in the keyring\n")
        return EXIT_OK
    if action == "list":
        for info in keys.list_keys():
            if args.json:
                out.write(json.dumps(info.to_json(), ensure_ascii=False) + "\n")
            else:
                emails = ", ".join(info.emails)
                out.write(f"{info.id}  {info.algorithm}  {emails}  until {info.not_after}\n")
        return EXIT_OK
    if action == "remove":
        info = keys.remove_key(args.id)
        if args.json:
            out.write(json.dumps({"id": info.id, "removed": True}) + "\n")
        else:
            out.write(f"removed {info.id} and its secret from the keyring\n")
        return EXIT_OK
    if action == "export-public":
        out.flush()
        sys.stdout.buffer.write(keys.export_public(args.id))
        sys.stdout.buffer.flush()
        return EXIT_OK
    certificate = keys.trust_ca(Path(args.ca))
    subject = certificate.subject.rfc4514_string()
    if args.json:
        out.write(json.dumps({"trusted": subject}, ensure_ascii=False) + "\n")
    else:
        out.write(f"trusting {subject} for S/MIME signatures\n")
    return EXIT_OK


def _since(text: str | None, option: str = "--since") -> dt.datetime | None:
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"{option} {text!r}: give a date as YYYY-MM-DD or an ISO time") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def cmd_audit(args: argparse.Namespace, out: TextIO) -> int:
    action = args.audit_command
    if action == "show":
        for entry in audit.entries(_since(args.since)):
            if args.json:
                out.write(json.dumps(entry, ensure_ascii=False) + "\n")
            else:
                target = entry.get("object")
                if isinstance(target, dict):
                    target = " ".join(f"{k}={v}" for k, v in target.items())
                out.write(
                    f"{entry.get('seq')}  {entry.get('time')}  {entry.get('user')}  "
                    f"{entry.get('action')}  {target or ''}  {entry.get('result')}\n"
                )
        return EXIT_OK
    if action == "verify":
        check = audit.verify()
        if args.json:
            out.write(json.dumps(check.to_json()) + "\n")
        elif check.ok:
            out.write(f"audit log intact: {check.entries} entries, hash chain unbroken\n")
        for note in check.notes:
            _warn(note)
        if not check.ok:
            print(f"mailproof: error: audit log damaged: {check.problem}", file=sys.stderr)
            return EXIT_PROBLEMS
        return EXIT_OK
    data = audit.export_bytes()
    if args.output:
        write_atomic(Path(args.output), data)
    else:
        out.flush()
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
    return EXIT_OK


def cmd_evidence(args: argparse.Namespace, out: TextIO) -> int:
    from app.delivery.dns import live_resolver
    from app.evidence.package import export_evidence, verify_evidence
    from app.evidence.signature import verify_manifest_signature

    if args.evidence_command == "export":
        result = export_evidence(
            _library(),
            Path(args.output),
            message_id=args.message_id,
            sha256=args.sha256,
            file=Path(args.file) if args.file else None,
            sign=args.sign,
            resolver=None if args.offline else live_resolver(args.dns_server),
            offline=args.offline,
        )
        if args.json:
            out.write(json.dumps(result.to_json(), ensure_ascii=False) + "\n")
        else:
            signed = f", signed by {result.signed_by}" if result.signed_by else ""
            out.write(
                f"wrote {result.path}: {len(result.members)} files, {result.copies} stored "
                f"cop{'y' if result.copies == 1 else 'ies'}{signed}\n"
            )
        return EXIT_OK
    anchors = keys.trust_anchors()
    if args.ca_file:
        anchors.append(keys.load_certificate(Path(args.ca_file)))
    report = verify_evidence(
        Path(args.package),
        lambda manifest, p7s: verify_manifest_signature(manifest, p7s, anchors),
        live=live_resolver(args.dns_server) if args.live_dns else None,
    )
    if args.json:
        out.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
    else:
        for check in report.checks:
            out.write(f"{'ok  ' if check.ok else 'FAIL'}  {check.name}: {check.detail}\n")
    if not report.ok:
        bad = next(c for c in report.checks if not c.ok)
        print(f"mailproof: error: {bad.name}: {bad.detail}", file=sys.stderr)
        return EXIT_PROBLEMS
    return EXIT_OK


def cmd_keyring(args: argparse.Namespace, out: TextIO) -> int:
    action = args.keyring_command
    if action == "use-file":
        if args.password_stdin:
            master = sys.stdin.readline().rstrip("\r\n")
        elif sys.stdin.isatty():
            master = getpass.getpass("Master password for Mailproof's encrypted keyring: ")
            is_new = not secrets.file_keyring_path().exists()  # else checked against the file
            if is_new and getpass.getpass("The same again: ") != master:
                raise BadInput("the two master passwords differ; nothing was changed")
        else:
            raise BadInput("no terminal to ask for the master password: use --password-stdin")
        path = secrets.use_file_keyring(master)
        result: dict[str, Any] = {"backend": "encrypted-file", "path": str(path)}
        text = (
            f"secrets are now kept in {path}, encrypted with the master password; it is asked "
            f"for when needed (or read from {secrets.ENV_MASTER}). Add the accounts' passwords "
            "again with `mailproof account add`"
        )
    elif action == "use-os":
        secrets.use_os_keyring()
        result = {"backend": "os"}
        text = "secrets are kept in the OS keyring again (the encrypted file is left as it was)"
    else:
        result = secrets.describe()
        if result["usable"]:
            where = result.get("path") or result["backend"]
            text = f"secrets are kept in {where}"
        else:
            text = f"no usable keyring: {result['error']}"
    out.write((json.dumps(result) if args.json else text) + "\n")
    return EXIT_OK if result.get("usable", True) else EXIT_ENVIRONMENT


def _ask_master_password() -> str:
    """The CLI's source of the encrypted keyring's master password."""
    from_env = os.environ.get(secrets.ENV_MASTER)
    if from_env:
        return from_env
    if sys.stdin.isatty():
        return getpass.getpass("Master password of Mailproof's encrypted keyring: ")
    raise secrets.KeyringUnavailable(
        f"the encrypted keyring is locked and there is no terminal to ask for its master "
        f"password: set {secrets.ENV_MASTER}"
    )


def cmd_sync(args: argparse.Namespace, out: TextIO) -> int:
    library = _library()
    accounts = [load_account(library, args.name)] if args.name else load_accounts(library)
    if not accounts:
        raise BadInput("no account configured: add one with `mailproof account add`")
    failed = False
    for account in accounts:
        if account.warning:
            _warn(account.warning)
        report = sync_account(
            library,
            account,
            secrets.get_password(account.name),
            only_folders=args.folder,
            progress=stderr_progress(f"{account.name}"),
        )
        failed = failed or report.failed
        if args.json:
            out.write(json.dumps(report.to_json(), ensure_ascii=False) + "\n")
        else:
            for folder in report.folders:
                line = (
                    f"{account.name}/{folder.folder}: {folder.new} new, {folder.changed} changed, "
                    f"{folder.expunged} gone from the server, {folder.bytes_downloaded} bytes"
                )
                out.write(line + (f" — ERROR: {folder.error}" if folder.error else "") + "\n")
        for folder in report.folders:
            for warning in folder.warnings:
                _warn(f"{account.name}/{folder.folder}: {warning}")
            if folder.error:
                print(
                    f"mailproof: error: {account.name}/{folder.folder}: {folder.error}",
                    file=sys.stderr,
                )
    index_problem = search_cli.update_index_quietly(library)
    if index_problem:
        _warn(index_problem)
    return EXIT_PROBLEMS if failed else EXIT_OK


def cmd_flag(args: argparse.Namespace, out: TextIO) -> int:
    synced = _synced_folder(args.where)
    if synced is None:
        raise BadInput(f"{args.where} is not a synced ACCOUNT/FOLDER")
    library, folder_id = synced
    copy_id = library.sync_state.copy_at_uid(folder_id, args.uid)
    if copy_id is None:
        raise BadInput(f"no message with UID {args.uid} in {args.where}")
    add = [f for f, on in (("\\Seen", args.seen), ("\\Flagged", args.flagged)) if on]
    remove = [f for f, on in (("\\Seen", args.unseen), ("\\Flagged", args.unflagged)) if on]
    if not add and not remove:
        raise BadInput("say what to change: --seen, --unseen, --flagged or --unflagged")
    account = load_account(library, args.where.split("/", 1)[0])
    flags = change_flags(
        library,
        account,
        secrets.get_password(account.name),
        copy_id,
        add=add,
        remove=remove,
    )
    if args.json:
        out.write(
            json.dumps({"folder": args.where, "uid": args.uid, "flags": flags.split()}) + "\n"
        )
    else:
        out.write(f"{args.where} UID {args.uid}: {flags or '(no flags)'}\n")
    index_problem = search_cli.update_index_quietly(library)
    if index_problem:
        _warn(index_problem)
    return EXIT_OK


COMMANDS = {
    "list": cmd_list,
    "show": cmd_show,
    "decrypt": cmd_decrypt,
    "settings": cmd_settings,
    "account": cmd_account,
    "sync": cmd_sync,
    "flag": cmd_flag,
    "keyring": cmd_keyring,
    "locate": cmd_locate,
    "import": cmd_import,
    "keys": cmd_keys,
    "audit": cmd_audit,
    "evidence": cmd_evidence,
    "trace": cmd_trace,
    "investigate": cmd_investigate,
    **search_cli.COMMANDS,
}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.debug)
    secrets.set_master_password_source(_ask_master_password)

    def run() -> int:
        if args.command in (None, "open", "screenshot"):
            return _window(args)
        return int(COMMANDS[args.command](args, sys.stdout))

    return guarded(run, debug=args.debug)


if __name__ == "__main__":
    sys.exit(main())
