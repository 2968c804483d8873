"""S/MIME signatures: detached (``multipart/signed``) and opaque (``signed-data``), checked
with asn1crypto parsing, cryptography's primitives and ``cryptography.x509.verification``.

Every outcome is a value with a status and one human line; nothing here raises on bad input.

The verdict is decided in this order: an unreadable signature is ``invalid``; a signer whose
certificate is not in the signature is ``unknown-key``; a content digest or signature that does
not match is ``invalid``; a chain that does not reach a trust anchor is ``untrusted``; a signer
certificate outside its validity at signing time or now is ``expired``; a certificate not meant
for signing mail (key usage, extended key usage) is ``invalid``; a From address that is not
among the certificate's addresses is ``signer-mismatch``; otherwise ``valid``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import hashlib
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, replace
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from asn1crypto import cms
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa
from cryptography.x509 import ExtendedKeyUsage
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from app.crypto.cms_algorithms import HASHES
from app.crypto.verdict import SignatureStatus

MAX_SIGNATURE_BYTES = 16 * 1024 * 1024
SYSTEM_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",  # Debian, Ubuntu, Arch, Gentoo
    "/etc/pki/tls/certs/ca-bundle.crt",  # Fedora, RHEL
    "/etc/ssl/ca-bundle.pem",  # openSUSE
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",  # Alpine, macOS, BSDs
)


@dataclass(frozen=True)
class SmimeSignature:
    status: SignatureStatus
    explanation: str
    signer: str | None = None  # subject CN, else the subject as RFC 4514
    signer_email: str | None = None  # SAN rfc822Name, else subject emailAddress
    certificate_sha256: str | None = None
    signing_time: str | None = None  # ISO 8601 UTC from the signingTime attribute
    digest_algorithm: str | None = None  # "sha256", ...
    chain: tuple[str, ...] = ()  # subjects from signer to anchor, when validated
    content: bytes | None = None  # opaque signed-data: the content that was signed


class _Bad(Exception):
    """An unreadable or unsupported signature; the message becomes the explanation."""


class _Mismatch(Exception):
    """The signature does not match; the message becomes the explanation."""


@functools.cache
def _system_anchors() -> tuple[x509.Certificate, ...]:
    for bundle in SYSTEM_BUNDLES:
        path = Path(bundle)
        if not path.is_file():
            continue
        try:
            with warnings.catch_warnings():  # old roots with odd serials still count
                warnings.simplefilter("ignore")
                return tuple(x509.load_pem_x509_certificates(path.read_bytes()))
        except (OSError, ValueError):
            continue
    return ()


def system_anchors() -> list[x509.Certificate]:
    """The system's CA certificates (e.g. Debian's ca-certificates bundle), read once."""
    return list(_system_anchors())


# ---- reading ---------------------------------------------------------------------------------


def _der(data: bytes) -> bytes:
    """DER/BER as given, or decoded from PEM or bare base64."""
    stripped = data.strip()
    if not stripped:
        raise _Bad("the signature is empty")
    if stripped[:1] == b"\x30":
        return data.lstrip()  # DER may end in a byte that looks like white space
    text = stripped
    if b"-----BEGIN" in text:
        text = re.sub(rb"-----(BEGIN|END)[^-]*-----", b"", text)
    cleaned = re.sub(rb"[^A-Za-z0-9+/=]", b"", text)
    try:
        decoded = base64.b64decode(cleaned + b"=" * (-len(cleaned) % 4), validate=False)
    except (binascii.Error, ValueError) as err:
        raise _Bad(f"the signature is not DER, PEM or base64 ({err})") from err
    if decoded[:1] != b"\x30":
        raise _Bad("the signature is not DER, PEM or base64")
    return decoded


def _load_signed(data: bytes) -> Any:
    if len(data) > MAX_SIGNATURE_BYTES:
        raise _Bad("the signature is implausibly large")
    try:
        info = cms.ContentInfo.load(_der(data))
        kind = info["content_type"].native
        if kind != "signed_data":
            raise _Bad(f"this is CMS {kind}, not a signature")
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
        issuer = sid.chosen["issuer"]
        matches = [c for c in certificates if c.serial_number == serial]
        for cert in matches:
            if cert.issuer.public_bytes() == issuer.dump():
                return cert
        for cert in matches:  # the same name in other string types (RFC 5280 7.1 matching)
            try:
                if asn1_x509.Name.load(cert.issuer.public_bytes()) == issuer:
                    return cert
            except Exception:  # noqa: S112 - an odd name simply does not match
                continue
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
    """The certificate's addresses, lower-cased: SAN rfc822Name first, then emailAddress."""
    emails: list[str] = []
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        emails.extend(str(v).lower() for v in san.value.get_values_for_type(x509.RFC822Name))
    except (x509.ExtensionNotFound, ValueError):
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


