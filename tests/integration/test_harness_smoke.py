"""Smoke tests proving each real component of the harness works (and fails when it should)."""

from __future__ import annotations

import contextlib
import email
import email.policy
import os
import re
import secrets
import socket
import ssl
import threading
import uuid
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from pathlib import Path

import dkim
import dns.resolver
import keyring
import keyring.errors
import pytest
import secretstorage
from imapclient import IMAPClient
from imapclient.exceptions import LoginError
from imapclient.imapclient import SENT
from keyring.backends import SecretService

from tests.harness.dovecot import Dovecot
from tests.harness.gnupg_home import GnupgHome
from tests.harness.mta import MailChain, loopback_dnsfunc
from tests.harness.pki import CertPair, Pki

EXPECTED_SPECIAL_USE = {
    "Sent": b"\\Sent",
    "Junk": b"\\Junk",
    "Trash": b"\\Trash",
    "Archive": b"\\Archive",
}


def _ctx(ca_pem: Path) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_pem))


def _assert_folders(client: IMAPClient) -> None:
    folders = {name: set(flags) for flags, _delim, name in client.list_folders()}
    for name in ("INBOX", "BACKUP", *EXPECTED_SPECIAL_USE):
        assert name in folders, f"{name} missing from {sorted(folders)}"
    for name, flag in EXPECTED_SPECIAL_USE.items():
        assert flag in folders[name], f"{name} lacks {flag!r}: {folders[name]}"
    assert client.find_special_folder(SENT) == "Sent"
    assert "BACKUP" in {name for _flags, _delim, name in client.list_sub_folders()}


def _assert_tls(client: IMAPClient) -> None:
    sock = client.socket()
    assert isinstance(sock, ssl.SSLSocket)
    assert sock.version() in ("TLSv1.2", "TLSv1.3")


# -- IMAP ------------------------------------------------------------------------------------
def test_imap_implicit_tls_login_and_folders(dovecot: Dovecot) -> None:
    with IMAPClient(
        dovecot.host, dovecot.imaps_port, ssl=True, ssl_context=_ctx(dovecot.ca_pem), timeout=10
    ) as client:
        _assert_tls(client)
        client.login("alice", dovecot.users["alice"])
        assert b"SPECIAL-USE" in client.capabilities()
        _assert_folders(client)


def test_imap_starttls_login_and_folders(dovecot: Dovecot) -> None:
    with IMAPClient(dovecot.host, dovecot.imap_port, ssl=False, timeout=10) as client:
        assert b"STARTTLS" in client.capabilities()
        client.starttls(_ctx(dovecot.ca_pem))
        _assert_tls(client)
        client.login("bob", dovecot.users["bob"])
        _assert_folders(client)


def test_imap_wrong_password_is_rejected(dovecot: Dovecot) -> None:
    with (
        IMAPClient(
            dovecot.host, dovecot.imaps_port, ssl=True, ssl_context=_ctx(dovecot.ca_pem), timeout=10
        ) as client,
        pytest.raises(LoginError),
    ):
        client.login("alice", "not-the-password")


def test_imap_client_without_ca_fails_verification(dovecot: Dovecot) -> None:
    untrusting = ssl.create_default_context()  # system roots only: our CA is not among them
    with pytest.raises(ssl.SSLCertVerificationError):
        IMAPClient(dovecot.host, dovecot.imaps_port, ssl=True, ssl_context=untrusting, timeout=10)
    client = IMAPClient(dovecot.host, dovecot.imap_port, ssl=False, timeout=10)
    try:
        with pytest.raises(ssl.SSLCertVerificationError):
            client.starttls(untrusting)
    finally:
        with contextlib.suppress(OSError):  # the failed handshake already closed the socket
            client.shutdown()


