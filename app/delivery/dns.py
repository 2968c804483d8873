"""DNS TXT lookups for DKIM/ARC as injected callables: live (system or ``HOST:PORT``), recorded
(every answer kept with its time) and replayed — so a check can be repeated offline later."""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import dkim
import dns.exception
import dns.resolver

from app.errors import BadInput

NOT_RECORDED = "not recorded"
SKIPPED = "skipped: the DNS server did not answer an earlier lookup"


@dataclass(frozen=True)
class DnsAnswer:
    """One TXT lookup as it happened: the record (strings joined) or why there is none.

    ``txt`` None with ``error`` None means the name has no TXT record (NXDOMAIN or no data)."""

    name: str  # absolute, lower case, with the trailing dot
    txt: str | None
    error: str | None  # "timeout: …", "not recorded", "skipped: …" or the resolver's complaint
    fetched_at: str  # UTC, ISO 8601 ("2024-05-03T09:15:00Z")

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "txt": self.txt, "error": self.error,
                "fetched_at": self.fetched_at}  # fmt: skip

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DnsAnswer:
        txt, error, when = data.get("txt"), data.get("error"), data.get("fetched_at")
        return cls(
            name=normal_name(str(data["name"])),
            txt=txt if isinstance(txt, str) else None,
            error=error if isinstance(error, str) else None,
            fetched_at=when if isinstance(when, str) else "",
        )


#: A resolver takes a DNS name ("sel._domainkey.example.org.") and returns its TXT answer.
#: It must not raise; failures are answers with ``error`` set.
Resolver = Callable[[str], DnsAnswer]

#: What dkimpy calls: ``dnsfunc(name, timeout=…)`` → the TXT strings joined, or b"" for none.
DkimDnsFunc = Callable[..., bytes]


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(text: str) -> dt.datetime | None:
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, AttributeError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def normal_name(name: str) -> str:
    return name.strip().rstrip(".").lower() + "."


def parse_server(server: str) -> tuple[str, int]:
    """``HOST:PORT``, ``HOST``, ``[v6]:PORT`` or a bare IPv6 address → (host, port)."""
    text = server.strip()
    if text.startswith("["):
        host, _, rest = text[1:].partition("]")
        if rest and not rest.startswith(":"):
            raise BadInput(f"--dns-server {server!r}: give HOST:PORT or [IPv6]:PORT")
        port = rest[1:] or "53"
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


def _address(host: str) -> str:
    """An IP address for ``host`` (dnspython takes addresses only)."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, 53, proto=socket.IPPROTO_UDP)
    except (OSError, UnicodeError):
        raise BadInput(f"--dns-server: cannot find the address of {host!r}") from None
    return str(infos[0][4][0])


def _failing(error: str) -> Resolver:
    def lookup(name: str) -> DnsAnswer:
        return DnsAnswer(normal_name(name), None, error, now_iso())

    return lookup


def live_resolver(server: str | None = None, timeout: float = 3.0) -> Resolver:
    """Ask the system's DNS servers, or only ``server`` ("HOST:PORT", "[::1]:53"), for TXT
    records. Each lookup gives up after ``timeout`` seconds in all (error "timeout: …")."""
    try:
        resolver = dns.resolver.Resolver(configure=server is None)
    except dns.exception.DNSException as err:  # no /etc/resolv.conf, or no server in it
        return _failing(f"no DNS server configured ({err}); give --dns-server HOST:PORT")
    if server is not None:
        host, port = parse_server(server)
        resolver.port = port
        resolver.nameservers = [_address(host)]
    resolver.lifetime = timeout
    resolver.timeout = timeout

    def lookup(name: str) -> DnsAnswer:
        absolute = normal_name(name)
        try:
            answer = resolver.resolve(absolute, "TXT", search=False)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return DnsAnswer(absolute, None, None, now_iso())
        except dns.exception.Timeout:
            return DnsAnswer(absolute, None, f"timeout: no answer within {timeout:g} s", now_iso())
        except Exception as err:  # noqa: BLE001 - SERVFAIL, refused, bad name: all an answer
            return DnsAnswer(absolute, None, f"{type(err).__name__}: {err}"[:300], now_iso())
        records = [b"".join(r.strings).decode("utf-8", "replace") for r in answer]
        chosen = next((r for r in records if r.replace(" ", "").startswith("v=DKIM1")), None)
        return DnsAnswer(absolute, chosen or (records[0] if records else None), None, now_iso())

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


def recorded_resolver(answers: Iterable[DnsAnswer | Mapping[str, Any]]) -> Resolver:
    """Serve only what was recorded (DnsAnswer or its JSON); anything else is the error
    "not recorded" — never a live lookup. Unreadable entries are left out."""
    table: dict[str, DnsAnswer] = {}
    for item in answers:
        try:
            answer = item if isinstance(item, DnsAnswer) else DnsAnswer.from_json(item)
        except (KeyError, TypeError, AttributeError):
            continue
        table[normal_name(answer.name)] = answer

    def lookup(name: str) -> DnsAnswer:
        key = normal_name(name)
        return table.get(key) or DnsAnswer(key, None, NOT_RECORDED, now_iso())

    return lookup


def bounded(resolver: Resolver) -> Resolver:
    """One verification's view of ``resolver``: each name is asked once, and after the first
    timeout no further name is asked (error "skipped: …"), so a silent server costs one
    timeout per check, not one per signature. A resolver that raises gives an error answer."""
    seen: dict[str, DnsAnswer] = {}
    silent: list[bool] = []

    def lookup(name: str) -> DnsAnswer:
        key = normal_name(name)
        if key in seen:
            return seen[key]
        if silent:
            return DnsAnswer(key, None, SKIPPED, now_iso())
        try:
            answer = resolver(key)
        except Exception as err:  # noqa: BLE001 - an injected resolver must not crash a check
            answer = DnsAnswer(key, None, f"{type(err).__name__}: {err}"[:300], now_iso())
        if answer.error and answer.error.startswith("timeout"):
            silent.append(True)
        seen[key] = answer
        return answer

    return lookup


def dkim_dnsfunc(resolver: Resolver) -> DkimDnsFunc:
    """Adapt a resolver to dkimpy's ``dnsfunc(name: bytes, timeout=…) -> bytes``. As in
    dkimpy's own ``dnsplug``: no record → b"" (dkimpy: "missing public key", a permerror);
    any lookup failure → ``dkim.DnsTimeoutError`` (dkimpy: temperror)."""

    def dnsfunc(name: bytes | str, timeout: float = 5) -> bytes:
        text = name.decode("utf-8", "replace") if isinstance(name, bytes) else str(name)
        answer = resolver(text)
        if answer.error:
            raise dkim.DnsTimeoutError(f"{answer.name}: {answer.error}")
        return answer.txt.encode("utf-8") if answer.txt else b""

    return dnsfunc
