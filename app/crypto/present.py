"""The secure-reading verdict as labelled lines: the one wording of ``mailproof decrypt``, the
reader's badge and its Details… dialog."""

from __future__ import annotations

from app.crypto.verdict import SecureReading
from app.present import Line, Tone

SUMMARY, ENCRYPTION, SIGNATURE, PARTS, WARNINGS = (
    "summary",
    "encryption",
    "signature",
    "parts",
    "warnings",
)
_SIGNATURE_TONE = {"valid": Tone.GOOD, "none": Tone.PLAIN, "invalid": Tone.BAD}


def reading_lines(reading: SecureReading) -> tuple[Line, ...]:
    """Every fact of the verdict: the badge, the encryption, the signature, each part."""
    lines = [Line(SUMMARY, "Protection", reading.badge, reading.tone)]
    encryption = reading.encryption
    if encryption.status != "none":
        details = (
            f"{encryption.scheme}, {encryption.algorithm or 'unknown cipher'}"
            + (f", key {encryption.key}" if encryption.key else "")
            + (", WEAK cipher" if encryption.weak else "")
        )
        tone = (
            Tone.BAD
            if encryption.status == "failed"
            else Tone.WARN
            if encryption.weak
            else Tone.GOOD
        )
        lines.append(Line(ENCRYPTION, "Encryption", f"{encryption.status} ({details})", tone))
        if encryption.error:
            lines.append(Line(ENCRYPTION, "Encryption error", encryption.error, Tone.BAD))
    signature = reading.signature
    lines.append(
        Line(
            SIGNATURE,
            "Signature",
            f"{signature.status} — {signature.explanation}",
            _SIGNATURE_TONE.get(signature.status, Tone.WARN),
        )
    )
    if signature.signer:
        lines.append(
            Line(SIGNATURE, "Signer", f"{signature.signer} <{signature.signer_email or '?'}>")
        )
    for part in reading.parts:
        signer = f" ({part.signature.signer_email})" if part.signature.signer_email else ""
        lines.append(
            Line(
                PARTS,
                f"Part {part.path}",
                f"{part.content_type}: encryption {part.encryption.status}, "
                f"signature {part.signature.status}{signer}",
                _SIGNATURE_TONE.get(part.signature.status, Tone.WARN),
            )
        )
    lines.extend(Line(WARNINGS, "Warning", warning, Tone.WARN) for warning in reading.warnings)
    return tuple(lines)


def reading_badge(reading: SecureReading) -> list[Line]:
    """The few lines the reader's badge shows: the summary, the signature when there is one or
    it does not cover everything, a decryption error, and the first two warnings."""
    lines = reading_lines(reading)
    signed = reading.signature.status != "none" or not reading.signature_covers_whole_message
    return (
        [line for line in lines if line.section == SUMMARY]
        + [line for line in lines if line.label == "Signature" and signed]
        + [line for line in lines if line.label == "Encryption error"]
        + [line for line in lines if line.section == WARNINGS][:2]
    )
