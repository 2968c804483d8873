"""The user's keys: private key material only in the OS keyring (through ``app.secrets``'s
backend), certificates and public keys beside the store, user-added trust anchors.

S/MIME identities come from PKCS#12 files; OpenPGP secret keys from armored or binary exports.
Each passphrase is checked at import. A key is known by an id: ``smime:<SHA-256 of the
certificate, 16 hex>`` or ``pgp:<fingerprint>``.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

from app import audit, secrets
from app.config import data_home
from app.crypto.gpg import ephemeral_gpg
from app.errors import BadInput, Exit, MailproofError
from app.store.atomic import write_atomic
from app.store.library import now_iso

KEY_SERVICE = "mailproof-keys"
MAX_KEY_FILE = 1024 * 1024


class BadPassphrase(MailproofError):
    """The passphrase does not open the key file (exit 1)."""

    exit_code = Exit.PROBLEMS


class KeyNotFound(MailproofError):
    """No key with that id (exit 2)."""

    exit_code = Exit.USAGE


@dataclass(frozen=True)
class KeyInfo:
    id: str
    kind: str  # "smime" | "pgp"
    fingerprint: str
    subject: str  # certificate subject, or the OpenPGP user ids
    emails: tuple[str, ...]
    not_before: str | None
    not_after: str | None
    algorithm: str
    has_secret: bool
    added_at: str

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["emails"] = list(self.emails)
        return data


@dataclass(frozen=True)
class SmimeIdentity:
    """An S/MIME private key with its certificate, as decryption and signing need them."""

    info: KeyInfo
    private_key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    certificate: x509.Certificate


def keys_dir() -> Path:
    return data_home() / "keys"


def _index_path() -> Path:
    return keys_dir() / "keys.json"


def _iso(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _load_index() -> list[KeyInfo]:
    try:
        records = json.loads(_index_path().read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as err:
        raise BadInput(f"the key list {_index_path()} is unreadable: {err}") from err
    return [KeyInfo(**{**r, "emails": tuple(r["emails"])}) for r in records]


def _save_index(infos: Sequence[KeyInfo]) -> None:
    keys_dir().mkdir(parents=True, exist_ok=True)
    data = json.dumps([i.to_json() for i in infos], indent=1, ensure_ascii=False)
    write_atomic(_index_path(), data.encode())


def list_keys() -> list[KeyInfo]:
    return _load_index()


def has_secret_keys() -> bool:
    """Whether any private key was imported (read from the key list, not the keyring)."""
    return any(info.has_secret for info in list_keys())


def find(key_id: str) -> KeyInfo:
    matches = [k for k in _load_index() if k.id == key_id or k.fingerprint == key_id]
    if not matches and len(key_id) >= 4:
        matches = [
            k
            for k in _load_index()
            if k.id.startswith(key_id) or k.fingerprint.lower().startswith(key_id.lower())
        ]
    if len(matches) != 1:
        raise KeyNotFound(
            f"no key {key_id!r} (see `mailproof keys list`)"
            if not matches
            else f"{key_id!r} names {len(matches)} keys: give more of the id"
        )
    return matches[0]


def _public_path(info: KeyInfo) -> Path:
    suffix = ".pem" if info.kind == "smime" else ".asc"
    return keys_dir() / (info.id.replace(":", "-") + suffix)


# ---- S/MIME ---------------------------------------------------------------------------------


def certificate_emails(certificate: x509.Certificate) -> tuple[str, ...]:
    emails: list[str] = []
    try:
        san = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
        emails += [e.lower() for e in san.value.get_values_for_type(x509.RFC822Name)]
    except x509.ExtensionNotFound:
        pass
    for attribute in certificate.subject.get_attributes_for_oid(NameOID.EMAIL_ADDRESS):
        value = attribute.value
        if isinstance(value, str) and value.lower() not in emails:
            emails.append(value.lower())
    return tuple(emails)


def _algorithm(key: Any) -> str:
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return f"RSA-{key.key_size}"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}"
    return type(key).__name__


def _smime_info(certificate: x509.Certificate, has_secret: bool) -> KeyInfo:
    digest = certificate.fingerprint(hashes.SHA256()).hex()
    return KeyInfo(
        id=f"smime:{digest[:16]}",
        kind="smime",
        fingerprint=digest,
        subject=certificate.subject.rfc4514_string(),
        emails=certificate_emails(certificate),
        not_before=_iso(certificate.not_valid_before_utc),
        not_after=_iso(certificate.not_valid_after_utc),
        algorithm=_algorithm(certificate.public_key()),
        has_secret=has_secret,
        added_at=now_iso(),
    )


def _import_pkcs12(data: bytes, passphrase: str | None) -> KeyInfo:
    try:
        key, certificate, _chain = pkcs12.load_key_and_certificates(
            data, passphrase.encode() if passphrase else None
        )
    except ValueError as err:
        if passphrase is None:
            raise BadPassphrase("this PKCS#12 file needs its passphrase") from None
        raise BadPassphrase(f"the passphrase does not open this PKCS#12 file ({err})") from None
    if certificate is None or key is None:
        raise BadInput("the PKCS#12 file holds no private key with its certificate")
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
        raise BadInput(f"unsupported S/MIME key type {_algorithm(key)}: use RSA or EC")
    info = _smime_info(certificate, has_secret=True)
    secret = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),  # the keyring encrypts; the file on disk never has it
    )
    payload = {"format": "pkcs8-der", "data": base64.b64encode(secret).decode()}
    _store_secret(info.id, payload)
    keys_dir().mkdir(parents=True, exist_ok=True)
    write_atomic(_public_path(info), certificate.public_bytes(serialization.Encoding.PEM))
    return info


def smime_identities() -> list[SmimeIdentity]:
    """Every S/MIME key with its secret, read from the keyring (for decryption/signing)."""
    identities = []
    for info in _load_index():
        if info.kind != "smime" or not info.has_secret:
            continue
        payload = _read_secret(info.id)
        key = serialization.load_der_private_key(base64.b64decode(payload["data"]), None)
        certificate = x509.load_pem_x509_certificate(_public_path(info).read_bytes())
        if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            identities.append(SmimeIdentity(info, key, certificate))
    return identities


# ---- OpenPGP --------------------------------------------------------------------------------


def _import_pgp(data: bytes, passphrase: str | None) -> KeyInfo:
    with ephemeral_gpg() as gpg:
        result = gpg.import_keys(data, passphrase=passphrase)
        if not result.fingerprints:
            raise BadInput(f"no OpenPGP key could be imported ({result.stderr.strip()[-200:]})")
        secret_keys = gpg.list_keys(secret=True)
        # A public key alone is a correspondent's: kept to check their signatures.
        has_secret = bool(secret_keys)
        key = secret_keys[0] if has_secret else gpg.list_keys()[0]
        fingerprint = key["fingerprint"]
        armored = ""
        if has_secret:
            probe = gpg.sign(
                b"mailproof passphrase check", keyid=fingerprint, passphrase=passphrase
            )
            if probe.status != "signature created":  # python-gnupg raises nothing: check it
                reason = probe.status or "GnuPG refused to use the key"
                raise BadPassphrase(
                    f"the passphrase does not unlock OpenPGP key {fingerprint} ({reason})"
                )
            armored = gpg.export_keys(fingerprint, secret=True, armor=True, passphrase=passphrase)
        public = gpg.export_keys(fingerprint, armor=True)
        if (has_secret and not armored) or not public:
            raise BadInput(f"GnuPG could not export key {fingerprint}")
        uids = tuple(key.get("uids", ()))
        emails = tuple(uid.rsplit("<", 1)[1].rstrip(">").lower() for uid in uids if "<" in uid)
        created = key.get("date")
        expires = key.get("expires")
        info = KeyInfo(
            id=f"pgp:{fingerprint}",
            kind="pgp",
            fingerprint=fingerprint,
            subject="; ".join(uids),
            emails=emails,
            not_before=_iso(dt.datetime.fromtimestamp(int(created), dt.UTC)) if created else None,
            not_after=_iso(dt.datetime.fromtimestamp(int(expires), dt.UTC)) if expires else None,
            algorithm=f"OpenPGP algo {key.get('algo', '?')} {key.get('length', '')}".strip(),
            has_secret=has_secret,
            added_at=now_iso(),
        )
    if has_secret:
        _store_secret(
            info.id,
            {"format": "openpgp-armored", "data": armored, "passphrase": passphrase or ""},
        )
    keys_dir().mkdir(parents=True, exist_ok=True)
    write_atomic(_public_path(info), public.encode())
    return info


def pgp_secret(info: KeyInfo) -> tuple[str, str]:
    """The armored secret key and its passphrase, from the keyring (for decryption)."""
    payload = _read_secret(info.id)
    return str(payload["data"]), str(payload.get("passphrase", ""))


# ---- keyring --------------------------------------------------------------------------------


def _store_secret(key_id: str, payload: dict[str, str]) -> None:
    store = secrets.backend()
    secrets.keyring_call(
        "store the private key", store.set_password, KEY_SERVICE, key_id, json.dumps(payload)
    )


def _read_secret(key_id: str) -> dict[str, str]:
    store = secrets.backend()
    value = secrets.keyring_call("read the private key", store.get_password, KEY_SERVICE, key_id)
    if not isinstance(value, str):
        raise KeyNotFound(
            f"the private key {key_id} is not in the keyring any more: import it again"
        )
    payload: dict[str, str] = json.loads(value)
    return payload


# ---- public API -----------------------------------------------------------------------------


def detect_kind(data: bytes) -> str:
    head = data.lstrip()[:64]
    if head.startswith(b"-----BEGIN PGP"):
        return "pgp"
    if head[:1] == b"\x30":  # DER SEQUENCE: PKCS#12
        return "pkcs12"
    if data[:1] and data[0] & 0x80:  # an OpenPGP packet tag
        return "pgp"
    raise BadInput("not a PKCS#12 (.p12/.pfx) file nor an OpenPGP key")


def import_key_file(path: Path, passphrase: str | None) -> KeyInfo:
    """Import a PKCS#12 identity or an OpenPGP secret key; the passphrase is checked now."""
    try:
        if path.stat().st_size > MAX_KEY_FILE:
            raise BadInput(f"{path} is too large for a key file")
        data = path.read_bytes()
    except OSError as err:
        raise BadInput(f"cannot read {path}: {err.strerror or err}") from err
    kind = detect_kind(data)
    try:
        if kind == "pkcs12":
            info = _import_pkcs12(data, passphrase)
        else:
            info = _import_pgp(data, passphrase)
    except BadPassphrase:
        audit.record("key imported", {"file": str(path)}, "failed", reason="wrong passphrase")
        raise
    others = [k for k in _load_index() if k.id != info.id]
    _save_index([*others, info])
    audit.record("key imported", {"key": info.id}, emails=list(info.emails), file=str(path))
    return info


