"""Read an encrypted or signed message: walk its MIME tree on the raw bytes, decrypt S/MIME and
OpenPGP layers in memory, check every signature, and say per part what protected it.

Signed content is checked on the exact bytes between the MIME boundaries (a re-serialised
part would not verify). Decrypted content stays in memory: nothing here writes a file.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from email.message import Message
from email.utils import getaddresses
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from app.crypto.verdict import (
    Encryption,
    EncryptionStatus,
    PartVerdict,
    Scheme,
    SecureReading,
    Signature,
    SignatureStatus,
)
from app.mime.reader import read_headers

MAX_DEPTH = 12  # nested multiparts and crypto layers; deeper mail is refused, not followed
MAX_CRYPTO_LAYERS = 4  # encrypted inside signed inside encrypted …
MAX_PARTS = 1000

_PKCS7_MIME = ("application/pkcs7-mime", "application/x-pkcs7-mime")
_PKCS7_SIGNATURE = ("application/pkcs7-signature", "application/x-pkcs7-signature")


@dataclass(frozen=True)
class KeyMaterial:
    """What decryption and verification may use; loaded from the keyring only when needed."""

    smime: Sequence[tuple[str, Any, x509.Certificate]] = ()  # (key id, private key, cert)
    pgp_secret: Sequence[tuple[str, str, str]] = ()  # (key id, armored secret, passphrase)
    pgp_public: Sequence[str] = ()  # armored public keys the user imported
    anchors: Sequence[x509.Certificate] = ()


def load_key_material() -> KeyMaterial:
    """The user's keys from the OS keyring and the trust anchors (system + user-added)."""
    from app.crypto import keys, smime

    identities = [
        (identity.info.id, identity.private_key, identity.certificate)
        for identity in keys.smime_identities()
    ]
    secrets = []
    public = []
    for info in keys.list_keys():
        if info.kind != "pgp":
            continue
        public.append(keys.export_public(info.id).decode("ascii", "replace"))
        if info.has_secret:
            armored, passphrase = keys.pgp_secret(info)
            secrets.append((info.id, armored, passphrase))
    anchors = [*smime.system_anchors(), *keys.trust_anchors()]
    return KeyMaterial(identities, secrets, public, anchors)


@dataclass
class _Walk:
    keys: Callable[[], KeyMaterial]
    from_address: str | None
    verdicts: list[PartVerdict] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    layers: int = 0
    count: int = 0
    _material: KeyMaterial | None = None

    @property
    def material(self) -> KeyMaterial:
        if self._material is None:
            self._material = self.keys()
        return self._material


