"""DKIM and ARC checked by Mailproof itself (dkimpy), each signature on its own, against DNS
answers that are recorded and replayable; results explained in plain words."""

from __future__ import annotations

import binascii
import datetime as dt
import functools
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.utils import getaddresses
from enum import StrEnum
from pathlib import Path
from typing import Any

import dkim
from dkim.canonicalization import CanonicalizationPolicy
from dkim.util import parse_tag_value

from app.delivery.dns import (
    NOT_RECORDED,
    DnsAnswer,
    Resolver,
    bounded,
    dkim_dnsfunc,
    parse_iso,
)
from app.mime.reader import HEADERS_ONLY, read_message


class DkimStatus(StrEnum):
    """A DKIM signature's result (RFC 8601 words, plus "not-checked" when no lookup ran)."""

    PASS = "pass"  # noqa: S105 - a DKIM result, not a password
    FAIL = "fail"
    TEMPERROR = "temperror"
    PERMERROR = "permerror"
    NONE = "none"
    NOT_CHECKED = "not-checked"


class ArcStatus(StrEnum):
    """An ARC chain's result."""

    PASS = "pass"  # noqa: S105 - a DKIM result, not a password
    FAIL = "fail"
    NONE = "none"
    TEMPERROR = "temperror"
    NOT_CHECKED = "not-checked"


OFFLINE = "not checked (offline): no DNS lookup was made"
#: More signatures than this on one message are listed but not checked (each costs a body
#: hash and a DNS lookup; a message with hundreds is an attack, not mail).
MAX_SIGNATURES = 20
#: dkimpy's leeway for t= and x= (10 h, for senders with wrong clocks); kept so both agree.
CLOCK_SLOP = 36000
#: Where Debian's ``publicsuffix`` package puts the list; without it, see ``organisational``.
PUBLIC_SUFFIX_LISTS = (Path("/usr/share/publicsuffix/public_suffix_list.dat"),)
_COMMON_SECOND_LEVEL = frozenset(
    {
        "co.uk", "org.uk", "ac.uk", "gov.uk", "me.uk", "ltd.uk", "plc.uk", "com.au", "net.au",
        "org.au", "edu.au", "gov.au", "co.nz", "org.nz", "co.jp", "ne.jp", "or.jp", "ac.jp",
        "co.za", "com.br", "com.cn", "com.mx", "co.in", "com.tr", "co.kr", "com.sg", "com.hk",
        "com.tw", "co.il", "com.ar",
    }
)  # fmt: skip

# dkimpy logs what it also raises or returns; we read its exceptions instead. A logger that
# belongs to no hierarchy, so nothing piles up in logging's registry and nothing is printed.
_QUIET = logging.Logger("mailproof.dkimpy", logging.CRITICAL + 1)
_QUIET.addHandler(logging.NullHandler())


@dataclass(frozen=True)
class DkimResult:
    domain: str | None  # d=
    selector: str | None  # s=
    algorithm: str | None  # a=
    canonicalization: str | None  # c=, header/body
    header_index: int  # 0 = the topmost DKIM-Signature header
    result: DkimStatus
    explanation: str  # plain words; the part before the first ":" is the short reason
    body_length_limit: int | None  # l=
    aligned_with_from: bool  # d= is in the From address's organisational domain
    signed_headers: tuple[str, ...]  # h=, lower case
    warnings: tuple[str, ...] = field(default=())
    key_name: str | None = None  # the DNS name of the key ("sel._domainkey.example.org.")

    def to_json(self) -> dict[str, Any]:
        return {
            "domain": self.domain,
            "selector": self.selector,
            "algorithm": self.algorithm,
            "canonicalization": self.canonicalization,
            "header_index": self.header_index,
            "result": self.result,
            "explanation": self.explanation,
            "body_length_limit": self.body_length_limit,
            "aligned_with_from": self.aligned_with_from,
            "signed_headers": list(self.signed_headers),
            "warnings": list(self.warnings),
            "key_name": self.key_name,
        }


@dataclass(frozen=True)
class ArcSet:
    """One ARC set (i=) as dkimpy checked it; None where it never got that far."""

    instance: int
    seal_domain: str | None
    seal_selector: str | None
    seal_valid: bool | None
    signature_domain: str | None
    signature_selector: str | None
    signature_valid: bool | None
    chain_status: str | None  # cv= as the forwarder wrote it: none, pass, fail

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class ArcResult:
    result: ArcStatus
    instances: int
    explanation: str
    sets: tuple[ArcSet, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "result": self.result,
            "instances": self.instances,
            "explanation": self.explanation,
            "sets": [s.to_json() for s in self.sets],
        }


