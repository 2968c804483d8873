"""One verdict model for encrypted and signed mail: a frozen result per MIME part, and the
message summary built from them without ever claiming more than the parts show (EFAIL).

The window's badge and details, ``mailproof decrypt --json`` and the evidence report all
render these values.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

from app.present import Tone


class EncryptionStatus(StrEnum):
    DECRYPTED = "decrypted"
    FAILED = "failed"
    NONE = "none"


class SignatureStatus(StrEnum):
    """What a signature check found; the one set for S/MIME and OpenPGP alike."""

    VALID = "valid"
    INVALID = "invalid"
    EXPIRED = "expired"
    UNTRUSTED = "untrusted"
    SIGNER_MISMATCH = "signer-mismatch"
    UNKNOWN_KEY = "unknown-key"
    NONE = "none"


Scheme = Literal["smime", "pgp"]

SIGNATURE_WORDS: dict[str, str] = {
    "valid": "Signature valid",
    "invalid": "Signature INVALID",
    "expired": "Signer's certificate or key expired",
    "untrusted": "Signed, but the signer is not trusted",
    "signer-mismatch": "Signed by someone other than the sender",
    "unknown-key": "Signed with an unknown key",
    "none": "Not signed",
}


@dataclass(frozen=True)
class Encryption:
    status: EncryptionStatus = EncryptionStatus.NONE
    scheme: Scheme | None = None
    algorithm: str | None = None
    error: str | None = None
    key: str | None = None  # the Mailproof key id that decrypted it
    key_management: str | None = None
    weak: bool = False

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Signature:
    status: SignatureStatus = SignatureStatus.NONE
    scheme: Scheme | None = None
    signer: str | None = None
    signer_email: str | None = None
    explanation: str = "This part is not signed."
    signing_time: str | None = None
    fingerprint: str | None = None  # certificate SHA-256 or OpenPGP fingerprint

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PartVerdict:
    """What protects one MIME entity: ``path`` is its place in the tree as shown, with
    ``1.2`` the second child of the first; ``"1"`` is the message itself."""

    path: str
    content_type: str
    encryption: Encryption = field(default_factory=Encryption)
    signature: Signature = field(default_factory=Signature)

    def to_json(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "content_type": self.content_type,
            "encryption": self.encryption.to_json(),
            "signature": self.signature.to_json(),
        }


@dataclass(frozen=True)
class SecureReading:
    """The message as Mailproof can show it, and exactly what protected which part."""

    encryption: Encryption
    signature: Signature
    signature_covers_whole_message: bool
    parts: tuple[PartVerdict, ...]
    body_text: str
    content: bytes  # the MIME entity to display (decrypted in memory; never written to disk)
    warnings: tuple[str, ...] = ()

    @property
    def badge(self) -> str:
        """A short line for the window: what was decrypted, and what the signature says."""
        pieces = []
        if self.encryption.status == "decrypted":
            pieces.append(f"Decrypted ({_scheme(self.encryption.scheme)})")
        elif self.encryption.status == "failed":
            pieces.append("NOT decrypted")
        if self.signature.status != "none":
            text = SIGNATURE_WORDS[self.signature.status]
            if self.signature.signer_email and self.signature.status == "valid":
                text += f" — {self.signature.signer_email}"
            pieces.append(text)
        elif any(p.signature.status != "none" for p in self.parts):
            pieces.append("Only part of this message is signed")
        return " · ".join(pieces) or "Not encrypted · Not signed"

    @property
    def tone(self) -> Tone:
        """The badge's colour."""
        if self.encryption.status == "failed" or self.signature.status == "invalid":
            return Tone.BAD
        if self.signature.status == "valid" and not self.encryption.weak:
            return Tone.GOOD
        if self.signature.status != "none" or self.encryption.weak:
            return Tone.WARN
        if any(p.signature.status != "none" for p in self.parts):
            return Tone.WARN
        return Tone.GOOD if self.encryption.status == "decrypted" else Tone.PLAIN

    def to_json(self) -> dict[str, Any]:
        return {
            "encryption": self.encryption.to_json(),
            "signature": {
                **self.signature.to_json(),
                "covers_whole_message": self.signature_covers_whole_message,
            },
            "parts": [part.to_json() for part in self.parts],
            "body_text": self.body_text,
            "warnings": list(self.warnings),
            "badge": self.badge,
        }


def _scheme(scheme: str | None) -> str:
    return {"smime": "S/MIME", "pgp": "OpenPGP"}.get(scheme or "", "?")
