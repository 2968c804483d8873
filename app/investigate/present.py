"""The investigation's result as labelled lines: the one wording of ``mailproof investigate``
and the Investigation dialog (outcome, reasons, the best hits, next steps)."""

from __future__ import annotations

from app.investigate.search import Investigation
from app.present import Line, Tone

OUTCOME, REASONS, HITS, NEXT = "outcome", "reasons", "hits", "next"
SHOWN_HITS = 20

OUTCOME_TEXT = {
    "found": "Found — the message reached this mailbox",
    "bounced": "Bounced — the receiving side refused it",
    "filtered": "Filtered — a server rule moved or discarded it",
    "sent-copy-only": "Only a Sent copy — nothing shows it was delivered",
    "not-found": "Not found — nothing in the store matches",
}
OUTCOME_TONE = {
    "found": Tone.GOOD,
    "bounced": Tone.BAD,
    "filtered": Tone.WARN,
    "sent-copy-only": Tone.WARN,
    "not-found": Tone.BAD,
}


def investigation_lines(result: Investigation) -> tuple[Line, ...]:
    lines = [
        Line(
            OUTCOME,
            result.outcome,
            OUTCOME_TEXT.get(result.outcome, result.outcome),
            OUTCOME_TONE.get(result.outcome, Tone.PLAIN),
        )
    ]
    lines += [Line(REASONS, "reason", reason) for reason in result.reasons]
    lines += [
        Line(
            HITS,
            f"{hit.score:.2f}",
            f"{hit.account}/{hit.folder}  {hit.date_utc or '-'}  {hit.subject[:60]}  "
            f"({hit.state}; {', '.join(hit.reasons)})",
        )
        for hit in result.hits[:SHOWN_HITS]
    ]
    lines += [Line(NEXT, "next", step) for step in result.next_steps]
    return tuple(lines)
