"""The ten benchmark queries give the same messages as notmuch on the same Maildir.

notmuch is the oracle for the semantics users compare us with. Where the spelling differs, the
pair says so: notmuch names a Maildir++ folder by its path (``.BACKUP``) and marks attachments
with a tag; the meaning is the same.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.corpus import corpus, write_maildir

QUERIES = [
    ("word", "biopsy", "biopsy"),
    ("two words", "biopsy notes", "biopsy notes"),
    ("phrase", '"see the biopsy notes"', '"see the biopsy notes"'),
    ("from", "from:alice", "from:alice"),
    ("from domain", "from:clinic.example", "from:clinic.example"),
    ("subject", "subject:invoice", "subject:invoice"),
    ("date range", "date:2024-02..2024-03", "date:2024-02..2024-03"),
    ("attachment", "has:attachment", "tag:attachment"),
    ("folder", "folder:BACKUP", "folder:.BACKUP"),
    (
        "combined",
        "from:clinic.example AND (invoice OR holiday) -from:bob",
        "from:clinic.example and (invoice or holiday) and not from:bob",
    ),
]


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    assert shutil.which("notmuch"), "notmuch is missing: scripts/setup --test installs it"
    base = tmp_path_factory.mktemp("vs-notmuch")
    root = write_maildir(base / "Mail", corpus(count=300, seed=11))
    config = base / "notmuch-config"
    config.write_text(
        f"[database]\npath={root}\n[user]\nname=Test\nprimary_email=lena@clinic.example\n"
        "[new]\ntags=\n[maildir]\nsynchronize_flags=false\n"
    )
    subprocess.run(
        ["notmuch", "new", "--quiet"],
        env={**os.environ, "NOTMUCH_CONFIG": str(config)},
        check=True,
        capture_output=True,
        timeout=300,
    )
    return root, config


def notmuch_ids(config: Path, query: str) -> set[str]:
    result = subprocess.run(
        ["notmuch", "search", "--output=messages", "--format=json", query],
        env={**os.environ, "NOTMUCH_CONFIG": str(config)},
        capture_output=True,
        check=True,
        timeout=60,
    )
    return set(json.loads(result.stdout))


@pytest.mark.parametrize(("name", "ours", "theirs"), QUERIES, ids=[q[0] for q in QUERIES])
def test_hits_equal_notmuch(cli, archive, name: str, ours: str, theirs: str) -> None:
    root, config = archive
    home = config.parent / "mailproof-home"
    if not home.exists():
        assert cli("import", root, home_dir=home).returncode == 0
    result = cli("search", "--json", "--limit", "0", "--", ours, home_dir=home)
    assert result.returncode == 0, result.stderr
    mine = {json.loads(line)["message_id"].strip("<>") for line in result.stdout.splitlines()}
    expected = notmuch_ids(config, theirs)
    assert expected, f"the corpus should give notmuch hits for {theirs!r}"
    assert mine == expected, (
        f"{name}: only ours {mine - expected}, only notmuch's {expected - mine}"
    )
