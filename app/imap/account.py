"""Account settings (no secrets) kept in the store's ``accounts`` table."""

from __future__ import annotations

import json
import re
import sqlite3
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app import audit
from app.errors import BadInput

SECURITY_MODES = ("tls", "starttls", "plain")
DEFAULT_PORTS = {"tls": 993, "starttls": 143, "plain": 143}
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@+-]{0,63}$")


@dataclass(frozen=True)
class Account:
    name: str
    host: str
    port: int
    security: str  # "tls" (implicit, 993) | "starttls" (143) | "plain" (only with allow_insecure)
    user: str
    ca_file: str | None = None
    allow_insecure: bool = False
    # The folders chosen for sync; None means every folder (the default), now and later ones.
    folders: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise BadInput(
                f"account name {self.name!r}: use letters, digits and . _ @ + - (up to 64)"
            )
        if self.security not in SECURITY_MODES:
            raise BadInput(f"security must be one of {', '.join(SECURITY_MODES)}")
        if self.security == "plain" and not self.allow_insecure:
            raise BadInput(
                "security 'plain' sends the password unencrypted: it needs --allow-insecure"
            )
        if not 0 < self.port < 65536:
            raise BadInput(f"port {self.port} is not a TCP port")

    def check_files(self) -> Account:
        """For a new or edited account: the CA file it names must exist.

        Not checked on load: an account whose CA file was deleted later must still be
        listed, tested (with a clear error) and removable.
        """
        if self.ca_file is not None and not Path(self.ca_file).is_file():
            raise BadInput(f"CA file {self.ca_file} does not exist")
        return self

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["folders"] = list(self.folders) if self.folders is not None else None
        return data

    @property
    def warning(self) -> str | None:
        """The permanent warning an insecure lab account carries everywhere it is shown."""
        if self.allow_insecure:
            return (
                f"account {self.name} allows insecure connections (--allow-insecure): "
                "its password and mail may travel unencrypted"
            )
        return None


def save(db: sqlite3.Connection, account: Account) -> None:
    existed = db.execute("SELECT 1 FROM accounts WHERE name=?", (account.name,)).fetchone()
    db.execute(
        "INSERT INTO accounts(name, host, port, security, user, ca_file, allow_insecure, folders) "
        "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(name) DO UPDATE SET host=excluded.host, "
        "port=excluded.port, security=excluded.security, user=excluded.user, "
        "ca_file=excluded.ca_file, allow_insecure=excluded.allow_insecure, "
        "folders=excluded.folders",
        (
            account.name,
            account.host,
            account.port,
            account.security,
            account.user,
            account.ca_file,
            int(account.allow_insecure),
            json.dumps(list(account.folders)) if account.folders is not None else None,
        ),
    )
    audit.record(
        "account updated" if existed else "account added",
        {"account": account.name},
        server=f"{account.host}:{account.port}",
        security=account.security,
        allow_insecure=account.allow_insecure,
        folders=list(account.folders) if account.folders is not None else "all",
    )


def _from_row(row: sqlite3.Row) -> Account:
    return Account(
        name=row["name"],
        host=row["host"],
        port=row["port"],
        security=row["security"],
        user=row["user"],
        ca_file=row["ca_file"],
        allow_insecure=bool(row["allow_insecure"]),
        folders=tuple(json.loads(row["folders"])) if row["folders"] is not None else None,
    )


def load_all(db: sqlite3.Connection) -> list[Account]:
    return [_from_row(r) for r in db.execute("SELECT * FROM accounts ORDER BY name")]


def load(db: sqlite3.Connection, name: str) -> Account:
    row = db.execute("SELECT * FROM accounts WHERE name=?", (name,)).fetchone()
    if row is None:
        raise BadInput(f"no account named {name!r} (see `mailproof account list`)")
    return _from_row(row)


def delete(db: sqlite3.Connection, name: str) -> None:
    """Forget the account's settings. Messages synced from it stay in the store as evidence."""
    load(db, name)
    db.execute("DELETE FROM accounts WHERE name=?", (name,))
    audit.record("account removed", {"account": name})
