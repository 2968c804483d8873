"""S/MIME signatures: detached (``multipart/signed``) and opaque (``signed-data``), checked
with asn1crypto parsing, cryptography's primitives and ``cryptography.x509.verification``.

Every outcome is a value with a status and one human line; nothing here raises on bad input.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ExtendedKeyUsage
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    VerificationError,
)

SignatureStatus = Literal[
    "valid", "invalid", "expired", "untrusted", "signer-mismatch", "unknown-key", "none"
]

MAX_SIGNATURE_BYTES = 16 * 1024 * 1024
HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}
SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
)


@dataclass(frozen=True)
class SmimeSignature:
    status: SignatureStatus
    explanation: str
    signer: str | None = None
    signer_email: str | None = None
    certificate_sha256: str | None = None
    signing_time: str | None = None
    digest_algorithm: str | None = None
    chain: tuple[str, ...] = ()
    content: bytes | None = None  # opaque signed-data: the content that was signed


class _Bad(Exception):
    """An unreadable signature; the message becomes the explanation."""


@functools.cache
def system_anchors() -> list[x509.Certificate]:
    """The system's CA certificates (Debian: ca-certificates), read once."""
    for bundle in SYSTEM_BUNDLES:
        path = Path(bundle)
        if path.is_file():
            try:
                return x509.load_pem_x509_certificates(path.read_bytes())
            except ValueError:
                continue
    return []


def _der(data: bytes) -> bytes:
    """DER/BER as given, or decoded from PEM or bare base64."""
    stripped = data.strip()
    if stripped[:1] == b"\x30":
        return data
    text = stripped
    if b"-----BEGIN" in text:
        text = re.sub(rb"-----(BEGIN|END)[^-]*-----", b"", text)
    try:
        return base64.b64decode(re.sub(rb"[^A-Za-z0-9+/=]", b"", text), validate=False)
    except (binascii.Error, ValueError) as err:
        raise _Bad(f"the signature is not DER, PEM or base64 ({err})") from err


def _load_signed(data: bytes) -> Any:
    if len(data) > MAX_SIGNATURE_BYTES:
        raise _Bad("the signature is implausibly large")
    try:
        info = cms.ContentInfo.load(_der(data))
        if info["content_type"].native != "signed_data":
            raise _Bad(f"this is CMS {info['content_type'].native}, not a signature")
        signed = info["content"]
        signed.native  # noqa: B018 - parse everything now: asn1crypto is lazy and raises late
    except _Bad:
        raise
    except Exception as err:  # asn1crypto raises ValueError, TypeError, KeyError … lazily
        raise _Bad(f"the signature cannot be read ({type(err).__name__})") from err
    return signed


def _certificates(signed: Any) -> list[x509.Certificate]:
    found = []
    for choice in signed["certificates"] or []:
        if choice.name != "certificate":
            continue
        try:
            found.append(x509.load_der_x509_certificate(choice.chosen.dump()))
        except ValueError:
            continue
    return found


def _signer_certificate(
    signer: Any, certificates: Sequence[x509.Certificate]
) -> x509.Certificate | None:
    sid = signer["sid"]
    if sid.name == "issuer_and_serial_number":
        serial = sid.chosen["serial_number"].native
        issuer = sid.chosen["issuer"].dump()
        for cert in certificates:
            if cert.serial_number == serial and cert.issuer.public_bytes() == issuer:
                return cert
        for cert in certificates:  # issuer DER can differ in string types; serial decides
            if cert.serial_number == serial:
                return cert
        return None
    key_id = sid.chosen.native
    for cert in certificates:
        try:
            ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier)
        except x509.ExtensionNotFound:
            continue
        if ski.value.digest == key_id:
            return cert
    return None


def certificate_emails(cert: x509.Certificate) -> list[str]:
    emails: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        emails.extend(str(v).lower() for v in san.value.get_values_for_type(x509.RFC822Name))
    except x509.ExtensionNotFound:
        pass
    for attribute in cert.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS):
        emails.append(str(attribute.value).lower())
    return list(dict.fromkeys(emails))


