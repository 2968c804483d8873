"""The ``mailproof`` command line: a registry of commands, each declared once beside its handler
in one module per group (``app.cli.accounts``, ``app.cli.search``, …). Only the module of the
verb given is imported, so ``mailproof search`` starts without Qt, IMAP, crypto or the keyring.

Conventions (the README's CLI reference is the contract): ``--json`` writes JSON to stdout and
nothing else; messages go to stderr; exit codes are :class:`app.cli.output.Exit`.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from app import __version__
from app.cli.output import Reply, emit
from app.errors import Exit

Arguments = Callable[[argparse.ArgumentParser], None]
Handler = Callable[[argparse.Namespace], Reply]

# verb -> the module that declares it, in the order `mailproof --help` lists them.
COMMAND_MODULES: dict[str, str] = {
    "open": "app.cli.window",
    "list": "app.cli.messages",
    "show": "app.cli.messages",
    "decrypt": "app.cli.messages",
    "account": "app.cli.accounts",
    "trace": "app.cli.delivery",
    "investigate": "app.cli.delivery",
    "import": "app.cli.messages",
    "locate": "app.cli.delivery",
    "keys": "app.cli.keys",
    "audit": "app.cli.evidence",
    "evidence": "app.cli.evidence",
    "keyring": "app.cli.keys",
    "sync": "app.cli.accounts",
    "flag": "app.cli.accounts",
    "search": "app.cli.search",
    "count": "app.cli.search",
    "index": "app.cli.search",
    "settings": "app.cli.settings",
    "screenshot": "app.cli.window",
}
WINDOW = "open"  # what `mailproof` without a command does


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]  # ("trace",) or ("account", "add")
    help: str
    arguments: Arguments
    run: Handler
    light: bool  # start without logging set up or the keyring's master-password source


@dataclass(frozen=True)
class Group:
    name: str
    help: str
    default: str | None  # the action run when none is given; None: an action is required


COMMANDS: dict[tuple[str, ...], Command] = {}
GROUPS: dict[str, Group] = {}


def group(name: str, help: str, *, default: str | None = None) -> None:
    """Declare a verb whose actions are commands of their own (``account add``, …)."""
    GROUPS[name] = Group(name, help, default)


def command(
    name: str, help: str, arguments: Arguments | None = None, *, light: bool = False
) -> Callable[[Handler], Handler]:
    """Register the decorated handler as ``mailproof NAME`` (``"account add"`` for an action);
    ``arguments`` adds its options to its parser."""

    def register(run: Handler) -> Handler:
        path = tuple(name.split())
        COMMANDS[path] = Command(path, help, arguments or _no_arguments, run, light)
        return run

    return register


def json_flag(parser: argparse.ArgumentParser, help: str | None = None) -> None:
    parser.add_argument("--json", action="store_true", help=help)


def _no_arguments(_parser: argparse.ArgumentParser) -> None:
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own usage errors: one line, exit 2
        self.print_usage(sys.stderr)
        self.exit(Exit.USAGE, f"mailproof: error: {message}\n")


def build_parser(verbs: Sequence[str] = tuple(COMMAND_MODULES)) -> argparse.ArgumentParser:
    """The parser of ``verbs`` (default: every command), importing only their modules."""
    for module in dict.fromkeys(COMMAND_MODULES[verb] for verb in verbs):
        importlib.import_module(module)
    parser = _Parser(
        prog="mailproof", description="Secure-mail reader, archive search and delivery forensics."
    )
    parser.add_argument("--version", action="version", version=f"mailproof {__version__}")
    parser.add_argument("--debug", action="store_true", help="print tracebacks to stderr")
    verbs_parser = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for verb in verbs:
        if verb in GROUPS:
            declared = GROUPS[verb]
            sub = verbs_parser.add_parser(verb, help=declared.help)
            actions = sub.add_subparsers(
                dest=f"{verb}_command",
                metavar="ACTION",
                parser_class=_Parser,
                required=declared.default is None,
            )
            for path, found in COMMANDS.items():
                if path[0] == verb and len(path) == 2:
                    _add(actions.add_parser(path[1], help=found.help), found)
        else:
            _add(verbs_parser.add_parser(verb, help=COMMANDS[(verb,)].help), COMMANDS[(verb,)])
    return parser


def _add(parser: argparse.ArgumentParser, found: Command) -> None:
    found.arguments(parser)
    parser.set_defaults(command_path=found.path)


def _verb(argv: Sequence[str]) -> str | None:
    """The command named in ``argv`` (the first word that is not an option), if any."""
    return next((word for word in argv if not word.startswith("-")), None)


def main(argv: Sequence[str] | None = None) -> int:
    from app.guard import guarded

    words = list(sys.argv[1:] if argv is None else argv)
    verb = _verb(words)
    parser = build_parser((verb,) if verb in COMMAND_MODULES else tuple(COMMAND_MODULES))
    args = parser.parse_args(words)
    path = getattr(args, "command_path", None)
    if path is None:  # no command (the window), or a group's action left out
        declared = GROUPS.get(args.command or "")
        path = (args.command, declared.default) if declared and declared.default else (WINDOW,)
    found = COMMANDS[path]
    if not found.light:
        from app import secrets
        from app.cli.prompt import master_password
        from app.guard import setup_logging

        setup_logging(args.debug)
        secrets.set_master_password_source(master_password)
    return guarded(lambda: emit(found.run(args), getattr(args, "json", False)), debug=args.debug)
