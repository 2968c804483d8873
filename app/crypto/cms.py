"""S/MIME (CMS) decryption: EnvelopedData and AuthEnvelopedData, parsed with ``asn1crypto``
and decrypted with ``cryptography`` primitives (no external tools).

Supported:

* input as DER, BER (indefinite lengths, as gpgsm writes), base64 text (the body of an
  ``application/pkcs7-mime`` part, or a whole S/MIME entity with its headers) and PEM;
* recipients by issuerAndSerialNumber or subjectKeyIdentifier (KeyTransRecipientInfo) and by
  issuerAndSerialNumber or rKeyId (KeyAgreeRecipientInfo);
* key transport RSA PKCS#1 v1.5 and RSA-OAEP (hash, MGF1 hash and label read from the
  RSAES-OAEP-params, SHA-1 by default);
* key agreement ECDH ephemeral-static (RFC 5753, standard and cofactor, X9.63 KDF with SHA-1,
  SHA-224, SHA-256, SHA-384 or SHA-512) on P-256, P-384 and P-521 with AES key wrap;
* content ciphers AES-128/192/256-CBC, AES-128/192/256-GCM (RFC 5084, RFC 5083; tag checked,
  authenticated attributes fed to the AAD) and, read-only and flagged weak, 3DES-CBC.

Parsing happens first, into plain values, with every parser failure turned into
``CmsMalformed``; the cryptography happens afterwards. No message carries key material or
plaintext.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from asn1crypto import cms as asn1_cms
from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes, padding
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric import padding as asym_padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap
from cryptography.hazmat.primitives.serialization import Encoding

from app.crypto.cms_algorithms import (
    CONTENT_CIPHERS,
    CONTENT_TYPE_LABELS,
    CURVES,
    HASHES,
    KEY_AGREEMENT,
    KEY_WRAPS,
    ContentCipher,
    triple_des_key_unwrap,
)
from app.errors import Exit, MailproofError

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey

MAX_INPUT = 64 * 1024 * 1024
"""Largest input accepted (bytes, before base64 decoding)."""

_ALTERED = "the message was altered or the key is wrong"
_MAX_LISTED_RECIPIENTS = 20


class CmsError(MailproofError):
    """An S/MIME message could not be decrypted (exit 1)."""

    exit_code = Exit.PROBLEMS


class CmsMalformed(CmsError):
    """Not CMS, truncated, garbage or a structure that does not fit."""


class CmsUnsupported(CmsError):
    """An algorithm (or construction) that Mailproof does not support; the message names it."""


class NotForUs(CmsError):
    """No recipient of the message matches any of the user's identities."""


class CmsDecryptFailed(CmsError):
    """A recipient matched but unwrapping or decrypting failed."""


@dataclass(frozen=True)
class CmsDecryption:
    content: bytes
    algorithm: str
    key_management: str
    weak: bool
    recipient: str
    recipient_certificate_sha256: str | None


# --------------------------------------------------------------------------- ASN.1 helpers


class _AlgorithmIdentifier(asn1_core.Sequence):  # type: ignore[misc]
    _fields = [
        ("algorithm", asn1_core.ObjectIdentifier),
        ("parameters", asn1_core.Any, {"optional": True}),
    ]


class _GcmParameters(asn1_core.Sequence):  # type: ignore[misc]
    """RFC 5084 GCMParameters."""

    _fields = [
        ("nonce", asn1_core.OctetString),
        ("icv_len", asn1_core.Integer, {"default": 12}),
    ]


def _der_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _der_tlv(tag: int, content: bytes) -> bytes:
    return bytes([tag]) + _der_length(len(content)) + content


def _ecc_cms_shared_info(key_info_der: bytes, ukm: bytes | None, kek_bits: int) -> bytes:
    """DER of ECC-CMS-SharedInfo (RFC 5753 section 7.2)."""
    body = key_info_der
    if ukm is not None:
        body += _der_tlv(0xA0, _der_tlv(0x04, ukm))
    body += _der_tlv(0xA2, _der_tlv(0x04, kek_bits.to_bytes(4, "big")))
    return _der_tlv(0x30, body)


