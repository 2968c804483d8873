"""``mailproof`` (no command), ``open`` and ``screenshot``: the window, which lives in ``ui/``;
the core only hands over to it by name (no Qt import here)."""

from __future__ import annotations

import argparse
import importlib

from app.cli import command
from app.cli.output import Reply


def _open_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path")


def _screenshot_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", metavar="OUT.png")
    parser.add_argument("path", nargs="?", help="mail to show (default: the demo archive)")
    parser.add_argument("--size", default="1280x800", help="window size, WIDTHxHEIGHT")


@command("open", "open the window on a Maildir, mbox or .eml folder", _open_arguments)
def open_window(args: argparse.Namespace) -> Reply:
    ui_main = importlib.import_module("ui.main")
    return Reply(exit=int(ui_main.run(args)))


command("screenshot", "render the window and save it as a PNG", _screenshot_arguments)(open_window)