# --- organisational domain -------------------------------------------------------------------


def _ascii(name: str) -> str:
    labels = []
    for label in name.split("."):
        try:
            labels.append(label.encode("idna").decode("ascii") if not label.isascii() else label)
        except UnicodeError:
            labels.append(label)
    return ".".join(labels)


@functools.lru_cache(maxsize=1)
def _suffix_rules() -> tuple[frozenset[str], frozenset[str], frozenset[str]] | None:
    """(rules, wildcard parents, exceptions) from an installed public-suffix list, or None."""
    for path in PUBLIC_SUFFIX_LISTS:
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeError):
            continue
        rules: set[str] = set()
        wild: set[str] = set()
        exceptions: set[str] = set()
        for line in text.splitlines():
            words = line.split()
            if not words or words[0].startswith("//"):
                continue
            rule = words[0].lower()
            if rule.startswith("!"):
                exceptions.add(_ascii(rule[1:]))
            elif rule.startswith("*."):
                wild.add(_ascii(rule[2:]))
            else:
                rules.add(_ascii(rule))
        if rules:
            return frozenset(rules), frozenset(wild), frozenset(exceptions)
    return None


def organisational(domain: str) -> str:
    """The organisational domain (public suffix + one label), as DMARC aligns domains.

    With a public-suffix list installed (Debian: ``publicsuffix``) it follows that list;
    without one, the last two labels — three under a few well-known second-level suffixes such
    as co.uk — which is right for most domains and documented as a simplification."""
    labels = [label for label in _ascii(domain.strip().lower().rstrip(".")).split(".") if label]
    rules = _suffix_rules()
    if rules is None:
        suffix = 2 if ".".join(labels[-2:]) in _COMMON_SECOND_LEVEL and len(labels) > 2 else 1
    else:
        known, wild, exceptions = rules
        suffix = 1  # the default rule "*"
        for i in range(len(labels)):
            candidate = ".".join(labels[i:])
            if candidate in exceptions:
                suffix = len(labels) - i - 1
                break
            wildcard = i + 1 < len(labels) and ".".join(labels[i + 1 :]) in wild
            if candidate in known or wildcard:
                suffix = len(labels) - i
                break
    return ".".join(labels[-(suffix + 1) :])


def from_domain(raw: bytes) -> str | None:
    """The domain of the first address in From, lower case; None when there is none."""
    try:
        message = read_message(raw, HEADERS_ONLY)
        addresses = getaddresses([str(v) for v in message.get_all("From") or []])
    except Exception:  # noqa: BLE001 - a From the parser chokes on is simply no From
        return None
    address = next((a for _, a in addresses if "@" in a), None)
    if address is None:
        return None
    return address.rsplit("@", 1)[1].strip().lower() or None


# --- reading the header section as dkimpy does -----------------------------------------------


def _lines(raw: bytes) -> Iterator[bytes]:
    start = 0
    while True:
        end = raw.find(b"\n", start)
        if end < 0:
            yield raw[start:]
            return
        yield raw[start : end - 1] if end > start and raw[end - 1] == 0x0D else raw[start:end]
        start = end + 1


_FIELD_NAME = re.compile(rb"([\x21-\x7e]+?):")


def header_fields(raw: bytes) -> tuple[list[tuple[bytes, bytes]], str | None]:
    """The header fields (name, value with its folding) as dkimpy reads them, and — when
    dkimpy would refuse the message — what is wrong; then the fields are read leniently."""
    fields: list[tuple[bytes, list[bytes]]] = []
    problem: str | None = None
    for number, line in enumerate(_lines(raw), 1):
        if not line:
            break
        if line[0] in (0x09, 0x20):
            if fields:
                fields[-1][1].append(line + b"\r\n")
            elif problem is None:
                problem = "the first header line is a continuation of nothing"
            continue
        match = _FIELD_NAME.match(line)
        if match is not None:
            fields.append((match.group(1), [line[match.end() :] + b"\r\n"]))
        elif not line.startswith(b"From ") and problem is None:
            shown = line[:60].decode("utf-8", "replace")
            problem = f"header line {number} is not a header field ({shown!r})"
    return [(name, b"".join(parts)) for name, parts in fields], problem


