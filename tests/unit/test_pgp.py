"""app.crypto.pgp against keys and messages made at test time with the real gpg CLI, with gpg
itself as the oracle: for every case gpg --verify / --decrypt, run in a home holding exactly
the keys our functions were given, must agree with our verdict."""

from __future__ import annotations

import base64
import random
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.crypto import pgp

assert shutil.which("gpg"), "gpg is missing: scripts/setup --test installs it"

PASS = "correct horse"
PLAIN = b"Lab results for patient 4711: all values normal.\n"
MIME_PART = (
    b"Content-Type: text/plain; charset=utf-8\r\n"
    b"Content-Transfer-Encoding: 7bit\r\n"
    b"\r\n"
    b"Please find the referral attached.\r\n"
    b"-- \r\n"
    b"Alice\r\n"
)
AGENT_CONF = "default-cache-ttl 0\nmax-cache-ttl 0\nallow-loopback-pinentry\n"


def _home() -> Path:
    home = Path(tempfile.mkdtemp(prefix="tpg", dir="/tmp"))
    home.chmod(0o700)
    (home / "gpg-agent.conf").write_text(AGENT_CONF)
    return home


def _kill(home: Path) -> None:
    subprocess.run(
        ["gpgconf", "--homedir", str(home), "--kill", "gpg-agent"], capture_output=True, check=False
    )
    shutil.rmtree(home, ignore_errors=True)


class Gpg:
    def __init__(self, home: Path) -> None:
        self.home = home

    def run(
        self, *args: str, data: bytes = b"", passphrase: str | None = PASS, check: bool = True
    ) -> subprocess.CompletedProcess[bytes]:
        command = ["gpg", "--homedir", str(self.home), "--batch", "--yes", "--status-fd", "2"]
        command += ["--pinentry-mode", "loopback", "--trust-model", "always"]
        if passphrase is not None:
            command += ["--passphrase", passphrase]
        done = subprocess.run(command + list(args), input=data, capture_output=True, timeout=120)
        if check and done.returncode != 0:
            raise AssertionError(f"gpg {args} failed: {done.stderr.decode(errors='replace')}")
        return done

    def fingerprint(self, uid: str) -> str:
        out = self.run("--with-colons", "--list-keys", uid).stdout.decode()
        return next(line.split(":")[9] for line in out.splitlines() if line.startswith("fpr"))

    def encryption_keyid(self, uid: str) -> str:
        out = self.run("--with-colons", "--list-keys", uid).stdout.decode()
        return next(line.split(":")[4] for line in out.splitlines() if line.startswith("sub"))

    def public(self, uid: str) -> str:
        return self.run("--armor", "--export", uid).stdout.decode()

    def secret(self, uid: str) -> str:
        return self.run("--armor", "--export-secret-keys", uid).stdout.decode()


