"""The delivery verdict as labelled lines: the one wording of `trace`, the Delivery tab and the
evidence report's PDF (hops, checks, protection, copies, hints, cues, warnings)."""

from __future__ import annotations

from app.delivery.verdict import DeliveryVerdict, Protection, ProtectionLevel
from app.investigate.cues import Severity
from app.present import Line, Tone

HOPS, CHECKS, COPIES, HINTS, WARNINGS = "hops", "checks", "copies", "hints", "warnings"

PROTECTION_TONE = {ProtectionLevel.END_TO_END: Tone.GOOD, ProtectionLevel.TLS_IN_TRANSIT: Tone.WARN}
PROTECTION_BADGE = {
    ProtectionLevel.END_TO_END: "End-to-end",
    ProtectionLevel.TLS_IN_TRANSIT: "TLS in transit",
}
NO_PROTECTION_BADGE = "No encryption seen"
_RESULT_TONE = {"pass": Tone.GOOD, "fail": Tone.BAD}  # DKIM's and ARC's results alike


def delivery_lines(verdict: DeliveryVerdict) -> tuple[Line, ...]:
    """Every fact of the verdict, in the order a reader checks them."""
    lines: list[Line] = []
    for number, hop in enumerate(verdict.hops, start=1):
        if not hop.parsed:
            text = f"(unreadable) {hop.raw[:100]}"
        else:
            delay = f" +{hop.delay_seconds}s" if hop.delay_seconds is not None else ""
            text = (
                f"{hop.timestamp or 'no date'}{delay}  {hop.from_host or '?'} "
                f"[{hop.from_ip or '?'}] → {hop.by_host or '?'}  {hop.protocol or ''}  "
                f"{hop.tls_text}  id {hop.id or '-'}"
            )
        lines.append(
            Line(HOPS, f"{number:>2}.", text, Tone.BAD if hop.tls is False else Tone.PLAIN)
        )

    for result in verdict.dkim:
        lines.append(
            Line(
                CHECKS,
                f"DKIM {result.domain}",
                f"{result.result} (selector {result.selector}): {result.explanation}",
                _RESULT_TONE.get(result.result, Tone.PLAIN),
            )
        )
    if not verdict.dkim:
        lines.append(Line(CHECKS, "DKIM", "no signature"))
    lines.append(
        Line(
            CHECKS,
            "ARC",
            f"{verdict.arc.result}: {verdict.arc.explanation}",
            _RESULT_TONE.get(verdict.arc.result, Tone.PLAIN),
        )
    )
    for answer in verdict.dns_answers:
        found = answer.txt or answer.error or "no record"
        lines.append(Line(CHECKS, f"DNS {answer.name}", f"{found} (fetched {answer.fetched_at})"))
    for claim in verdict.authentication_results:
        said = ", ".join(f"{r['method']}={r['result']}" for r in claim.results) or claim.raw
        lines.append(Line(CHECKS, f"Claimed by {claim.authserv_id}", f"{said} (not verified)"))
    if verdict.protection is not None:
        level = verdict.protection.level
        lines.append(
            Line(
                CHECKS,
                "Protection",
                f"{level} — {verdict.protection.explanation}",
                PROTECTION_TONE.get(level, Tone.BAD),
            )
        )

    versions = len({copy.sha256 for copy in verdict.locations})
    if verdict.locations:
        same = "all byte-identical" if versions == 1 else f"{versions} different versions"
        lines.append(Line(COPIES, "Copies", f"{len(verdict.locations)} stored, {same}"))
    for copy in verdict.locations:
        origin = (
            f"IMAP {copy.source_path}, UID {copy.uid}, UIDVALIDITY {copy.uidvalidity}, "
            f"INTERNALDATE {copy.internaldate}, fetched {copy.fetched_at}"
            if copy.kind == "imap"
            else f"imported {copy.imported_at} from {copy.source_path}"
            + (f" at byte {copy.source_offset}" if copy.source_offset is not None else "")
        )
        role = f" ({copy.role.lstrip(chr(92))})" if copy.role else ""
        gone = (
            f" — deleted on the server, kept since {copy.expunged_at}" if copy.expunged_at else ""
        )
        lines.append(
            Line(
                COPIES,
                f"Copy in {copy.account}/{copy.folder}{role}",
                f"{origin}; SHA-256 {copy.sha256}{gone}",
            )
        )

    lines.extend(Line(HINTS, "Hint", hint, Tone.BAD) for hint in verdict.hints)
    for cue in verdict.cues:
        tone = Tone.BAD if cue.severity is Severity.WARNING else Tone.PLAIN
        lines.append(Line(HINTS, f"Cue ({cue.severity})", cue.explanation, tone))
    lines.extend(Line(WARNINGS, "Warning", warning, Tone.WARN) for warning in verdict.warnings)
    return tuple(lines)


def protection_badge(protection: Protection) -> tuple[str, Tone]:
    """The short badge of a protection level and its tone."""
    level = protection.level
    return PROTECTION_BADGE.get(level, NO_PROTECTION_BADGE), PROTECTION_TONE.get(level, Tone.BAD)