# --- DKIM ------------------------------------------------------------------------------------


def _text(value: bytes | None) -> str | None:
    if value is None:
        return None
    return "".join(value.decode("utf-8", "replace").split()) or None


def _tags(value: bytes) -> dict[bytes, bytes]:
    try:
        return dict(parse_tag_value(value))
    except Exception:  # noqa: BLE001 - InvalidTagValueList and friends
        return {}


def _dkimpy_words(err: object) -> str:
    if isinstance(err, bytes):
        err = err.decode("utf-8", "replace")
    text = re.sub(r"""b(['"])(.*?)\1""", r"\2", str(err))
    if isinstance(err, binascii.Error):
        text = f"b= or bh= is not valid base64 ({text})"
    text = re.sub(r"\s*\([^()]{40,}\)", "", text)  # dkimpy quotes whole b= values
    return " ".join(text.split())[:160]


_LABEL = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?")


def _dns_name(name: str | None) -> bool:
    """A name that can be looked up: LDH labels (underscore allowed), IDN as A-labels."""
    if not name:
        return False
    ascii_name = _ascii(name)
    labels = ascii_name.split(".")
    return len(ascii_name) <= 253 and all(_LABEL.fullmatch(label) for label in labels)


def _date(seconds: int) -> str:
    try:
        # A date without a clock time: verdict summaries cut explanations at the first ":".
        return dt.datetime.fromtimestamp(seconds, dt.UTC).strftime("%Y-%m-%d")
    except (OverflowError, OSError, ValueError):
        return f"{seconds} (a date out of range)"


def _timestamp(tags: dict[bytes, bytes], tag: bytes) -> int | None | str:
    """The number in t= or x=, None when absent, or the problem as text."""
    value = tags.get(tag)
    if value is None:
        return None
    digits = b"".join(value.split())
    if not re.fullmatch(rb"\d{1,15}", digits):
        return f"{tag.decode()}= is not a time ({_text(value)!r})"
    return int(digits)


@dataclass(frozen=True)
class _Meta:
    domain: str | None
    selector: str | None
    algorithm: str | None
    canonicalization: str
    limit: int | None
    signed_headers: tuple[str, ...]
    aligned: bool
    author: str | None

    def result(
        self, index: int, result: DkimStatus, words: str, warnings: list[str], key: str | None
    ) -> DkimResult:
        return DkimResult(
            domain=self.domain,
            selector=self.selector,
            algorithm=self.algorithm,
            canonicalization=self.canonicalization,
            header_index=index,
            result=result,
            explanation=words,
            body_length_limit=self.limit,
            aligned_with_from=self.aligned,
            signed_headers=self.signed_headers,
            warnings=tuple(warnings),
            key_name=key,
        )


def _meta(tags: dict[bytes, bytes], author: str | None) -> _Meta:
    domain = (_text(tags.get(b"d")) or "").lower() or None
    canon = (_text(tags.get(b"c")) or "simple/simple").lower()
    limit = _text(tags.get(b"l"))
    heads = (tags.get(b"h") or b"").decode("utf-8", "replace").split(":")
    return _Meta(
        domain=domain,
        selector=_text(tags.get(b"s")),
        algorithm=(_text(tags.get(b"a")) or "").lower() or None,
        canonicalization=canon if "/" in canon else canon + "/simple",
        limit=int(limit) if limit and limit.isdigit() and len(limit) <= 76 else None,
        signed_headers=tuple(h.strip().lower() for h in heads if h.strip()),
        aligned=bool(domain and author and organisational(domain) == organisational(author)),
        author=author,
    )


def _notes(meta: _Meta) -> list[str]:
    notes = []
    if meta.domain and meta.author and not meta.aligned:
        notes.append(
            f"signed by d={meta.domain}, not by the From domain {meta.author}: the signature "
            f"vouches for {meta.domain}, not for the sender"
        )
    if meta.limit is not None:
        notes.append(
            f"only the first {meta.limit} bytes of the body are signed (l=); anything after "
            "them could have been added"
        )
    return notes


def _dns_words(answer: DnsAnswer, record: str) -> str:
    error = answer.error or ""
    if error.startswith("timeout"):
        seconds = error.partition("within ")[2] or "the time allowed"
        return f"the DNS server did not answer within {seconds} ({record}): try again later"
    if error.startswith("skipped"):
        return (
            f"the key {record} was not looked up: the DNS server did not answer an earlier "
            "lookup; try again later"
        )
    if error == NOT_RECORDED:
        return f"the key {record} is not in the recorded DNS answers: it cannot be checked offline"
    return f"the DNS lookup of {record} failed: {error}"