# --------------------------------------------------------------------------- parsed model


@dataclass(frozen=True)
class _Rid:
    issuer: Any  # asn1crypto x509.Name, or None
    serial: int | None
    ski: bytes | None
    description: str


@dataclass(frozen=True)
class _KeyTrans:
    rid: _Rid
    encrypted_key: bytes
    oaep: tuple[str, str, bytes] | None  # (hash, mgf1 hash, label) or None for PKCS#1 v1.5
    unsupported: str | None


@dataclass(frozen=True)
class _KeyAgree:
    rid: _Rid
    encrypted_key: bytes
    originator_point: bytes
    ukm: bytes | None
    cofactor: bool
    kdf_hash: str
    wrap_der: bytes
    wrap: str
    unsupported: str | None


@dataclass(frozen=True)
class _Content:
    cipher: ContentCipher
    iv: bytes
    icv_len: int
    ciphertext: bytes
    mac: bytes
    aad: bytes


@dataclass(frozen=True)
class _Envelope:
    recipients: list[_KeyTrans | _KeyAgree]
    others: list[str]  # descriptions of recipient infos we cannot use (kekri, pwri, ...)
    content: _Content


# --------------------------------------------------------------------------- input decoding

_TEXT_BYTES = bytes(range(0x20, 0x7F)) + b"\t\n\r"
_HEADER_LINE = re.compile(rb"^[A-Za-z0-9][A-Za-z0-9-]*[ \t]*:")


def _to_der(data: bytes) -> bytes:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise CmsMalformed("S/MIME data must be bytes")
    if len(data) > MAX_INPUT:
        raise CmsMalformed(
            f"the S/MIME data is too large ({len(data)} bytes; at most {MAX_INPUT} are accepted)"
        )
    raw = bytes(data)
    if not raw.strip():
        raise CmsMalformed("the S/MIME data is empty")
    if raw.translate(None, _TEXT_BYTES):  # something besides printable ASCII is left
        return raw  # binary: DER or BER
    text = raw.strip()
    if b"-----BEGIN" in text:
        lines = text.splitlines()
        try:
            start = next(i for i, ln in enumerate(lines) if ln.startswith(b"-----BEGIN"))
            end = next(i for i, ln in enumerate(lines) if i > start and ln.startswith(b"-----END"))
        except StopIteration:
            raise CmsMalformed("the PEM block has no END line") from None
        body = [ln for ln in lines[start + 1 : end] if b":" not in ln]  # drop PEM headers
        text = b"".join(body)
    elif _HEADER_LINE.match(text):
        # A whole MIME entity: skip the headers to the first empty line.
        parts = re.split(rb"\r?\n[ \t]*\r?\n", text, maxsplit=1)
        if len(parts) != 2:
            raise CmsMalformed("the S/MIME entity has headers but no body")
        text = parts[1]
    compact = re.sub(rb"\s+", b"", text)
    if len(compact) % 4:
        compact += b"=" * (-len(compact) % 4)
    try:
        der = base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise CmsMalformed("the S/MIME data is neither DER nor valid base64") from None
    if not der:
        raise CmsMalformed("the S/MIME data is empty")
    return der


def _load_content_info(data: bytes) -> Any:
    der = _to_der(data)
    if der[0] != 0x30:
        raise CmsMalformed("not CMS data: it does not start with an ASN.1 SEQUENCE")
    try:
        info = asn1_cms.ContentInfo.load(der)
        _ = info["content_type"].native
        content = info["content"]
    except Exception:
        raise CmsMalformed("not CMS data, or truncated: the ContentInfo cannot be read") from None
    if isinstance(content, asn1_core.Void):
        raise CmsMalformed("not CMS data: the ContentInfo has no content")
    return info


def content_type_of(data: bytes) -> str:
    """The CMS content type of *data*: "enveloped_data", "authenticated_enveloped_data",
    "signed_data", ... (a dotted OID for types asn1crypto does not name)."""
    info = _load_content_info(data)
    try:
        return str(info["content_type"].native)
    except Exception:
        raise CmsMalformed("the CMS content type cannot be read") from None


