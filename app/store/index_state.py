"""The SQL the search index needs: its own ``state.sqlite`` (what each document was made from)
and the store queries it asks (live copies, threads, encrypted messages)."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.store.library import Library

STATE_FILE = "state.sqlite"
PLACE_SEPARATOR = "\x1e"  # between a message's copies in ``live_places``
FIELD_SEPARATOR = "\x1f"  # between a copy's account, folder and flags


@dataclass(frozen=True)
class EncryptedMessage:
    sha256: str
    thread_id: str | None


class IndexState:
    """``state.sqlite`` in an index directory: sha256 → the state its document was made from,
    and the index's schema version and last update time."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / STATE_FILE

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        """A connection, closed on exit (``with sqlite3.connect()`` alone only commits; it
        would leave one open file per call until garbage collection)."""
        connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(
                "CREATE TABLE IF NOT EXISTS docs (sha256 TEXT PRIMARY KEY, state TEXT NOT NULL)"
            )
            connection.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT)")
            yield connection
        finally:
            connection.close()

    def schema_version(self) -> str | None:
        """The schema version the index was made with (None: not recorded)."""
        with self._connect() as state:
            row = state.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        return None if row is None else str(row[0])

    def start_afresh(self, schema_version: int) -> None:
        """No document recorded; the index is of ``schema_version``."""
        with self._connect() as state:
            state.execute("DELETE FROM docs")
            state.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('schema', ?)",
                (str(schema_version),),
            )

    def recorded(self) -> dict[str, str]:
        """sha256 → the state its document was made from."""
        with self._connect() as state:
            return dict(state.execute("SELECT sha256, state FROM docs").fetchall())

    def record(self, removed: Sequence[str], written: Iterable[tuple[str, str]]) -> None:
        """After a Whoosh commit, in one transaction: ``removed`` documents are gone,
        ``written`` (sha256, state) ones were made, and when."""
        with self._connect() as state:
            state.execute("BEGIN IMMEDIATE")
            state.executemany("DELETE FROM docs WHERE sha256=?", [(s,) for s in removed])
            state.executemany("INSERT OR REPLACE INTO docs(sha256, state) VALUES (?,?)", written)
            state.execute(
                "INSERT OR REPLACE INTO meta(key, value) VALUES ('updated_at', ?)",
                (time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),),
            )
            state.execute("COMMIT")

    def forget(self, drifted: Sequence[str], unknown: Sequence[str]) -> None:
        """Forget ``drifted`` documents (the next update writes them again) and record
        ``unknown`` ones with an empty state (the next update removes them), in one
        transaction."""
        with self._connect() as state:
            state.execute("BEGIN IMMEDIATE")
            state.executemany("DELETE FROM docs WHERE sha256=?", [(s,) for s in drifted])
            state.executemany(
                "INSERT OR REPLACE INTO docs(sha256, state) VALUES (?, '')",
                [(s,) for s in unknown],
            )
            state.execute("COMMIT")


def live_places(library: Library) -> dict[str, str]:
    """sha256 → every live copy of the message as ``account FIELD folder FIELD flags``, sorted
    and joined by PLACE_SEPARATOR (the form the index's state is computed from)."""
    rows = library.db.execute(
        "SELECT c.sha256, group_concat(f.account || char(31) || f.name || char(31) || "
        "c.flags, char(30)) FROM copies c JOIN folders f ON f.id=c.folder_id "
        "WHERE c.expunged_at IS NULL GROUP BY c.sha256"
    ).fetchall()
    return {
        str(sha256): PLACE_SEPARATOR.join(sorted(places.split(PLACE_SEPARATOR)))
        for sha256, places in rows
    }


def thread_ids(library: Library, shas: Sequence[str]) -> dict[str, str]:
    """sha256 → thread id (without its angle brackets) of those of ``shas`` that have one."""
    threads: dict[str, str] = {}
    for start in range(0, len(shas), 500):
        chunk = shas[start : start + 500]
        marks = ",".join("?" * len(chunk))
        for sha256, thread in library.db.execute(
            f"SELECT sha256, thread_id FROM messages WHERE sha256 IN ({marks})",  # noqa: S608 - only ? marks
            chunk,
        ):
            if thread:
                threads[str(sha256)] = str(thread).strip("<>")
    return threads


def encrypted_messages(library: Library) -> list[EncryptedMessage]:
    rows = library.db.execute("SELECT sha256, thread_id FROM messages WHERE is_encrypted=1")
    return [
        EncryptedMessage(str(sha256), None if thread is None else str(thread))
        for sha256, thread in rows.fetchall()
    ]
