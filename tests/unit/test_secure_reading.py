"""The per-part verdict model over real openssl-made S/MIME: what is decrypted says so, what is
not protected says so, and bad or hostile input is a status, never an exception."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from app.crypto.secure import KeyMaterial, is_protected, read_secure, split_multipart


def _identity(tmp: Path, name: str) -> tuple[rsa.RSAPrivateKey, x509.Certificate, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, name),
            x509.NameAttribute(NameOID.EMAIL_ADDRESS, f"{name}@clinic.example"),
        ]
    )
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.RFC822Name(f"{name}@clinic.example")]), False
        )
        .sign(key, hashes.SHA256())
    )
    path = tmp / f"{name}.pem"
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key, cert, path


@pytest.fixture(scope="module")
def people(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple]:
    tmp = tmp_path_factory.mktemp("people")
    return {name: _identity(tmp, name) for name in ("lena", "stranger")}


def keys_of(people: dict[str, tuple], *names: str) -> KeyMaterial:
    return KeyMaterial(smime=[(f"smime:{n}", people[n][0], people[n][1]) for n in names])


INNER = (
    b"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
    b"HbA1c 8,9 % \xe2\x80\x93 bitte Metformin reduzieren.\r\n"
)
OUTER = (
    b"From: Marta <m.olsen@lindenhof-praxis.example>\r\nTo: lena@clinic.example\r\n"
    b"Subject: Befund\r\nMessage-ID: <enc-1@x.example>\r\n"
)


def encrypted_message(tmp: Path, recipient: Path, cipher: str = "-aes-256-gcm") -> bytes:
    source = tmp / "inner.txt"
    source.write_bytes(INNER)
    result = subprocess.run(
        ["openssl", "cms", "-encrypt", "-in", str(source), "-binary", cipher, str(recipient)],
        capture_output=True,
        check=True,
    )
    return OUTER + result.stdout.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def test_openssl_message_is_decrypted_in_memory_with_one_verdict_per_part(
    people, tmp_path: Path
) -> None:
    raw = encrypted_message(tmp_path, people["lena"][2])
    assert is_protected(raw)
    reading = read_secure(raw, keys=lambda: keys_of(people, "stranger", "lena"))
    assert reading.encryption.status == "decrypted"
    assert reading.encryption.scheme == "smime"
    assert reading.encryption.algorithm == "aes-256-gcm"
    assert reading.encryption.key == "smime:lena"
    assert "Metformin reduzieren" in reading.body_text
    assert reading.signature.status == "none"  # encrypted is not signed: never "verified"
    assert [p.path for p in reading.parts] == ["1", "1.1"]
    assert all(p.encryption.status == "decrypted" for p in reading.parts)
    assert b"Subject: Befund" in reading.content and b"Metformin" in reading.content
    assert reading.badge.startswith("Decrypted (S/MIME)")


def test_wrong_key_is_a_clear_failed_status(people, tmp_path: Path) -> None:
    raw = encrypted_message(tmp_path, people["lena"][2])
    reading = read_secure(raw, keys=lambda: keys_of(people, "stranger"))
    assert reading.encryption.status == "failed"
    assert "lena" in (reading.encryption.error or "")  # names whom it was encrypted to
    assert "Metformin" not in reading.body_text
    assert reading.tone == "bad"


def test_weak_cipher_is_read_but_flagged(people, tmp_path: Path) -> None:
    raw = encrypted_message(tmp_path, people["lena"][2], cipher="-des3")
    reading = read_secure(raw, keys=lambda: keys_of(people, "lena"))
    assert reading.encryption.status == "decrypted" and reading.encryption.weak
    assert any("weak" in w for w in reading.warnings)
    assert reading.tone == "warn"


def test_partly_encrypted_message_says_which_part_was_in_the_clear(people, tmp_path: Path) -> None:
    encrypted = encrypted_message(tmp_path, people["lena"][2])
    inner_entity = encrypted[len(OUTER) :].replace(b"MIME-Version: 1.0\r\n", b"")
    raw = (
        OUTER + b'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        b"--b1\r\nContent-Type: text/plain\r\n\r\nAttacker text in the clear.\r\n"
        b"--b1\r\n" + inner_entity + b"\r\n--b1--\r\n"
    )
    reading = read_secure(raw, keys=lambda: keys_of(people, "lena"))
    statuses = {p.path: p.encryption.status for p in reading.parts}
    assert statuses["1.1"] == "none" and statuses["1.2.1"] == "decrypted"
    assert any("only part of this message was encrypted" in w for w in reading.warnings)
    assert "1.1" in " ".join(reading.warnings)


@pytest.mark.parametrize(
    "body",
    [
        b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\nnot base64 at all !!!\r\n",
        b"Content-Type: application/pkcs7-mime\r\nContent-Transfer-Encoding: base64\r\n\r\n"
        b"MIAGCSqGSIb3DQEHA6CAMIACAQAxggE=\r\n",
        b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; '
        b"boundary=x\r\n\r\n--x\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n"
        b"--x--\r\n",
        b'Content-Type: multipart/signed; protocol="application/pkcs7-signature"; '
        b"boundary=y\r\n\r\n--y\r\nContent-Type: text/plain\r\n\r\nonly one part\r\n--y--\r\n",
    ],
    ids=["garbage-base64", "truncated-cms", "pgp-without-payload", "signed-without-signature"],
)
def test_garbage_is_a_status_not_an_exception(people, body: bytes) -> None:
    reading = read_secure(OUTER + body, keys=lambda: keys_of(people, "lena"))
    assert reading.encryption.status in ("failed", "none")
    assert reading.signature.status != "valid"
    assert reading.badge


def test_deep_nesting_is_refused_quickly(people) -> None:
    entity = b"Content-Type: text/plain\r\n\r\ncore\r\n"
    for depth in range(200):
        entity = (
            f'Content-Type: multipart/mixed; boundary="d{depth}"\r\n\r\n--d{depth}\r\n'.encode()
            + entity
            + f"\r\n--d{depth}--\r\n".encode()
        )
    reading = read_secure(OUTER + entity, keys=lambda: keys_of(people, "lena"))
    assert any("nested too deeply" in w for w in reading.warnings)


def test_multipart_split_keeps_the_exact_bytes_between_delimiters() -> None:
    body = b"preamble\r\n--b\r\nA: 1\r\n\r\nfirst\r\n\r\n--b\nB: 2\n\nsecond\n--b--\r\nepilogue"
    assert split_multipart(body, "b") == [b"A: 1\r\n\r\nfirst\r\n", b"B: 2\n\nsecond"]
    assert split_multipart(b"--b\r\nonly\r\n", "b") == [b"only\r\n"]  # no closing delimiter