# --------------------------------------------------------------------------- parsing


def _hex(b: bytes) -> str:
    return b.hex()


def _printable(text: str, limit: int = 80) -> str:
    """Names come from the message: keep them to one short printable line."""
    clean = "".join(ch if ch.isprintable() else "?" for ch in text)
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def _describe_name(name: Any) -> str:
    try:
        native = name.native
        cn = native.get("common_name") if isinstance(native, dict) else None
        if isinstance(cn, list):
            cn = cn[0] if cn else None
        if cn:
            return f"CN={_printable(str(cn))}"
        return _printable(str(name.human_friendly))
    except Exception:
        return "(unreadable issuer)"


def _issuer_serial_rid(ias: Any) -> _Rid:
    issuer = ias["issuer"]
    serial = int(ias["serial_number"].native)
    desc = f"issuer {_describe_name(issuer)}, serial {serial:x}"
    return _Rid(issuer=issuer, serial=serial, ski=None, description=desc)


def _ski_rid(ski: bytes) -> _Rid:
    return _Rid(issuer=None, serial=None, ski=ski, description=f"subject key id {_hex(ski)}")


def _parse_key_trans(ktri: Any) -> _KeyTrans:
    rid_choice = ktri["rid"]
    if rid_choice.name == "issuer_and_serial_number":
        rid = _issuer_serial_rid(rid_choice.chosen)
    else:
        rid = _ski_rid(bytes(rid_choice.chosen.native))
    encrypted_key = bytes(ktri["encrypted_key"].native)
    alg = ktri["key_encryption_algorithm"]
    name = alg["algorithm"].native
    if name == "rsaes_pkcs1v15":
        return _KeyTrans(rid, encrypted_key, None, None)
    if name != "rsaes_oaep":
        return _KeyTrans(rid, encrypted_key, None, f"key transport algorithm {name}")
    params = alg["parameters"]
    if isinstance(params, asn1_core.Void) or params.native is None:
        return _KeyTrans(rid, encrypted_key, ("sha1", "sha1", b""), None)
    hash_name = params["hash_algorithm"]["algorithm"].native
    mgf = params["mask_gen_algorithm"]
    if mgf["algorithm"].native != "mgf1":
        return _KeyTrans(
            rid, encrypted_key, None, f"OAEP mask generation {mgf['algorithm'].dotted}"
        )
    mgf_hash = mgf["parameters"]["algorithm"].native
    psrc = params["p_source_algorithm"]
    if psrc["algorithm"].native != "p_specified":
        return _KeyTrans(rid, encrypted_key, None, f"OAEP label source {psrc['algorithm'].dotted}")
    label = bytes(psrc["parameters"].native or b"")
    for h in (hash_name, mgf_hash):
        if h not in HASHES:
            return _KeyTrans(rid, encrypted_key, None, f"OAEP hash {h}")
    return _KeyTrans(rid, encrypted_key, (hash_name, mgf_hash, label), None)