@dataclass
class World:
    maker: Gpg  # holds every key, Carol's included
    oracle: Gpg  # holds exactly the keys our functions are given
    alice_secret: str
    public_keys: list[str]
    alice_fpr: str
    bob_fpr: str
    carol_encr: str
    expired_fpr: str

    def oracle_verify(self, *args: str, data: bytes = b"") -> bool:
        """gpg's own verdict: a good, current signature."""
        done = self.oracle.run("--verify", *args, data=data, passphrase=None, check=False)
        status = done.stderr.decode(errors="replace")
        return done.returncode == 0 and "[GNUPG:] GOODSIG" in status

    def oracle_decrypt(self, data: bytes, passphrase: str = PASS) -> bytes | None:
        done = self.oracle.run("--decrypt", data=data, passphrase=passphrase, check=False)
        status = done.stderr.decode(errors="replace")
        ok = "DECRYPTION_OKAY" in status and "GOODMDC" in status
        return done.stdout if ok else None


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    maker_home, oracle_home = _home(), _home()
    try:
        maker = Gpg(maker_home)
        for uid, algo, sub in (
            ("Alice <alice@clinic.example>", "ed25519", "cv25519"),
            ("Bob <bob@lab.example>", "rsa3072", "rsa3072"),
            ("Carol <carol@elsewhere.example>", "ed25519", "cv25519"),
        ):
            maker.run("--quick-gen-key", uid, algo, "sign,cert", "1y")
            maker.run("--quick-add-key", maker.fingerprint(uid), sub, "encr", "1y")
        # a key that expired long ago: made and used at a faked time in 2020
        past = ["--faked-system-time", "20200101T000000!"]
        maker.run(*past, "--quick-gen-key", "Olaf <olaf@old.example>", "ed25519", "sign,cert", "1d")
        public_keys = [
            maker.public(u) for u in ("alice@clinic.example", "bob@lab.example", "olaf@old.example")
        ]
        world = World(
            maker=maker,
            oracle=Gpg(oracle_home),
            alice_secret=maker.secret("alice@clinic.example"),
            public_keys=public_keys,
            alice_fpr=maker.fingerprint("alice@clinic.example"),
            bob_fpr=maker.fingerprint("bob@lab.example"),
            carol_encr=maker.encryption_keyid("carol@elsewhere.example"),
            expired_fpr=maker.fingerprint("olaf@old.example"),
        )
        world.oracle.run("--import", data=world.alice_secret.encode())
        for key in public_keys:
            world.oracle.run("--import", data=key.encode(), passphrase=None)
        yield world
    finally:
        _kill(maker_home)
        _kill(oracle_home)


def _encrypt(world: World, to: str, *, sign_as: str | None = None, armor: bool = True) -> bytes:
    args = ["--encrypt", "--recipient", to]
    if sign_as:
        args += ["--sign", "--local-user", sign_as]
    if armor:
        args.insert(0, "--armor")
    return world.maker.run(*args, data=PLAIN).stdout


def _clearsign(world: World, signer: str, text: bytes = PLAIN, *past: str) -> bytes:
    return world.maker.run(*past, "--clearsign", "--local-user", signer, data=text).stdout


def _detach(world: World, signer: str, content: bytes = MIME_PART) -> bytes:
    return world.maker.run("--detach-sign", "--armor", "--local-user", signer, data=content).stdout


def _good(signature: pgp.PgpSignature) -> bool:
    return signature.status in ("valid", "signer-mismatch")


# ---- decryption ------------------------------------------------------------------------------


def test_decrypts_a_message_to_alice(world: World) -> None:
    blob = _encrypt(world, "alice@clinic.example")
    result = pgp.decrypt(blob, [(world.alice_secret, PASS)], world.public_keys, None)
    assert result.ok, result.error
    assert result.content == PLAIN == world.oracle_decrypt(blob)
    assert result.algorithm == "AES256"
    assert result.key_used == world.alice_fpr
    assert result.error is None
    assert result.signature.status == "none"


def test_decrypts_binary_messages_too(world: World) -> None:
    blob = _encrypt(world, "alice@clinic.example", armor=False)
    result = pgp.decrypt(blob, [(world.alice_secret, PASS)], world.public_keys, None)
    assert result.ok and result.content == PLAIN == world.oracle_decrypt(blob)


def test_signed_and_encrypted_by_bob(world: World) -> None:
    blob = _encrypt(world, "alice@clinic.example", sign_as="bob@lab.example")
    result = pgp.decrypt(blob, [(world.alice_secret, PASS)], world.public_keys, "bob@lab.example")
    assert result.ok and result.content == PLAIN == world.oracle_decrypt(blob)
    signature = result.signature
    assert signature.status == "valid", signature
    assert signature.signer == "Bob <bob@lab.example>"
    assert signature.signer_email == "bob@lab.example"
    assert signature.fingerprint == world.bob_fpr
    assert signature.signing_time and signature.signing_time.endswith("Z")
    # the same message claimed to be from someone else
    claimed = pgp.decrypt(blob, [(world.alice_secret, PASS)], world.public_keys, "Eve <eve@x.org>")
    assert claimed.ok and claimed.signature.status == "signer-mismatch"
    assert "eve@x.org" in claimed.signature.explanation