# ---- the signature -----------------------------------------------------------------------------


def _signed_attribute_bytes(attributes: Any) -> list[bytes]:
    """What was signed: the attributes' DER re-tagged as SET OF (RFC 5652 5.4)."""
    original = attributes.dump()
    candidates = []
    if original[1:2] != b"\x80":  # definite length: the bytes as they came
        candidates.append(b"\x31" + original[1:])
    candidates.append(b"\x31" + attributes.untag().dump(force=True)[1:])
    return list(dict.fromkeys(candidates))


def _verify_value(
    signer: Any, key: Any, value: bytes, message: bytes, algorithm: hashes.HashAlgorithm
) -> None:
    scheme = signer["signature_algorithm"].signature_algo
    if isinstance(key, rsa.RSAPublicKey):
        if scheme == "rsassa_pss":
            params = signer["signature_algorithm"]["parameters"]
            pss_name = params["hash_algorithm"]["algorithm"].native
            mgf_name = params["mask_gen_algorithm"]["parameters"]["algorithm"].native
            if pss_name not in HASHES or mgf_name not in HASHES:
                raise _Bad(f"the RSA-PSS digest {pss_name}/{mgf_name} is not supported")
            key.verify(
                value,
                message,
                padding.PSS(
                    mgf=padding.MGF1(HASHES[mgf_name]()), salt_length=params["salt_length"].native
                ),
                HASHES[pss_name](),
            )
        elif scheme == "rsassa_pkcs1v15":
            key.verify(value, message, padding.PKCS1v15(), algorithm)
        else:
            raise _Bad(f"the signature algorithm {scheme} does not fit an RSA key")
    elif isinstance(key, ec.EllipticCurvePublicKey):
        if scheme != "ecdsa":
            raise _Bad(f"the signature algorithm {scheme} does not fit an EC key")
        key.verify(value, message, ec.ECDSA(algorithm))
    elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
        key.verify(value, message)
    else:
        raise _Bad(f"the signer's key type {type(key).__name__} is not supported")


def _check_signature(signer: Any, cert: x509.Certificate, content: bytes, kind: str) -> None:
    """Raises _Mismatch, _Bad or InvalidSignature unless the signature fits ``content``."""
    digest_name = signer["digest_algorithm"]["algorithm"].native
    algorithm = HASHES[digest_name]()
    attributes = signer["signed_attrs"]
    value = signer["signature"].native
    key = cert.public_key()
    if attributes is None or not len(attributes):
        _verify_value(signer, key, value, content, algorithm)
        return
    digest = _attribute(attributes, "message_digest")
    if digest is None:
        raise _Bad("the signed attributes hold no message digest")
    if digest != hashlib.new(digest_name, content).digest():
        raise _Mismatch("The content was altered after signing (message digest does not match).")
    content_type = _attribute(attributes, "content_type")
    if content_type is not None and content_type != kind:
        raise _Mismatch("The signed content type does not match the signature's content.")
    for signed_bytes in _signed_attribute_bytes(attributes):
        try:
            _verify_value(signer, key, value, signed_bytes, algorithm)
            return
        except InvalidSignature:
            continue
    raise _Mismatch(
        "The signature does not match: the signature or its signed attributes were altered."
    )


# ---- the certificate -----------------------------------------------------------------------------


def _any_eku(*_args: Any) -> None:
    """Extended key usage is judged after the chain, so it reads as a reason, not as trust."""


