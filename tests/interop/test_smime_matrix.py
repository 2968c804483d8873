"""S/MIME made by openssl cms and gpgsm, read by Mailproof with keys from the real keyring;
every verdict is compared with openssl's own (`cms -decrypt`, `cms -verify`) as the oracle."""

from __future__ import annotations

import email
import json
import os
import shutil
import subprocess
from email import policy
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from app.crypto.secure import read_secure
from tests.interop.conftest import World, mailproof, openssl, run_openssl

RECIPIENTS = ["lena-rsa2048", "lena-rsa3072", "lena-p256", "lena-p384"]
CIPHERS = ["-aes-128-cbc", "-aes-192-cbc", "-aes-256-cbc", "-aes-128-gcm", "-aes-256-gcm"]
PADDINGS = {
    "v1.5": [],
    "oaep-sha1": ["-keyopt", "rsa_padding_mode:oaep"],
    "oaep-sha256": ["-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256"],
}
CASES = [
    (recipient, cipher, padding)
    for recipient in RECIPIENTS
    for cipher in CIPHERS
    for padding in (PADDINGS if "rsa" in recipient else ["v1.5"])
]


def text_entity(marker: str) -> bytes:
    return (
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
        f"Befund {marker}: eGFR 41 ml/min – Kontrolle in einer Woche.\r\n"
    ).encode()


def headers(sender: str = "marta@praxis.example") -> list[str]:
    return ["-from", sender, "-to", "lena@clinic.example", "-subject", "Befund"]


def encrypt(world: World, entity: bytes, recipient: str, cipher: str, padding: str) -> bytes:
    return openssl(
        "cms", "-encrypt", cipher, *headers(), "-recip", world.people[recipient].cert,
        *PADDINGS[padding], data=entity,
    )  # fmt: skip


def sign(
    world: World, entity: bytes, signer: str, *, opaque: bool = False, sender: str = ""
) -> bytes:
    person = world.people[signer]
    return openssl(
        "cms", "-sign", "-signer", person.cert, "-inkey", person.key, "-md", "sha256",
        *(["-nodetach"] if opaque else []), *headers(sender or person.email), data=entity,
    )  # fmt: skip


def oracle_decrypt(world: World, message: bytes, recipient: str) -> bytes:
    person = world.people[recipient]
    return openssl("cms", "-decrypt", "-recip", person.cert, "-inkey", person.key, data=message)


def oracle_verifies(world: World, message: bytes) -> bool:
    result = run_openssl(
        "cms", "-verify", "-CAfile", world.ca.pem, "-purpose", "smimesign", data=message
    )
    return result.returncode == 0


def plain_text(entity: bytes) -> str:
    parsed = email.message_from_bytes(entity, policy=policy.default)
    body = parsed.get_body(("plain",)) if parsed.is_multipart() else parsed
    assert body is not None
    return str(body.get_content()).replace("\r\n", "\n")


@pytest.mark.parametrize(("recipient", "cipher", "padding"), CASES)
def test_encrypted_matrix_matches_openssl(
    world: World, recipient: str, cipher: str, padding: str
) -> None:
    marker = f"{recipient}{cipher}{padding}"
    message = encrypt(world, text_entity(marker), recipient, cipher, padding)
    reading = read_secure(message, keys=lambda: world.material)
    oracle = oracle_decrypt(world, message, recipient)
    assert reading.encryption.status == "decrypted", reading.encryption.error
    assert reading.body_text.strip() == plain_text(oracle).strip()
    assert marker in reading.body_text
    assert reading.encryption.algorithm == cipher.lstrip("-")
    expected_km = {
        "v1.5": "rsa-pkcs1v15",
        "oaep-sha1": "rsa-oaep-sha1",
        "oaep-sha256": "rsa-oaep-sha256",
    }
    if "rsa" in recipient:
        assert reading.encryption.key_management == expected_km[padding]
    else:
        assert (reading.encryption.key_management or "").startswith(f"ecdh-{recipient[5:]}")
    assert reading.encryption.key and reading.encryption.key.startswith("smime:")
    assert reading.signature.status == "none"


@pytest.mark.parametrize(("recipient", "cipher", "padding"), CASES)
def test_signed_then_encrypted_matrix_matches_openssl(
    world: World, recipient: str, cipher: str, padding: str
) -> None:
    signer = "marta-ec" if "p" in recipient.split("-")[1][:1] else "marta"
    marker = f"both-{recipient}{cipher}{padding}"
    signed = sign(world, text_entity(marker), signer)
    inner = b"".join(
        line for line in signed.splitlines(keepends=True)
        if not line.lower().startswith((b"from:", b"to:", b"subject:"))
    )  # fmt: skip
    message = encrypt(world, inner, recipient, cipher, padding)
    oracle_inner = oracle_decrypt(world, message, recipient)
    assert oracle_verifies(world, oracle_inner)  # openssl: the decrypted content verifies
    reading = read_secure(message, keys=lambda: world.material)
    assert reading.encryption.status == "decrypted", reading.encryption.error
    assert reading.signature.status == "valid", reading.signature.explanation
    assert reading.signature_covers_whole_message
    assert marker in reading.body_text


