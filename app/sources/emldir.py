"""Readers for single ``.eml`` files and folders of them."""

from __future__ import annotations

import re
from collections.abc import Iterator

from app.sources.base import FolderRef, Provenance, RawMessage, unreadable

_HEADER_LINE = re.compile(rb"^[!-9;-~]+[ \t]*:")


def looks_like_message(head: bytes) -> bool:
    """True when the bytes start with an RFC 5322 header field line."""
    return bool(_HEADER_LINE.match(head.lstrip(b"\xef\xbb\xbf")))


def read_folder(folder: FolderRef, errors: list[str] | None = None) -> Iterator[RawMessage]:
    for path in folder.files:
        try:
            raw = path.read_bytes()
        except OSError as err:
            unreadable(path, err, errors)
            continue
        problems: tuple[str, ...] = ()
        if not looks_like_message(raw[:1024]):
            problems = (f"{path.name} does not start with a header line: it may not be mail",)
        provenance = Provenance(
            kind="eml",
            folder=folder.name,
            source_path=str(path),
            source_key=str(path.relative_to(folder.path))
            if path.is_relative_to(folder.path)
            else path.name,
        )
        yield RawMessage(raw, provenance, problems)