def _check(
    signer: dkim.DKIM,
    signature: tuple[bytes, bytes],
    index: int,
    meta: _Meta,
    lookups: Resolver,
) -> DkimResult:
    warnings = _notes(meta)

    def done(result: DkimStatus, words: str, key: str | None = None) -> DkimResult:
        return meta.result(index, result, words, warnings, key)

    try:
        tags = dict(parse_tag_value(signature[1]))
    except Exception as err:  # noqa: BLE001
        return done(
            DkimStatus.PERMERROR, f"the signature header is malformed: {_dkimpy_words(err)}"
        )
    try:  # dkimpy's own checks of the tags, except the times: those are judged below
        dkim.validate_signature_fields({k: v for k, v in tags.items() if k not in (b"t", b"x")})
    except dkim.ValidationError as err:
        return done(
            DkimStatus.PERMERROR, f"the signature header is malformed: {_dkimpy_words(err)}"
        )
    signed_at, expires = _timestamp(tags, b"t"), _timestamp(tags, b"x")
    for value in (signed_at, expires):
        if isinstance(value, str):
            return done(DkimStatus.PERMERROR, f"the signature header is malformed: {value}")
    if isinstance(signed_at, int) and isinstance(expires, int) and expires < signed_at:
        return done(
            DkimStatus.PERMERROR,
            "the signature header is malformed: it expires (x=) before it was made (t=)",
        )

    for tag, value in (("s", meta.selector), ("d", meta.domain)):
        if not _dns_name(value):
            return done(DkimStatus.PERMERROR, f"the signature header is malformed: {tag}= is not a "
                        f"valid DNS name ({value!r})")  # fmt: skip
    record = _ascii(f"{meta.selector}._domainkey.{meta.domain}")
    answer = lookups(record + ".")
    key = answer.name
    if answer.error:
        return done(DkimStatus.TEMPERROR, _dns_words(answer, record), key)
    if not answer.txt or not answer.txt.strip():
        return done(
            DkimStatus.PERMERROR,
            f"key not found in DNS ({record}): the domain publishes no key under this selector",
            key,
        )
    txt = answer.txt.encode("utf-8")
    key_tags = _tags(txt)
    if b"p" in key_tags and not b"".join(key_tags[b"p"].split()):
        return done(
            DkimStatus.PERMERROR,
            f"key revoked by the domain: {record} has an empty p= (withdrawn)",
            key,
        )
    try:
        public, _size, kind, _tlsrpt = dkim.evaluate_pk(key.encode("utf-8"), txt)
    except (dkim.DKIMException, binascii.Error, ValueError, TypeError) as err:
        if not key_tags:
            detail = "the record is not a list of tag=value pairs"
        elif "could not parse" in str(err) or "incomplete" in str(err):
            kind_word = (_text(key_tags.get(b"k")) or "rsa").lower()
            detail = f"p= does not hold a valid {kind_word} public key"
        else:
            detail = _dkimpy_words(err)
        return done(
            DkimStatus.PERMERROR, f"the published key is malformed ({record}): {detail}", key
        )
    if public is None:
        return done(DkimStatus.PERMERROR, f"the published key is not for email ({record}: s=)", key)
    family = (meta.algorithm or "").split("-")[0].encode()
    if kind != family:
        return done(
            DkimStatus.PERMERROR,
            f"the key type does not match the signature: {record} holds a "
            f"{kind.decode() if kind else 'unknown'} key, the signature is {meta.algorithm}",
            key,
        )

    def published(name: bytes | str, timeout: float = 5) -> bytes:
        return txt  # the answer above: one lookup per key, and the one that is recorded

    heads = [h.lower() for h in re.split(rb"\s*:\s*", tags[b"h"])]
    crypto: tuple[DkimStatus, str]
    try:
        valid = bool(signer.verify_sig(tags, heads, signature, published))
    except dkim.ValidationError as err:
        if str(err).startswith("body hash mismatch"):
            crypto = (
                DkimStatus.FAIL,
                "body changed after signing: the body no longer matches the hash "
                f"{meta.domain} signed",
            )
        elif "tlsrpt" in str(err):
            crypto = (DkimStatus.PERMERROR, f"the key {record} is only for TLS reports (s=tlsrpt)")
        else:
            crypto = (DkimStatus.PERMERROR, f"the signature is malformed: {_dkimpy_words(err)}")
    except (dkim.MessageFormatError, binascii.Error) as err:
        crypto = (DkimStatus.PERMERROR, f"the signature header is malformed: {_dkimpy_words(err)}")
    except dkim.KeyFormatError as err:
        if "too small" in str(err):
            crypto = (
                DkimStatus.PERMERROR,
                f"the published key is too short ({signer.keysize} bits; at least 1024 are "
                f"needed) ({record})",
            )
        else:
            crypto = (
                DkimStatus.PERMERROR,
                f"the signature does not fit the published key ({record})",
            )
    except Exception as err:  # noqa: BLE001 - MessageFormatError, nacl errors on odd b=
        crypto = (
            DkimStatus.PERMERROR,
            f"the signature could not be checked: {type(err).__name__}: {_dkimpy_words(err)}",
        )
    else:
        crypto = (
            (
                DkimStatus.PASS,
                f"the signature of {meta.domain} is valid: the signed headers and body are "
                f"unchanged since {meta.domain} signed them",
            )
            if valid
            else (
                DkimStatus.FAIL,
                "a signed header changed after signing: the signature over the signed headers "
                "does not match (or the key in DNS is not the one that signed)",
            )
        )

    # Times are judged against when the key was fetched: a replay of recorded answers
    # gives the verdict of the day they were recorded, not of today.
    checked = parse_iso(answer.fetched_at) or dt.datetime.now(dt.UTC)
    moment = int(checked.timestamp())
    if isinstance(signed_at, int) and signed_at > moment + CLOCK_SLOP:
        return done(DkimStatus.PERMERROR, f"the signature is dated in the future: t= says "
                    f"{_date(signed_at)}, it was checked on {_date(moment)}", key)  # fmt: skip
    if isinstance(expires, int) and expires < moment - CLOCK_SLOP:
        words = f"the signature expired on {_date(expires)} (x=), before it was checked on " + (
            _date(moment)
        )
        if crypto[0] != "pass":
            words += "; besides, " + crypto[1]
        return done(DkimStatus.FAIL, words, key)
    result, words = crypto
    if result == "pass":
        words = "; ".join([words, *_pass_notes(signer, tags, meta, warnings)])
    return done(result, words, key)


