"""The delivery verdict: hops, TLS coverage, transit time, DKIM/ARC, Authentication-Results
claims, copy locations and forgery hints, in one immutable value with a one-line summary.
The window, `mailproof trace --json` and the evidence package all render this object."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from app.delivery.authres import CLAIM_WARNING, AuthResults, authentication_results
from app.delivery.dkim import (
    ArcResult,
    DkimResult,
    from_domain,
    organisational,
    verify_arc,
    verify_dkim,
)
from app.delivery.dns import DnsAnswer, Recorder, Resolver
from app.delivery.locate import locate
from app.delivery.received import Hop, hops_of
from app.investigate.cues import Cue, cues
from app.mime.reader import HEADERS_ONLY, read_message
from app.mime.summary import summarize
from app.store.library import Library
from app.store.records import CopyLocation

DATE_DRIFT_SECONDS = 24 * 3600
WEAK_TLS = re.compile(r"^(SSLv[23]|TLS\s?v?1(\.0|_0)?|TLS\s?v?1[._]1)$", re.IGNORECASE)
TLS_ONLY_NOTE = (
    "TLS protects the message only between servers: it is stored unencrypted on each "
    "server it passed"
)


class ProtectionLevel(StrEnum):
    """How a message was protected on its way."""

    END_TO_END = "end-to-end"
    TLS_IN_TRANSIT = "tls-in-transit"
    NONE_SEEN = "none-seen"


@dataclass(frozen=True)
class Protection:
    level: ProtectionLevel
    explanation: str
    weak_tls_hops: tuple[int, ...] = ()  # 1-based hop numbers below TLS 1.2
    plain_hops: tuple[int, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "level": self.level,
            "explanation": self.explanation,
            "weak_tls_hops": list(self.weak_tls_hops),
            "plain_hops": list(self.plain_hops),
        }


def protection_of(raw: bytes, hops: Sequence[Hop]) -> Protection:
    summary = summarize(raw)
    weak = tuple(
        i + 1
        for i, h in enumerate(hops)
        if isinstance(h.tls, dict)
        and h.tls.get("version")
        and WEAK_TLS.match(str(h.tls["version"]))
    )
    plain = tuple(i + 1 for i, h in enumerate(hops) if h.tls is False)
    if summary.is_encrypted:
        return Protection(
            ProtectionLevel.END_TO_END,
            "encrypted by the sender (S/MIME or OpenPGP): only the recipient's key opens it, "
            "on every server and in every folder",
            weak,
            plain,
        )
    if any(h.tls not in (None, False) for h in hops):
        words = "protected in transit by TLS only; " + TLS_ONLY_NOTE
        if plain:
            words += f"; hop(s) {', '.join(map(str, plain))} carried it without TLS"
        if weak:
            words += f"; hop(s) {', '.join(map(str, weak))} used TLS older than 1.2"
        return Protection(ProtectionLevel.TLS_IN_TRANSIT, words, weak, plain)
    return Protection(
        ProtectionLevel.NONE_SEEN,
        "no encryption seen: neither end-to-end nor TLS is recorded on any hop",
        weak,
        plain,
    )


@dataclass(frozen=True)
class DeliveryVerdict:
    hops: tuple[Hop, ...]
    dkim: tuple[DkimResult, ...]
    arc: ArcResult
    authentication_results: tuple[AuthResults, ...]
    locations: tuple[CopyLocation, ...]
    dns_answers: tuple[DnsAnswer, ...]
    summary: str
    warnings: tuple[str, ...]
    checked_at: str
    offline: bool
    hints: tuple[str, ...] = field(default=())
    protection: Protection | None = None
    cues: tuple[Cue, ...] = field(default=())

    @property
    def tls_hops(self) -> int:
        return sum(1 for h in self.hops if h.tls not in (None, False))

    @property
    def transit_seconds(self) -> int | None:
        times = [h.timestamp for h in self.hops if h.timestamp]
        if len(times) < 2:
            return None
        first, last = (dt.datetime.fromisoformat(t.replace("Z", "+00:00")) for t in (times[0],
                       times[-1]))  # fmt: skip
        return int((last - first).total_seconds())

    def to_json(self) -> dict[str, Any]:
        return {
            "hops": [h.to_json() for h in self.hops],
            "dkim": [d.to_json() for d in self.dkim],
            "arc": self.arc.to_json(),
            "authentication_results": [a.to_json() for a in self.authentication_results],
            "locations": [c.to_json() for c in self.locations],
            "summary": self.summary,
            "warnings": list(self.warnings),
            "hints": list(self.hints),
            "tls": {
                "hops": len(self.hops),
                "encrypted": self.tls_hops,
                "unencrypted": [i + 1 for i, h in enumerate(self.hops) if h.tls is False],
                "unknown": [i + 1 for i, h in enumerate(self.hops) if h.tls is None],
            },
            "transit_seconds": self.transit_seconds,
            "dns_answers": [a.to_json() for a in self.dns_answers],
            "checked_at": self.checked_at,
            "offline": self.offline,
            "protection": self.protection.to_json() if self.protection else None,
            "cues": [c.to_json() for c in self.cues],
        }


def _dkim_words(results: Sequence[DkimResult]) -> str:
    if not results:
        return "no DKIM signature"
    best = next((r for r in results if r.result == "pass"), results[0])
    if best.result == "pass":
        return f"DKIM pass for {best.domain}"
    if best.result == "not-checked":
        return "DKIM not checked (offline)"
    reason = best.explanation.split(":")[0]
    return f"DKIM {best.result} for {best.domain} ({reason})"


def _summary(hops: Sequence[Hop], dkim_results: Sequence[DkimResult]) -> str:
    dkim_text = _dkim_words(dkim_results)
    if not hops:
        return (
            "No Received trail: no mail server recorded handling this message "
            f"(a draft or a copy written by the sender's client); {dkim_text}"
        )
    last = hops[-1]
    when = f" at {last.timestamp.replace('T', ' ').replace('Z', ' UTC')}" if last.timestamp else ""
    tls = sum(1 for h in hops if h.tls not in (None, False))
    return (
        f"Delivered to {last.by_host or 'an unnamed server'}{when} via {len(hops)} "
        f"hop{'s' if len(hops) != 1 else ''}, TLS on {tls} of {len(hops)}, {dkim_text}"
    )


def _hints(
    raw: bytes,
    hops: Sequence[Hop],
    dkim_results: Sequence[DkimResult],
    locations: Sequence[CopyLocation],
    own_domains: Sequence[str],
) -> list[str]:
    hints = []
    summary = summarize(raw)
    sender = from_domain(raw)
    if not hops and any(c.role == "\\Sent" for c in locations):
        hints.append(
            "this copy in Sent has no Received trail: a mail client wrote it, and it proves "
            "nothing about delivery (a Sent folder can be forged)"
        )
    if summary.date is not None:
        for copy in locations:
            if not copy.internaldate:
                continue
            try:
                stored = dt.datetime.fromisoformat(copy.internaldate.replace("Z", "+00:00"))
            except ValueError:
                continue
            drift = abs((stored - summary.date).total_seconds())
            if drift > DATE_DRIFT_SECONDS:
                hints.append(
                    f"the Date header is {drift / 3600:.0f} h away from when the server stored "
                    f"the copy in {copy.account}/{copy.folder} (INTERNALDATE): one of them was "
                    "set by hand or by a wrong clock"
                )
                break
    owns = {organisational(d) for d in own_domains}
    if (
        sender
        and organisational(sender) in owns
        and any(r.result in ("fail", "permerror") for r in dkim_results)
        and not any(r.result == "pass" for r in dkim_results)
    ):  # only a check that ran and failed: "not checked (offline)" says nothing of forgery
        hints.append(
            f"the message claims our own domain {sender} but its DKIM signature does not verify"
        )
    message = read_message(raw, HEADERS_ONLY)
    message_id = str(message.get("Message-ID") or "")
    if sender and "@" in message_id:
        id_domain = message_id.rsplit("@", 1)[1].strip(" >").lower()
        if id_domain and organisational(id_domain) != organisational(sender):
            hints.append(
                f"the Message-ID was made at {id_domain}, not at the sender's domain {sender} "
                "(normal for mail sent through a provider; odd for a server of the sender's own)"
            )
    return hints


def trace(
    raw: bytes,
    *,
    resolver: Resolver | None,
    offline: bool = False,
    library: Library | None = None,
    own_domains: Sequence[str] | None = None,
    clock: Any = None,
) -> DeliveryVerdict:
    """Everything about one message's delivery. DNS goes through ``resolver`` (recorded);
    ``offline`` makes no lookup and says so. ``own_domains`` default: the domains of the
    library's accounts (for the "our own domain fails DKIM" hint)."""
    if own_domains is None:
        own_domains = account_domains(library) if library is not None else ()
    recorder = Recorder(resolver) if resolver is not None and not offline else None
    hops = tuple(hops_of(raw))
    dkim_results = tuple(verify_dkim(raw, recorder, offline=offline or recorder is None))
    arc = verify_arc(raw, recorder, offline=offline or recorder is None)
    claims = tuple(authentication_results(raw))
    locations: tuple[CopyLocation, ...] = ()
    if library is not None:
        summary = summarize(raw)
        found = locate(library, message_id=summary.message_id, sha256=summary.sha256)
        if not found.copies and summary.message_id:
            found = locate(library, sha256=summary.sha256)
        locations = found.copies
    warnings = [f"hop {i + 1}: {w}" for i, h in enumerate(hops) for w in h.warnings]
    warnings += [w for d in dkim_results for w in d.warnings]
    if claims:
        warnings.append(CLAIM_WARNING)
    hints = _hints(raw, hops, dkim_results, locations, own_domains)
    now = clock() if clock else dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return DeliveryVerdict(
        hops=hops,
        dkim=dkim_results,
        arc=arc,
        authentication_results=claims,
        locations=locations,
        dns_answers=tuple(recorder.answers) if recorder else (),
        summary=_summary(hops, dkim_results),
        warnings=tuple(warnings),
        checked_at=now,
        offline=offline or recorder is None,
        hints=tuple(hints),
        protection=protection_of(raw, hops),
        cues=tuple(cues(raw, _known_domains(library, own_domains))),
    )


def account_domains(library: Library) -> list[str]:
    """The mail domains of the configured accounts: what "our own domain" means."""
    from app.imap.account import load_all

    return [a.user.rsplit("@", 1)[1].lower() for a in load_all(library) if "@" in a.user]


def _known_domains(library: Library | None, own: Sequence[str]) -> list[str]:
    """Our own domains and those of the people we correspond with (for look-alikes)."""
    domains = set(own)
    if library is not None:
        domains.update(domain.lower() for domain in library.lookup.sender_domains(limit=5000))
    return sorted(domains)
