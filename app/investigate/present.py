"""The investigation's result as labelled lines: the one wording of ``mailproof investigate``
and the Investigation dialog (outcome, reasons, the best hits, next steps)."""

from __future__ import annotations

from app.investigate.search import Investigation, Outcome
from app.present import Line, Tone

OUTCOME, REASONS, HITS, NEXT = "outcome", "reasons", "hits", "next"
SHOWN_HITS = 20

OUTCOME_TEXT = {
    Outcome.FOUND: "Found — the message reached this mailbox",
    Outcome.BOUNCED: "Bounced — the receiving side refused it",
    Outcome.FILTERED: "Filtered — a server rule moved or discarded it",
    Outcome.SENT_COPY_ONLY: "Only a Sent copy — nothing shows it was delivered",
    Outcome.NOT_FOUND: "Not found — nothing in the store matches",
}
OUTCOME_TONE = {
    Outcome.FOUND: Tone.GOOD,
    Outcome.BOUNCED: Tone.BAD,
    Outcome.FILTERED: Tone.WARN,
    Outcome.SENT_COPY_ONLY: Tone.WARN,
    Outcome.NOT_FOUND: Tone.BAD,
}


def investigation_lines(result: Investigation) -> tuple[Line, ...]:
    lines = [
        Line(
            OUTCOME,
            result.outcome,
            OUTCOME_TEXT[result.outcome],
            OUTCOME_TONE[result.outcome],
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
