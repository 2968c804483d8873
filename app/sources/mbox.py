"""mbox reader (mboxo/mboxrd): splits on ``From `` lines, unquotes ``>From``, keeps offsets."""

from __future__ import annotations

import re
from collections.abc import Iterator

from app.sources.base import FolderRef, Provenance, RawMessage, unreadable

_QUOTED_FROM = re.compile(rb"^>(>*From )", re.MULTILINE)


def looks_like_mbox(head: bytes) -> bool:
    return head.startswith(b"From ")


def _finish(lines: list[bytes], offset: int, folder: FolderRef, at_eof: bool) -> RawMessage:
    body = b"".join(lines)
    problems = []
    # Writers end every message, the last one too, with a blank line that belongs to the mbox.
    if body.endswith(b"\r\n\r\n"):
        body = body[:-2]
    elif body.endswith(b"\n\n"):
        body = body[:-1]
    elif at_eof and not body.endswith(b"\n"):
        problems.append(
            f"mbox message at byte {offset} ends without a final newline: the file may be truncated"
        )
    if b"\n\n" not in body and b"\r\n\r\n" not in body:
        problems.append(
            f"mbox message at byte {offset} has no blank line after its headers: "
            "the message is truncated or not mail"
        )
    raw = _QUOTED_FROM.sub(rb"\1", body)
    provenance = Provenance(
        kind="mbox",
        folder=folder.name,
        source_path=str(folder.path),
        source_key=str(offset),
        source_offset=offset,
    )
    return RawMessage(raw, provenance, tuple(problems))


def read_folder(folder: FolderRef, errors: list[str] | None = None) -> Iterator[RawMessage]:
    """Yield each message of the mbox file; the ``From `` line itself is not part of the message."""
    try:
        handle = folder.path.open("rb")
    except OSError as err:
        unreadable(folder.path, err, errors)
        return
    with handle:
        offset = 0
        start: int | None = None
        lines: list[bytes] = []
        previous_blank = True
        for line in handle:
            if line.startswith(b"From ") and previous_blank:
                if start is not None:
                    yield _finish(lines, start, folder, at_eof=False)
                start = offset
                lines = []
            elif start is not None:
                lines.append(line)
            previous_blank = line in (b"\n", b"\r\n")
            offset += len(line)
        if start is not None:
            yield _finish(lines, start, folder, at_eof=True)