def _parse_key_agree(kari: Any) -> list[_KeyAgree]:
    unsupported: str | None = None
    point = b""
    originator = kari["originator"]
    if originator.name != "originator_key":
        unsupported = "static-static key agreement (originator is a certificate)"
    else:
        pki = originator.chosen
        if pki["algorithm"]["algorithm"].native != "ec":
            unsupported = f"originator key type {pki['algorithm']['algorithm'].dotted}"
        else:
            point = bytes(pki["public_key"].native)
    ukm_value = kari["ukm"]
    ukm = None if isinstance(ukm_value, asn1_core.Void) else bytes(ukm_value.native)
    ka_alg = kari["key_encryption_algorithm"]
    ka_oid = ka_alg["algorithm"].dotted
    cofactor, kdf_hash = KEY_AGREEMENT.get(ka_oid, (False, ""))
    wrap_der = b""
    wrap = ""
    if ka_oid not in KEY_AGREEMENT:
        unsupported = unsupported or f"key agreement algorithm {ka_oid}"
    else:
        params = ka_alg["parameters"]
        if isinstance(params, asn1_core.Void) or params.native is None:
            raise CmsMalformed("key agreement without a key wrap algorithm")
        wrap_alg = _AlgorithmIdentifier.load(params.dump())
        wrap_der = wrap_alg.dump()
        wrap_oid = wrap_alg["algorithm"].dotted
        wrap = str(asn1_cms.KeyEncryptionAlgorithmId.map(wrap_oid))
        if wrap not in KEY_WRAPS:
            unsupported = unsupported or f"key wrap algorithm {wrap}"
    out = []
    for rek in kari["recipient_encrypted_keys"]:
        rid_choice = rek["rid"]
        if rid_choice.name == "issuer_and_serial_number":
            rid = _issuer_serial_rid(rid_choice.chosen)
        else:
            rid = _ski_rid(bytes(rid_choice.chosen["subject_key_identifier"].native))
        out.append(
            _KeyAgree(
                rid=rid,
                encrypted_key=bytes(rek["encrypted_key"].native),
                originator_point=point,
                ukm=ukm,
                cofactor=cofactor,
                kdf_hash=kdf_hash,
                wrap_der=wrap_der,
                wrap=wrap,
                unsupported=unsupported,
            )
        )
    return out


def _parse_content(eci: Any, mac: bytes, aad: bytes, authenticated: bool) -> _Content:
    alg = eci["content_encryption_algorithm"]
    oid = alg["algorithm"].dotted
    name = alg["algorithm"].native
    cipher = CONTENT_CIPHERS.get(name)
    if cipher is None:
        label = name if name != oid else "unknown"
        raise CmsUnsupported(f"content encryption algorithm {label} ({oid}) is not supported")
    if authenticated != (cipher.mode == "gcm"):
        where = "authenticated-enveloped-data" if authenticated else "enveloped-data"
        raise CmsUnsupported(f"content cipher {cipher.name} inside {where} is not supported")
    encrypted = eci["encrypted_content"]
    if isinstance(encrypted, asn1_core.Void):
        raise CmsUnsupported("detached encrypted content (no ciphertext in the message)")
    ciphertext = bytes(encrypted.native or b"")
    params = alg["parameters"]
    if isinstance(params, asn1_core.Void) or params.native is None:
        raise CmsMalformed(f"{cipher.name} without parameters (no IV)")
    icv_len = 0
    if cipher.mode == "gcm":
        gcm = _GcmParameters.load(params.dump())
        iv = bytes(gcm["nonce"].native)
        icv_len = int(gcm["icv_len"].native)
        if not 12 <= icv_len <= 16:
            raise CmsMalformed(f"GCM tag length {icv_len} is not allowed")
        if len(mac) != icv_len:
            raise CmsMalformed("the GCM tag length does not match its declared length")
        if not 8 <= len(iv) <= 128:
            raise CmsUnsupported(f"GCM nonce of {len(iv)} bytes")
    else:
        iv = bytes(params.native)
        block = 8 if cipher.mode == "3des" else 16
        if len(iv) != block:
            raise CmsMalformed(f"{cipher.name} IV of {len(iv)} bytes")
        if not ciphertext or len(ciphertext) % block:
            raise CmsMalformed(f"{cipher.name} ciphertext is not a whole number of blocks")
    return _Content(cipher, iv, icv_len, ciphertext, mac, aad)


