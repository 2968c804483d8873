"""The evidence package's readable report (PDF, fpdf2 — no Qt, so the CLI needs no display)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from app.delivery.locate import LocateResult
from app.delivery.verdict import DeliveryVerdict
from app.mime.summary import MessageSummary

FONT_DIRS = (Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"))
NOT_VERIFIED = (
    "Received headers are written by each server in turn: those added before the message "
    "reached a server you trust could have been written by anyone.",
    "Authentication-Results headers are claims by the servers on the way; only the DKIM/ARC "
    "results listed as checked were verified by Mailproof.",
    "Copies from local archives prove what the archive holds, not that the message was "
    "delivered; a copy in a Sent folder proves nothing about delivery.",
    "The hashes prove the files are unchanged since this export, not since the message was "
    "first received.",
)


class _Pdf(FPDF):
    def __init__(self) -> None:
        super().__init__(format="A4")
        self.family = "Helvetica"
        for folder in FONT_DIRS:
            regular, bold = folder / "DejaVuSans.ttf", folder / "DejaVuSans-Bold.ttf"
            if regular.is_file() and bold.is_file():
                self.add_font("DejaVu", "", str(regular))
                self.add_font("DejaVu", "B", str(bold))
                self.family = "DejaVu"
                break
        self.set_auto_page_break(auto=True, margin=15)

    def text_safe(self, text: str) -> str:
        if self.family == "DejaVu":
            return text
        return text.encode("latin-1", "replace").decode("latin-1")

    def heading(self, text: str) -> None:
        self.set_font(self.family, "B", 12)
        self.ln(2)
        self.multi_cell(0, 7, self.text_safe(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(self.family, "", 9)

    def para(self, text: str) -> None:
        self.multi_cell(0, 5, self.text_safe(text), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def render_report(
    summary: MessageSummary,
    found: LocateResult,
    names: list[str],
    exported_at: str,
    version: str,
    verdict: DeliveryVerdict,
    investigations: list[dict[str, Any]] | None = None,
) -> bytes:
    pdf = _Pdf()
    pdf.set_title("Mailproof delivery evidence")
    pdf.set_creation_date(dt.datetime.fromisoformat(exported_at.replace("Z", "+00:00")))
    pdf.add_page()
    pdf.set_font(pdf.family, "B", 15)
    pdf.para("Delivery evidence")
    pdf.set_font(pdf.family, "", 9)
    sender = ", ".join(a.addr for a in summary.from_) or "(no sender)"
    pdf.para(
        f"Message {summary.message_id or '(no Message-ID)'} from {sender}, "
        f"dated {summary.date_iso or 'unknown'}, subject “{summary.subject}”. "
        f"{found.summary[:1].upper() + found.summary[1:]}."
    )
    pdf.para(f"Exported {exported_at} by Mailproof {version}.")
    pdf.para(f"Verdict: {verdict.summary}.")

    pdf.heading("Hops (oldest first) and timeline")
    if not verdict.hops:
        pdf.para("No Received header: no server recorded handling this message.")
    for number, hop in enumerate(verdict.hops, start=1):
        shown = hop.tls_text
        delay = f" (+{hop.delay_seconds} s)" if hop.delay_seconds is not None else ""
        pdf.para(
            f"{number}. {hop.timestamp or 'no date'}{delay}: {hop.from_host or '?'} "
            f"[{hop.from_ip or '?'}] → {hop.by_host or '?'}, {hop.protocol or '?'}, {shown}, "
            f"id {hop.id or '-'}" + (f" — {'; '.join(hop.warnings)}" if hop.warnings else "")
        )

    pdf.heading("Authentication")
    for result in verdict.dkim:
        pdf.para(f"DKIM {result.result} for {result.domain} (selector {result.selector}): "
                 f"{result.explanation}.")  # fmt: skip
    if not verdict.dkim:
        pdf.para("No DKIM signature.")
    pdf.para(f"ARC {verdict.arc.result}: {verdict.arc.explanation}.")
    for answer in verdict.dns_answers:
        pdf.para(f"DNS {answer.name} fetched {answer.fetched_at}: "
                 f"{(answer.txt or answer.error or 'no record')[:90]}")  # fmt: skip
    for claim in verdict.authentication_results:
        said = ", ".join(f"{r['method']}={r['result']}" for r in claim.results) or claim.raw
        pdf.para(f"Claimed by {claim.authserv_id} (not verified by Mailproof): {said}.")
    for hint in verdict.hints:
        pdf.para(f"Hint: {hint}.")

    pdf.heading("Copies")
    if not found.copies:
        pdf.para("No stored copy: this package holds only the message file it was made from.")
    for name, copy in zip(names, found.copies, strict=True):
        where = f"{copy.account}/{copy.folder}"
        origin = (
            f"IMAP {copy.source_path}, UID {copy.uid}, UIDVALIDITY {copy.uidvalidity}, "
            f"INTERNALDATE {copy.internaldate}, fetched {copy.fetched_at}"
            if copy.kind == "imap"
            else f"imported {copy.imported_at} from {copy.source_path}"
            + (f" at byte {copy.source_offset}" if copy.source_offset is not None else "")
        )
        gone = f"; deleted on the server, kept since {copy.expunged_at}" if copy.expunged_at else ""
        pdf.para(f"{name}: {where} ({copy.role or 'folder'}) — {origin}{gone}.")
        pdf.para(f"    SHA-256 {copy.sha256}")
    if found.note:
        pdf.para(f"Note: {found.note}.")

    pdf.heading("Investigations")
    if not investigations:
        pdf.para("No investigation of this message was made before the export.")
    for record in investigations or []:
        asked = ", ".join(f"{k} {v}" for k, v in record.get("query", {}).items() if v)
        pdf.para(
            f"{record.get('investigated_at')} by {record.get('investigated_by')}: asked for "
            f"{asked}; outcome {record.get('outcome')} — "
            + "; ".join(record.get("reasons", [])[:3])
        )
    pdf.para(
        "Wording: “sent” means a copy exists in a Sent folder; “reached the provider” means a "
        "server recorded it in the Received trail; “in the mailbox” means a stored copy came "
        "from the recipient's folder. No method can guarantee delivery."
    )

    pdf.heading("Where Mailproof looked")
    pdf.para("; ".join(found.searched) or "(no folders in the store)")

    pdf.heading("Hashes")
    pdf.para(f"message.eml SHA-256 {summary.sha256} ({summary.size} bytes).")
    pdf.para(
        "manifest.json lists the SHA-256 of every file in this package; check them with "
        "`sha256sum` and, if present, the signature with `openssl cms -verify -binary "
        "-inform DER -in manifest.json.p7s -content manifest.json -CAfile CA.pem`."
    )

    pdf.heading("What this package does not show")
    for line in NOT_VERIFIED:
        pdf.para(f"• {line}" if pdf.family == "DejaVu" else f"- {line}")
    return bytes(pdf.output())
