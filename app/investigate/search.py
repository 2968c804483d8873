""" "Where is my message?": search every stored copy — Trash, Junk, BACKUP, messages flagged
\\Deleted, copies expunged on the server — score each hit on the facts given, read bounces,
and end in exactly one outcome with its reasons and the request to send the provider."""

from __future__ import annotations

import datetime as dt
import difflib
import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from app import audit
from app.config import data_home
from app.delivery.locate import searched_folders
from app.delivery.received import hops_of
from app.errors import BadInput, MailproofError
from app.investigate.bounce import Bounce, read_bounce
from app.investigate.sieve import Facts, RuleFinding, SieveScript, findings
from app.store.atomic import write_atomic
from app.store.library import Library
from app.store.records import CopyFacts

DEFAULT_RETENTION_DAYS = 14
SCORE_THRESHOLD = 0.5
MAX_ROWS = 20000
MAX_BOUNCES = 2000
_PREFIX = re.compile(r"^\s*((re|fw|fwd|aw|wg|sv|vs)\s*:\s*)+", re.IGNORECASE)


@dataclass(frozen=True)
class Query:
    message_id: str | None = None
    from_addr: str | None = None
    to_addr: str | None = None
    subject: str | None = None
    date: dt.datetime | None = None
    window_hours: float = 24.0

    def described(self) -> str:
        parts = [
            f"Message-ID {self.message_id}" if self.message_id else "",
            f"from {self.from_addr}" if self.from_addr else "",
            f"to {self.to_addr}" if self.to_addr else "",
            f"subject “{self.subject}”" if self.subject else "",
            f"around {self.date:%Y-%m-%d %H:%M} UTC ± {self.window_hours:g} h" if self.date else "",
        ]
        return ", ".join(p for p in parts if p) or "(nothing given)"


class Outcome(StrEnum):
    """The one outcome of an investigation."""

    FOUND = "found"
    BOUNCED = "bounced"
    FILTERED = "filtered"
    SENT_COPY_ONLY = "sent-copy-only"
    NOT_FOUND = "not-found"


@dataclass(frozen=True)
class Hit:
    account: str
    folder: str
    role: str | None
    state: str  # "present" | "flagged \\Deleted" | "deleted on the server, kept here"
    sha256: str
    message_id: str | None
    subject: str
    from_addr: str | None
    date_utc: str | None
    uid: int | None
    score: float
    reasons: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Investigation:
    query: dict[str, Any]
    outcome: Outcome
    reasons: tuple[str, ...]
    hits: tuple[Hit, ...]
    bounces: tuple[Bounce, ...]
    searched: tuple[str, ...]
    provider_request: str
    retention_days_left: int | None
    next_steps: tuple[str, ...] = field(default=())
    filters: tuple[RuleFinding, ...] = field(default=())
    investigated_at: str = ""
    investigated_by: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "investigated_at": self.investigated_at,
            "investigated_by": self.investigated_by,
            "query": self.query,
            "outcome": self.outcome,
            "reasons": list(self.reasons),
            "hits": [h.to_json() for h in self.hits],
            "bounces": [b.to_json() for b in self.bounces],
            "searched": list(self.searched),
            "provider_request": self.provider_request,
            "retention_days_left": self.retention_days_left,
            "next_steps": list(self.next_steps),
            "filters": [f.to_json() for f in self.filters],
        }


def _normal_subject(text: str | None) -> str:
    return " ".join(_PREFIX.sub("", text or "").lower().split())


def _score(copy: CopyFacts, query: Query) -> tuple[float, list[str]]:
    if query.message_id and copy.message_id == query.message_id:
        return 1.0, ["same Message-ID"]
    score, reasons = 0.0, []
    sender = (copy.from_addr or "").lower()
    if query.from_addr:
        wanted = query.from_addr.lower()
        if sender == wanted:
            score += 0.3
            reasons.append("same sender")
        elif "@" in sender and sender.split("@")[1] == wanted.split("@")[-1]:
            score += 0.15
            reasons.append("sender from the same domain")
    if query.to_addr:
        recipients = " ".join(str(v or "") for v in (copy.to_display, copy.cc_display)).lower()
        if query.to_addr.lower() in recipients:
            score += 0.25
            reasons.append("addressed to the recipient")
    if query.subject:
        ratio = difflib.SequenceMatcher(
            None, _normal_subject(query.subject), _normal_subject(copy.subject)
        ).ratio()
        if ratio >= 0.6:
            score += 0.3 * ratio
            reasons.append(f"subject {ratio:.0%} alike")
    if query.date and copy.date_ts is not None:
        distance = abs(copy.date_ts - query.date.timestamp()) / 3600
        if distance <= query.window_hours:
            score += 0.15 * (1 - distance / max(query.window_hours, 0.01))
            reasons.append(f"dated {distance:.1f} h from the time given")
    given = sum(
        weight
        for weight, present in (
            (0.3, query.from_addr),
            (0.25, query.to_addr),
            (0.3, query.subject),
            (0.15, query.date),
        )
        if present
    )
    return (score / given if given else 0.0), reasons