def split_entity(raw: bytes) -> tuple[bytes, bytes]:
    """(header block incl. its final line end, body) of a MIME entity."""
    ends = [(i, n) for i, n in ((raw.find(b"\r\n\r\n"), 4), (raw.find(b"\n\n"), 2)) if i != -1]
    if not ends:
        return raw, b""
    index, length = min(ends)
    return raw[: index + length // 2], raw[index + length :]


def split_multipart(body: bytes, boundary: str) -> list[bytes]:
    """The raw bytes of each body part, exactly as they lie between the delimiters (RFC 2046:
    the line end before a delimiter belongs to the delimiter)."""
    delimiter = re.compile(
        rb"(?:^|\r?\n)--"
        + re.escape(boundary.encode("utf-8", "replace"))
        + rb"(--)?[ \t]*(?:\r?\n|$)"
    )
    parts = []
    previous_end: int | None = None
    for match in delimiter.finditer(body):
        if previous_end is not None:
            parts.append(body[previous_end : match.start()])
        if match.group(1):  # the closing delimiter
            return parts
        previous_end = match.end()
        if len(parts) > MAX_PARTS:
            break
    if previous_end is not None:  # no closing delimiter: the last part runs to the end
        parts.append(body[previous_end:])
    return parts


def _decoded_payload(headers: Message, body: bytes) -> bytes:
    encoding = str(headers.get("Content-Transfer-Encoding", "")).strip().lower()
    if encoding == "base64":
        import binascii

        try:
            return binascii.a2b_base64(re.sub(rb"[^A-Za-z0-9+/=]", b"", body))
        except binascii.Error:
            return b""
    if encoding == "quoted-printable":
        import quopri

        return quopri.decodestring(body)
    return body


def _smime_type(headers: Message) -> str:
    return str(headers.get_param("smime-type") or "").lower()


def _signature_from(result: Any, scheme: Scheme) -> Signature:
    """The verdict model's Signature from smime.SmimeSignature or pgp.PgpSignature."""
    fingerprint = result.certificate_sha256 if scheme == "smime" else result.fingerprint
    return Signature(
        status=result.status,
        scheme=scheme,
        signer=result.signer,
        signer_email=result.signer_email,
        explanation=result.explanation,
        signing_time=result.signing_time,
        fingerprint=fingerprint,
    )


def _walk(
    walk: _Walk,
    raw: bytes,
    path: str,
    depth: int,
    encryption: Encryption,
    signature: Signature,
) -> bytes:
    """Record verdicts for ``raw`` and below; return the entity as it is to be displayed."""
    walk.count += 1
    headers_raw, body = split_entity(raw)
    headers = read_headers(headers_raw)
    content_type = headers.get_content_type()
    if depth > MAX_DEPTH or walk.count > MAX_PARTS:
        walk.warnings.append(
            f"part {path} is nested too deeply or the message has too many parts; it is not shown"
        )
        walk.verdicts.append(PartVerdict(path, content_type, encryption, signature))
        return b"Content-Type: text/plain; charset=utf-8\r\n\r\n[not shown: nested too deeply]\r\n"

    if content_type == "multipart/signed":
        return _signed(walk, headers, headers_raw, body, path, depth, encryption, signature)
    if content_type == "multipart/encrypted":
        return _pgp_mime(walk, headers, body, path, depth, encryption, signature)
    if content_type in _PKCS7_MIME:
        return _pkcs7(walk, headers, body, path, depth, encryption, signature)
    if headers.get_content_maintype() == "multipart":
        boundary = headers.get_param("boundary")
        children = split_multipart(body, str(boundary)) if boundary else []
        if not children:
            walk.verdicts.append(PartVerdict(path, content_type, encryption, signature))
            return raw
        shown = [
            _walk(walk, child, f"{path}.{i}", depth + 1, encryption, signature)
            for i, child in enumerate(children, start=1)
        ]
        if shown == children:
            return raw
        return _rebuild(headers_raw, str(boundary), shown)
    if content_type == "text/plain" and not headers.get_filename():
        text = _decoded_payload(headers, body)
        if b"-----BEGIN PGP MESSAGE-----" in text:
            return _inline_pgp(walk, headers, text, path, depth, encryption, signature)
        if b"-----BEGIN PGP SIGNED MESSAGE-----" in text:
            return _clearsigned(walk, headers, text, path, encryption, signature)
    walk.verdicts.append(PartVerdict(path, content_type, encryption, signature))
    return raw


def _rebuild(headers_raw: bytes, boundary: str, parts: Sequence[bytes]) -> bytes:
    delimiter = b"--" + boundary.encode("utf-8", "replace")
    body = b"".join(delimiter + b"\r\n" + part + b"\r\n" for part in parts)
    return headers_raw + b"\r\n" + body + delimiter + b"--\r\n"


def _layer(walk: _Walk, path: str, content_type: str) -> bool:
    walk.layers += 1
    if walk.layers > MAX_CRYPTO_LAYERS:
        walk.warnings.append(
            f"part {path} ({content_type}) is more than {MAX_CRYPTO_LAYERS} encryption or "
            "signature layers deep; it was not opened"
        )
        return False
    return True


def _refused(
    walk: _Walk, path: str, content_type: str, encryption: Encryption, signature: Signature
) -> bytes:
    refused = Encryption(
        EncryptionStatus.FAILED,
        encryption.scheme,
        error=f"part {path} was not opened: more than {MAX_CRYPTO_LAYERS} encryption or "
        "signature layers",
    )
    walk.verdicts.append(PartVerdict(path, content_type, refused, signature))
    return b"Content-Type: text/plain; charset=utf-8\r\n\r\n[not opened: nested too deeply]\r\n"


def _signed(
    walk: _Walk,
    headers: Message,
    headers_raw: bytes,
    body: bytes,
    path: str,
    depth: int,
    encryption: Encryption,
    outer: Signature,
) -> bytes:
    content_type = "multipart/signed"
    if not _layer(walk, path, content_type):
        return _refused(walk, path, content_type, encryption, outer)
    protocol = str(headers.get_param("protocol") or "").lower()
    boundary = headers.get_param("boundary")
    parts = split_multipart(body, str(boundary)) if boundary else []
    if len(parts) < 2:
        walk.warnings.append(f"part {path}: a signed message without its two parts")
        signature = Signature(
            status=SignatureStatus.INVALID,
            explanation="The signed message is malformed: the content or the signature is missing.",
        )
        if parts:
            return _walk(walk, parts[0], f"{path}.1", depth + 1, encryption, signature)
        walk.verdicts.append(PartVerdict(path, content_type, encryption, signature))
        return headers_raw + b"\r\n"
    content, signature_part = parts[0], parts[1]
    signature_headers_raw, signature_body = split_entity(signature_part)
    signature_headers = read_headers(signature_headers_raw)
    signature_bytes = _decoded_payload(signature_headers, signature_body)
    if protocol in _PKCS7_SIGNATURE or signature_headers.get_content_type() in _PKCS7_SIGNATURE:
        from app.crypto import smime

        result = smime.verify_detached(
            content, signature_bytes, walk.material.anchors, walk.from_address
        )
        signature = _signature_from(result, "smime")
    elif protocol == "application/pgp-signature":
        from app.crypto import pgp

        pgp_result = pgp.verify_detached(
            content, signature_bytes, walk.material.pgp_public, walk.from_address
        )
        signature = _signature_from(pgp_result, "pgp")
    else:
        signature = Signature(
            status=SignatureStatus.UNKNOWN_KEY,
            explanation=f"Signed with an unsupported protocol {protocol or '(none)'}; not checked.",
        )
    walk.verdicts.append(PartVerdict(path, content_type, encryption, signature))
    return _walk(walk, content, f"{path}.1", depth + 1, encryption, signature)


def _identity_key(material: KeyMaterial, certificate_sha256: str | None) -> str | None:
    for key_id, _key, certificate in material.smime:
        if certificate.fingerprint(hashes.SHA256()).hex() == certificate_sha256:
            return key_id
    return None


def _pkcs7(
    walk: _Walk,
    headers: Message,
    body: bytes,
    path: str,
    depth: int,
    encryption: Encryption,
    signature: Signature,
) -> bytes:
    from app.crypto import cms

    content_type = headers.get_content_type()
    if not _layer(walk, path, content_type):
        return _refused(walk, path, content_type, encryption, signature)
    data = _decoded_payload(headers, body)
    try:
        kind = cms.content_type_of(data)
    except cms.CmsError as err:
        failed = Encryption(EncryptionStatus.FAILED, "smime", error=str(err))
        walk.verdicts.append(PartVerdict(path, content_type, failed, signature))
        return _placeholder(f"This S/MIME part cannot be read: {err}")
    if kind == "signed_data" or _smime_type(headers) == "signed-data":
        from app.crypto import smime

        result = smime.verify_opaque(data, walk.material.anchors, walk.from_address)
        inner_signature = _signature_from(result, "smime")
        walk.verdicts.append(PartVerdict(path, content_type, encryption, inner_signature))
        if result.content is None:
            return _placeholder(f"The signed content cannot be read: {result.explanation}")
        return _walk(walk, result.content, f"{path}.1", depth + 1, encryption, inner_signature)
    identities = [(key, certificate) for _id, key, certificate in walk.material.smime]
    try:
        decrypted = cms.decrypt_cms(data, identities)
    except cms.CmsError as err:
        failed = Encryption(EncryptionStatus.FAILED, "smime", error=str(err))
        walk.verdicts.append(PartVerdict(path, content_type, failed, signature))
        return _placeholder(f"This message could not be decrypted: {err}")
    done = Encryption(
        EncryptionStatus.DECRYPTED,
        "smime",
        algorithm=decrypted.algorithm,
        key=_identity_key(walk.material, decrypted.recipient_certificate_sha256),
        key_management=decrypted.key_management,
        weak=decrypted.weak,
    )
    if decrypted.weak:
        walk.warnings.append(
            f"part {path} was encrypted with {decrypted.algorithm}, a weak cipher: "
            "ask the sender to use AES"
        )
    walk.verdicts.append(PartVerdict(path, content_type, done, signature))
    return _walk(walk, decrypted.content, f"{path}.1", depth + 1, done, signature)


def _pgp_mime(
    walk: _Walk,
    headers: Message,
    body: bytes,
    path: str,
    depth: int,
    encryption: Encryption,
    signature: Signature,
) -> bytes:
    content_type = "multipart/encrypted"
    if not _layer(walk, path, content_type):
        return _refused(walk, path, content_type, encryption, signature)
    boundary = headers.get_param("boundary")
    parts = split_multipart(body, str(boundary)) if boundary else []
    payload = b""
    for part in parts:
        part_headers_raw, part_body = split_entity(part)
        part_headers = read_headers(part_headers_raw)
        if part_headers.get_content_type() == "application/octet-stream" or (
            b"-----BEGIN PGP MESSAGE-----" in part_body
        ):
            payload = _decoded_payload(part_headers, part_body)
    if not payload:
        failed = Encryption(EncryptionStatus.FAILED, "pgp", error="the encrypted part is missing")
        walk.verdicts.append(PartVerdict(path, content_type, failed, signature))
        return _placeholder("This OpenPGP message is malformed: the encrypted part is missing.")
    return _pgp_decrypt(walk, payload, path, depth, signature, mime=True)


def _pgp_decrypt(
    walk: _Walk, payload: bytes, path: str, depth: int, signature: Signature, *, mime: bool
) -> bytes:
    from app.crypto import pgp

    material = walk.material
    result = pgp.decrypt(
        payload,
        [(armored, passphrase) for _id, armored, passphrase in material.pgp_secret],
        material.pgp_public,
        walk.from_address,
    )
    content_type = "multipart/encrypted" if mime else "text/plain (inline OpenPGP)"
    if not result.ok or result.content is None:
        failed = Encryption(
            EncryptionStatus.FAILED, "pgp", error=result.error or "decryption failed"
        )
        walk.verdicts.append(PartVerdict(path, content_type, failed, signature))
        return _placeholder(f"This message could not be decrypted: {failed.error}")
    key_id = _pgp_key_id(material, result.key_used)
    done = Encryption(EncryptionStatus.DECRYPTED, "pgp", algorithm=result.algorithm, key=key_id)
    inner = signature
    if result.signature.status != "none":
        inner = _signature_from(result.signature, "pgp")
    walk.verdicts.append(PartVerdict(path, content_type, done, inner))
    if mime:
        return _walk(walk, result.content, f"{path}.1", depth + 1, done, inner)
    return _text_entity(result.content)


def _pgp_key_id(material: KeyMaterial, used: str | None) -> str | None:
    if not used:
        return None
    used = used.upper()
    for key_id, _armored, _passphrase in material.pgp_secret:
        fingerprint = key_id.split(":", 1)[-1].upper()
        if fingerprint.endswith(used[-16:]) or used.endswith(fingerprint[-16:]):
            return key_id
    # the subkey that decrypted differs from the primary fingerprint; one key: that one
    return material.pgp_secret[0][0] if len(material.pgp_secret) == 1 else None


def _inline_pgp(
    walk: _Walk,
    headers: Message,
    text: bytes,
    path: str,
    depth: int,
    encryption: Encryption,
    signature: Signature,
) -> bytes:
    if not _layer(walk, path, "text/plain"):
        return _refused(walk, path, "text/plain", encryption, signature)
    start = text.find(b"-----BEGIN PGP MESSAGE-----")
    if text[:start].strip() or text[text.find(b"-----END PGP MESSAGE-----") + 25 :].strip():
        walk.warnings.append(
            f"part {path}: text around the inline OpenPGP block is not protected and is not shown"
        )
    return _pgp_decrypt(walk, text, path, depth, signature, mime=False)


def _clearsigned(
    walk: _Walk,
    headers: Message,
    text: bytes,
    path: str,
    encryption: Encryption,
    signature: Signature,
) -> bytes:
    from app.crypto import pgp

    if not _layer(walk, path, "text/plain"):
        return _refused(walk, path, "text/plain", encryption, signature)
    start = text.find(b"-----BEGIN PGP SIGNED MESSAGE-----")
    end_marker = b"-----END PGP SIGNATURE-----"
    end = text.find(end_marker)
    if text[:start].strip() or (end != -1 and text[end + len(end_marker) :].strip()):
        walk.warnings.append(
            f"part {path}: text around the clear-signed block is not covered by the signature "
            "and is not shown"
        )
    result, signed_text = pgp.verify_inline(text, walk.material.pgp_public, walk.from_address)
    verdict = _signature_from(result, "pgp")
    walk.verdicts.append(PartVerdict(path, "text/plain (clear-signed)", encryption, verdict))
    return _text_entity(signed_text if signed_text is not None else b"")


def _text_entity(text: bytes) -> bytes:
    return b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n" + (
        text
    )


