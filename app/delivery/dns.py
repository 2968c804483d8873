"""DNS TXT lookups for DKIM/ARC as an injected callable: a live resolver (system or
``HOST:PORT``), a recorder that keeps every answer with its time, and a resolver that serves
only recorded answers — so a verification can be repeated later, offline, from the record."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import dns.exception
import dns.resolver

from app.errors import BadInput


@dataclass(frozen=True)
class DnsAnswer:
    name: str
    txt: str | None  # the TXT strings of the record, joined; None when there is none
    error: str | None  # "timeout", "not recorded", or the resolver's complaint
    fetched_at: str

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


Resolver = Callable[[str], DnsAnswer]


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_server(server: str) -> tuple[str, int]:
    """``HOST:PORT``, ``HOST``, ``[v6]:PORT`` → (host, port)."""
    text = server.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        port = rest.lstrip(":") or "53"
    elif text.count(":") == 1:
        host, port = text.split(":")
    else:
        host, port = text, "53"
    try:
        number = int(port)
    except ValueError:
        raise BadInput(f"--dns-server {server!r}: the port is not a number") from None
    if not host or not 0 < number < 65536:
        raise BadInput(f"--dns-server {server!r}: give HOST:PORT")
    return host, number


def live_resolver(server: str | None = None, timeout: float = 3.0) -> Resolver:
    resolver = dns.resolver.Resolver(configure=server is None)
    if server is not None:
        host, port = parse_server(server)
        resolver.nameservers = [host]
        resolver.port = port
    resolver.lifetime = timeout
    resolver.timeout = timeout

    def lookup(name: str) -> DnsAnswer:
        name = name.rstrip(".") + "."
        try:
            answer = resolver.resolve(name, "TXT")
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return DnsAnswer(name, None, None, _now())
        except dns.exception.Timeout:
            return DnsAnswer(name, None, "timeout", _now())
        except dns.exception.DNSException as err:
            return DnsAnswer(name, None, f"{type(err).__name__}: {err}"[:200], _now())
        records = [b"".join(r.strings).decode("utf-8", "replace") for r in answer]
        chosen = next((r for r in records if r.replace(" ", "").startswith("v=DKIM1")), None)
        return DnsAnswer(name, chosen or (records[0] if records else None), None, _now())

    return lookup


class Recorder:
    """Wraps a resolver and keeps every answer it gave (the record an evidence package holds)."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.answers: list[DnsAnswer] = []

    def __call__(self, name: str) -> DnsAnswer:
        answer = self.resolver(name)
        self.answers.append(answer)
        return answer


def recorded_resolver(answers: Iterable[DnsAnswer | dict[str, Any]]) -> Resolver:
    """Serve only what was recorded; anything else is an error, never a live lookup."""
    table: dict[str, DnsAnswer] = {}
    for item in answers:
        answer = item if isinstance(item, DnsAnswer) else DnsAnswer(**item)
        table[answer.name.rstrip(".").lower() + "."] = answer

    def lookup(name: str) -> DnsAnswer:
        key = name.rstrip(".").lower() + "."
        return table.get(key) or DnsAnswer(key, None, "not recorded", _now())

    return lookup