def _name(cert: x509.Certificate) -> str:
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else cert.subject.rfc4514_string()


def _attribute(attributes: Any, name: str) -> Any:
    for attribute in attributes or []:
        if attribute["type"].native == name:
            return attribute["values"][0].native
    return None


def _check_signature(signer: Any, cert: x509.Certificate, content: bytes) -> str:
    """Raises InvalidSignature or _Bad; returns the digest algorithm's name."""
    digest_name = signer["digest_algorithm"]["algorithm"].native
    if digest_name not in HASHES:
        raise _Bad(f"the digest algorithm {digest_name} is not supported")
    algorithm = HASHES[digest_name]()
    attributes = signer["signed_attrs"]
    if attributes is not None and len(attributes):
        digest = _attribute(attributes, "message_digest")
        if digest != hashlib.new(digest_name, content).digest():
            raise InvalidSignature("message digest")
        signed_bytes = b"\x31" + attributes.dump(force=True)[1:]  # signed as SET OF, not [0]
    else:
        signed_bytes = content
    value = signer["signature"].native
    key = cert.public_key()
    scheme = signer["signature_algorithm"].signature_algo
    if isinstance(key, rsa.RSAPublicKey):
        if scheme == "rsassa_pss":
            params = signer["signature_algorithm"]["parameters"]
            pss_hash = HASHES.get(params["hash_algorithm"]["algorithm"].native, hashes.SHA256)()
            key.verify(
                value,
                signed_bytes,
                padding.PSS(mgf=padding.MGF1(pss_hash), salt_length=params["salt_length"].native),
                pss_hash,
            )
        else:
            key.verify(value, signed_bytes, padding.PKCS1v15(), algorithm)
    elif isinstance(key, ec.EllipticCurvePublicKey):
        key.verify(value, signed_bytes, ec.ECDSA(algorithm))
    else:
        raise _Bad(f"the signer's key type {type(key).__name__} is not supported")
    return str(digest_name)


def _email_protection(
    _policy: Policy, _cert: x509.Certificate, eku: ExtendedKeyUsage | None
) -> None:
    if eku is not None and ExtendedKeyUsageOID.EMAIL_PROTECTION not in eku:
        raise ValueError("the certificate is not for e-mail protection")


def _chain(
    cert: x509.Certificate,
    others: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    moment: dt.datetime,
) -> tuple[str, ...] | str:
    """The validated chain's subjects, or why it fails."""
    if not anchors:
        return "no trust anchor is configured"
    ee = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        ExtendedKeyUsage, Criticality.AGNOSTIC, _email_protection
    )
    try:
        verified = (
            PolicyBuilder()
            .store(Store(list(anchors)))
            .time(moment)
            .extension_policies(ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee)
            .build_client_verifier()
            .verify(cert, [c for c in others if c != cert])
        )
    except VerificationError as err:
        return str(err)
    except (ValueError, UnsupportedAlgorithm) as err:
        return f"the chain cannot be checked: {err}"
    return tuple(_name(c) for c in verified.chain)


def _key_usage_problem(cert: x509.Certificate) -> str | None:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return None
    if not (usage.digital_signature or usage.content_commitment):
        return "the signer's certificate does not allow digital signatures (key usage)"
    return None


def _addr(value: str | None) -> str | None:
    if not value:
        return None
    match = re.search(r"<([^>]+)>", value)
    return (match.group(1) if match else value).strip().lower()


def _crlf(content: bytes) -> bytes:
    return re.sub(rb"\r?\n", b"\r\n", content)


