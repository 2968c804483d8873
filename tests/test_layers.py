"""The layering rules of the product owner: the core and the indexer never import Qt; only the
store runs SQL."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Directories whose modules leave SQL to app/store and call its typed methods instead.
SQL_FREE = ("app", "ui", "indexer")


def test_core_and_cli_run_without_importing_qt() -> None:
    modules = sorted(
        ".".join(p.relative_to(ROOT).with_suffix("").parts)
        for p in [*ROOT.joinpath("app").rglob("*.py"), *ROOT.joinpath("indexer").rglob("*.py")]
    )
    modules = [m.removesuffix(".__init__") for m in modules]
    code = (
        f"import importlib, sys\nfor m in {modules!r}: importlib.import_module(m)\n"
        "from app.cli import main\n"
        "assert main(['list', sys.argv[1]]) in (0, 1)\n"
        "bad = [m for m in sys.modules if m.startswith(('PySide6', 'PyQt', 'shiboken'))]\n"
        "print(bad); sys.exit(1 if bad else 0)\n"
    )
    demo = ROOT / "resources" / "demo"
    result = subprocess.run(
        [sys.executable, "-c", code, str(demo)], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert len(modules) > 10


def test_ui_modules_hold_no_protocol_or_parsing_imports() -> None:
    forbidden = ("import email", "from email", "imapclient", "sqlite3", "gnupg", "cryptography")
    for path in ROOT.joinpath("ui").rglob("*.py"):
        text = path.read_text()
        for needle in forbidden:
            assert needle not in text, f"{path.name} imports {needle}: that belongs in app/"


def test_only_the_store_runs_sql() -> None:
    store = ROOT / "app" / "store"
    forbidden = (".execute(", ".executemany(", ".executescript(", "import sqlite3")
    found = [
        f"{path.relative_to(ROOT)}: {needle}"
        for directory in SQL_FREE
        for path in sorted(ROOT.joinpath(directory).rglob("*.py"))
        if not path.is_relative_to(store)
        for needle in forbidden
        if needle in path.read_text()
    ]
    assert not found, f"SQL outside app/store (call a typed store method instead): {found}"