def _pass_notes(
    signer: dkim.DKIM, tags: dict[bytes, bytes], meta: _Meta, warnings: list[str]
) -> list[str]:
    """What a pass does not cover: l= (with how much is really unsigned), d= not aligned."""
    notes = [w for w in warnings if w.startswith("signed by d=")]
    if meta.limit is not None:
        try:
            policy = CanonicalizationPolicy.from_c_value(tags.get(b"c", b"simple/simple"))
            unsigned = len(policy.canonicalize_body(signer.body)) - meta.limit
        except Exception:  # noqa: BLE001
            unsigned = 0
        note = (
            f"but only the first {meta.limit} bytes of the body are signed (l=); anything "
            "after them could have been added"
        )
        if unsigned > 0:
            note += f" — here {unsigned} bytes follow that no signature covers"
            warnings[:] = [w for w in warnings if not w.startswith("only the first")]
            warnings.append(note.removeprefix("but "))
        notes.insert(0, note)
    return notes


def verify_dkim(
    raw: bytes, resolver: Resolver | None, *, offline: bool = False
) -> list[DkimResult]:
    """One result per DKIM-Signature header, topmost first; [] when there is none.
    ``offline`` (or no resolver) makes no lookup: every result is "not-checked". Never raises."""
    fields, problem = header_fields(raw)
    signatures = [(n, v) for n, v in fields if n.lower() == b"dkim-signature"]
    if not signatures:
        return []
    author = from_domain(raw)
    lookups = bounded(resolver) if resolver is not None and not offline else None
    signer: dkim.DKIM | None = None
    if lookups is not None and problem is None:
        try:
            signer = dkim.DKIM(raw, logger=_QUIET)
            signatures = [(n, v) for n, v in signer.headers if n.lower() == b"dkim-signature"]
        except Exception as err:  # noqa: BLE001 - dkimpy refuses what it cannot read
            problem = _dkimpy_words(err)
    results = []
    for index, signature in enumerate(signatures):
        meta = _meta(_tags(signature[1]), author)
        notes = _notes(meta)
        if lookups is None:
            results.append(meta.result(index, DkimStatus.NOT_CHECKED, OFFLINE, notes, None))
        elif index >= MAX_SIGNATURES:
            words = (
                f"not checked: the message carries {len(signatures)} DKIM signatures; "
                f"Mailproof checks the first {MAX_SIGNATURES}"
            )
            results.append(meta.result(index, DkimStatus.NOT_CHECKED, words, notes, None))
        elif problem is not None or signer is None:
            words = (
                f"the message cannot be checked: {problem}; mail programs may disagree on "
                "where its headers end"
            )
            results.append(meta.result(index, DkimStatus.PERMERROR, words, notes, None))
        else:
            try:
                results.append(_check(signer, (signature[0], signature[1]), index, meta, lookups))
            except Exception as err:  # noqa: BLE001 - a result per signature, never a crash
                words = f"the signature could not be checked: {type(err).__name__}: {err}"
                results.append(meta.result(index, DkimStatus.PERMERROR, words[:300], notes, None))
    return results


