"""Account settings (no secrets) kept in the store's ``accounts`` table."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from app import audit
from app.errors import BadInput
from app.store.library import Library
from app.store.records import AccountRecord

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


def save(library: Library, account: Account) -> None:
    existed = library.accounts.exists(account.name)
    library.accounts.put(AccountRecord(**vars(account)))
    audit.record(
        "account updated" if existed else "account added",
        {"account": account.name},
        server=f"{account.host}:{account.port}",
        security=account.security,
        allow_insecure=account.allow_insecure,
        folders=list(account.folders) if account.folders is not None else "all",
    )


def _from_record(record: AccountRecord) -> Account:
    return Account(**vars(record))  # the same fields: the store's record of these settings


def load_all(library: Library) -> list[Account]:
    return [_from_record(record) for record in library.accounts.all()]


def load(library: Library, name: str) -> Account:
    record = library.accounts.get(name)
    if record is None:
        raise BadInput(f"no account named {name!r} (see `mailproof account list`)")
    return _from_record(record)


def delete(library: Library, name: str) -> None:
    """Forget the account's settings. Messages synced from it stay in the store as evidence."""
    load(library, name)
    library.accounts.delete(name)
    audit.record("account removed", {"account": name})
