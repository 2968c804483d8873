"""``mailproof settings [show|set]``: the settings and their values; changes are audited."""

from __future__ import annotations

import argparse

from app import settings
from app.cli import command, group, json_flag
from app.cli.output import Reply

group("settings", "show or change settings", default="show")


def _values() -> Reply:
    values = settings.load()
    return Reply(
        document=values,
        text="\n".join(
            f"{name} = {value}    # {settings.DESCRIPTIONS[name]}" for name, value in values.items()
        ),
    )


@command(
    "settings show", "every setting and its value", lambda p: json_flag(p, "one JSON document")
)
def settings_show(_args: argparse.Namespace) -> Reply:
    return _values()


def _set_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="e.g. lock-minutes")
    parser.add_argument("value", type=int)
    json_flag(parser, "one JSON document")


@command("settings set", "change one setting (audited)", _set_arguments)
def settings_set(args: argparse.Namespace) -> Reply:
    settings.set_value(args.name, args.value)
    return _values()