def _state(copy: CopyFacts) -> str:
    if copy.expunged_at:
        return f"deleted on the server at {copy.expunged_at}, kept here"
    if "\\deleted" in (copy.flags or "").lower():
        return "flagged \\Deleted, not yet expunged"
    return "present"


def _candidates(library: Library, query: Query) -> list[CopyFacts]:
    if query.message_id and not (query.from_addr or query.to_addr or query.subject):
        return library.lookup.copy_facts(message_id=query.message_id)
    window = None
    if query.date:
        low = query.date.timestamp() - query.window_hours * 3600
        high = query.date.timestamp() + query.window_hours * 3600
        window = (low, high)
    return library.lookup.copy_facts(
        message_id=query.message_id or None,
        dated_between=window,
        from_ends_with=query.from_addr.lower().split("@")[-1] if query.from_addr else None,
        to_or_cc_contains=query.to_addr.lower() if query.to_addr else None,
        limit=MAX_ROWS,
    )


def _bounces(library: Library, query: Query, known: list[str]) -> list[Bounce]:
    found = []
    for sha256, date_ts in library.lookup.bounce_like(limit=MAX_BOUNCES):
        bounce = read_bounce(library.raw(sha256), known)
        if bounce is None:
            continue
        by_id = query.message_id and bounce.original_message_id == query.message_id
        by_recipient = query.to_addr and any(
            r.recipient.lower() == query.to_addr.lower() for r in bounce.recipients
        )
        near = query.date is None or (
            date_ts is not None and abs(date_ts - query.date.timestamp()) <= 7 * 86400
        )
        if by_id or (by_recipient and near):
            found.append(bounce)
    return found


def _provider_request(query: Query, hits: list[Hit], library: Library) -> tuple[str, float | None]:
    lines = ["Please check your mail logs for the following message:"]
    if query.message_id:
        lines.append(f"  Message-ID: {query.message_id}")
    if query.from_addr:
        lines.append(f"  Sender: {query.from_addr}")
    if query.to_addr:
        lines.append(f"  Recipient: {query.to_addr}")
    sent = next((h for h in hits if h.role == "\\Sent"), None) or (hits[0] if hits else None)
    moment = query.date
    if sent is not None:
        hops = hops_of(library.raw(sent.sha256))
        ids = [f"{h.id} (at {h.by_host}, {h.timestamp or 'no date'})" for h in hops if h.id]
        if ids:
            lines.append("  Queue IDs on the way: " + "; ".join(ids))
        if hops:
            last = hops[-1]
            lines.append(
                f"  The trail we have ends at {last.by_host or 'an unnamed server'} "
                f"at {last.timestamp or 'an unknown time'} (UTC)."
            )
        if sent.date_utc and moment is None:
            moment = dt.datetime.fromisoformat(sent.date_utc.replace("Z", "+00:00"))
    if moment is not None:
        lines.append(f"  Sent around: {moment.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC")
    lines.append(
        "Was it accepted, delivered, deferred, rejected or quarantined, and with which "
        "status and queue ID?"
    )
    return "\n".join(lines), None if moment is None else moment.timestamp()


def _facts(query: Query) -> Facts:
    headers: dict[str, list[str]] = {}
    if query.from_addr:
        headers["from"] = [query.from_addr]
    if query.to_addr:
        headers["to"] = [query.to_addr]
    if query.subject:
        headers["subject"] = [query.subject]
    if query.message_id:
        headers["message-id"] = [query.message_id]
    return Facts(headers=headers)


