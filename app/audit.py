"""The audit log: append-only JSON lines, each holding the SHA-256 of the line before it.

Who viewed, decrypted, saved, exported, imported or removed what, and when — durable (fsync)
before the action is reported done. ``verify()`` names the first entry that was edited,
removed, reordered or inserted. A kill -9 can lose at most the entry being written: a partial
last line is cut off on the next append, and the chain continues from the last whole entry.
"""

from __future__ import annotations

import datetime as dt
import getpass
import hashlib
import json
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import data_home
from app.errors import Exit, MailproofError
from app.store.atomic import write_atomic

GENESIS = "0" * 64
_thread_lock = threading.Lock()


class AuditError(MailproofError):
    """The audit log cannot be written or read (exit 3)."""

    exit_code = Exit.ENVIRONMENT


def log_path() -> Path:
    return data_home() / "audit" / "audit.jsonl"


def head_path() -> Path:
    return data_home() / "audit" / "audit.head"


def os_user() -> str:
    """The OS user acting (for audit entries, evidence manifests, investigation records)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return f"uid {os.getuid()}" if hasattr(os, "getuid") else "unknown"


def _utc_now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def line_hash(line: bytes) -> str:
    return hashlib.sha256(line).hexdigest()


@contextmanager
def _locked(handle: Any) -> Iterator[None]:
    """One writer at a time across processes (the CLI and the window may both append)."""
    with _thread_lock:
        if os.name == "posix":
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        else:  # pragma: no cover - Windows
            import msvcrt

            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)  # type: ignore[attr-defined]
            try:
                yield
            finally:
                handle.seek(0)
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)  # type: ignore[attr-defined]


def _last_whole_line(handle: Any) -> tuple[bytes | None, int]:
    """The last complete line and the file offset where a complete log ends."""
    handle.seek(0, os.SEEK_END)
    end = handle.tell()
    if end == 0:
        return None, 0
    # Read backwards in blocks until two newlines are seen (or the start).
    block = 4096
    data = b""
    position = end
    while position > 0:
        step = min(block, position)
        position -= step
        handle.seek(position)
        data = handle.read(step) + data
        if data.count(b"\n") >= 2 or position == 0:
            break
    whole_end = end
    if not data.endswith(b"\n"):  # a line cut short by a crash: it was never complete
        cut = data.rfind(b"\n")
        whole_end = end - (len(data) - cut - 1) if cut >= 0 else 0
        data = data[: cut + 1] if cut >= 0 else b""
    lines = data.rstrip(b"\n").split(b"\n")
    last = lines[-1] if lines and lines[-1] else None
    return last, whole_end


def record(
    action: str,
    object_: dict[str, Any] | str | None = None,
    result: str = "ok",
    **detail: Any,
) -> dict[str, Any]:
    """Append one entry and make it durable; returns the entry written."""
    path = log_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a+b") as handle, _locked(handle):
            last, whole_end = _last_whole_line(handle)
            handle.seek(0, os.SEEK_END)
            if handle.tell() != whole_end:
                handle.truncate(whole_end)  # drop the entry a crash left half-written
            if last is None:
                seq, previous = 1, GENESIS
            else:
                seq = int(json.loads(last)["seq"]) + 1
                previous = line_hash(last)
            entry: dict[str, Any] = {
                "seq": seq,
                "time": _utc_now(),
                "user": os_user(),
                "action": action,
                "object": object_,
                "result": result,
            }
            if detail:
                entry["detail"] = detail
            entry["prev"] = previous
            line = json.dumps(entry, ensure_ascii=False, sort_keys=False).encode()
            handle.seek(0, os.SEEK_END)
            handle.write(line + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
            write_atomic(head_path(), json.dumps({"seq": seq, "hash": line_hash(line)}).encode())
    except (OSError, ValueError, KeyError) as err:
        raise AuditError(f"the audit log {path} cannot be written: {err}") from err
    return entry


@dataclass(frozen=True)
class AuditCheck:
    ok: bool
    entries: int
    first_bad: int | None  # the 1-based line number of the first bad entry
    problem: str
    notes: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "first_bad": self.first_bad,
            "problem": self.problem,
            "notes": list(self.notes),
        }


def _read_lines(path: Path) -> tuple[list[bytes], bool]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], False
    except OSError as err:
        raise AuditError(f"the audit log {path} cannot be read: {err}") from err
    partial = bool(data) and not data.endswith(b"\n")
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    if partial:
        lines.pop()  # the entry in flight at a crash: not part of the log
    return lines, partial


def verify(path: Path | None = None, head: Path | None = None) -> AuditCheck:
    """Check the whole chain; the first edited, removed, reordered or inserted entry is named."""
    path = path or log_path()
    head = head or head_path()
    lines, partial = _read_lines(path)
    notes = ["the last entry was cut short by a crash and is not counted"] if partial else []
    previous = GENESIS
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
            seq, prev = int(entry["seq"]), str(entry["prev"])
        except (ValueError, KeyError, TypeError):
            return AuditCheck(
                False, len(lines), number, f"entry {number} is not a valid audit entry (edited)"
            )
        if seq != number:
            kind = "removed" if seq > number else "inserted or reordered"
            return AuditCheck(
                False,
                len(lines),
                number,
                f"entry {number} carries number {seq}: entries were {kind} before it",
            )
        if prev != previous:
            culprit = number - 1 if number > 1 else number
            return AuditCheck(
                False,
                len(lines),
                culprit,
                f"entry {culprit} was changed: entry {number} recorded another hash for it",
            )
        previous = line_hash(line)
    try:
        marker = json.loads(head.read_text())
        head_seq, head_hash = int(marker["seq"]), str(marker["hash"])
    except FileNotFoundError:
        if len(lines) > 1:
            return AuditCheck(False, len(lines), None, "the audit head marker is missing")
        if lines:
            notes.append("the first entry was written just before a crash (no head marker yet)")
        return AuditCheck(True, len(lines), None, "", tuple(notes))
    except (OSError, ValueError, KeyError) as err:
        return AuditCheck(False, len(lines), None, f"the audit head marker is unreadable: {err}")
    if head_seq > len(lines):
        return AuditCheck(
            False,
            len(lines),
            len(lines) + 1,
            f"entries {len(lines) + 1}–{head_seq} were removed from the end of the log",
        )
    if head_seq == len(lines) and lines and head_hash != line_hash(lines[-1]):
        return AuditCheck(
            False, len(lines), len(lines), f"entry {len(lines)} (the last) was changed"
        )
    if head_seq < len(lines) - 1 or (
        head_seq == len(lines) - 1 and head_seq and head_hash != line_hash(lines[head_seq - 1])
    ):
        return AuditCheck(
            False,
            len(lines),
            head_seq + 1,
            f"entries after {head_seq} were added without the head marker",
        )
    if head_seq == len(lines) - 1:
        notes.append("the last entry was written just before a crash (head marker one behind)")
    return AuditCheck(True, len(lines), None, "", tuple(notes))


def entries(since: dt.datetime | None = None) -> list[dict[str, Any]]:
    """The entries (parsed), oldest first; unparsable lines are shown as such, not skipped."""
    lines, _partial = _read_lines(log_path())
    shown = []
    for number, line in enumerate(lines, start=1):
        try:
            entry = json.loads(line)
        except ValueError:
            entry = {"seq": number, "time": None, "action": "(unreadable entry)", "object": None}
        if since is not None and entry.get("time"):
            when = dt.datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00"))
            if when < since:
                continue
        shown.append(entry)
    return shown


def export_bytes() -> bytes:
    """The log exactly as written (whole entries only), for handing over."""
    lines, _partial = _read_lines(log_path())
    return b"".join(line + b"\n" for line in lines)