def test_inner_signature_by_an_unknown_key(world: World) -> None:
    blob = _encrypt(world, "alice@clinic.example", sign_as="carol@elsewhere.example")
    result = pgp.decrypt(blob, [(world.alice_secret, PASS)], world.public_keys, None)
    assert result.ok and result.content == PLAIN == world.oracle_decrypt(blob)
    assert result.signature.status == "unknown-key"
    assert "not among your imported keys" in result.signature.explanation


def test_encrypted_to_carol_only(world: World) -> None:
    blob = _encrypt(world, "carol@elsewhere.example")
    result = pgp.decrypt(blob, [(world.alice_secret, PASS)], world.public_keys, None)
    assert not result.ok and result.content is None
    assert result.error is not None
    assert result.error.startswith("no secret key for this message")
    assert world.carol_encr in result.error
    assert world.oracle_decrypt(blob) is None
    assert pgp.recipients_of(blob) == [world.carol_encr]


def test_wrong_passphrase(world: World) -> None:
    blob = _encrypt(world, "alice@clinic.example")
    result = pgp.decrypt(blob, [(world.alice_secret, "not it")], world.public_keys, None)
    assert not result.ok and result.content is None
    assert result.error and result.error.startswith("wrong passphrase")
    assert world.oracle_decrypt(blob, "not it") is None
    # and right after, the right one still works (nothing cached either way)
    again = pgp.decrypt(blob, [(world.alice_secret, PASS)], world.public_keys, None)
    assert again.ok and again.content == PLAIN


def test_passphrase_with_a_newline_is_refused_not_raised(world: World) -> None:
    blob = _encrypt(world, "alice@clinic.example")
    result = pgp.decrypt(blob, [(world.alice_secret, PASS + "\nx")], world.public_keys, None)
    assert not result.ok and result.error and result.error.startswith("wrong passphrase")


def test_no_secret_keys_at_all(world: World) -> None:
    blob = _encrypt(world, "alice@clinic.example")
    result = pgp.decrypt(blob, [], world.public_keys, None)
    assert not result.ok
    assert result.error and result.error.startswith("no secret key for this message")


def test_tampered_ciphertext_is_damaged(world: World) -> None:
    blob = bytearray(_encrypt(world, "alice@clinic.example", armor=False))
    blob[-5] ^= 0x01  # inside the encrypted data (MDC-protected)
    result = pgp.decrypt(bytes(blob), [(world.alice_secret, PASS)], world.public_keys, None)
    assert not result.ok and result.content is None
    assert result.error and "damaged" in result.error
    assert world.oracle_decrypt(bytes(blob)) is None


def test_tampered_armor_is_damaged(world: World) -> None:
    armored = _encrypt(world, "alice@clinic.example").decode()
    lines = armored.splitlines()
    body = lines[3]
    lines[3] = body[:10] + ("A" if body[10] != "A" else "B") + body[11:]
    blob = ("\n".join(lines) + "\n").encode()
    result = pgp.decrypt(blob, [(world.alice_secret, PASS)], world.public_keys, None)
    assert not result.ok and result.error and "damaged" in result.error
    assert world.oracle_decrypt(blob) is None


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "not OpenPGP data"),
        (b"   \n", "not OpenPGP data"),
        (b"Hello, this is plain text.\n", "not OpenPGP data"),
        (b"-----BEGIN PGP MESSAGE-----\n\nnot base64 at all !!!\n-----END PGP MESSAGE-----\n", ""),
        (bytes(range(256)) * 4, ""),
    ],
)
def test_garbage_gives_a_clear_error(world: World, data: bytes, words: str) -> None:
    result = pgp.decrypt(data, [(world.alice_secret, PASS)], world.public_keys, None)
    assert not result.ok and result.content is None
    assert result.error and words in result.error
    assert pgp.recipients_of(data) == []


