"""The ``accounts`` table: each IMAP account's settings (never its password)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable

from app.store.records import AccountRecord


class Accounts:
    """Read and write account settings on the calling thread's connection."""

    def __init__(self, connection: Callable[[], sqlite3.Connection]) -> None:
        self._connection = connection

    def all(self) -> list[AccountRecord]:
        return [
            _record(row)
            for row in self._connection().execute("SELECT * FROM accounts ORDER BY name")
        ]

    def get(self, name: str) -> AccountRecord | None:
        row = self._connection().execute("SELECT * FROM accounts WHERE name=?", (name,)).fetchone()
        return None if row is None else _record(row)

    def exists(self, name: str) -> bool:
        found = self._connection().execute("SELECT 1 FROM accounts WHERE name=?", (name,))
        return found.fetchone() is not None

    def count(self) -> int:
        return int(self._connection().execute("SELECT COUNT(*) FROM accounts").fetchone()[0])

    def put(self, record: AccountRecord) -> None:
        """Add the account, or replace the settings of the account of that name."""
        self._connection().execute(
            "INSERT INTO accounts(name, host, port, security, user, ca_file, allow_insecure, "
            "folders) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET "
            "host=excluded.host, port=excluded.port, security=excluded.security, "
            "user=excluded.user, ca_file=excluded.ca_file, "
            "allow_insecure=excluded.allow_insecure, folders=excluded.folders",
            (
                record.name,
                record.host,
                record.port,
                record.security,
                record.user,
                record.ca_file,
                int(record.allow_insecure),
                json.dumps(list(record.folders)) if record.folders is not None else None,
            ),
        )

    def delete(self, name: str) -> None:
        self._connection().execute("DELETE FROM accounts WHERE name=?", (name,))


def _record(row: sqlite3.Row) -> AccountRecord:
    return AccountRecord(
        name=row["name"],
        host=row["host"],
        port=row["port"],
        security=row["security"],
        user=row["user"],
        ca_file=row["ca_file"],
        allow_insecure=bool(row["allow_insecure"]),
        folders=tuple(json.loads(row["folders"])) if row["folders"] is not None else None,
    )
