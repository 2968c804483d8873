"""Check a package's detached CMS signature over manifest.json: the messageDigest, the
signature over the signed attributes, and the signer's chain to the given trust anchors."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence

from asn1crypto import cms
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ExtendedKeyUsage
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import (
    Criticality,
    ExtensionPolicy,
    Policy,
    PolicyBuilder,
    Store,
    VerificationError,
)

from app.evidence.package import Check

HASHES: dict[str, hashes.HashAlgorithm] = {
    "sha256": hashes.SHA256(),
    "sha384": hashes.SHA384(),
    "sha512": hashes.SHA512(),
}


def _email_protection(
    _policy: Policy, _cert: x509.Certificate, eku: ExtendedKeyUsage | None
) -> None:
    if eku is not None and ExtendedKeyUsageOID.EMAIL_PROTECTION not in eku:
        raise ValueError("the signer's certificate is not for e-mail protection")


def verify_manifest_signature(
    manifest: bytes,
    p7s: bytes,
    anchors: Sequence[x509.Certificate],
    now: dt.datetime | None = None,
) -> Check:
    try:
        info = cms.ContentInfo.load(p7s)
        if info["content_type"].native != "signed_data":
            return Check("signature", False, "manifest.json.p7s is not a CMS signature")
        signed = info["content"]
        certificates = [
            x509.load_der_x509_certificate(c.chosen.dump()) for c in signed["certificates"] or []
        ]
        signer = signed["signer_infos"][0]
        sid = signer["sid"].chosen
        serial = sid["serial_number"].native
        cert = next((c for c in certificates if c.serial_number == serial), None)
        if cert is None:
            return Check("signature", False, "the signer's certificate is not in the signature")
        algorithm = signer["digest_algorithm"]["algorithm"].native
        if algorithm not in HASHES:
            return Check("signature", False, f"unsupported digest {algorithm}")
        attributes = signer["signed_attrs"]
        digest = next(
            (a["values"][0].native for a in attributes if a["type"].native == "message_digest"),
            None,
        )
        if digest != hashlib.new(algorithm, manifest).digest():
            return Check("signature", False, "manifest.json was changed after it was signed")
        signed_bytes = b"\x31" + attributes.dump()[1:]  # signed over as SET OF, not [0]
        key = cert.public_key()
        value = signer["signature"].native
        if isinstance(key, rsa.RSAPublicKey):
            key.verify(value, signed_bytes, padding.PKCS1v15(), HASHES[algorithm])
        elif isinstance(key, ec.EllipticCurvePublicKey):
            key.verify(value, signed_bytes, ec.ECDSA(HASHES[algorithm]))
        else:
            return Check("signature", False, f"unsupported signer key {type(key).__name__}")
    except InvalidSignature:
        return Check("signature", False, "the signature does not match: the manifest or "
                     "signature was altered")  # fmt: skip
    except (ValueError, KeyError, IndexError, TypeError, AttributeError) as err:
        return Check("signature", False, f"manifest.json.p7s is unreadable: {err}")
    ee = ExtensionPolicy.webpki_defaults_ee().may_be_present(
        ExtendedKeyUsage, Criticality.AGNOSTIC, _email_protection
    )
    builder = PolicyBuilder().store(Store(list(anchors))) if anchors else None
    subject = cert.subject.rfc4514_string()
    if builder is None:
        return Check("signature", False, f"signed by {subject}, but no trust anchor was given")
    try:
        builder.time(now or dt.datetime.now(dt.UTC)).extension_policies(
            ca_policy=ExtensionPolicy.webpki_defaults_ca(), ee_policy=ee
        ).build_client_verifier().verify(cert, [c for c in certificates if c is not cert])
    except VerificationError as err:
        return Check("signature", False, f"signed by {subject}, but the chain fails: {err}")
    return Check("signature", True, f"valid signature by {subject}, chain to a trusted CA")