def _chain(
    cert: x509.Certificate,
    others: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    moment: dt.datetime,
    ee: ExtensionPolicy | None = None,
) -> tuple[str, ...] | str:
    """The validated chain's subjects, or why it fails."""
    if not anchors:
        return "no trust anchor is configured"
    ee = ee or ExtensionPolicy.webpki_defaults_ee().may_be_present(
        ExtendedKeyUsage, Criticality.AGNOSTIC, _any_eku
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
        return _line(str(err))
    except (ValueError, TypeError, UnsupportedAlgorithm) as err:
        return _line(f"the chain cannot be checked: {err}")
    return tuple(_name(c) for c in verified.chain)


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _chain_outside_validity(
    cert: x509.Certificate,
    others: Sequence[x509.Certificate],
    anchors: Sequence[x509.Certificate],
    moments: Sequence[dt.datetime],
) -> tuple[str, ...] | str:
    """For a signer certificate outside its validity: no single moment may suit the whole chain
    (a CA renewed since), so check that its issuer signed it and that the issuer's own chain
    reaches an anchor at one of ``moments``. An expired certificate is then "expired", not
    "untrusted"; one that was never trusted stays "untrusted"."""
    failure = _chain(cert, others, anchors, moments[0])
    if not isinstance(failure, str):
        return failure
    for issuer in [*anchors, *others]:
        if issuer == cert or not _is_ca(issuer):
            continue
        try:
            cert.verify_directly_issued_by(issuer)
        except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
            continue
        if issuer in anchors:
            return (_name(cert), _name(issuer))
        for moment in moments:
            rest = _chain(issuer, others, anchors, moment, ExtensionPolicy.permit_all())
            if not isinstance(rest, str):
                return (_name(cert), *rest)
    return failure


def _usage_problem(cert: x509.Certificate) -> str | None:
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        if not (usage.digital_signature or usage.content_commitment):
            return "the signer's certificate does not allow digital signatures (key usage)"
    except x509.ExtensionNotFound:
        pass
    try:
        eku = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        if ExtendedKeyUsageOID.EMAIL_PROTECTION not in eku:
            return "the signer's certificate is not meant for e-mail (extended key usage)"
    except x509.ExtensionNotFound:
        pass
    return None


def _addr(value: str | None) -> str | None:
    if not value:
        return None
    _display, address = parseaddr(value)
    return (address or value).strip().lower() or None


def _variants(content: bytes) -> list[bytes]:
    """The content as given, then with CRLF line ends, then with LF line ends (RFC 5751)."""
    crlf = re.sub(rb"\r?\n", b"\r\n", content)
    lf = content.replace(b"\r\n", b"\n")
    return list(dict.fromkeys([content, crlf, lf]))


def _line(text: str) -> str:
    """One human line: error texts from libraries may span several."""
    return " ".join(text.split())[:500]


def _iso(moment: dt.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


# ---- the verdict ---------------------------------------------------------------------------------


def _verify_signer(
    signer: Any,
    signed: Any,
    certificates: list[x509.Certificate],
    content: bytes,
    opaque: bool,
    anchors: Sequence[x509.Certificate],
    from_address: str | None,
    now: dt.datetime,
) -> SmimeSignature:
    base = SmimeSignature(SignatureStatus.INVALID, "", content=content if opaque else None)
    digest_name = str(signer["digest_algorithm"]["algorithm"].native)
    base = replace(base, digest_algorithm=digest_name)
    signing_time = _attribute(signer["signed_attrs"], "signing_time")
    signed_at = _aware(signing_time) if isinstance(signing_time, dt.datetime) else None
    if signed_at is not None:
        base = replace(base, signing_time=_iso(signed_at))
    cert = _signer_certificate(signer, certificates)
    if cert is None:
        return replace(
            base,
            status=SignatureStatus.UNKNOWN_KEY,
            explanation="The signer's certificate is not included in the signature, so it "
            "cannot be checked.",
        )
    emails = certificate_emails(cert)
    who = _name(cert)
    base = replace(
        base,
        signer=who,
        signer_email=emails[0] if emails else None,
        certificate_sha256=cert.fingerprint(hashes.SHA256()).hex(),
    )
    if digest_name not in HASHES:
        return replace(base, explanation=f"The digest algorithm {digest_name} is not supported.")
    kind = signed["encap_content_info"]["content_type"].native
    failure = "The signature does not match the content."
    matched = False
    for candidate in [content] if opaque else _variants(content):
        try:
            _check_signature(signer, cert, candidate, kind)
            matched = True
            break
        except _Mismatch as err:
            if failure.startswith("The signature does not match the content.") or not str(
                err
            ).startswith("The content was altered"):  # a digest that matched says more
                failure = str(err)
        except InvalidSignature:
            failure = "The signature does not match the content (the content or the signature "
            failure += "was altered)."
        except _Bad as err:
            return replace(base, explanation=_line(f"The signature cannot be checked: {err}."))
    if not matched:
        return replace(base, explanation=failure)

    # the certificate's validity, judged by dates here so that it is not mistaken for trust
    not_before, not_after = cert.not_valid_before_utc, cert.not_valid_after_utc
    expired: str | None = None
    for label, when in (("when it was signed", signed_at), ("now", now)):
        if when is None or not_before <= when <= not_after:
            continue
        if when > not_after:
            expired = f"expired on {not_after:%Y-%m-%d}"
        else:
            expired = f"was not valid until {not_before:%Y-%m-%d}"
        expired += f" and so was not valid {label} ({when:%Y-%m-%d})"
        break
    within = [w for w in (signed_at, now) if w is not None and not_before <= w <= not_after]
    if within:
        chain = _chain(cert, certificates, anchors, within[0])
    else:
        clamped = not_after if now > not_after else not_before
        chain = _chain_outside_validity(cert, certificates, anchors, [clamped, now])
    if isinstance(chain, str):
        return replace(
            base,
            status=SignatureStatus.UNTRUSTED,
            explanation=f"The signature matches, but {who}'s certificate does not lead to a "
            f"trusted authority: {chain}.",
        )
    base = replace(base, chain=chain)
    if expired:
        return replace(
            base,
            status=SignatureStatus.EXPIRED,
            explanation=f"The signature matches, but {who}'s certificate {expired}.",
        )
    usage = _usage_problem(cert)
    if usage:
        return replace(base, explanation=f"The signature matches, but {usage}.")
    weak = " with SHA-1, a weak digest" if digest_name == "sha1" else ""
    sender = _addr(from_address)
    if sender and sender not in emails:
        return replace(
            base,
            status=SignatureStatus.SIGNER_MISMATCH,
            explanation=f"Signed by {who} <{', '.join(emails) or 'no e-mail address'}>{weak}, "
            f"but the message says it is from {sender}.",
        )
    return replace(
        base,
        status=SignatureStatus.VALID,
        explanation=f"Signed by {who} <{base.signer_email or 'no e-mail address'}>{weak}; "
        f"certificate chain reaches '{chain[-1]}'.",
    )


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
        return SmimeSignature(
            SignatureStatus.INVALID, _line(f"The signature cannot be checked: {err}.")
        )
    opaque = content is None
    if content is None:
        encapsulated = signed["encap_content_info"]["content"]
        if encapsulated.native is None:
            return SmimeSignature(SignatureStatus.INVALID, "The signed message holds no content.")
        content = bytes(encapsulated.native)
    infos = list(signed["signer_infos"])
    if not infos:
        return SmimeSignature(
            SignatureStatus.INVALID,
            "The signature holds no signer.",
            content=content if opaque else None,
        )
    moment = _aware(now) if now is not None else dt.datetime.now(dt.UTC)
    certificates = _certificates(signed)
    results = [
        _verify_signer(i, signed, certificates, content, opaque, anchors, from_address, moment)
        for i in infos
    ]
    return next((r for r in results if r.status == "valid"), results[0])


def _safe_verify(
    content: bytes | None,
    data: bytes,
    anchors: Sequence[x509.Certificate],
    from_address: str | None,
    now: dt.datetime | None,
) -> SmimeSignature:
    try:
        return _verify(content, data, anchors, from_address, now)
    except Exception as err:  # asn1crypto parses lazily: a last line of defence, never raise
        return SmimeSignature(
            SignatureStatus.INVALID,
            _line(f"The signature cannot be checked ({type(err).__name__}: {err})."),
        )


def verify_detached(
    content: bytes,
    signature: bytes,
    anchors: Sequence[x509.Certificate],
    from_address: str | None,
    now: dt.datetime | None = None,
) -> SmimeSignature:
    """Check a ``multipart/signed`` signature over ``content`` (the first part's raw bytes)."""
    return _safe_verify(bytes(content), bytes(signature), anchors, from_address, now)


def verify_opaque(
    data: bytes,
    anchors: Sequence[x509.Certificate],
    from_address: str | None,
    now: dt.datetime | None = None,
) -> SmimeSignature:
    """Check an opaque ``signed-data`` message; its content is returned in the result."""
    return _safe_verify(None, bytes(data), anchors, from_address, now)