def test_truncated_message(world: World) -> None:
    blob = _encrypt(world, "alice@clinic.example", armor=False)
    for cut in (1, 20, len(blob) // 2, len(blob) - 1):
        result = pgp.decrypt(blob[:cut], [(world.alice_secret, PASS)], world.public_keys, None)
        assert not result.ok and result.error, cut
        assert world.oracle_decrypt(blob[:cut]) is None


def test_only_signed_data_is_not_a_decryption(world: World) -> None:
    signed = world.maker.run("--sign", "--armor", "--local-user", "bob@lab.example", data=PLAIN)
    result = pgp.decrypt(signed.stdout, [(world.alice_secret, PASS)], world.public_keys, None)
    assert not result.ok and result.error and "not an encrypted message" in result.error


def test_password_encrypted_message_is_refused(world: World) -> None:
    blob = world.maker.run("--symmetric", "--armor", data=PLAIN, passphrase=PASS).stdout
    result = pgp.decrypt(blob, [(world.alice_secret, PASS)], world.public_keys, None)
    assert not result.ok and result.error and "password" in result.error


def test_several_secret_keys_each_with_its_passphrase(world: World) -> None:
    bob_secret = world.maker.secret("bob@lab.example")
    blob = _encrypt(world, "alice@clinic.example")
    keys = [(bob_secret, "bob's own"), (world.alice_secret, PASS)]
    result = pgp.decrypt(blob, keys, world.public_keys, None)
    assert result.ok and result.content == PLAIN and result.key_used == world.alice_fpr


def test_oversized_input_is_refused(world: World) -> None:
    huge = b"-----BEGIN PGP MESSAGE-----\n" + b"A" * (pgp.MAX_INPUT + 1)
    result = pgp.decrypt(huge, [(world.alice_secret, PASS)], world.public_keys, None)
    assert not result.ok and result.error and "larger" in result.error


def test_output_cap_stops_decompression_bombs(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = world.maker.run(
        "--armor", "--encrypt", "--recipient", "alice@clinic.example", data=b"\0" * 2_000_000
    ).stdout
    assert len(bomb) < 100_000
    monkeypatch.setattr(pgp, "MAX_OUTPUT", 100_000)
    result = pgp.decrypt(bomb, [(world.alice_secret, PASS)], world.public_keys, None)
    assert not result.ok and result.content is None and result.error


def test_timeout_gives_a_result_not_an_exception(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    blob = _encrypt(world, "alice@clinic.example")
    monkeypatch.setattr(pgp, "TIMEOUT_SECONDS", 0.0)
    result = pgp.decrypt(blob, [(world.alice_secret, PASS)], world.public_keys, None)
    assert not result.ok and result.error
    signature, _text = pgp.verify_inline(_clearsign(world, "alice@clinic.example"), [], None)
    assert signature.status != "valid"


def test_missing_gpg_raises_pgp_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.crypto import gpg

    monkeypatch.setattr(gpg.shutil, "which", lambda _name: None)
    with pytest.raises(pgp.PgpError) as caught:
        pgp.recipients_of(b"-----BEGIN PGP MESSAGE-----\n")
    assert caught.value.exit_code == 1


# ---- detached signatures (RFC 3156) --------------------------------------------------------------


def _oracle_detached(world: World, content: bytes, signature: bytes) -> bool:
    with tempfile.TemporaryDirectory(dir="/tmp") as scratch:
        sig = Path(scratch) / "part.sig"
        sig.write_bytes(signature)
        return world.oracle_verify(str(sig), "-", data=content)


def test_detached_signature_over_a_mime_part(world: World) -> None:
    signature = _detach(world, "alice@clinic.example")
    result = pgp.verify_detached(
        MIME_PART, signature, world.public_keys, "Alice <ALICE@clinic.example>"
    )
    assert result.status == "valid", result
    assert result.signer == "Alice <alice@clinic.example>"
    assert result.fingerprint == world.alice_fpr
    assert _oracle_detached(world, MIME_PART, signature)


def test_detached_retries_with_crlf(world: World) -> None:
    signature = _detach(world, "alice@clinic.example")
    as_lf = MIME_PART.replace(b"\r\n", b"\n")
    assert not _oracle_detached(world, as_lf, signature)
    result = pgp.verify_detached(as_lf, signature, world.public_keys, "alice@clinic.example")
    assert result.status == "valid"


def test_detached_tampered_content_is_invalid(world: World) -> None:
    signature = _detach(world, "alice@clinic.example")
    altered = MIME_PART.replace(b"referral", b"invoice!")
    result = pgp.verify_detached(altered, signature, world.public_keys, "alice@clinic.example")
    assert result.status == "invalid"
    assert not _oracle_detached(world, altered, signature)


def test_detached_by_carol_is_unknown_key(world: World) -> None:
    signature = _detach(world, "carol@elsewhere.example")
    result = pgp.verify_detached(MIME_PART, signature, world.public_keys, None)
    assert result.status == "unknown-key"
    assert result.fingerprint and result.fingerprint[-16:] in result.explanation.replace(" ", "")
    assert not _oracle_detached(world, MIME_PART, signature)


def test_detached_from_mismatch(world: World) -> None:
    signature = _detach(world, "bob@lab.example")
    result = pgp.verify_detached(MIME_PART, signature, world.public_keys, "alice@clinic.example")
    assert result.status == "signer-mismatch"
    assert result.signer_email == "bob@lab.example"
    assert _oracle_detached(world, MIME_PART, signature)  # cryptographically good


def test_detached_by_an_expired_key(world: World) -> None:
    past = ("--faked-system-time", "20200101T060000!")
    signature = world.maker.run(
        *past, "--detach-sign", "--armor", "--local-user", "olaf@old.example", data=MIME_PART
    ).stdout
    result = pgp.verify_detached(MIME_PART, signature, world.public_keys, "olaf@old.example")
    assert result.status == "expired", result
    assert result.fingerprint == world.expired_fpr
    assert not _oracle_detached(world, MIME_PART, signature)


def test_detached_with_garbage_signature(world: World) -> None:
    for junk in (b"", b"hello", b"-----BEGIN PGP SIGNATURE-----\n\nAAAA\n-----END PGP SIG"):
        result = pgp.verify_detached(MIME_PART, junk, world.public_keys, None)
        assert result.status == "invalid" and result.explanation


def test_opaque_signed_message_in_the_signature_slot_is_refused(world: World) -> None:
    other = world.maker.run(
        "--sign", "--armor", "--local-user", "alice@clinic.example", data=b"something else\n"
    ).stdout
    result = pgp.verify_detached(MIME_PART, other, world.public_keys, None)
    assert result.status == "invalid"


# ---- clear-signed and inline ---------------------------------------------------------------------


def test_clear_signed_text(world: World) -> None:
    signed = _clearsign(world, "alice@clinic.example")
    result, text = pgp.verify_inline(signed, world.public_keys, "alice@clinic.example")
    assert result.status == "valid" and text == PLAIN
    assert world.oracle_verify(data=signed)


def test_opaque_signed_message(world: World) -> None:
    signed = world.maker.run("--sign", "--local-user", "bob@lab.example", data=PLAIN).stdout
    result, text = pgp.verify_inline(signed, world.public_keys, "bob@lab.example")
    assert result.status == "valid" and text == PLAIN
    assert world.oracle_verify(data=signed)


def test_tampered_clear_signed_text_is_invalid(world: World) -> None:
    signed = _clearsign(world, "alice@clinic.example")
    altered = signed.replace(b"normal", b"urgent")
    result, text = pgp.verify_inline(altered, world.public_keys, "alice@clinic.example")
    assert result.status == "invalid" and "altered" in result.explanation
    assert text is not None and b"urgent" in text
    assert not world.oracle_verify(data=altered)


def test_clear_signed_by_carol_is_unknown_key(world: World) -> None:
    signed = _clearsign(world, "carol@elsewhere.example")
    result, _text = pgp.verify_inline(signed, world.public_keys, "carol@elsewhere.example")
    assert result.status == "unknown-key"
    assert not world.oracle_verify(data=signed)


def test_clear_signed_by_expired_key(world: World) -> None:
    signed = _clearsign(world, "olaf@old.example", PLAIN, "--faked-system-time", "20200101T060000!")
    result, text = pgp.verify_inline(signed, world.public_keys, "olaf@old.example")
    assert result.status == "expired" and text == PLAIN
    assert not world.oracle_verify(data=signed)


def test_clear_signed_from_mismatch(world: World) -> None:
    signed = _clearsign(world, "alice@clinic.example")
    result, _text = pgp.verify_inline(signed, world.public_keys, "Mallory <alice@clinic.evil>")
    assert result.status == "signer-mismatch"
    # no From given: nothing to compare
    result, _text = pgp.verify_inline(signed, world.public_keys, None)
    assert result.status == "valid"


def test_revoked_key_is_invalid(world: World) -> None:
    uid = "Rita <rita@revoked.example>"
    world.maker.run("--quick-gen-key", uid, "ed25519", "sign,cert", "1y")
    fpr = world.maker.fingerprint("rita@revoked.example")
    signed = _clearsign(world, "rita@revoked.example")
    certificate = (world.maker.home / "openpgp-revocs.d" / f"{fpr}.rev").read_text()
    world.maker.run("--import", data=certificate.replace(":-----BEGIN", "-----BEGIN").encode())
    revoked = world.maker.public("rita@revoked.example")
    result, _text = pgp.verify_inline(signed, [*world.public_keys, revoked], None)
    assert result.status == "invalid" and "revoked" in result.explanation


def test_two_concatenated_clear_signed_blocks_are_not_valid(world: World) -> None:
    first = _clearsign(world, "alice@clinic.example")
    second = _clearsign(world, "alice@clinic.example", b"Also: transfer the money.\n")
    result, _text = pgp.verify_inline(first + second, world.public_keys, None)
    assert result.status != "valid"


def test_encrypted_data_is_not_signed_text(world: World) -> None:
    blob = _encrypt(world, "alice@clinic.example")
    result, text = pgp.verify_inline(blob, world.public_keys, None)
    assert result.status == "invalid" and text is None


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"plain words\n",
        b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhi\n",
        b"-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nhi\n-----BEGIN PGP SIGNATURE-----\n"
        b"\n!!!!\n-----END PGP SIGNATURE-----\n",
        b"\x80\x81\x82\xff" * 100,
    ],
)
def test_inline_garbage(world: World, data: bytes) -> None:
    result, _text = pgp.verify_inline(data, world.public_keys, None)
    assert result.status == "invalid" and result.explanation


# ---- mutation fuzz -------------------------------------------------------------------------------


def _mutate(rng: random.Random, blob: bytes) -> bytes:
    data = bytearray(blob)
    for _ in range(rng.randint(1, 3)):
        if not data:
            break
        kind = rng.randrange(5)
        at = rng.randrange(len(data))
        if kind == 0:
            data[at] ^= 1 << rng.randrange(8)
        elif kind == 1:
            data[at] = rng.randrange(256)
        elif kind == 2:
            del data[at : at + rng.randint(1, 16)]
        elif kind == 3:
            data[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 8)))
        else:
            data = data[:at]
    return bytes(data)