def _placeholder(text: str) -> bytes:
    return _text_entity(text.encode("utf-8"))


def _from_address(headers: Message) -> str | None:
    values = headers.get_all("From") or []
    pairs = getaddresses([str(v) for v in values])
    return pairs[0][1].strip().lower() if pairs and pairs[0][1] else None


_CONTENT_HEADERS = re.compile(rb"^(content-[a-z-]+|mime-version)\s*:", re.IGNORECASE)


def _display_message(outer_headers_raw: bytes, shown_root: bytes, original_root: bytes) -> bytes:
    """The outer headers (From, Subject, Date …) over the decrypted/unwrapped content."""
    if shown_root == original_root:
        return original_root
    inner_headers, inner_body = split_entity(shown_root)
    kept: list[bytes] = []
    skipping = False
    for line in outer_headers_raw.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t"):
            if not skipping:
                kept.append(line)
            continue
        skipping = bool(_CONTENT_HEADERS.match(line))
        if not skipping and line.strip():
            kept.append(line)
    return b"".join(kept) + b"MIME-Version: 1.0\r\n" + inner_headers + b"\r\n" + inner_body


def _summary(walk: _Walk) -> tuple[Encryption, Signature, bool]:
    leaves = _leaves(walk.verdicts)
    encrypted = [v for v in walk.verdicts if v.encryption.status != "none"]
    failed = next((v.encryption for v in encrypted if v.encryption.status == "failed"), None)
    if failed is not None:
        encryption = failed
    elif encrypted:
        encryption = encrypted[0].encryption
        if any(leaf.encryption.status == "none" for leaf in leaves):
            plain = ", ".join(leaf.path for leaf in leaves if leaf.encryption.status == "none")
            walk.warnings.append(
                f"only part of this message was encrypted; part(s) {plain} were sent in the clear"
            )
    else:
        encryption = Encryption()
    signed = [leaf for leaf in leaves if leaf.signature.status != "none"]
    if leaves and len(signed) == len(leaves) and len({leaf.signature for leaf in signed}) == 1:
        return encryption, signed[0].signature, True
    if not signed:
        return encryption, Signature(explanation="This message is not signed."), False
    paths = ", ".join(leaf.path for leaf in signed)
    worst = _worst([leaf.signature for leaf in signed])
    return (
        encryption,
        Signature(
            status=SignatureStatus.NONE,
            explanation=(
                f"Only part(s) {paths} of this message are signed ({worst.status}); "
                "the rest is not covered by any signature."
            ),
        ),
        False,
    )


