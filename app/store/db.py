"""The SQLite schema (WAL) and its migrations; one connection per thread."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from app.errors import StoreError

SCHEMA_VERSION = 4

_MIGRATIONS: dict[int, str] = {
    1: """
    CREATE TABLE messages (
        sha256 TEXT PRIMARY KEY,
        size INTEGER NOT NULL,
        message_id TEXT,
        date_utc TEXT,
        date_ts INTEGER,
        from_addr TEXT,
        from_display TEXT,
        to_display TEXT,
        cc_display TEXT,
        subject TEXT,
        has_attachments INTEGER NOT NULL DEFAULT 0,
        in_reply_to TEXT,
        refs TEXT,
        thread_id TEXT,
        is_encrypted INTEGER NOT NULL DEFAULT 0,
        is_signed INTEGER NOT NULL DEFAULT 0,
        defects TEXT,
        added_at TEXT NOT NULL
    );
    CREATE INDEX messages_message_id ON messages(message_id);
    CREATE INDEX messages_thread ON messages(thread_id);

    CREATE TABLE accounts (
        name TEXT PRIMARY KEY,
        host TEXT NOT NULL,
        port INTEGER NOT NULL,
        security TEXT NOT NULL,
        user TEXT NOT NULL,
        ca_file TEXT,
        allow_insecure INTEGER NOT NULL DEFAULT 0
    );

    CREATE TABLE folders (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        name TEXT NOT NULL,
        special_use TEXT,
        source_kind TEXT,
        source_path TEXT,
        uidvalidity INTEGER,
        uidnext INTEGER,
        highestmodseq INTEGER,
        synced_at TEXT,
        UNIQUE (account, name)
    );

    CREATE TABLE copies (
        id INTEGER PRIMARY KEY,
        sha256 TEXT NOT NULL REFERENCES messages(sha256),
        folder_id INTEGER NOT NULL REFERENCES folders(id),
        kind TEXT NOT NULL,
        source_key TEXT NOT NULL,
        date_ts INTEGER,
        uid INTEGER,
        uidvalidity INTEGER,
        internaldate TEXT,
        flags TEXT NOT NULL DEFAULT '',
        fetched_at TEXT,
        expunged_at TEXT,
        source_path TEXT,
        source_offset INTEGER,
        imported_at TEXT,
        UNIQUE (folder_id, source_key)
    );
    CREATE INDEX copies_folder_date ON copies(folder_id, date_ts);
    CREATE INDEX copies_sha256 ON copies(sha256);
    """,
    2: """
    CREATE INDEX copies_folder_live ON copies(folder_id, expunged_at);
    """,
    3: """
    ALTER TABLE copies ADD COLUMN rfc822_size INTEGER;
    ALTER TABLE folders ADD COLUMN delimiter TEXT;
    CREATE INDEX copies_folder_uid ON copies(folder_id, uidvalidity, uid);
    """,
    4: """
    ALTER TABLE accounts ADD COLUMN folders TEXT;
    ALTER TABLE copies ADD COLUMN remapped_from TEXT;
    """,
}


def connect(path: Path) -> sqlite3.Connection:
    """Open (and create or migrate) the database; WAL so the window reads while a worker writes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        connection = sqlite3.connect(path, timeout=30, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA journal_mode=WAL")
        connection.execute("PRAGMA synchronous=NORMAL")
        connection.execute("PRAGMA foreign_keys=ON")
        _migrate(connection)
    except sqlite3.DatabaseError as err:
        raise StoreError(f"the store database {path} is unusable: {err}") from err
    return connection


def _migrate(connection: sqlite3.Connection) -> None:
    version = connection.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"the store was written by a newer Mailproof (schema {version}); update Mailproof"
        )
    for target in range(version + 1, SCHEMA_VERSION + 1):
        with transaction(connection):
            for statement in _MIGRATIONS[target].split(";"):
                if statement.strip():
                    connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {target}")


@contextmanager
def transaction(connection: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """BEGIN IMMEDIATE … COMMIT, rolled back when anything inside fails (or is cancelled)."""
    connection.execute("BEGIN IMMEDIATE")
    try:
        yield connection
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:  # SQLite may already have rolled back (disk full, I/O)
            connection.execute("ROLLBACK")
        raise
