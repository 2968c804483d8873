"""The algorithms a CMS message may name, as Mailproof reads them: digests, ECDH key agreement
schemes, key wraps (with RFC 3217's 3DES wrap, which openssl still writes) and content ciphers."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, modes
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap

HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1": hashes.SHA1,
    "sha224": hashes.SHA224,
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}

# (cofactor?, KDF hash) for dhSinglePass schemes (RFC 5753, SEC 1).
KEY_AGREEMENT: dict[str, tuple[bool, str]] = {
    "1.3.133.16.840.63.0.2": (False, "sha1"),
    "1.3.132.1.11.0": (False, "sha224"),
    "1.3.132.1.11.1": (False, "sha256"),
    "1.3.132.1.11.2": (False, "sha384"),
    "1.3.132.1.11.3": (False, "sha512"),
    "1.3.133.16.840.63.0.3": (True, "sha1"),
    "1.3.132.1.14.0": (True, "sha224"),
    "1.3.132.1.14.1": (True, "sha256"),
    "1.3.132.1.14.2": (True, "sha384"),
    "1.3.132.1.14.3": (True, "sha512"),
}

# wrap algorithm name -> (label, KEK length)
KEY_WRAPS: dict[str, tuple[str, int]] = {
    "aes128_wrap": ("aes128-wrap", 16),
    "aes192_wrap": ("aes192-wrap", 24),
    "aes256_wrap": ("aes256-wrap", 32),
    "1.2.840.113549.1.9.16.3.6": ("3des-wrap", 24),  # id-alg-CMS3DESwrap (RFC 3217), legacy
}

_3DES_WRAP_IV = bytes.fromhex("4adda22c79e82105")


def triple_des_key_unwrap(kek: bytes, wrapped: bytes) -> bytes:
    """RFC 3217 section 3.2 (openssl uses it for 3DES content keys with ECDH)."""
    if len(wrapped) != 40:
        raise InvalidUnwrap("3DES-wrapped key must be 40 bytes")
    dec = Cipher(TripleDES(kek), modes.CBC(_3DES_WRAP_IV)).decryptor()
    temp2 = (dec.update(wrapped) + dec.finalize())[::-1]
    iv, temp1 = temp2[:8], temp2[8:]
    dec = Cipher(TripleDES(kek), modes.CBC(iv)).decryptor()
    cek_icv = dec.update(temp1) + dec.finalize()
    cek, icv = cek_icv[:24], cek_icv[24:]
    digest = hashes.Hash(hashes.SHA1())  # noqa: S303 (RFC 3217 mandates SHA-1 here)
    digest.update(cek)
    if not hmac.compare_digest(digest.finalize()[:8], icv):
        raise InvalidUnwrap("3DES key wrap integrity check failed")
    return cek


CURVES: dict[str, str] = {"secp256r1": "p256", "secp384r1": "p384", "secp521r1": "p521"}


@dataclass(frozen=True)
class ContentCipher:
    name: str
    mode: str  # "cbc" | "gcm" | "3des"
    key_len: int
    weak: bool


CONTENT_CIPHERS: dict[str, ContentCipher] = {
    "aes128_cbc": ContentCipher("aes-128-cbc", "cbc", 16, False),
    "aes192_cbc": ContentCipher("aes-192-cbc", "cbc", 24, False),
    "aes256_cbc": ContentCipher("aes-256-cbc", "cbc", 32, False),
    "aes128_gcm": ContentCipher("aes-128-gcm", "gcm", 16, False),
    "aes192_gcm": ContentCipher("aes-192-gcm", "gcm", 24, False),
    "aes256_gcm": ContentCipher("aes-256-gcm", "gcm", 32, False),
    "tripledes_3key": ContentCipher("3des-cbc", "3des", 24, True),
}

CONTENT_TYPE_LABELS = {
    "data": "data (not encrypted)",
    "signed_data": "signed-data (a signed, not an encrypted, message)",
    "digested_data": "digested-data",
    "encrypted_data": "encrypted-data (password based, no recipients)",
    "authenticated_data": "authenticated-data (MAC only, not encrypted)",
    "compressed_data": "compressed-data",
    "signed_and_enveloped_data": "PKCS#7 signed-and-enveloped-data",
}