def _leaves(verdicts: Sequence[PartVerdict]) -> list[PartVerdict]:
    paths = {v.path for v in verdicts}
    return [v for v in verdicts if not any(p.startswith(v.path + ".") for p in paths)]


_ORDER = ["invalid", "signer-mismatch", "unknown-key", "untrusted", "expired", "valid", "none"]


def _worst(signatures: Sequence[Signature]) -> Signature:
    return min(signatures, key=lambda s: _ORDER.index(s.status))


def is_protected(raw: bytes) -> bool:
    """Whether ``raw`` holds anything to decrypt or verify (a cheap look, no crypto)."""
    headers_raw, body = split_entity(raw)
    content_type = read_headers(headers_raw).get_content_type()
    if content_type in ("multipart/signed", "multipart/encrypted", *_PKCS7_MIME):
        return True
    return any(
        marker in body
        for marker in (
            b"-----BEGIN PGP MESSAGE-----",
            b"-----BEGIN PGP SIGNED MESSAGE-----",
            b"application/pkcs7-mime",
            b"application/x-pkcs7-mime",
            b"multipart/signed",
            b"multipart/encrypted",
        )
    )


def read_secure(
    raw: bytes,
    keys: Callable[[], KeyMaterial] = load_key_material,
) -> SecureReading:
    """Decrypt and verify ``raw`` in memory; every problem is a status, never an exception."""
    from app.mime.render import render

    headers_raw, _ = split_entity(raw)
    outer = read_headers(headers_raw)
    walk = _Walk(keys=keys, from_address=_from_address(outer))
    try:
        shown = _walk(walk, raw, "1", 0, Encryption(), Signature())
    except RecursionError:
        walk.warnings.append("the message is nested too deeply to be read")
        shown = raw
    content = _display_message(headers_raw, shown, raw)
    encryption, signature, whole = _summary(walk)
    body_text = render(content).text.replace("\r\n", "\n")
    verdicts = tuple(walk.verdicts)
    if encryption.status != "none":
        from app import audit

        audit.record(
            "message decrypted",
            {
                "sha256": hashlib.sha256(raw).hexdigest(),
                "message_id": str(outer.get("Message-ID", "")).strip() or None,
            },
            "ok" if encryption.status == "decrypted" else "failed",
            scheme=encryption.scheme,
            key=encryption.key,
            algorithm=encryption.algorithm,
            error=encryption.error,
        )
    return SecureReading(
        encryption=encryption,
        signature=signature,
        signature_covers_whole_message=whole,
        parts=verdicts,
        body_text=body_text,
        content=content,
        warnings=tuple(dict.fromkeys(walk.warnings)),
    )
