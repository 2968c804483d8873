"""`mailproof keys`: PKCS#12 and OpenPGP secret keys go into the real Secret Service keyring,
passphrases are checked at import, nothing secret is readable under MAILPROOF_HOME."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness.gnupg_home import GnupgHome

MAILPROOF = Path(sys.executable).with_name("mailproof")
P12_PASS = "p12-Passphrase-9"


def run(home: Path, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(MAILPROOF), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env={**os.environ, "MAILPROOF_HOME": str(home)},
        timeout=120,
    )


@pytest.fixture(scope="module")
def identity(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA and an RSA-2048 S/MIME identity exported as PKCS#12, made by openssl."""
    d = tmp_path_factory.mktemp("smime")

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True)

    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key",
            "-out", "ca.pem", "-days", "30", "-subj", "/CN=Mailproof Keys Test CA",
            "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")  # fmt: skip
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", "alice.key", "-out", "alice.csr",
            "-subj", "/CN=Alice Doctor/emailAddress=alice@clinic.example")  # fmt: skip
    (d / "ext.cnf").write_text(
        "subjectAltName=email:alice@clinic.example\nextendedKeyUsage=emailProtection\n"
        "keyUsage=digitalSignature,keyEncipherment\n"
    )
    openssl("x509", "-req", "-in", "alice.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "alice.pem", "-days", "20",
            "-extfile", "ext.cnf")  # fmt: skip
    openssl("pkcs12", "-export", "-inkey", "alice.key", "-in", "alice.pem", "-certfile", "ca.pem",
            "-out", "alice.p12", "-passout", f"pass:{P12_PASS}")  # fmt: skip
    return {"p12": d / "alice.p12", "cert": d / "alice.pem", "key": d / "alice.key",
            "ca": d / "ca.pem"}  # fmt: skip


def secret_files_free(home: Path, *needles: bytes) -> None:
    for path in home.rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            for needle in needles:
                assert needle not in data, f"secret material readable in {path}"


def test_pkcs12_identity_goes_to_the_keyring_and_back_out(
    tmp_path: Path, identity: dict[str, Path], secret_keyring
) -> None:
    home = tmp_path / "home"
    wrong = run(home, "keys", "import", str(identity["p12"]), "--passphrase-stdin", stdin="nope\n")
    assert wrong.returncode == 1 and "passphrase does not open" in wrong.stderr
    assert "Traceback" not in wrong.stderr

    done = run(
        home, "keys", "import", str(identity["p12"]), "--passphrase-stdin", "--json",
        stdin=P12_PASS + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["kind"] == "smime" and info["emails"] == ["alice@clinic.example"]
    assert info["algorithm"] == "RSA-2048" and info["has_secret"] is True
    stored = secret_keyring.get_password("mailproof-keys", info["id"])
    assert stored is not None and json.loads(stored)["format"] == "pkcs8-der"

    listed = [json.loads(line) for line in run(home, "keys", "list", "--json").stdout.split("\n")
              if line]  # fmt: skip
    assert [k["id"] for k in listed] == [info["id"]]
    exported = run(home, "keys", "export-public", info["id"][:12])
    assert exported.returncode == 0
    assert exported.stdout.strip() == identity["cert"].read_text().strip()

    # the private key is nowhere on disk under the data directory, in any encoding
    from cryptography.hazmat.primitives import serialization

    key = serialization.load_pem_private_key(identity["key"].read_bytes(), None)
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    import base64

    secret_files_free(home, der[-64:], base64.b64encode(der)[-64:], identity["key"].read_bytes())

    trusted = run(home, "keys", "trust", str(identity["ca"]), "--json")
    assert trusted.returncode == 0 and "Mailproof Keys Test CA" in trusted.stdout
    not_ca = run(home, "keys", "trust", str(identity["cert"]))
    assert not_ca.returncode == 2 and "not a CA certificate" in not_ca.stderr

    removed = run(home, "keys", "remove", info["id"], "--json")
    assert removed.returncode == 0
    assert secret_keyring.get_password("mailproof-keys", info["id"]) is None
    assert run(home, "keys", "list").stdout == ""
    gone = run(home, "keys", "remove", info["id"])
    assert gone.returncode == 2 and "no key" in gone.stderr


def test_openpgp_secret_key_passphrase_checked_and_stored_in_the_keyring(
    tmp_path: Path, gnupg_home: GnupgHome, secret_keyring
) -> None:
    home = tmp_path / "home"
    armored = tmp_path / "alice-secret.asc"
    armored.write_text(gnupg_home.export_secret())
    wrong = run(home, "keys", "import", str(armored), "--passphrase-stdin", stdin="wrong\n")
    assert wrong.returncode == 1, wrong.stderr
    assert "passphrase does not unlock" in wrong.stderr
    assert run(home, "keys", "list").stdout == ""

    done = run(
        home, "keys", "import", str(armored), "--passphrase-stdin", "--json",
        stdin=gnupg_home.passphrase + "\n",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    info = json.loads(done.stdout)
    assert info["id"] == f"pgp:{gnupg_home.fingerprint}"
    assert info["emails"] == [gnupg_home.email]
    stored = json.loads(secret_keyring.get_password("mailproof-keys", info["id"]))
    assert "BEGIN PGP PRIVATE KEY BLOCK" in stored["data"]
    public = run(home, "keys", "export-public", info["id"]).stdout
    assert "BEGIN PGP PUBLIC KEY BLOCK" in public and "PRIVATE" not in public
    secret_files_free(home, b"PRIVATE KEY BLOCK", gnupg_home.passphrase.encode())
    # no GnuPG home was left behind by the import
    leftovers = [p for p in Path("/tmp").glob("mpg*") if p.is_dir()]
    assert leftovers == []
    assert run(home, "keys", "remove", info["id"]).returncode == 0
    assert secret_keyring.get_password("mailproof-keys", info["id"]) is None