def _parse_envelope(info: Any) -> _Envelope:
    content_type = info["content_type"].native
    if content_type not in ("enveloped_data", "authenticated_enveloped_data"):
        label = CONTENT_TYPE_LABELS.get(str(content_type), f"content type {content_type}")
        raise CmsMalformed(f"this CMS message is {label}, not an encrypted (enveloped) message")
    env = info["content"]
    authenticated = content_type == "authenticated_enveloped_data"
    recipients: list[_KeyTrans | _KeyAgree] = []
    others: list[str] = []
    for ri in env["recipient_infos"]:
        kind = ri.name
        if kind == "ktri":
            recipients.append(_parse_key_trans(ri.chosen))
        elif kind == "kari":
            recipients.extend(_parse_key_agree(ri.chosen))
        else:
            others.append(
                {
                    "kekri": "a pre-shared key (KEK) recipient",
                    "pwri": "a password recipient",
                    "ori": "another recipient type",
                }.get(kind, kind)
            )
    if authenticated:
        mac = bytes(env["mac"].native)
        attrs = env["auth_attrs"]
        aad = b"" if isinstance(attrs, asn1_core.Void) else _der_tlv(0x31, attrs.contents or b"")
        content = _parse_content(env["auth_encrypted_content_info"], mac, aad, True)
    else:
        content = _parse_content(env["encrypted_content_info"], b"", b"", False)
    if not recipients and not others:
        raise CmsMalformed("the encrypted message has no recipients")
    return _Envelope(recipients, others, content)


# --------------------------------------------------------------------------- identities


@dataclass(frozen=True)
class _Identity:
    key: PrivateKey
    cert: x509.Certificate
    issuer: Any
    serial: int
    ski: bytes
    sha256: str


def _identity(key: PrivateKey, cert: x509.Certificate) -> _Identity | None:
    try:
        parsed = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
        issuer = parsed["tbs_certificate"]["issuer"]
        try:
            ski = cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
        except x509.ExtensionNotFound:
            ski = x509.SubjectKeyIdentifier.from_public_key(cert.public_key()).digest
        sha = cert.fingerprint(hashes.SHA256()).hex()
        return _Identity(key, cert, issuer, cert.serial_number, ski, sha)
    except Exception:
        return None  # an unusable certificate simply matches nothing


def _matches(rid: _Rid, ident: _Identity) -> bool:
    if rid.ski is not None:
        return rid.ski == ident.ski
    if rid.serial != ident.serial:
        return False
    try:
        return bool(rid.issuer == ident.issuer) or rid.issuer.dump() == ident.issuer.dump()
    except Exception:
        return False


# --------------------------------------------------------------------------- cryptography


class _Failed(Exception):
    """Internal: this recipient/identity pair did not work."""


def _unwrap_key_trans(r: _KeyTrans, key: rsa.RSAPrivateKey) -> tuple[bytes, str]:
    if r.oaep is None:
        pad: asym_padding.AsymmetricPadding = asym_padding.PKCS1v15()
        km = "rsa-pkcs1v15"
    else:
        h, mh, label = r.oaep
        pad = asym_padding.OAEP(
            mgf=asym_padding.MGF1(HASHES[mh]()), algorithm=HASHES[h](), label=label or None
        )
        km = f"rsa-oaep-{h}" if h == mh else f"rsa-oaep-{h}-mgf1-{mh}"
    try:
        return key.decrypt(r.encrypted_key, pad), km
    except ValueError:
        raise _Failed(f"the RSA key could not unwrap the content key: {_ALTERED}") from None


def _unwrap_key_agree(r: _KeyAgree, key: ec.EllipticCurvePrivateKey) -> tuple[bytes, str]:
    curve = CURVES.get(key.curve.name, key.curve.name)
    try:
        peer = ec.EllipticCurvePublicKey.from_encoded_point(key.curve, r.originator_point)
    except ValueError:
        raise _Failed(f"the sender's ephemeral key is not a point on {curve}") from None
    shared = key.exchange(ec.ECDH(), peer)
    wrap_label, kek_len = KEY_WRAPS[r.wrap]
    shared_info = _ecc_cms_shared_info(r.wrap_der, r.ukm, kek_len * 8)
    kek = X963KDF(algorithm=HASHES[r.kdf_hash](), length=kek_len, sharedinfo=shared_info).derive(
        shared
    )
    mode = "-cofactor" if r.cofactor else ""
    km = f"ecdh-{curve}{mode}-{r.kdf_hash}kdf-{wrap_label}"
    try:
        if wrap_label == "3des-wrap":
            return triple_des_key_unwrap(kek, r.encrypted_key), km
        return aes_key_unwrap(kek, r.encrypted_key), km
    except (InvalidUnwrap, ValueError):
        raise _Failed(f"the content key could not be unwrapped: {_ALTERED}") from None


