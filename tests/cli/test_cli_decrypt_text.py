"""`mailproof decrypt` writes the secure-reading presenter's lines, the same the reader's
Details… dialog shows, for the demo's signed and altered-after-signing S/MIME samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.crypto.present import WARNINGS, reading_lines
from app.crypto.secure import read_secure
from app.present import Tone
from tests.cli.conftest import ROOT, Runner

SECURE = ROOT / "resources" / "demo" / ".Secure" / "cur"


@pytest.mark.parametrize("name", ["1749713400.M902P1.demo:2,", "1749799800.M903P1.demo:2,"])
def test_decrypt_text_is_the_presenters_lines(
    cli: Runner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    monkeypatch.setenv("MAILPROOF_HOME", str(tmp_path / "mailproof-home"))  # as cli() uses
    raw = (SECURE / name).read_bytes()
    reading = read_secure(raw)
    first, *rest = reading_lines(reading)
    result = cli("decrypt", SECURE / name)
    text = result.stdout.decode()
    head = text.split("\n\n", 1)[0].splitlines()
    assert head == [first.text] + [line.plain for line in rest if line.section != WARNINGS]
    assert reading.body_text.strip() in text
    for line in rest:
        if line.section == WARNINGS:
            assert f"mailproof: warning: {line.text}" in result.stderr.decode()
    assert first.tone is not Tone.GOOD  # the demo CA is not trusted in an empty home
    assert result.returncode == 1  # a signature that is not valid is a problem
