"""Property-based fuzzing (hypothesis) of the CMS, S/MIME and OpenPGP entry points: hostile
bytes give a status or a typed error — never another exception, a hang, or "valid"."""

from __future__ import annotations

import contextlib
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.crypto import cms, pgp, smime
from app.crypto.secure import KeyMaterial, read_secure
from tests.unit.test_secure_reading import OUTER, _identity, encrypted_message


@pytest.fixture(scope="module")
def lena(tmp_path_factory: pytest.TempPathFactory) -> tuple:
    return _identity(tmp_path_factory.mktemp("fuzz"), "lena")


@pytest.fixture(scope="module")
def valid_message(lena: tuple, tmp_path_factory: pytest.TempPathFactory) -> bytes:
    return encrypted_message(tmp_path_factory.mktemp("fuzzmsg"), lena[2])


@pytest.fixture(scope="module")
def signed_blob(lena: tuple, tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    tmp = tmp_path_factory.mktemp("fuzzsig")
    key = tmp / "lena.key"
    from cryptography.hazmat.primitives import serialization

    key.write_bytes(
        lena[0].private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    content = b"Content-Type: text/plain\r\n\r\nsigned text\r\n"
    signature = subprocess.run(
        ["openssl", "cms", "-sign", "-binary", "-outform", "DER", "-signer", str(lena[2]),
         "-inkey", str(key)],
        input=content, capture_output=True, check=True,
    ).stdout  # fmt: skip
    return content, signature


FUZZ = settings(
    max_examples=150,
    deadline=3000,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def _mutate(data: bytes, edits: list[tuple[int, int]]) -> bytes:
    blob = bytearray(data)
    for position, value in edits:
        if blob:
            blob[position % len(blob)] = value
    return bytes(blob)


edits = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), min_size=1, max_size=8)


@FUZZ
@given(data=st.binary(max_size=4096))
def test_cms_decrypt_on_arbitrary_bytes_raises_only_cms_errors(lena: tuple, data: bytes) -> None:
    with contextlib.suppress(cms.CmsError):
        cms.decrypt_cms(data, [(lena[0], lena[1])])


@FUZZ
@given(changes=edits, cut=st.integers(0, 1 << 20))
def test_mutated_encrypted_message_is_a_status(
    lena: tuple, valid_message: bytes, changes: list[tuple[int, int]], cut: int
) -> None:
    body = valid_message[len(OUTER) :]
    mutated = OUTER + _mutate(body, changes)[: max(1, cut % (len(body) + 1))]
    reading = read_secure(mutated, keys=lambda: KeyMaterial(smime=[("k", lena[0], lena[1])]))
    assert reading.encryption.status in ("decrypted", "failed", "none")
    assert reading.signature.status != "valid"


@FUZZ
@given(changes=edits)
def test_mutated_smime_signature_never_verifies_changed_content(
    lena: tuple, signed_blob: tuple[bytes, bytes], changes: list[tuple[int, int]]
) -> None:
    content, signature = signed_blob
    mutated = _mutate(signature, changes)
    result = smime.verify_detached(content, mutated, [lena[1]], "lena@clinic.example")
    if mutated != signature:
        # a change may land in unsigned parts (certificate list, unsigned attributes); then the
        # verdict may stay valid — but never for altered content:
        assert smime.verify_detached(content + b"x", mutated, [lena[1]], None).status != "valid"
    assert result.status in ("valid", "invalid", "expired", "untrusted", "signer-mismatch",
                             "unknown-key")  # fmt: skip


@settings(max_examples=25, deadline=20000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(min_size=1, max_size=2048))
def test_pgp_entry_points_on_arbitrary_bytes(data: bytes) -> None:
    decrypted = pgp.decrypt(b"-----BEGIN PGP MESSAGE-----\n\n" + data, [], [], None)
    assert not decrypted.ok and decrypted.error
    signature = pgp.verify_detached(b"content", data, [], None)
    assert signature.status != "valid"
    verdict, _text = pgp.verify_inline(b"-----BEGIN PGP SIGNED MESSAGE-----\n" + data, [], None)
    assert verdict.status != "valid"


def test_huge_declared_length_is_refused_fast(lena: tuple) -> None:
    header = (
        bytes([0x30, 0x88]) + (1 << 40).to_bytes(8, "big") + b"\x06\x09*\x86H\x86\xf7\r\x01\x07\x03"
    )
    with pytest.raises(cms.CmsError):
        cms.decrypt_cms(header, [(lena[0], lena[1])])
    reading = read_secure(
        OUTER
        + b"Content-Type: application/pkcs7-mime\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        + __import__("base64").b64encode(header)
        + b"\r\n",
        keys=lambda: KeyMaterial(smime=[("k", lena[0], lena[1])]),
    )
    assert reading.encryption.status == "failed"


def test_a_certificate_with_odd_extensions_is_a_clear_status(tmp_path: Path, lena: tuple) -> None:
    key = tmp_path / "odd.key"
    cert = tmp_path / "odd.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
         "-out", str(cert), "-days", "5", "-subj", "/CN=Odd",
         "-addext", "1.2.3.4.5.6.7=critical,DER:0500",
         "-addext", "certificatePolicies=1.2.3.4",
         "-addext", "nameConstraints=permitted;email:.nowhere.example"],
        capture_output=True, check=True,
    )  # fmt: skip
    content = b"Content-Type: text/plain\r\n\r\nodd\r\n"
    signature = subprocess.run(
        ["openssl", "cms", "-sign", "-binary", "-outform", "DER", "-signer", str(cert),
         "-inkey", str(key)],
        input=content, capture_output=True, check=True,
    ).stdout  # fmt: skip
    from cryptography import x509

    anchor = x509.load_pem_x509_certificate(cert.read_bytes())
    result = smime.verify_detached(content, signature, [anchor], "odd@x.example")
    assert result.status != "valid"
    assert result.explanation