def investigate(
    library: Library,
    query: Query,
    *,
    retention_days: int = DEFAULT_RETENTION_DAYS,
    now: dt.datetime | None = None,
    sieve: Sequence[SieveScript] | None = None,
    sieve_problem: str | None = None,
) -> Investigation:
    """``sieve``: the account's scripts (None when they could not be read: ``sieve_problem``
    says why)."""
    if not (query.message_id or query.from_addr or query.to_addr or query.subject or query.date):
        raise BadInput("say what to look for: --message-id, or --from/--to/--subject/--date")
    if sieve is not None:
        try:
            rules = findings(sieve, _facts(query))
        except MailproofError as err:
            sieve, sieve_problem, rules = None, str(err), []
    else:
        rules = []
    now = now or dt.datetime.now(dt.UTC)
    hits: list[Hit] = []
    for copy in _candidates(library, query):
        score, why = _score(copy, query)
        if score < SCORE_THRESHOLD:
            continue
        hits.append(
            Hit(
                account=copy.account,
                folder=copy.folder,
                role=copy.special_use,
                state=_state(copy),
                sha256=copy.sha256,
                message_id=copy.message_id,
                subject=copy.subject or "",
                from_addr=copy.from_addr,
                date_utc=copy.date_utc,
                uid=copy.uid,
                score=round(score, 3),
                reasons=tuple(why),
            )
        )
    hits.sort(key=lambda h: (-h.score, h.account, h.folder))
    bounces = _bounces(library, query, library.lookup.sender_addresses())
    searched = tuple(f"{f.account}/{f.name}" for f in library.lookup.folder_counts())
    request, sent_ts = _provider_request(query, hits, library)
    days_left = None
    if sent_ts is not None:
        days_left = retention_days - int((now.timestamp() - float(sent_ts)) // 86400)
        request += (
            f"\n(Providers usually keep logs for about {retention_days} days: "
            + (
                f"{days_left} day(s) remain — ask now.)"
                if days_left > 0
                else "they may already be gone — ask anyway, some keep longer.)"
            )  # fmt: skip
        )
    received = [h for h in hits if h.role != "\\Sent"]
    reasons: list[str] = []
    steps: list[str] = []
    disposing = [r for r in rules if r.matches]
    filing = [r for r in rules if r.matches and r.actions[0].startswith("fileinto")]
    if received:
        outcome = Outcome.FOUND
        reasons += [
            f"the server filter {r.script!r} filed it: “{r.rule}” → {'; '.join(r.actions)}"
            for r in filing
        ]
        places = sorted({f"{h.account}/{h.folder}" for h in received})
        reasons.append(f"{len(received)} received cop{'y' if len(received) == 1 else 'ies'} in "
                       + ", ".join(places))  # fmt: skip
        for hit in received:
            if hit.role in ("\\Junk", "\\Trash") or hit.state != "present":
                reasons.append(f"{hit.account}/{hit.folder}: {hit.state}"
                               + (" (spam folder)" if hit.role == "\\Junk" else ""))  # fmt: skip
    elif disposing:
        outcome = Outcome.FILTERED
        reasons += [
            f"the server filter {r.script!r} has “{r.rule}” → {'; '.join(r.actions)}"
            for r in disposing
        ]
        steps.append("change or remove that rule (webmail filter settings), then ask to resend")
    elif bounces:
        outcome = Outcome.BOUNCED
        reasons += [b.summary for b in bounces]
        steps.append("correct the address or ask the recipient to free their mailbox, then resend")
    elif hits:
        outcome = Outcome.SENT_COPY_ONLY
        reasons.append(
            "only a copy in Sent exists: it shows the message was written, not that it was "
            "delivered — a Sent folder can be forged"
        )
        steps.append("send the provider request below; ask the recipient to search Junk/Trash")
    else:
        outcome = Outcome.NOT_FOUND
        reasons.append(
            f"no copy matches {query.described()} in the {len(searched)} folders searched"
        )
        steps += [
            "sync every account and import old archives (BACKUP, exported mbox files), then "
            "search again",
            "ask the sender for the Message-ID or the full headers of their sent copy",
            "send the provider request below",
        ]
    if sieve is None:
        reasons.append(f"server filters could not be checked: {sieve_problem or 'not asked'}")
    else:
        maybe = [r for r in rules if r.matches is None]
        reasons += [
            f"the filter rule “{r.rule}” → {'; '.join(r.actions)} may apply (it tests what "
            "Mailproof cannot see, e.g. the envelope or the body)"
            for r in maybe
        ]
    query_json = {k: (v.isoformat() if isinstance(v, dt.datetime) else v)
                  for k, v in query.__dict__.items()}  # fmt: skip
    searched_counts = searched_folders(library)
    result = Investigation(
        investigated_at=now.strftime("%Y-%m-%dT%H:%M:%SZ"),
        investigated_by=audit.os_user(),
        filters=tuple(rules),
        query=query_json,
        outcome=outcome,
        reasons=tuple(reasons),
        hits=tuple(hits),
        bounces=tuple(bounces),
        searched=searched_counts,
        provider_request=request,
        retention_days_left=days_left,
        next_steps=tuple(steps),
    )
    _record(result)
    return result


def records_dir() -> Path:
    return data_home() / "investigations"


def _record(result: Investigation) -> None:
    """Keep the investigation (a search that found nothing is evidence too) and log it."""
    data = json.dumps(result.to_json(), indent=1, ensure_ascii=False).encode()
    digest = hashlib.sha256(data).hexdigest()[:12]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")  # sorts by creation
    write_atomic(records_dir() / f"{stamp}-{digest}.json", data)
    audit.record(
        "investigation",
        result.query,
        result.outcome,
        hits=len(result.hits),
        record=f"{stamp}-{digest}.json",
    )


def recorded(message_id: str | None = None, sha256: str | None = None) -> list[dict[str, Any]]:
    """Stored investigations, newest first; with a Message-ID or SHA-256, those about it
    (asked by that Message-ID, or with that message among the hits)."""
    found = []
    folder = records_dir()
    for path in sorted(folder.glob("*.json"), reverse=True) if folder.is_dir() else []:
        try:
            record = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        about = message_id is None and sha256 is None
        if message_id and record.get("query", {}).get("message_id") == message_id:
            about = True
        if any(
            h.get("sha256") == sha256 or (message_id and h.get("message_id") == message_id)
            for h in record.get("hits", [])
        ):
            about = True
        if about:
            record["file"] = path.name
            found.append(record)
    return found