def _verify(
    content: bytes | None,
    data: bytes,
    anchors: Sequence[x509.Certificate],
    from_address: str | None,
    now: dt.datetime | None,
) -> SmimeSignature:
    try:
        signed = _load_signed(data)
    except _Bad as err:
        return SmimeSignature("invalid", f"The signature cannot be checked: {err}.")
    encapsulated = signed["encap_content_info"]["content"]
    opaque = content is None
    if opaque:
        if encapsulated.native is None:
            return SmimeSignature("invalid", "The signed message holds no content.")
        content = bytes(encapsulated.native)
    assert content is not None
    infos = signed["signer_infos"]
    if not len(infos):
        return SmimeSignature("invalid", "The signature holds no signer.", content=content)
    signer = infos[0]
    certificates = _certificates(signed)
    cert = _signer_certificate(signer, certificates)
    if cert is None:
        return SmimeSignature(
            "unknown-key",
            "The signer's certificate is not included, so the signature cannot be checked.",
            content=content if opaque else None,
        )
    identity = {
        "signer": _name(cert),
        "signer_email": next(iter(certificate_emails(cert)), None),
        "certificate_sha256": cert.fingerprint(hashes.SHA256()).hex(),
    }
    signing_time = _attribute(signer["signed_attrs"], "signing_time")
    signed_at = signing_time if isinstance(signing_time, dt.datetime) else None
    extra: dict[str, Any] = {
        **identity,
        "signing_time": signed_at.strftime("%Y-%m-%dT%H:%M:%SZ") if signed_at else None,
        "content": content if opaque else None,
    }
    digest_name = None
    candidates = [content] if opaque else list(dict.fromkeys([content, _crlf(content)]))
    failure = "the signature does not match"
    for candidate in candidates:
        try:
            digest_name = _check_signature(signer, cert, candidate)
            break
        except InvalidSignature as err:
            failure = (
                "the content was altered after signing (message digest does not match)"
                if str(err) == "message digest"
                else "the signature does not match the content"
            )
        except _Bad as err:
            return SmimeSignature("invalid", f"The signature cannot be checked: {err}.", **extra)
        except (ValueError, TypeError, KeyError, UnsupportedAlgorithm) as err:
            return SmimeSignature(
                "invalid", f"The signature cannot be checked ({type(err).__name__}).", **extra
            )
    if digest_name is None:
        return SmimeSignature("invalid", f"INVALID: {failure}.", **extra)
    extra["digest_algorithm"] = digest_name
    weak = " (SHA-1, a weak digest)" if digest_name == "sha1" else ""
    moment = now or dt.datetime.now(dt.UTC)
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    for label, when in (("when it was signed", signed_at), ("now", moment)):
        if when is not None and not (not_before <= when <= not_after):
            return SmimeSignature(
                "expired",
                f"The signature matches, but {identity['signer']}'s certificate was not valid "
                f"{label} (valid {not_before:%Y-%m-%d} to {not_after:%Y-%m-%d}).",
                **extra,
            )
    usage = _key_usage_problem(cert)
    if usage:
        return SmimeSignature("invalid", f"Not acceptable: {usage}.", **extra)
    chain = _chain(cert, certificates, anchors, signed_at or moment)
    if isinstance(chain, str):
        return SmimeSignature(
            "untrusted",
            f"The signature matches, but {identity['signer']}'s certificate does not lead to a "
            f"trusted authority: {chain}.",
            **extra,
        )
    extra["chain"] = chain
    sender = _addr(from_address)
    emails = certificate_emails(cert)
    if sender and sender not in emails:
        return SmimeSignature(
            "signer-mismatch",
            f"Validly signed by {identity['signer']} <{', '.join(emails) or 'no e-mail'}>, "
            f"but the message says it is from {sender}.",
            **extra,
        )
    return SmimeSignature(
        "valid",
        f"Signed by {identity['signer']} <{identity['signer_email']}>{weak}; the certificate "
        f"chain reaches '{chain[-1]}'.",
        **extra,
    )


def verify_detached(
    content: bytes,
    signature: bytes,
    anchors: Sequence[x509.Certificate],
    from_address: str | None,
    now: dt.datetime | None = None,
) -> SmimeSignature:
    """Check a ``multipart/signed`` signature over ``content`` (the first part's raw bytes)."""
    return _verify(content, signature, anchors, from_address, now)


def verify_opaque(
    data: bytes,
    anchors: Sequence[x509.Certificate],
    from_address: str | None,
    now: dt.datetime | None = None,
) -> SmimeSignature:
    """Check an opaque ``signed-data`` message; its content is returned in the result."""
    return _verify(None, data, anchors, from_address, now)


def certificate_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)