# -- PKI helpers (expired / wrong-host certificates really fail verification) ---------------
def _handshake_error(pki: Pki, pair: CertPair, server_hostname: str) -> str | None:
    server_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_ctx.load_cert_chain(pair.cert_pem, pair.key_pem)
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]

        def serve() -> None:
            conn, _ = listener.accept()
            try:
                with server_ctx.wrap_socket(conn, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        try:
            with (
                socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
                _ctx(pki.ca_pem).wrap_socket(raw, server_hostname=server_hostname),
            ):
                return None
        except ssl.SSLCertVerificationError as exc:
            return exc.verify_message
        finally:
            thread.join(5)


def test_pki_certificates_verify_as_intended(pki: Pki) -> None:
    assert _handshake_error(pki, pki.server, "localhost") is None
    assert _handshake_error(pki, pki.server, "127.0.0.1") is None
    expired = _handshake_error(pki, pki.expired_server_cert(), "localhost")
    assert expired is not None and "expired" in expired
    wrong = _handshake_error(pki, pki.wrong_host_server_cert(), "localhost")
    assert wrong is not None and "mismatch" in wrong.lower()


# -- Secret Service keyring ------------------------------------------------------------------
def test_keyring_roundtrip_through_secret_service(
    secret_keyring: SecretService.Keyring,
) -> None:
    assert type(secret_keyring) is SecretService.Keyring
    # The session script selects the backend for the code under test as well.
    assert type(keyring.get_keyring()) is SecretService.Keyring
    service = f"mailproof-smoke-{uuid.uuid4().hex}"
    small = "s3cret-äöü-✓"
    big = secrets.token_hex(100_000)  # 200 000 characters
    try:
        secret_keyring.set_password(service, "alice", small)
        secret_keyring.set_password(service, "big", big)
        assert secret_keyring.get_password(service, "alice") == small
        assert secret_keyring.get_password(service, "big") == big
        # The item really lives in the Secret Service's default collection.
        conn = secretstorage.dbus_init()
        try:
            collection = secretstorage.get_default_collection(conn)
            items = list(collection.search_items({"service": service, "username": "big"}))
            assert len(items) == 1
            assert items[0].get_secret() == big.encode()
        finally:
            conn.close()
    finally:
        for user in ("alice", "big"):
            with contextlib.suppress(keyring.errors.PasswordDeleteError):
                secret_keyring.delete_password(service, user)
    assert secret_keyring.get_password(service, "alice") is None
    assert secret_keyring.get_password(service, "big") is None
    with pytest.raises(keyring.errors.PasswordDeleteError):
        secret_keyring.delete_password(service, "alice")


# -- GnuPG -----------------------------------------------------------------------------------
def test_gnupg_encrypt_decrypt_and_wrong_passphrase(gnupg_home: GnupgHome) -> None:
    gpg = gnupg_home.gpg
    plaintext = os.urandom(512) + b"mailproof smoke"
    encrypted = gpg.encrypt(plaintext, gnupg_home.fingerprint, armor=True, always_trust=True)
    assert encrypted.ok, encrypted.status
    assert plaintext not in encrypted.data
    assert encrypted.data.startswith(b"-----BEGIN PGP MESSAGE-----")

    good = gpg.decrypt(encrypted.data, passphrase=gnupg_home.passphrase)
    assert good.ok, (good.status, good.stderr)
    assert good.data == plaintext
    # Right after a successful decryption: with any agent caching, this would succeed.
    bad = gpg.decrypt(encrypted.data, passphrase="wrong passphrase")
    assert not bad.ok
    assert bad.data == b""
    again = gpg.decrypt(encrypted.data, passphrase=gnupg_home.passphrase)
    assert again.ok and again.data == plaintext


# -- Mail chain with DKIM --------------------------------------------------------------------
def _dkim_tags(header: str) -> dict[str, str]:
    flat = re.sub(r"\s+", "", header)
    return dict(part.split("=", 1) for part in flat.split(";") if "=" in part)


def test_mail_chain_delivers_with_received_chain_and_valid_dkim(
    mail_chain: MailChain, dovecot: Dovecot
) -> None:
    msgid = make_msgid(idstring="smoke", domain="sender.test")
    msg = EmailMessage()
    msg["From"] = "Someone <someone@sender.test>"
    msg["To"] = "Alice <alice@example.test>"
    msg["Subject"] = "Harness smoke: delivery chain"
    msg["Date"] = format_datetime(email.utils.localtime())
    msg["Message-ID"] = msgid
    msg.set_content("Hello Alice,\nthis is proof of delivery 0123456789.\n")
    raw = msg.as_bytes(policy=email.policy.SMTP)

    mail_chain.send("someone@sender.test", "alice@example.test", raw)
    stored = mail_chain.wait_for_delivery("alice", timeout=20, message_id=msgid)

    parsed = email.message_from_bytes(stored, policy=email.policy.compat32)
    received = [re.sub(r"\s+", " ", r) for r in parsed.get_all("Received", [])]
    assert len(received) >= 3, received
    assert "by mx.example.test with LMTP" in received[0]
    assert any("by mx.example.test (Postfix)" in r for r in received)
    assert any("by smtp.sender.test (Postfix)" in r for r in received)
    signatures = parsed.get_all("DKIM-Signature", [])
    assert len(signatures) == 1, signatures
    tags = _dkim_tags(signatures[0])
    assert tags["d"] == "sender.test"
    assert tags["s"] == mail_chain.dkim_selector
    assert tags["a"] == "rsa-sha256"
    assert tags["c"] == "relaxed/relaxed"

    with IMAPClient(
        dovecot.host, dovecot.imaps_port, ssl=True, ssl_context=_ctx(dovecot.ca_pem), timeout=10
    ) as client:
        client.login("alice", dovecot.users["alice"])
        client.select_folder("INBOX", readonly=True)
        uids = client.search(["HEADER", "Message-ID", msgid])
        assert len(uids) == 1
        fetched = client.fetch(uids, [b"BODY.PEEK[]"])[uids[0]][b"BODY[]"]
    assert fetched.replace(b"\r\n", b"\n") == stored.replace(b"\r\n", b"\n")

    # The key record is long enough to need several <=255-byte TXT strings.
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = ["127.0.0.1"]
    resolver.port = mail_chain.dns_port
    answer = resolver.resolve(f"{mail_chain.dkim_selector}._domainkey.sender.test", "TXT")
    strings = answer[0].strings
    assert len(strings) >= 2 and all(len(s) <= 255 for s in strings)

    lookups: list[bytes] = []
    base_dnsfunc = loopback_dnsfunc(mail_chain.dns_port)

    def dnsfunc(name: bytes, timeout: float = 5) -> bytes | None:
        lookups.append(name)
        return base_dnsfunc(name, timeout)

    assert dkim.verify(fetched, dnsfunc=dnsfunc) is True
    assert dkim.verify(stored, dnsfunc=dnsfunc) is True
    assert lookups and all(n.rstrip(b".") == b"sel1._domainkey.sender.test" for n in lookups)

    tampered = fetched.replace(b"proof of delivery", b"proof of dElivery", 1)
    assert tampered != fetched and len(tampered) == len(fetched)
    assert dkim.verify(tampered, dnsfunc=dnsfunc) is False


def test_dovecot_lmtp_delivery_to_bob(dovecot: Dovecot) -> None:
    msgid = make_msgid(idstring="lmtp", domain="example.test")
    raw = (
        f"From: a@example.test\r\nTo: bob@example.test\r\nSubject: lmtp\r\n"
        f"Message-ID: {msgid}\r\n\r\nvia LMTP\r\n"
    ).encode()
    dovecot.deliver_lmtp("bob", raw)
    inbox = dovecot.maildir("bob")
    files = [p for sub in ("new", "cur") for p in (inbox / sub).iterdir()]
    assert any(msgid.encode() in p.read_bytes() for p in files)
