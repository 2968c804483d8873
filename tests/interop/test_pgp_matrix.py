"""OpenPGP made by the gpg CLI — PGP/MIME encrypted and/or signed, inline, clear-signed — read by
Mailproof with keys from the real keyring; gpg's own --decrypt/--verify is the oracle."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from app.crypto.secure import read_secure
from tests.interop.conftest import PGP_PASS, World, gpg, mailproof

HEAD = (
    "From: {sender}\r\nTo: lena@clinic.example\r\nSubject: {subject}\r\n"
    "Message-ID: <{subject}@interop.example>\r\nMIME-Version: 1.0\r\n"
)


def entity(marker: str) -> bytes:
    return (
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"Rufbereitschaft {marker}: Station 4B – 0151 2345 678\r\n"
    ).encode()


def pgp_mime_encrypted(
    world: World, inner: bytes, recipient: str, signer: str | None, sender: str
) -> bytes:
    args = ["--armor", "--encrypt", "-r", world.pgp[recipient]]
    if signer:
        args = [
            "--armor",
            "--sign",
            "-u",
            world.pgp[signer],
            "--encrypt",
            "-r",
            world.pgp[recipient],
        ]
    armored = gpg(world.gpg_home, *args, data=inner)
    return (
        HEAD.format(sender=sender, subject="enc").encode()
        + b'Content-Type: multipart/encrypted; protocol="application/pgp-encrypted"; '
        b'boundary="pe"\r\n\r\n--pe\r\nContent-Type: application/pgp-encrypted\r\n\r\n'
        b"Version: 1\r\n"
        b'\r\n--pe\r\nContent-Type: application/octet-stream; name="encrypted.asc"\r\n\r\n'
        + armored
        + b"\r\n--pe--\r\n"
    )


def pgp_mime_signed(world: World, inner: bytes, signer: str, sender: str) -> tuple[bytes, bytes]:
    signature = gpg(world.gpg_home, "--armor", "--detach-sign", "-u", world.pgp[signer], data=inner)
    message = (
        HEAD.format(sender=sender, subject="signed").encode()
        + b'Content-Type: multipart/signed; protocol="application/pgp-signature"; '
        b'micalg=pgp-sha512; boundary="ps"\r\n\r\n--ps\r\n' + inner + b"\r\n--ps\r\n"
        b'Content-Type: application/pgp-signature; name="signature.asc"\r\n\r\n'
        + signature
        + b"\r\n--ps--\r\n"
    )
    return message, signature


def oracle_status(world: World, content: bytes, signature: bytes, tmp_path: Path) -> str:
    """gpg's own machine-readable verdict lines for the signature."""
    sig = tmp_path / "oracle.sig"
    sig.write_bytes(signature)
    data = tmp_path / "oracle.data"
    data.write_bytes(content)
    result = subprocess.run(
        ["gpg", "--homedir", str(world.gpg_home), "--batch", "--status-fd", "1", "--verify",
         str(sig), str(data)],
        capture_output=True, timeout=60, text=True,
    )  # fmt: skip
    return result.stdout


def oracle_verifies(world: World, content: bytes, signature: bytes, tmp_path: Path) -> bool:
    return "[GNUPG:] GOODSIG" in oracle_status(world, content, signature, tmp_path)


@pytest.mark.parametrize("recipient", ["lena-rsa", "lena-25519"])
@pytest.mark.parametrize("signer", [None, "katrin"], ids=["encrypted", "signed+encrypted"])
def test_pgp_mime_encrypted_matches_gpg(world: World, recipient: str, signer: str | None) -> None:
    inner = entity(f"{recipient}-{signer}")
    message = pgp_mime_encrypted(world, inner, recipient, signer, "katrin@clinic.example")
    armored = message.split(b'name="encrypted.asc"\r\n\r\n')[1].split(b"\r\n--pe--")[0]
    oracle = gpg(world.gpg_home, "--decrypt", data=armored)
    assert oracle == inner
    reading = read_secure(message, keys=lambda: world.material)
    assert reading.encryption.status == "decrypted", reading.encryption.error
    assert reading.encryption.scheme == "pgp"
    assert reading.encryption.algorithm == "AES256"
    assert reading.encryption.key == f"pgp:{world.pgp[recipient]}"
    assert f"{recipient}-{signer}" in reading.body_text
    if signer:
        assert reading.signature.status == "valid", reading.signature.explanation
        assert reading.signature.signer_email == "katrin@clinic.example"
    else:
        assert reading.signature.status == "none"


