"""The evidence package's readable report (PDF, fpdf2 — no Qt, so the CLI needs no display)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from app.delivery.locate import LocateResult
from app.delivery.present import CHECKS, COPIES, HINTS, HOPS, WARNINGS, delivery_lines
from app.delivery.verdict import DeliveryVerdict
from app.mime.summary import MessageSummary
from app.present import in_section

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

    lines = delivery_lines(verdict)
    sections = (
        (
            HOPS,
            "Hops (oldest first)",
            "No Received header: no server recorded handling this message.",
        ),
        (CHECKS, "Authentication and protection", ""),
        (
            COPIES,
            "Copies",
            "No stored copy: this package holds only the message file it was made from.",
        ),
        (HINTS, "Hints and cues", "None."),
        (WARNINGS, "Warnings", "None."),
    )
    for section, title, empty in sections:
        pdf.heading(title)
        shown = in_section(lines, section)
        for line in shown:
            pdf.para(f"{line.label} {line.text}" if section == HOPS else line.plain)
        if not shown and empty:
            pdf.para(empty)
    if found.copies:
        pdf.heading("Files in this package")
    for name, copy in zip(names, found.copies, strict=True):
        pdf.para(f"{name}: the copy in {copy.account}/{copy.folder}, SHA-256 {copy.sha256}")
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
    for caveat in NOT_VERIFIED:
        pdf.para(f"• {caveat}" if pdf.family == "DejaVu" else f"- {caveat}")
    return bytes(pdf.output())