# --- ARC -------------------------------------------------------------------------------------


def _arc_sets(data: list[dict[str, Any]]) -> tuple[ArcSet, ...]:
    def text(value: Any) -> str | None:
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else None

    sets = []
    for item in sorted(data, key=lambda d: int(d.get("instance", 0))):
        sets.append(
            ArcSet(
                instance=int(item.get("instance", 0)),
                seal_domain=text(item.get("as-domain")),
                seal_selector=text(item.get("as-selector")),
                seal_valid=bool(item["as-valid"]) if "as-valid" in item else None,
                signature_domain=text(item.get("ams-domain")),
                signature_selector=text(item.get("ams-selector")),
                signature_valid=bool(item["ams-valid"]) if "ams-valid" in item else None,
                chain_status=text(item.get("cv")),
            )
        )
    return tuple(sets)


def verify_arc(raw: bytes, resolver: Resolver | None, *, offline: bool = False) -> ArcResult:
    """The ARC chain (RFC 8617) as dkimpy validates it. Never raises."""
    fields, problem = header_fields(raw)
    names = [n.lower() for n, _ in fields]
    instances = names.count(b"arc-seal")
    if not any(n.startswith(b"arc-") for n in names):
        return ArcResult(ArcStatus.NONE, 0, "no ARC chain: no forwarder or mailing list sealed it")
    if offline or resolver is None:
        return ArcResult(ArcStatus.NOT_CHECKED, instances, OFFLINE)
    if problem is not None:
        return ArcResult(ArcStatus.FAIL, instances, f"the ARC chain cannot be checked: {problem}")
    lookups = bounded(resolver)
    asked: list[DnsAnswer] = []

    def watched(name: str) -> DnsAnswer:
        answer = lookups(name)
        asked.append(answer)
        return answer

    try:
        verdict, data, reason = dkim.arc_verify(raw, logger=_QUIET, dnsfunc=dkim_dnsfunc(watched))
    except Exception as err:  # noqa: BLE001 - dkimpy raises odd things on odd input
        return ArcResult(
            ArcStatus.FAIL, instances, f"the ARC chain is malformed: {_dkimpy_words(err)}"
        )
    sets = _arc_sets(data if isinstance(data, list) else [])
    why = _dkimpy_words(reason) if isinstance(reason, str | bytes) else "it does not verify"
    if verdict == dkim.CV_Pass:
        sealers = ", ".join(dict.fromkeys(s.seal_domain or "?" for s in sets))
        return ArcResult(
            ArcStatus.PASS,
            instances,
            f"the ARC chain of {len(sets)} set(s) is intact: each forwarder's seal verifies "
            f"(sealed by {sealers}); what each forwarder recorded is still only its claim",
            sets,
        )
    failed = next((a for a in asked if a.error), None)
    if failed is not None:
        return ArcResult(
            ArcStatus.TEMPERROR, instances, _dns_words(failed, failed.name.rstrip(".")), sets
        )
    missing = [a.name.rstrip(".") for a in asked if not a.txt]
    if verdict is None:
        words = f"the chain was declared broken by a forwarder on the way ({why})"
    elif verdict == dkim.CV_None:
        words = "ARC headers are present but none carries a readable instance number (i=)"
    else:
        words = f"the ARC chain is broken: {why}"
    if missing:
        words += f"; key not found in DNS ({', '.join(dict.fromkeys(missing))})"
    return ArcResult(ArcStatus.FAIL, instances, words, sets)
