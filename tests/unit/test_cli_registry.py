"""The command registry: every verb is declared once, in the module the lazy table names, and a
search starts without the modules of the other commands."""

from __future__ import annotations

import importlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import app.cli as cli
from app.cli.output import Record, Reply, emit
from app.errors import BadInput, Exit
from tests.builders import make_maildir, make_message

ROOT = Path(__file__).resolve().parents[2]


def test_every_verb_is_declared_in_the_module_the_table_names() -> None:
    for module in set(cli.COMMAND_MODULES.values()):
        importlib.import_module(module)
    declared = {path[0] for path in cli.COMMANDS}
    assert declared == set(cli.COMMAND_MODULES)
    for path, command in cli.COMMANDS.items():
        assert command.run.__module__ == cli.COMMAND_MODULES[path[0]], path
        if len(path) == 2:
            assert path[0] in cli.GROUPS, f"{path}: an action of an undeclared group"
    for name in cli.GROUPS:
        assert (name,) not in cli.COMMANDS and any(p[0] == name for p in cli.COMMANDS)


def test_the_parser_of_one_verb_is_the_same_as_in_the_full_parser() -> None:
    full = cli.build_parser()
    alone = cli.build_parser(("search",))
    words = ["search", "from:alice", "--limit", "3", "--json"]
    assert vars(full.parse_args(words)) == vars(alone.parse_args(words))
    assert full.parse_args(["settings"]).command == "settings"


def test_a_search_loads_neither_qt_imap_crypto_nor_the_keyring(tmp_path: Path) -> None:
    env = {"MAILPROOF_HOME": str(tmp_path / "home"), "PATH": "/usr/bin:/bin"}
    mail = make_maildir(tmp_path / "Mail", {"cur/1:2,S": make_message("Referral")})
    mailproof = str(Path(sys.executable).with_name("mailproof"))
    subprocess.run([mailproof, "import", str(mail)], env=env, check=True, capture_output=True)
    code = (
        "import sys\n"
        "from app.cli import main\n"
        "code = main(['count', 'subject:referral'])\n"
        "heavy = ('PySide6', 'app.imap', 'app.crypto', 'app.secrets', 'keyring', 'logging',"
        " 'app.cli.accounts', 'app.cli.messages', 'app.delivery', 'app.mime')\n"
        "print(sorted(m for m in sys.modules if m.startswith(heavy)))\n"
        "sys.exit(code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["1", "[]"]


def test_output_prints_json_or_text_and_warnings_after_the_records(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reply = Reply()

    def records():  # type: ignore[no-untyped-def]
        yield Record({"name": "Jürgen"}, "Jürgen")
        reply.warnings.append("one was unreadable")
        yield Record({"name": "only JSON"}, None)

    reply.records = records()
    reply.exit = lambda: Exit.PROBLEMS if reply.warnings else Exit.OK
    out = io.StringIO()
    assert emit(reply, as_json=True, out=out) == Exit.PROBLEMS
    assert [json.loads(line) for line in out.getvalue().splitlines()] == [
        {"name": "Jürgen"},
        {"name": "only JSON"},
    ]
    assert '"Jürgen"' in out.getvalue()  # ensure_ascii=False
    assert capsys.readouterr().err == "mailproof: warning: one was unreadable\n"

    text = io.StringIO()
    assert emit(Reply(document={"a": 1}, text="people"), as_json=False, out=text) == Exit.OK
    assert text.getvalue() == "people\n"
    quiet = io.StringIO()
    assert emit(Reply(text="people only"), as_json=True, out=quiet) == Exit.OK
    assert quiet.getvalue() == ""  # --json: JSON on stdout and nothing else


def test_a_failure_is_raised_after_the_json_document_is_printed() -> None:
    out = io.StringIO()
    with pytest.raises(BadInput):
        emit(Reply(document={"ok": False}, failure=BadInput("refused")), as_json=True, out=out)
    assert json.loads(out.getvalue()) == {"ok": False}
