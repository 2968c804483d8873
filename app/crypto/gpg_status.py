"""GnuPG's machine-readable status lines (``[GNUPG:] CODE words…``) as plain values: parsed
from a python-gnupg result, grouped per signature, with their error codes."""

from __future__ import annotations

import re
from typing import Any

StatusLines = list[tuple[str, list[str]]]

SIGNATURE_CODES = {
    "GOODSIG",
    "BADSIG",
    "EXPSIG",
    "EXPKEYSIG",
    "REVKEYSIG",
    "ERRSIG",
    "VALIDSIG",
    "NO_PUBKEY",
}


def status_lines(result: Any) -> StatusLines:
    """The ``[GNUPG:]`` lines of a python-gnupg result's stderr, as (code, words)."""
    lines: StatusLines = []
    for line in str(getattr(result, "stderr", "") or "").splitlines():
        if line.startswith("[GNUPG:] "):
            words = line[9:].split()
            if words:
                lines.append((words[0], words[1:]))
    return lines


def codes_of(lines: StatusLines) -> dict[str, list[str]]:
    """Each code with the words of its first line."""
    codes: dict[str, list[str]] = {}
    for code, words in lines:
        codes.setdefault(code, words)
    return codes


def error_codes(lines: StatusLines) -> set[int]:
    """The gpg-error codes (low 16 bits) of its ERROR and FAILURE lines."""
    found = set()
    for code, words in lines:
        if code in ("ERROR", "FAILURE") and len(words) > 1 and words[1].isdigit():
            found.add(int(words[1]) & 0xFFFF)
    return found


def unescape(text: str) -> str:
    """gpg percent-escapes control characters (and %) in status-line user ids."""
    raw = re.sub(rb"%([0-9A-Fa-f]{2})", lambda m: bytes([int(m.group(1), 16)]), text.encode())
    return raw.decode("utf-8", "replace")


def signature_blocks(lines: StatusLines) -> list[dict[str, list[str]]]:
    """The status lines of each signature (gpg starts each with NEWSIG)."""
    blocks: list[dict[str, list[str]]] = []
    current: dict[str, list[str]] | None = None
    for code, words in lines:
        if code == "NEWSIG":
            current = {}
            blocks.append(current)
        elif code in SIGNATURE_CODES:
            if current is None or (code in current and code != "NO_PUBKEY"):
                current = {}
                blocks.append(current)
            current.setdefault(code, words)
    return [b for b in blocks if b]