@pytest.mark.parametrize("signer", ["katrin", "lena-25519", "lena-rsa"])
def test_pgp_mime_signed_matches_gpg(world: World, signer: str, tmp_path: Path) -> None:
    inner = entity(f"signed-{signer}")
    sender = "katrin@clinic.example" if signer == "katrin" else "lena@clinic.example"
    message, signature = pgp_mime_signed(world, inner, signer, sender)
    assert oracle_verifies(world, inner, signature, tmp_path)
    reading = read_secure(message, keys=lambda: world.material)
    assert reading.signature.status == "valid", reading.signature.explanation
    assert reading.signature_covers_whole_message


def test_tampered_pgp_mime_signature_is_invalid(world: World, tmp_path: Path) -> None:
    inner = entity("tamper")
    message, signature = pgp_mime_signed(world, inner, "katrin", "katrin@clinic.example")
    altered = inner.replace(b"4B", b"4C")
    assert not oracle_verifies(world, altered, signature, tmp_path)
    reading = read_secure(message.replace(b"4B", b"4C"), keys=lambda: world.material)
    assert reading.signature.status == "invalid"


def test_unknown_signer_expired_key_and_from_mismatch(world: World, tmp_path: Path) -> None:
    inner = entity("carol")
    message, _ = pgp_mime_signed(world, inner, "carol", "carol@elsewhere.example")
    assert read_secure(message, keys=lambda: world.material).signature.status == "unknown-key"
    expired_sig = gpg(
        world.gpg_home, "--faked-system-time", "20200102T000000", "--armor", "--detach-sign",
        "-u", world.pgp["expired"], data=inner,
    )  # fmt: skip
    assert "EXPKEYSIG" in oracle_status(world, inner, expired_sig, tmp_path)
    expired = (
        HEAD.format(sender="old@clinic.example", subject="old").encode()
        + b'Content-Type: multipart/signed; protocol="application/pgp-signature"; '
        b'boundary="ps"\r\n\r\n--ps\r\n' + inner + b"\r\n--ps\r\n"
        b"Content-Type: application/pgp-signature\r\n\r\n" + expired_sig + b"\r\n--ps--\r\n"
    )
    assert read_secure(expired, keys=lambda: world.material).signature.status == "expired"
    mismatch, _ = pgp_mime_signed(world, inner, "katrin", "ceo@clinic.example")
    reading = read_secure(mismatch, keys=lambda: world.material)
    assert reading.signature.status == "signer-mismatch"


def test_inline_encrypted_and_clear_signed(world: World) -> None:
    armored = gpg(
        world.gpg_home,
        "--armor",
        "--encrypt",
        "-r",
        world.pgp["lena-25519"],
        data=b"inline secret\n",
    )
    message = (
        HEAD.format(sender="katrin@clinic.example", subject="inline").encode()
        + b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        + armored
    )
    reading = read_secure(message, keys=lambda: world.material)
    assert reading.encryption.status == "decrypted"
    assert "inline secret" in reading.body_text
    clear = gpg(world.gpg_home, "--clearsign", "-u", world.pgp["katrin"], data=b"clear text\n")
    signed = (
        HEAD.format(sender="katrin@clinic.example", subject="clear").encode()
        + b"Content-Type: text/plain; charset=us-ascii\r\n\r\n"
        + clear
    )
    reading = read_secure(signed, keys=lambda: world.material)
    assert reading.signature.status == "valid" and "clear text" in reading.body_text
    assert reading.encryption.status == "none"
    tampered = read_secure(
        signed.replace(b"clear text", b"clear test"), keys=lambda: world.material
    )
    assert tampered.signature.status == "invalid"


def test_not_for_us_and_damaged(world: World) -> None:
    message = pgp_mime_encrypted(world, entity("carol"), "carol", None, "katrin@clinic.example")
    reading = read_secure(message, keys=lambda: world.material)
    assert reading.encryption.status == "failed"
    assert "no secret key" in (reading.encryption.error or "")
    good = pgp_mime_encrypted(world, entity("dmg"), "lena-25519", None, "katrin@clinic.example")
    lines = good.split(b"\r\n")
    body_line = next(i for i, line in enumerate(lines) if len(line) > 60 and b":" not in line)
    lines[body_line] = lines[body_line][:20] + b"AAAA" + lines[body_line][24:]
    damaged = read_secure(b"\r\n".join(lines), keys=lambda: world.material)
    assert damaged.encryption.status == "failed" and "dmg" not in damaged.body_text


def test_decrypt_cli_for_pgp(world: World, tmp_path: Path) -> None:
    message = pgp_mime_encrypted(
        world, entity("cli"), "lena-rsa", "katrin", "katrin@clinic.example"
    )
    path = tmp_path / "pgp.eml"
    path.write_bytes(message)
    result = mailproof(world.home, "decrypt", str(path), "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["encryption"] == {
        **document["encryption"],
        "status": "decrypted",
        "scheme": "pgp",
        "error": None,
    }
    assert document["signature"]["status"] == "valid"
    assert "cli" in document["body_text"]
    assert PGP_PASS not in result.stdout + result.stderr
