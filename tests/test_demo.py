"""The bundled demo archive: complete, clean, and listed byte-exactly by the real CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "resources" / "demo"
MAILPROOF = Path(sys.executable).with_name("mailproof")


def test_demo_archive_passes_its_generator_check() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "make_demo.py"), "--check", str(DEMO)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_list_json_sha256_equals_sha256sum_of_every_file() -> None:
    result = subprocess.run(
        [str(MAILPROOF), "list", str(DEMO), "--json"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 205  # 200 generated + 5 encrypted/signed samples in Secure
    assert {r["folder"] for r in records} == {"INBOX", "Sent", "BACKUP", "Junk", "Secure"}
    sums = subprocess.run(
        ["sha256sum", *[r["source"] for r in records]], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    by_path = {line.split("  ", 1)[1]: line.split("  ", 1)[0] for line in sums}
    for record in records:
        assert record["sha256"] == by_path[record["source"]]
        assert record["id"] == record["sha256"][:12]
        assert set(record) >= {
            "id",
            "date",
            "from",
            "to",
            "subject",
            "size",
            "sha256",
            "has_attachments",
        }
        assert record["date"].endswith("Z")
        assert record["problems"] == []
    assert sum(r["has_attachments"] for r in records) >= 25
