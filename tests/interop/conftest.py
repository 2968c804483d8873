"""Keys and certificates for the interop matrix; messages are made by openssl, gpgsm and gpg in
the tests. The recipient's keys go into the real Secret Service keyring through
``mailproof keys import`` and come back out through ``load_key_material`` — the product's path.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from app.crypto.secure import KeyMaterial

MAILPROOF = Path(sys.executable).with_name("mailproof")
P12_PASS = "interop-pass"
PGP_PASS = "interop-pgp-pass"
NOW = dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    key: Path
    cert: Path
    p12: Path | None = None


def _key(spec: str) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey:
    if spec.startswith("rsa"):
        return rsa.generate_private_key(public_exponent=65537, key_size=int(spec[3:]))
    return ec.generate_private_key(ec.SECP256R1() if spec == "p256" else ec.SECP384R1())


def _write_key(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey, path: Path) -> None:
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )


class Pki:
    def __init__(self, directory: Path, name: str) -> None:
        self.directory = directory
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        ski = x509.SubjectKeyIdentifier.from_public_key(self.key.public_key())
        self.cert = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(self.key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(NOW - dt.timedelta(days=400))
            .not_valid_after(NOW + dt.timedelta(days=400))
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False), True
            )
            .add_extension(ski, critical=False)
            .sign(self.key, hashes.SHA256())
        )
        self.pem = directory / f"{name.replace(' ', '_')}.pem"
        self.pem.write_bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def person(
        self,
        label: str,
        email: str,
        spec: str = "rsa2048",
        *,
        expired: bool = False,
    ) -> Person:
        key = _key(spec)
        before, after = NOW - dt.timedelta(days=30), NOW + dt.timedelta(days=300)
        if expired:
            before, after = NOW - dt.timedelta(days=400), NOW - dt.timedelta(days=2)
        cert = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.COMMON_NAME, label),
                        x509.NameAttribute(NameOID.EMAIL_ADDRESS, email),
                    ]
                )
            )
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(before)
            .not_valid_after(after)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    True,
                    True,
                    isinstance(key, rsa.RSAPrivateKey),
                    False,
                    isinstance(key, ec.EllipticCurvePrivateKey),
                    False,
                    False,
                    False,
                    False,
                ),
                critical=True,
            )  # fmt: skip
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False)
            .add_extension(x509.SubjectAlternativeName([x509.RFC822Name(email)]), False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
            .sign(self.key, hashes.SHA256())
        )
        key_path = self.directory / f"{label}.key"
        cert_path = self.directory / f"{label}.pem"
        _write_key(key, key_path)
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        p12 = self.directory / f"{label}.p12"
        openssl(
            "pkcs12", "-export", "-inkey", key_path, "-in", cert_path, "-certfile", self.pem,
            "-passout", f"pass:{P12_PASS}", "-out", p12,
        )  # fmt: skip
        return Person(label, email, key_path, cert_path, p12)


def openssl(*args: object, data: bytes | None = None, check: bool = True) -> bytes:
    result = subprocess.run(
        ["openssl", *map(str, args)], input=data, capture_output=True, timeout=60
    )
    if check and result.returncode != 0:
        raise AssertionError(f"openssl {args[:3]} failed: {result.stderr.decode()[-400:]}")
    return result.stdout


def run_openssl(*args: object, data: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(["openssl", *map(str, args)], input=data, capture_output=True, timeout=60)


@dataclass
class World:
    home: Path
    work: Path
    ca: Pki
    rogue_ca: Pki
    people: dict[str, Person]
    gpg_home: Path
    pgp: dict[str, str]  # label → fingerprint
    material: KeyMaterial


def mailproof(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAILPROOF), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "MAILPROOF_HOME": str(home)},
        timeout=120,
    )


def gpg(home: Path, *args: str, data: bytes | None = None, check: bool = True) -> bytes:
    result = subprocess.run(
        ["gpg", "--homedir", str(home), "--batch", "--yes", "--quiet", "--pinentry-mode",
         "loopback", "--passphrase", PGP_PASS, "--trust-model", "always", *args],
        input=data, capture_output=True, timeout=120,
    )  # fmt: skip
    if check and result.returncode != 0:
        raise AssertionError(f"gpg {args[:3]} failed: {result.stderr.decode()[-400:]}")
    return result.stdout


def _gpg_key(home: Path, uid: str, primary: str, sub: str, *extra: str) -> str:
    gpg(
        home,
        *extra,
        "--quick-gen-key",
        uid,
        primary,
        "sign,cert",
        "1y" if not extra else "2020-01-10",
    )
    listing = gpg(home, "--list-keys", "--with-colons", uid).decode()
    fingerprint = next(
        line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr")
    )
    if sub:
        gpg(home, *extra, "--quick-add-key", fingerprint, sub, "encr", "1y")
    return fingerprint


@pytest.fixture(scope="session")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for tool in ("openssl", "gpg", "gpgsm"):
        assert shutil.which(tool), f"{tool} is missing: scripts/setup --test installs it"
    work = tmp_path_factory.mktemp("interop")
    home = work / "mailproof-home"
    ca = Pki(work, "Interop CA")
    rogue = Pki(work, "Rogue CA")
    people = {
        "lena-rsa2048": ca.person("lena-rsa2048", "lena@clinic.example", "rsa2048"),
        "lena-rsa3072": ca.person("lena-rsa3072", "lena@clinic.example", "rsa3072"),
        "lena-p256": ca.person("lena-p256", "lena@clinic.example", "p256"),
        "lena-p384": ca.person("lena-p384", "lena@clinic.example", "p384"),
        "marta": ca.person("marta", "marta@praxis.example", "rsa2048"),
        "marta-ec": ca.person("marta-ec", "marta@praxis.example", "p256"),
        "old": ca.person("old", "old@praxis.example", "rsa2048", expired=True),
        "rogue": rogue.person("rogue", "marta@praxis.example", "rsa2048"),
        "nobody": ca.person("nobody", "nobody@elsewhere.example", "rsa2048"),
    }
    gpg_home = Path(f"/tmp/mpi{os.getpid()}")  # short: gpg-agent's socket path is limited
    gpg_home.mkdir(mode=0o700, exist_ok=True)
    try:
        fingerprints = {
            "lena-rsa": _gpg_key(gpg_home, "Lena RSA <lena@clinic.example>", "rsa3072", "rsa3072"),
            "lena-25519": _gpg_key(gpg_home, "Lena <lena@clinic.example>", "ed25519", "cv25519"),
            "katrin": _gpg_key(gpg_home, "Katrin <katrin@clinic.example>", "ed25519", "cv25519"),
            "carol": _gpg_key(gpg_home, "Carol <carol@elsewhere.example>", "ed25519", "cv25519"),
            "expired": _gpg_key(
                gpg_home, "Old <old@clinic.example>", "ed25519", "",
                "--faked-system-time", "20200101T000000",
            ),
        }  # fmt: skip
        for label in ("lena-rsa2048", "lena-rsa3072", "lena-p256", "lena-p384"):
            result = mailproof(
                home, "keys", "import", str(people[label].p12), "--passphrase-stdin", stdin=P12_PASS
            )
            assert result.returncode == 0, result.stderr
        for label in ("lena-rsa", "lena-25519"):
            secret = work / f"{label}.asc"
            secret.write_bytes(
                gpg(gpg_home, "--armor", "--export-secret-keys", fingerprints[label])
            )
            result = mailproof(
                home, "keys", "import", str(secret), "--passphrase-stdin", stdin=PGP_PASS
            )
            assert result.returncode == 0, result.stderr
        for label in ("katrin", "expired"):
            public = work / f"{label}.pub.asc"
            public.write_bytes(gpg(gpg_home, "--armor", "--export", fingerprints[label]))
            result = mailproof(home, "keys", "import", str(public))
            assert result.returncode == 0, result.stderr
        result = mailproof(home, "keys", "trust", str(ca.pem))
        assert result.returncode == 0, result.stderr
        material = _load_material(home)
        yield World(home, work, ca, rogue, people, gpg_home, fingerprints, material)
    finally:
        subprocess.run(
            ["gpgconf", "--homedir", str(gpg_home), "--kill", "all"], capture_output=True
        )
        shutil.rmtree(gpg_home, ignore_errors=True)


def _load_material(home: Path) -> KeyMaterial:
    """The keys as the product loads them: from the keyring, under this MAILPROOF_HOME."""
    from app.crypto.secure import load_key_material

    previous = os.environ.get("MAILPROOF_HOME")
    os.environ["MAILPROOF_HOME"] = str(home)
    try:
        return load_key_material()
    finally:
        if previous is None:
            del os.environ["MAILPROOF_HOME"]
        else:
            os.environ["MAILPROOF_HOME"] = previous
