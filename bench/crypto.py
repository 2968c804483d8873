"""Decrypt+verify throughput: Mailproof's in-memory S/MIME and OpenPGP reading, compared with
`openssl cms -decrypt` and `gpg --decrypt` run once per message (what a script would do).

Makes N S/MIME messages (signed by one key, then encrypted to another: RSA-2048, AES-256-GCM,
RSA-OAEP) with `openssl cms`, and N OpenPGP messages (PGP/MIME, signed+encrypted, ed25519/
cv25519) with `gpg`, then prints messages/s for each reader and the ratio, and peak RSS.
Prints figures, asserts nothing.

    .venv/bin/python bench/crypto.py                      # 1,000 + 1,000 messages
    .venv/bin/python bench/crypto.py --messages 100 --sample 50
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import scratch_dir, self_maxrss_mb  # (puts the repository root on sys.path)
from cryptography.hazmat.primitives.serialization import pkcs12

from app.crypto.secure import KeyMaterial, read_secure

PASS = "bench"


def run(*args: str, data: bytes | None = None, env: dict[str, str] | None = None) -> bytes:
    return subprocess.run(args, input=data, capture_output=True, check=True, env=env).stdout


def make_smime(work: Path, count: int) -> tuple[list[bytes], Path, Path, KeyMaterial]:
    for name in ("lena", "marta"):
        run("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout",
            str(work / f"{name}.key"), "-out", str(work / f"{name}.pem"), "-days", "30",
            "-subj", f"/CN={name}/emailAddress={name}@bench.example",
            "-addext", f"subjectAltName=email:{name}@bench.example")  # fmt: skip
    run("openssl", "pkcs12", "-export", "-inkey", str(work / "lena.key"), "-in",
        str(work / "lena.pem"), "-passout", f"pass:{PASS}",
        "-out", str(work / "lena.p12"))  # fmt: skip
    p12 = (work / "lena.p12").read_bytes()
    key, cert, _ = pkcs12.load_key_and_certificates(p12, PASS.encode())
    messages = []
    for index in range(count):
        body = (
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            + f"Befund {index}: "
            + "Kalium 4,1 mmol/l. " * 40
            + "\r\n"
        ).encode()
        signed = run("openssl", "cms", "-sign", "-signer", str(work / "marta.pem"), "-inkey",
                     str(work / "marta.key"), data=body)  # fmt: skip
        messages.append(
            run(
                "openssl",
                "cms",
                "-encrypt",
                "-aes-256-gcm",
                "-from",
                "marta@bench.example",
                "-to",
                "lena@bench.example",
                "-subject",
                f"Befund {index}",
                "-recip",
                str(work / "lena.pem"),
                "-keyopt",
                "rsa_padding_mode:oaep",
                data=signed,
            )  # fmt: skip
        )
    material = KeyMaterial(smime=[("smime:lena", key, cert)], anchors=[])
    return messages, work / "lena.pem", work / "lena.key", material


def make_pgp(work: Path, count: int) -> tuple[list[bytes], Path, KeyMaterial]:
    home = Path(tempfile.mkdtemp(prefix="mpb", dir="/tmp"))
    home.chmod(0o700)
    (home / "gpg-agent.conf").write_text("allow-loopback-pinentry\n")
    base = ["gpg", "--homedir", str(home), "--batch", "--pinentry-mode", "loopback",
            "--passphrase", PASS, "--trust-model", "always"]  # fmt: skip
    fingerprints = {}
    for name in ("lena", "katrin"):
        run(
            *base, "--quick-gen-key", f"{name} <{name}@bench.example>", "ed25519", "sign,cert", "1y"
        )
        listing = run("gpg", "--homedir", str(home), "--list-keys", "--with-colons", name).decode()
        fingerprint = next(x.split(":")[9] for x in listing.splitlines() if x.startswith("fpr"))
        run(*base, "--quick-add-key", fingerprint, "cv25519", "encr", "1y")
        fingerprints[name] = fingerprint
    secret = run(*base, "--armor", "--export-secret-keys", fingerprints["lena"]).decode()
    public = run(
        "gpg", "--homedir", str(home), "--armor", "--export", fingerprints["katrin"]
    ).decode()
    messages = []
    for index in range(count):
        inner = (
            "Content-Type: text/plain; charset=utf-8\r\n\r\n"
            + f"Dienstplan {index}: "
            + "Station 4B Rufbereitschaft. " * 30
            + "\r\n"
        ).encode()
        armored = run(*base, "--armor", "--sign", "-u", fingerprints["katrin"], "--encrypt",
                      "-r", fingerprints["lena"], data=inner)  # fmt: skip
        messages.append(
            b"From: katrin@bench.example\r\nTo: lena@bench.example\r\nSubject: plan\r\n"
            b"MIME-Version: 1.0\r\nContent-Type: multipart/encrypted; "
            b'protocol="application/pgp-encrypted"; boundary="b"\r\n\r\n--b\r\n'
            b"Content-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b\r\n"
            b"Content-Type: application/octet-stream\r\n\r\n" + armored + b"\r\n--b--\r\n"
        )
    material = KeyMaterial(pgp_secret=[("pgp:lena", secret, PASS)], pgp_public=[public])
    return messages, home, material


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:8.1f} msg/s  ({seconds * 1000 / count:6.1f} ms each)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--sample", type=int, default=200, help="messages for the CLI baselines")
    args = parser.parse_args()
    os.environ.setdefault("MAILPROOF_HOME", tempfile.mkdtemp(prefix="mpbench-home-"))
    with scratch_dir("mpbench-crypto-") as work:
        started = time.perf_counter()
        smime_messages, lena_pem, lena_key, smime_keys = make_smime(work, args.messages)
        pgp_messages, gpg_home, pgp_keys = make_pgp(work, args.messages)
        print(f"made {args.messages} S/MIME + {args.messages} OpenPGP messages with openssl/gpg "
              f"in {time.perf_counter() - started:.0f} s")  # fmt: skip

        started = time.perf_counter()
        for message in smime_messages:
            reading = read_secure(message, keys=lambda: smime_keys)
            assert reading.encryption.status == "decrypted", reading.encryption.error
        smime_ours = time.perf_counter() - started

        sample = smime_messages[: args.sample]
        started = time.perf_counter()
        for message in sample:
            run("openssl", "cms", "-decrypt", "-recip", str(lena_pem), "-inkey", str(lena_key),
                data=message)  # fmt: skip
        smime_cli = time.perf_counter() - started

        started = time.perf_counter()
        for message in pgp_messages:
            reading = read_secure(message, keys=lambda: pgp_keys)
            assert reading.encryption.status == "decrypted", reading.encryption.error
            assert reading.signature.status == "valid", reading.signature.explanation
        pgp_ours = time.perf_counter() - started

        env = {**os.environ, "GNUPGHOME": str(gpg_home)}
        pgp_sample = pgp_messages[: args.sample]
        started = time.perf_counter()
        for message in pgp_sample:
            armored = message.split(b"application/octet-stream\r\n\r\n", 1)[1]
            run("gpg", "--batch", "--pinentry-mode", "loopback", "--passphrase", PASS,
                "--decrypt", data=armored, env=env)  # fmt: skip
        pgp_cli = time.perf_counter() - started
        subprocess.run(["gpgconf", "--homedir", str(gpg_home), "--kill", "all"], check=False)
        shutil.rmtree(gpg_home, ignore_errors=True)

        print()
        print("S/MIME (signed, then AES-256-GCM + RSA-OAEP), decrypt + verify:")
        print(f"  Mailproof read_secure, in process   {rate(args.messages, smime_ours)}")
        print(f"  openssl cms -decrypt, per process   {rate(len(sample), smime_cli)}  "
              "(decrypt only, no verify)")  # fmt: skip
        ratio = (args.messages / smime_ours) / (len(sample) / smime_cli)
        print(f"  ratio Mailproof / openssl           {ratio:8.2f}x")
        print("OpenPGP (PGP/MIME signed+encrypted, ed25519/cv25519), decrypt + verify:")
        print(f"  Mailproof read_secure (gpg inside)  {rate(args.messages, pgp_ours)}")
        print(f"  gpg --decrypt, per process          {rate(len(pgp_sample), pgp_cli)}  "
              "(warm agent and keyring; no key import per message)")  # fmt: skip
        ratio = (args.messages / pgp_ours) / (len(pgp_sample) / pgp_cli)
        print(f"  ratio Mailproof / gpg               {ratio:8.2f}x")
        print(f"peak RSS of this process: {self_maxrss_mb():.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