def _decrypt_content(c: _Content, cek: bytes) -> bytes:
    if len(cek) != c.cipher.key_len:
        raise _Failed(f"the unwrapped content key has the wrong length: {_ALTERED}")
    if c.cipher.mode == "gcm":
        dec = Cipher(
            algorithms.AES(cek), modes.GCM(c.iv, c.mac, min_tag_length=c.icv_len)
        ).decryptor()
        if c.aad:
            dec.authenticate_additional_data(c.aad)
        try:
            return dec.update(c.ciphertext) + dec.finalize()
        except InvalidTag:
            raise _Failed(f"the authentication tag does not match: {_ALTERED}") from None
    if c.cipher.mode == "3des":
        algo: algorithms.AES | TripleDES = TripleDES(cek)
        block_bits = 64
    else:
        algo = algorithms.AES(cek)
        block_bits = 128
    cbc = Cipher(algo, modes.CBC(c.iv)).decryptor()
    padded = cbc.update(c.ciphertext) + cbc.finalize()
    unpadder = padding.PKCS7(block_bits).unpadder()
    try:
        return unpadder.update(padded) + unpadder.finalize()
    except ValueError:
        raise _Failed(f"the decrypted content has invalid padding: {_ALTERED}") from None


# --------------------------------------------------------------------------- entry point


def decrypt_cms(
    data: bytes, identities: Sequence[tuple[PrivateKey, x509.Certificate]]
) -> CmsDecryption:
    """Decrypt an S/MIME EnvelopedData or AuthEnvelopedData with one of *identities*.

    Raises ``CmsMalformed``, ``CmsUnsupported``, ``NotForUs`` or ``CmsDecryptFailed``.
    """
    info = _load_content_info(data)
    try:
        envelope = _parse_envelope(info)
    except CmsError:
        raise
    except Exception:
        raise CmsMalformed("the encrypted S/MIME structure is damaged or truncated") from None

    idents = [i for i in (_identity(k, c) for k, c in identities) if i is not None]
    failures: list[str] = []
    unsupported: list[str] = []
    for r in envelope.recipients:
        for ident in idents:
            if not _matches(r.rid, ident):
                continue
            if r.unsupported is not None:
                unsupported.append(r.unsupported)
                continue
            key = ident.key
            try:
                if isinstance(r, _KeyTrans):
                    if not isinstance(key, rsa.RSAPrivateKey):
                        unsupported.append("RSA key transport to an identity whose key is not RSA")
                        continue
                    cek, km = _unwrap_key_trans(r, key)
                else:
                    if not isinstance(key, ec.EllipticCurvePrivateKey):
                        unsupported.append("ECDH key agreement to an identity whose key is not EC")
                        continue
                    cek, km = _unwrap_key_agree(r, key)
                plaintext = _decrypt_content(envelope.content, cek)
            except _Failed as exc:
                failures.append(f"{r.rid.description}: {exc}")
                continue
            except (ValueError, TypeError):
                failures.append(f"{r.rid.description}: the key could not be used: {_ALTERED}")
                continue
            return CmsDecryption(
                content=plaintext,
                algorithm=envelope.content.cipher.name,
                key_management=km,
                weak=envelope.content.cipher.weak,
                recipient=r.rid.description,
                recipient_certificate_sha256=ident.sha256,
            )
    if failures:
        raise CmsDecryptFailed("could not decrypt the message (" + "; ".join(failures) + ")")
    if unsupported:
        names = ", ".join(dict.fromkeys(unsupported))
        raise CmsUnsupported(f"the message is addressed to you but uses an unsupported {names}")
    listed = [r.rid.description for r in envelope.recipients] + envelope.others
    more = ""
    if len(listed) > _MAX_LISTED_RECIPIENTS:
        more = f" and {len(listed) - _MAX_LISTED_RECIPIENTS} more"
        listed = listed[:_MAX_LISTED_RECIPIENTS]
    raise NotForUs(
        "the message is not encrypted to any of your keys; its recipients are: "
        + "; ".join(listed)
        + more
    )