@pytest.mark.parametrize("signer", ["marta", "marta-ec"])
@pytest.mark.parametrize("opaque", [False, True], ids=["detached", "opaque"])
@pytest.mark.parametrize("encrypted", [False, True], ids=["signed", "signed+encrypted"])
def test_signed_and_both_match_openssl(
    world: World, signer: str, opaque: bool, encrypted: bool
) -> None:
    signed = sign(world, text_entity(f"{signer}-{opaque}"), signer, opaque=opaque)
    assert oracle_verifies(world, signed)
    message = signed
    if encrypted:
        # the signed entity (its MIME headers, not From/To) goes inside the envelope
        inner = b"".join(
            line for line in signed.splitlines(keepends=True)
            if not line.lower().startswith((b"from:", b"to:", b"subject:"))
        )  # fmt: skip
        message = encrypt(world, inner, "lena-rsa2048", "-aes-256-gcm", "oaep-sha256")
    reading = read_secure(message, keys=lambda: world.material)
    assert reading.signature.status == "valid", reading.signature.explanation
    assert reading.signature_covers_whole_message
    assert reading.signature.signer_email == "marta@praxis.example"
    assert reading.encryption.status == ("decrypted" if encrypted else "none")
    assert f"{signer}-{opaque}" in reading.body_text


def test_tampered_content_fails_like_openssl(world: World) -> None:
    signed = sign(world, text_entity("tamper"), "marta")
    tampered = signed.replace(b"eGFR 41", b"eGFR 14")
    assert tampered != signed and not oracle_verifies(world, tampered)
    reading = read_secure(tampered, keys=lambda: world.material)
    assert reading.signature.status == "invalid"
    assert "altered" in reading.signature.explanation


def test_tampered_signature_fails_like_openssl(world: World) -> None:
    import base64

    signed = sign(world, text_entity("sigtamper"), "marta")
    marker = b'filename="smime.p7s"'
    head, _, tail = signed.partition(marker)
    encoded, _, rest = tail.partition(b"\n\n")[2].partition(b"\n\n")
    der = bytearray(base64.b64decode(encoded))
    der[-5] ^= 0x01  # inside the signature value, the last field of the DER
    tampered = (
        head + marker + tail.partition(b"\n\n")[0] + b"\n\n"
        + base64.encodebytes(bytes(der)) + b"\n" + rest
    )  # fmt: skip
    assert not oracle_verifies(world, tampered)
    reading = read_secure(tampered, keys=lambda: world.material)
    assert reading.signature.status == "invalid", reading.signature.explanation


def test_wrong_recipient_is_a_failed_status_naming_the_recipient(world: World) -> None:
    message = encrypt(world, text_entity("stranger"), "nobody", "-aes-256-cbc", "v1.5")
    assert run_openssl(
        "cms", "-decrypt", "-recip", world.people["lena-rsa2048"].cert,
        "-inkey", world.people["lena-rsa2048"].key, data=message,
    ).returncode != 0  # fmt: skip
    reading = read_secure(message, keys=lambda: world.material)
    assert reading.encryption.status == "failed"
    serial = format(
        x509.load_pem_x509_certificate(world.people["nobody"].cert.read_bytes()).serial_number, "x"
    )
    assert "not encrypted to any of your keys" in (reading.encryption.error or "")
    assert serial in (reading.encryption.error or "")


def test_expired_signer_is_reported_not_verified(world: World) -> None:
    signed = sign(world, text_entity("old"), "old")
    assert not oracle_verifies(world, signed)
    reading = read_secure(signed, keys=lambda: world.material)
    assert reading.signature.status == "expired"
    assert "not valid" in reading.signature.explanation


def test_untrusted_ca_is_reported(world: World) -> None:
    signed = sign(world, text_entity("rogue"), "rogue")
    assert not oracle_verifies(world, signed)
    reading = read_secure(signed, keys=lambda: world.material)
    assert reading.signature.status == "untrusted"


def test_from_mismatch_is_reported_where_openssl_does_not_look(world: World) -> None:
    signed = sign(world, text_entity("mismatch"), "marta", sender="ceo@clinic.example")
    assert oracle_verifies(world, signed)  # openssl checks no From header: a documented difference
    reading = read_secure(signed, keys=lambda: world.material)
    assert reading.signature.status == "signer-mismatch"
    assert "ceo@clinic.example" in reading.signature.explanation


