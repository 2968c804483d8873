"""Server filter rules: the account's Sieve scripts read over ManageSieve (RFC 5804, sievelib,
always STARTTLS with the account's certificate checks), and the rules that would discard,
reject, redirect or file a given message elsewhere."""

from __future__ import annotations

import contextlib
import fnmatch
import re
import ssl
from collections.abc import Sequence
from dataclasses import dataclass, field
from email.utils import getaddresses
from typing import Any

from sievelib.managesieve import Client, Error
from sievelib.parser import Parser

from app.errors import AuthError, MailproofError, ServerUnreachable, TLSError
from app.imap.account import Account
from app.imap.connection import tls_context

MANAGESIEVE_PORT = 4190
DISPOSING = {"discard", "reject", "ereject", "redirect", "fileinto"}


@dataclass(frozen=True)
class SieveScript:
    name: str
    active: bool
    text: str


@dataclass(frozen=True)
class Facts:
    """What is known of the message the filters are asked about."""

    headers: dict[str, list[str]] = field(default_factory=dict)  # lower-case name → values
    size: int | None = None


@dataclass(frozen=True)
class RuleFinding:
    script: str
    rule: str  # the test, written back as Sieve
    actions: tuple[str, ...]
    matches: bool | None  # None: the test uses something Mailproof cannot evaluate

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _Client(Client):  # type: ignore[misc]
    """sievelib's client with the account's own TLS context (CA file, host name check)."""

    context: ssl.SSLContext

    def _Client__enable_ssl(self, **_kwargs: Any) -> None:  # noqa: N802 - sievelib's name
        plain: Any = getattr(self, "sock")  # noqa: B009 - sievelib sets it untyped
        setattr(self, "sock", self.context.wrap_socket(plain, server_hostname=self.srvaddr))  # noqa: B010


def read_scripts(
    account: Account, password: str, port: int = MANAGESIEVE_PORT
) -> list[SieveScript]:
    where = f"{account.host}:{port}"
    client = _Client(account.host, port)
    client.context = tls_context(account.ca_file)
    try:
        ok = client.connect(account.user, password, starttls=True, authmech="PLAIN")
    except ssl.SSLCertVerificationError as err:
        raise TLSError(
            f"ManageSieve at {where}: the certificate is not trusted ({err.verify_message})"
        ) from None
    except (TimeoutError, Error, OSError) as err:
        raise ServerUnreachable(f"ManageSieve at {where} is not available: {err}") from None
    if not ok:
        raise AuthError(f"ManageSieve at {where} refused the login of {account.user!r}")
    try:
        active, others = client.listscripts()
        scripts = []
        for name in ([active] if active else []) + list(others):
            text = client.getscript(name)
            if text is not None:
                scripts.append(SieveScript(name, name == active, text))
        return scripts
    except (Error, OSError) as err:
        raise ServerUnreachable(f"ManageSieve at {where} failed: {err}") from None
    finally:
        with contextlib.suppress(Error, OSError):
            client.logout()


def _unquote(value: Any) -> list[str]:
    if isinstance(value, list):
        return [v for item in value for v in _unquote(item)]
    text = str(value)
    return [text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else text]


def _size(text: str) -> int:
    units = {"K": 1024, "M": 1024**2, "G": 1024**3}
    text = text.strip().upper()
    return int(text[:-1]) * units[text[-1]] if text[-1:] in units else int(text)


def _compare(kind: str, value: str, key: str) -> bool:
    value, key = value.lower(), key.lower()  # i;ascii-casemap, the default comparator
    if kind == ":contains":
        return key in value
    if kind == ":matches":
        return fnmatch.fnmatchcase(value, key)
    if kind == ":regex":
        try:
            return re.search(key, value) is not None
        except re.error:
            return False
    return value == key


def _address_part(address: str, part: str) -> str:
    local, _, domain = address.partition("@")
    return local if part == ":localpart" else domain if part == ":domain" else address


def evaluate(test: Any, facts: Facts) -> bool | None:
    """Three-valued: True, False, or None when the test needs what Mailproof cannot know."""
    name = test.name
    args = test.arguments
    if name == "true":
        return True
    if name == "false":
        return False
    if name == "not":
        inner = evaluate(args["test"], facts)
        return None if inner is None else not inner
    if name in ("allof", "anyof"):
        results = [evaluate(t, facts) for t in args["tests"]]
        if name == "allof":
            return False if False in results else None if None in results else True
        return True if True in results else None if None in results else False
    if name == "exists":
        return all(n.lower() in facts.headers for n in _unquote(args["header-names"]))
    if name == "size":
        if facts.size is None:
            return None
        limit = _size(str(args["limit"]))
        return facts.size > limit if args.get("comparator") == ":over" else facts.size < limit
    if name in ("header", "address"):
        kind = str(args.get("match-type", ":is"))
        names = _unquote(args.get("header-names") or args.get("header-list"))
        keys = _unquote(args["key-list"])
        values: list[str] = []
        for header in names:
            present = facts.headers.get(header.lower(), [])
            if name == "address":
                part = str(args.get("address-part", ":all"))
                values += [_address_part(a.lower(), part) for _, a in getaddresses(present) if a]
            else:
                values += present
        return any(_compare(kind, v, k) for v in values for k in keys)
    return None  # envelope, body, date, spamtest, …: not knowable from what we have


def _shown(value: Any) -> str:
    if isinstance(value, list) and value and hasattr(value[0], "name"):
        return "(" + ", ".join(_describe(t) for t in value) + ")"
    return _describe(value) if hasattr(value, "name") else str(value)


def _describe(test: Any) -> str:
    args = " ".join(_shown(v) for v in test.arguments.values())
    return f"{test.name} {args}".strip()


def _actions(block: Any) -> tuple[str, ...]:
    shown = []
    for command in block.children:
        target = " ".join(_unquote(list(command.arguments.values()))) if command.arguments else ""
        shown.append(f"{command.name} {target}".strip())
    return tuple(shown)


def findings(scripts: Sequence[SieveScript], facts: Facts) -> list[RuleFinding]:
    """Every rule of the active script that disposes of mail (discard, reject, redirect,
    fileinto), with whether it matches the message."""
    found = []
    for script in scripts:
        if not script.active:
            continue
        parser = Parser()
        if not parser.parse(script.text):
            raise MailproofError(f"the Sieve script {script.name!r} cannot be parsed")
        for command in parser.result:
            if command.name not in ("if", "elsif", "else"):
                continue
            actions = _actions(command)
            if not any(a.split()[0] in DISPOSING for a in actions):
                continue
            test = command.arguments.get("test")
            matches = evaluate(test, facts) if test is not None else True
            rule = f"{command.name} {_describe(test)}" if test is not None else "else"
            found.append(RuleFinding(script.name, rule, actions, matches))
    return found