def _trimmed(text: bytes | None) -> bytes | None:
    if text is None:
        return None
    return b"\n".join(line.rstrip() for line in text.replace(b"\r\n", b"\n").split(b"\n"))


def test_mutation_fuzz(world: World) -> None:
    rng = random.Random(20240611)
    binary = _encrypt(world, "alice@clinic.example", sign_as="bob@lab.example", armor=False)
    armored = _encrypt(world, "alice@clinic.example", sign_as="bob@lab.example")
    signed = _clearsign(world, "alice@clinic.example")
    secrets = [(world.alice_secret, PASS)]
    for round_ in range(100):
        choice = round_ % 4
        if choice in (0, 1):
            mutated = _mutate(rng, binary if choice == 0 else armored)
            result = pgp.decrypt(mutated, secrets, world.public_keys, "bob@lab.example")
            if result.ok:
                assert result.content == PLAIN, (round_, mutated)
            else:
                assert result.error and result.content is None
                assert result.signature.status == "none"
        elif choice == 2:
            mutated = _mutate(rng, signed)
            signature, text = pgp.verify_inline(mutated, world.public_keys, None)
            if signature.status == "valid":
                assert _trimmed(text) == _trimmed(PLAIN), (round_, mutated)
        else:
            mutated = _mutate(rng, base64.b64encode(binary))
            assert pgp.recipients_of(mutated) is not None
            result = pgp.decrypt(mutated, secrets, world.public_keys, None)
            assert not result.ok or result.content == PLAIN


