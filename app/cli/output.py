"""What a command handler returns, and the one place that prints it: JSON (``--json``) or text
on stdout, warnings and errors on stderr, and the exit code of the contract."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, TextIO

from app.errors import Exit


@dataclass(frozen=True)
class Record:
    """One item of a listing: a JSON line with ``--json``, else its text line."""

    data: dict[str, Any]
    text: str | None  # None: nothing to say in text (JSON only)


@dataclass
class Reply:
    """A handler's result. ``records`` may be a generator that appends to ``warnings`` as it
    goes; ``exit`` may be a callable, asked once the records are printed."""

    document: Any = None  # --json: one JSON document
    text: str | None = None  # the document (or a message) for people
    records: Iterable[Record] = ()
    raw: bytes | None = None  # bytes written to stdout unchanged (--raw, exports)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    exit: int | Callable[[], int] = Exit.OK
    indent: int | None = None  # of the JSON document
    failure: Exception | None = None  # raised once the rest is printed (the guard reports it)


def dumps(data: Any, indent: int | None = None) -> str:
    return json.dumps(data, ensure_ascii=False, indent=indent)


def warn(message: str) -> None:
    print(f"mailproof: warning: {message}", file=sys.stderr)


def error(message: str) -> None:
    print(f"mailproof: error: {message}", file=sys.stderr)


def emit(reply: Reply, as_json: bool, out: TextIO | None = None) -> int:
    """Print ``reply`` and give its exit code."""
    out = out or sys.stdout
    if reply.raw is not None:
        out.flush()
        sys.stdout.buffer.write(reply.raw)
        sys.stdout.buffer.flush()
    for record in reply.records:
        if as_json:
            out.write(dumps(record.data) + "\n")
        elif record.text is not None:
            out.write(record.text + "\n")
    if as_json and reply.document is not None:
        out.write(dumps(reply.document, reply.indent) + "\n")
    elif not as_json and reply.text is not None:
        out.write(reply.text + "\n")
    for message in reply.warnings:
        warn(message)
    for message in reply.errors:
        error(message)
    if reply.failure is not None:
        raise reply.failure
    code = reply.exit() if callable(reply.exit) else reply.exit
    return int(code)