def remove_key(key_id: str) -> KeyInfo:
    info = find(key_id)
    if info.has_secret:
        store = secrets.backend()
        secrets.keyring_call("delete the private key", store.delete_password, KEY_SERVICE, info.id)
    _public_path(info).unlink(missing_ok=True)
    _save_index([k for k in _load_index() if k.id != info.id])
    audit.record("key removed", {"key": info.id})
    return info


def export_public(key_id: str) -> bytes:
    info = find(key_id)
    try:
        return _public_path(info).read_bytes()
    except OSError as err:
        raise KeyNotFound(f"the public part of {info.id} is missing: {err}") from err


# ---- trust anchors --------------------------------------------------------------------------


def trust_dir() -> Path:
    return keys_dir() / "trust"


def load_certificate(path: Path) -> x509.Certificate:
    """A certificate file, PEM or DER; a clear error otherwise."""
    try:
        data = path.read_bytes()
    except OSError as err:
        raise BadInput(f"cannot read {path}: {err.strerror or err}") from err
    try:
        return (
            x509.load_pem_x509_certificate(data)
            if b"-----BEGIN" in data
            else x509.load_der_x509_certificate(data)
        )
    except ValueError as err:
        raise BadInput(f"{path} is not an X.509 certificate: {err}") from err


def trust_ca(path: Path) -> x509.Certificate:
    """Add a CA certificate (PEM or DER) to the user's S/MIME trust anchors."""
    certificate = load_certificate(path)
    try:
        constraints = certificate.extensions.get_extension_for_class(x509.BasicConstraints)
        is_ca = constraints.value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise BadInput(f"{path} is not a CA certificate (basicConstraints CA:TRUE missing)")
    trust_dir().mkdir(parents=True, exist_ok=True)
    name = certificate.fingerprint(hashes.SHA256()).hex()[:16] + ".pem"
    write_atomic(trust_dir() / name, certificate.public_bytes(serialization.Encoding.PEM))
    audit.record("trust anchor added", {"certificate": certificate.subject.rfc4514_string()})
    return certificate


def trust_anchors() -> list[x509.Certificate]:
    """The CA certificates the user added (the system's are added by the verifier)."""
    anchors = []
    for pem in sorted(trust_dir().glob("*.pem")) if trust_dir().is_dir() else []:
        anchors.append(x509.load_pem_x509_certificate(pem.read_bytes()))
    return anchors