def test_large_garbage_that_gpg_stops_reading_early(world: World) -> None:
    rng = random.Random(7)
    junk = bytes([0x85]) + rng.randbytes(8 * 1024 * 1024)
    result = pgp.decrypt(junk, [(world.alice_secret, PASS)], world.public_keys, None)
    assert not result.ok and result.error
    signature, _text = pgp.verify_inline(junk, world.public_keys, None)
    assert signature.status == "invalid"
    assert pgp.verify_detached(junk, junk, world.public_keys, None).status == "invalid"
    assert pgp.recipients_of(junk) == []


def test_hidden_recipient(world: World) -> None:
    blob = world.maker.run(
        "--armor", "--encrypt", "--throw-keyids", "--recipient", "alice@clinic.example", data=PLAIN
    ).stdout
    assert pgp.recipients_of(blob) == ["0000000000000000"]
    result = pgp.decrypt(blob, [(world.alice_secret, PASS)], world.public_keys, None)
    assert result.ok and result.content == PLAIN == world.oracle_decrypt(blob)


def test_empty_passphrase_for_a_protected_key(world: World) -> None:
    blob = _encrypt(world, "alice@clinic.example")
    result = pgp.decrypt(blob, [(world.alice_secret, "")], world.public_keys, None)
    assert not result.ok and result.error and "passphrase" in result.error


def test_same_key_twice_with_different_passphrases(world: World) -> None:
    blob = _encrypt(world, "alice@clinic.example")
    keys = [(world.alice_secret, "stale"), (world.alice_secret, PASS)]
    result = pgp.decrypt(blob, keys, world.public_keys, None)
    assert result.ok and result.content == PLAIN


def test_unprotected_secret_key_with_empty_passphrase(world: World) -> None:
    uid = "Uma <uma@open.example>"
    world.maker.run("--quick-gen-key", uid, "ed25519", "sign,cert", "1y", passphrase="")
    fpr = world.maker.fingerprint("uma@open.example")
    world.maker.run("--quick-add-key", fpr, "cv25519", "encr", "1y", passphrase="")
    secret = world.maker.run("--armor", "--export-secret-keys", fpr, passphrase="").stdout
    blob = _encrypt(world, "uma@open.example")
    result = pgp.decrypt(blob, [(secret.decode(), "")], [], None)
    assert result.ok and result.content == PLAIN and result.key_used == fpr