def test_decrypt_cli_prints_the_json_contract(world: World, tmp_path: Path) -> None:
    signed = sign(world, text_entity("cli"), "marta")
    inner = b"".join(
        line for line in signed.splitlines(keepends=True)
        if not line.lower().startswith((b"from:", b"to:", b"subject:"))
    )  # fmt: skip
    message = encrypt(world, inner, "lena-p256", "-aes-128-gcm", "v1.5")
    path = tmp_path / "message.eml"
    path.write_bytes(message)
    result = mailproof(world.home, "decrypt", str(path), "--json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["encryption"]["status"] == "decrypted"
    assert document["encryption"]["scheme"] == "smime"
    assert document["encryption"]["algorithm"] == "aes-128-gcm"
    assert document["encryption"]["error"] is None
    assert document["signature"]["status"] == "valid"
    assert document["signature"]["signer_email"] == "marta@praxis.example"
    assert document["signature"]["signer"] == "marta"
    assert document["signature"]["explanation"]
    assert [p["path"] for p in document["parts"]][:1] == ["1"]
    assert "cli" in document["body_text"]
    audit = mailproof(world.home, "audit", "show", "--json")
    entries = [json.loads(line) for line in audit.stdout.splitlines()]
    decrypted = [e for e in entries if e["action"] == "message decrypted"]
    assert decrypted and decrypted[-1]["result"] == "ok"
    assert decrypted[-1]["detail"]["key"].startswith("smime:")
    # A wrong key: exit 1 and a precise status, no traceback.
    stranger = encrypt(world, text_entity("x"), "nobody", "-aes-128-cbc", "v1.5")
    path.write_bytes(stranger)
    failed = mailproof(world.home, "decrypt", str(path), "--json")
    assert failed.returncode == 1 and "Traceback" not in failed.stderr
    assert json.loads(failed.stdout)["encryption"]["status"] == "failed"


def test_gpgsm_ber_encrypted_and_signed_messages(world: World, tmp_path: Path) -> None:
    home = Path(f"/tmp/mps{os.getpid()}")
    home.mkdir(mode=0o700, exist_ok=True)
    env = {**os.environ, "GNUPGHOME": str(home)}
    try:
        (home / "gpgsm.conf").write_text("disable-crl-checks\n")
        (home / "gpg-agent.conf").write_text("allow-loopback-pinentry\n")
        lena, marta = world.people["lena-rsa2048"], world.people["marta"]
        legacy = tmp_path / "marta-legacy.p12"  # gpgsm 2.2 reads only the legacy PKCS#12 format
        openssl(
            "pkcs12", "-export", "-inkey", marta.key, "-in", marta.cert, "-passout", "pass:x",
            "-keypbe", "PBE-SHA1-3DES", "-certpbe", "PBE-SHA1-3DES", "-macalg", "sha1",
            "-out", legacy,
        )  # fmt: skip
        # The agent is started before the imports, not auto-started by the p12 import that
        # needs it: under load that auto-start once failed ("exit status 2") in a full run.
        subprocess.run(
            ["gpgconf", "--homedir", str(home), "--launch", "gpg-agent"],
            env=env, capture_output=True, check=True, timeout=60,
        )  # fmt: skip
        for args, data in (
            (["--import", str(world.ca.pem)], None),
            (["--import", str(lena.cert)], None),
            (
                ["--pinentry-mode", "loopback", "--passphrase-fd", "0", "--import", str(legacy)],
                b"x\n",
            ),
        ):
            done = subprocess.run(
                ["gpgsm", "--batch", *args],
                input=data,
                env=env,
                capture_output=True,
                timeout=60,
            )
            assert done.returncode == 0, done.stderr.decode(errors="replace")
        fingerprint = world.ca.cert.fingerprint(hashes.SHA1()).hex(":").upper()  # noqa: S303
        (home / "trustlist.txt").write_text(f"{fingerprint} S relax\n")
        entity = text_entity("gpgsm")
        encrypted = subprocess.run(
            ["gpgsm", "--batch", "--encrypt", "-r", "lena@clinic.example"],
            input=entity, env=env, capture_output=True, check=True, timeout=60,
        ).stdout  # fmt: skip
        assert encrypted[:2] == b"\x30\x80"  # indefinite-length BER, as gpgsm writes it
        import base64

        message = (
            b"From: marta@praxis.example\r\nTo: lena@clinic.example\r\nSubject: gpgsm\r\n"
            b"MIME-Version: 1.0\r\n"
            b"Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n" + base64.encodebytes(encrypted)
        )
        reading = read_secure(message, keys=lambda: world.material)
        assert reading.encryption.status == "decrypted", reading.encryption.error
        assert "gpgsm" in reading.body_text
        assert (
            reading.body_text.strip()
            == plain_text(oracle_decrypt(world, message, "lena-rsa2048")).strip()
        )
        source = tmp_path / "entity.txt"
        source.write_bytes(entity)
        signature = subprocess.run(
            ["gpgsm", "--batch", "--pinentry-mode", "loopback", "--passphrase-fd", "0",
             "--detach-sign", "-u", "marta@praxis.example", str(source)],
            input=b"x\n", env=env, capture_output=True, check=True, timeout=60,
        ).stdout  # fmt: skip
        signed = (
            b"From: marta@praxis.example\r\nTo: lena@clinic.example\r\nSubject: gpgsm signed\r\n"
            b"MIME-Version: 1.0\r\n"
            b'Content-Type: multipart/signed; protocol="application/pkcs7-signature";'
            b' micalg=sha-256; boundary="gs"\r\n\r\n--gs\r\n' + entity + b"\r\n--gs\r\n"
            b"Content-Type: application/pkcs7-signature\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\n"
            + base64.encodebytes(signature)
            + b"\r\n--gs--\r\n"
        )
        assert oracle_verifies(world, signed)
        reading = read_secure(signed, keys=lambda: world.material)
        assert reading.signature.status == "valid", reading.signature.explanation
    finally:
        subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def test_search_decrypted_finds_words_inside_encrypted_mail_only_in_memory(
    world: World, tmp_path: Path
) -> None:
    entity = text_entity("zauberwort")
    message = encrypt(world, entity, "lena-rsa3072", "-aes-256-gcm", "oaep-sha256")
    folder = tmp_path / "secret-import"
    (folder / "cur").mkdir(parents=True)
    (folder / "cur" / "1.enc:2,S").write_bytes(message)
    assert mailproof(world.home, "import", str(folder)).returncode == 0
    plain = mailproof(world.home, "search", "--json", "zauberwort")
    assert plain.returncode == 0 and plain.stdout == ""
    found = mailproof(world.home, "search", "--json", "--decrypted", "zauberwort")
    assert found.returncode == 0, found.stderr
    (hit,) = [json.loads(line) for line in found.stdout.splitlines()]
    assert "zauberwort" in hit["snippet"]
    encrypted = mailproof(world.home, "search", "--json", "--decrypted", "is:encrypted zauberwort")
    assert len(encrypted.stdout.splitlines()) == 1
    index_files = b"".join(p.read_bytes() for p in (world.home / "index").iterdir() if p.is_file())
    assert b"zauberwort" not in index_files


def test_signature_status_is_searchable(world: World, tmp_path: Path) -> None:
    folder = tmp_path / "signed-import"
    (folder / "cur").mkdir(parents=True)
    valid = sign(world, text_entity("sigvalid"), "marta")
    (folder / "cur" / "1.valid:2,S").write_bytes(valid)
    (folder / "cur" / "2.altered:2,S").write_bytes(
        sign(world, text_entity("sigaltered"), "marta").replace(b"eGFR 41", b"eGFR 14")
    )
    (folder / "cur" / "3.rogue:2,S").write_bytes(sign(world, text_entity("sigrogue"), "rogue"))
    assert mailproof(world.home, "import", str(folder)).returncode == 0

    def found(query: str) -> set[str]:
        result = mailproof(world.home, "search", "--json", "--limit", "0", "--", query)
        assert result.returncode == 0, result.stderr
        return {json.loads(line)["snippet"].split(":")[0] for line in result.stdout.splitlines()}

    assert found("sig:valid sigvalid") == {"Befund sigvalid"}
    assert found("sig:invalid") >= {"Befund sigaltered"}
    assert "Befund sigaltered" not in found("sig:valid")
    assert found("sig:untrusted sigrogue") == {"Befund sigrogue"}
    assert found("is:signed (sigvalid OR sigaltered OR sigrogue)") == {
        "Befund sigvalid",
        "Befund sigaltered",
        "Befund sigrogue",
    }


def test_nested_layers_beyond_the_limit_are_not_opened(world: World) -> None:
    """encrypted(signed(encrypted(signed(encrypted(text))))): five layers, the limit is four."""
    entity = text_entity("innermost")
    for layer in range(5):
        if layer % 2 == 0:
            made = encrypt(world, entity, "lena-p256", "-aes-128-gcm", "v1.5")
        else:
            made = sign(world, entity, "marta")
        entity = b"".join(
            line for line in made.splitlines(keepends=True)
            if not line.lower().startswith((b"from:", b"to:", b"subject:"))
        )  # fmt: skip
    message = b"From: marta@praxis.example\r\nTo: lena@clinic.example\r\nSubject: deep\r\n" + entity
    reading = read_secure(message, keys=lambda: world.material)
    assert any("layers deep" in warning for warning in reading.warnings)
    assert "innermost" not in reading.body_text
    assert reading.encryption.status == "failed"
    assert "layers" in (reading.encryption.error or "")
