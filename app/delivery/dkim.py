"""DKIM and ARC checked by Mailproof itself (dkimpy), each signature on its own, with the DNS
answers used recorded; results explained in plain words. Offline checks nothing."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import compat32
from email.utils import getaddresses
from typing import Any

import dkim
from dkim.util import InvalidTagValueList, parse_tag_value

from app.delivery.dns import DnsAnswer, Resolver

OFFLINE = "not checked (offline): no DNS lookup was made"


@dataclass(frozen=True)
class DkimResult:
    domain: str | None
    selector: str | None
    algorithm: str | None
    canonicalization: str | None
    header_index: int
    result: str  # pass | fail | temperror | permerror | not-checked
    explanation: str
    body_length_limit: int | None
    aligned_with_from: bool
    signed_headers: tuple[str, ...]
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["signed_headers"] = list(self.signed_headers)
        data["warnings"] = list(self.warnings)
        return data


@dataclass(frozen=True)
class ArcResult:
    result: str  # pass | fail | none | temperror | not-checked
    instances: int
    explanation: str

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def organisational(domain: str) -> str:
    """The last two labels (a simplification of the public-suffix rule, documented)."""
    labels = domain.lower().rstrip(".").split(".")
    return ".".join(labels[-2:])


def from_domain(raw: bytes) -> str | None:
    message = message_from_bytes(raw, policy=compat32)
    addresses = getaddresses([str(v) for v in message.get_all("From") or []])
    address = next((a for _, a in addresses if "@" in a), None)
    return address.rsplit("@", 1)[1].lower() if address else None


def _tags(value: bytes) -> dict[bytes, bytes]:
    try:
        return dict(parse_tag_value(b"".join(value.split())))
    except (InvalidTagValueList, ValueError):
        return {}


def _signature_headers(raw: bytes) -> list[bytes]:
    message = message_from_bytes(raw, policy=compat32)
    values = []
    for value in message.get_all("DKIM-Signature") or []:
        text = str(value)
        values.append(text.encode("utf-8", "surrogateescape"))
    return values


def _dnsfunc(resolver: Resolver, timeouts: list[str]) -> Any:
    def dnsfunc(name: bytes | str, timeout: float = 5) -> bytes | None:
        text = name.decode("ascii", "replace") if isinstance(name, bytes) else name
        answer = resolver(text)
        if answer.error == "timeout":
            timeouts.append(text)
            raise dkim.DnsTimeoutError(f"no answer for {text}")
        if answer.error:
            if answer.error == "not recorded":
                timeouts.append(text)
            return None
        return answer.txt.encode() if answer.txt is not None else None

    return dnsfunc


def verify_dkim(
    raw: bytes, resolver: Resolver | None, *, offline: bool = False
) -> list[DkimResult]:
    """One result per DKIM-Signature header, in header order. Never raises."""
    author = from_domain(raw) if raw else None
    results = []
    for index, header in enumerate(_signature_headers(raw)):
        tags = _tags(header)
        domain = tags.get(b"d", b"").decode("ascii", "replace").lower() or None
        selector = tags.get(b"s", b"").decode("ascii", "replace") or None
        limit = tags.get(b"l")
        length = int(limit) if limit and limit.isdigit() else None
        aligned = bool(domain and author and organisational(domain) == organisational(author))
        base: dict[str, Any] = {
            "domain": domain,
            "selector": selector,
            "algorithm": tags.get(b"a", b"").decode("ascii", "replace") or None,
            "canonicalization": tags.get(b"c", b"simple/simple").decode("ascii", "replace"),
            "header_index": index,
            "body_length_limit": length,
            "aligned_with_from": aligned,
            "signed_headers": tuple(
                h.strip() for h in tags.get(b"h", b"").decode("ascii", "replace").split(":") if h
            ),
        }
        warnings = []
        if domain and author and not aligned:
            warnings.append(
                f"signed by d={domain}, not by the From domain {author}: it vouches for "
                f"{domain}, not for the sender"
            )
        if length is not None:
            warnings.append(
                f"only the first {length} bytes of the body are signed (l=); anything after "
                "them could have been added"
            )
        if offline or resolver is None:
            results.append(
                DkimResult(
                    **base, result="not-checked", explanation=OFFLINE, warnings=tuple(warnings)
                )  # fmt: skip
            )
            continue
        results.append(_verify_one(raw, index, domain, selector, tags, resolver, base, warnings))
    return results


def _verify_one(
    raw: bytes,
    index: int,
    domain: str | None,
    selector: str | None,
    tags: dict[bytes, bytes],
    resolver: Resolver,
    base: dict[str, Any],
    warnings: list[str],
) -> DkimResult:
    logger = logging.getLogger(f"mailproof.dkim.{id(raw)}.{index}")
    logger.propagate = False
    collect = _Collect()
    logger.addHandler(collect)
    logger.setLevel(logging.DEBUG)
    seen: list[DnsAnswer] = []

    def watched(name: str) -> DnsAnswer:
        answer = resolver(name)
        seen.append(answer)
        return answer

    failures: list[str] = []
    try:
        ok = dkim.DKIM(raw, logger=logger).verify(idx=index, dnsfunc=_dnsfunc(watched, failures))
    except Exception as err:  # noqa: BLE001 - dkimpy raises odd things on odd input
        collect.lines.append(f"{type(err).__name__}: {err}")
        ok = False
    finally:
        logger.removeHandler(collect)
    log = " ".join(collect.lines).lower()
    answer: DnsAnswer | None = seen[-1] if seen else None
    record = f"{selector}._domainkey.{domain}"
    expiry = tags.get(b"x")
    if ok:
        result, words = (
            "pass",
            (
                f"the signature of {domain} is valid: the signed headers and body are unchanged "
                f"since {domain} signed them"
            ),
        )
    elif failures or (answer is not None and answer.error == "timeout"):
        result, words = (
            "temperror",
            (
                f"the DNS server did not answer for {record} in time; try again later"
                if answer is None or answer.error == "timeout"
                else f"the key {record} is not in the recorded DNS answers"
            ),
        )
    elif answer is not None and answer.error:
        result, words = "temperror", f"DNS lookup of {record} failed: {answer.error}"
    elif "missing public key" in log:
        result, words = "permerror", f"key not found in DNS ({record}): the domain publishes no key"
    elif answer is not None and answer.txt is not None and _revoked(answer.txt):
        result, words = "permerror", f"key revoked: {domain} withdrew the key {record}"
    elif "x= value is past" in log and expiry and expiry.isdigit():
        when = dt.datetime.fromtimestamp(int(expiry), dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        result, words = "fail", f"the signature expired on {when} (x=)"
    elif "body hash mismatch" in log:
        result, words = "fail", "body changed after signing: the body hash does not match"
    elif "keyformaterror" in log or "could not parse" in log or "incomplete" in log:
        result, words = "permerror", f"the published key {record} is malformed"
    elif "validationerror" in log or "value is not" in log or "missing" in log:
        result, words = (
            "permerror",
            "the signature header is malformed: "
            + (collect.lines[-1][:120] if collect.lines else "unreadable"),
        )
    else:
        result, words = (
            "fail",
            "a signed header changed after signing: the signature does not match",
        )
    return DkimResult(**base, result=result, explanation=words, warnings=tuple(warnings))


def _revoked(txt: str) -> bool:
    tags = _tags(txt.encode())
    return b"p" in tags and not tags[b"p"]


def verify_arc(raw: bytes, resolver: Resolver | None, *, offline: bool = False) -> ArcResult:
    message = message_from_bytes(raw, policy=compat32)
    instances = len(message.get_all("ARC-Seal") or [])
    if instances == 0:
        return ArcResult("none", 0, "no ARC chain: no forwarder or list added one")
    if offline or resolver is None:
        return ArcResult("not-checked", instances, OFFLINE)
    failures: list[str] = []
    try:
        verdict, _results, comment = dkim.arc_verify(raw, dnsfunc=_dnsfunc(resolver, failures))
    except Exception as err:  # noqa: BLE001
        return ArcResult("fail", instances, f"the ARC chain is malformed: {err}"[:200])
    state = verdict.decode() if isinstance(verdict, bytes) else str(verdict)
    note = comment.decode() if isinstance(comment, bytes) else str(comment or "")
    if failures:
        return ArcResult("temperror", instances, "a DNS lookup for the ARC chain failed")
    words = {
        "pass": f"the ARC chain of {instances} hop(s) is intact: each forwarder's seal verifies",
        "fail": f"the ARC chain is broken ({note or 'a seal does not verify'})",
        "none": "no ARC chain",
    }.get(state, note or state)
    return ArcResult(state, instances, words)
