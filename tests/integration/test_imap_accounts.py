"""Accounts and transport security against the real Dovecot: what is accepted, what is refused."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.errors import AuthError, TLSError
from app.imap.account import Account
from app.imap.connection import connect
from tests.harness.dovecot import Dovecot
from tests.harness.pki import Pki

MAILPROOF = Path(sys.executable).with_name("mailproof")


def _server(harness_dir: Path, pki: Pki, name: str, **options: object) -> Iterator[Dovecot]:
    with Dovecot(harness_dir / name, pki, **options) as server:  # type: ignore[arg-type]
        yield server


@pytest.fixture(scope="module")
def expired_server(harness_dir: Path, pki: Pki) -> Iterator[Dovecot]:
    yield from _server(harness_dir, pki, "dovecot-expired", cert=pki.expired_server_cert())


@pytest.fixture(scope="module")
def wrong_host_server(harness_dir: Path, pki: Pki) -> Iterator[Dovecot]:
    yield from _server(harness_dir, pki, "dovecot-wronghost", cert=pki.wrong_host_server_cert())


@pytest.fixture(scope="module")
def no_tls_server(harness_dir: Path, pki: Pki) -> Iterator[Dovecot]:
    yield from _server(harness_dir, pki, "dovecot-notls", tls=False)


@pytest.fixture(scope="module")
def remote_server(harness_dir: Path, pki: Pki) -> Iterator[Dovecot]:
    """On 127.0.0.2: Dovecot does not treat a client on 127.0.0.1 as local, so it wants TLS."""
    yield from _server(harness_dir, pki, "dovecot-remote", host="127.0.0.2")


def account(server: Dovecot, security: str = "tls", **changes: object) -> Account:
    values: dict[str, object] = {
        "name": "work",
        "host": server.host,
        "port": server.imaps_port if security == "tls" else server.imap_port,
        "security": security,
        "user": "alice",
        "ca_file": str(server.ca_pem),
    }
    values.update(changes)
    return Account(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_verified_tls_login_reports_version_and_capabilities(dovecot: Dovecot, security) -> None:
    client, info = connect(account(dovecot, security), dovecot.users["alice"])
    try:
        assert info.tls_version in ("TLSv1.2", "TLSv1.3")
        assert info.cipher
        assert "IMAP4REV1" in info.capabilities
        names = {name for _flags, _separator, name in client.list_folders()}
        assert {"INBOX", "Sent", "Junk", "Trash", "BACKUP"} <= names
    finally:
        client.logout()


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_certificate_from_an_unknown_ca_is_refused(
    dovecot: Dovecot, harness_dir: Path, security
) -> None:
    other_ca = Pki(harness_dir / "other-ca", ca_name="Somebody Else CA")
    with pytest.raises(TLSError) as caught:
        connect(account(dovecot, security, ca_file=str(other_ca.ca_pem)), "alicepw")
    text = str(caught.value)
    assert "not signed by a trusted authority" in text and "--ca-file" in text


def test_system_trust_alone_refuses_the_private_ca(dovecot: Dovecot) -> None:
    with pytest.raises(TLSError, match="trusted authority"):
        connect(account(dovecot, "tls", ca_file=None), "alicepw")


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_expired_certificate_is_refused(expired_server: Dovecot, security) -> None:
    with pytest.raises(TLSError, match="expired"):
        connect(account(expired_server, security), "alicepw")


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_certificate_for_another_host_name_is_refused(wrong_host_server: Dovecot, security) -> None:
    with pytest.raises(TLSError, match="not valid for the name '127.0.0.1'"):
        connect(account(wrong_host_server, security), "alicepw")


def test_server_without_starttls_is_refused_before_any_login(no_tls_server: Dovecot) -> None:
    with pytest.raises(TLSError, match="does not offer STARTTLS"):
        connect(account(no_tls_server, "starttls"), "alicepw")
    log = no_tls_server.log_path.read_text(errors="replace")
    assert "user=<alice>" not in log  # the password never went over the wire


def test_insecure_lab_account_logs_in_only_when_explicitly_allowed(no_tls_server: Dovecot) -> None:
    with pytest.raises(Exception, match="--allow-insecure"):
        account(no_tls_server, "plain")
    lab = account(no_tls_server, "plain", allow_insecure=True)
    assert lab.warning and "unencrypted" in lab.warning
    client, info = connect(lab, "alicepw")
    client.logout()
    assert info.tls_version is None


def test_plaintext_login_is_refused_when_the_server_demands_tls(remote_server: Dovecot) -> None:
    lab = account(remote_server, "plain", allow_insecure=True)
    with pytest.raises(AuthError, match="LOGINDISABLED"):
        connect(lab, "alicepw")
    # the same server over STARTTLS with its certificate for 127.0.0.2 works
    client, info = connect(account(remote_server, "starttls"), "alicepw")
    client.logout()
    assert info.tls_version


def test_wrong_password_is_an_auth_error_without_the_password(dovecot: Dovecot) -> None:
    secret = "Wr0ng-s3cret-pw"
    with pytest.raises(AuthError) as caught:
        connect(account(dovecot, "tls"), secret)
    assert "alice" in str(caught.value)
    assert secret not in str(caught.value) and secret not in repr(caught.value.__cause__)


# ---- the CLI, with the password in the real Secret Service keyring -------------------------


def run(home: Path, *args: str, password: str | None = None, env: dict[str, str] | None = None):
    environment = {**os.environ, "MAILPROOF_HOME": str(home), **(env or {})}
    return subprocess.run(
        [str(MAILPROOF), *args],
        input=password and password + "\n",
        capture_output=True,
        text=True,
        env=environment,
        timeout=60,
    )


def add_args(server: Dovecot, name: str = "work") -> list[str]:
    return [
        "account",
        "add",
        name,
        "--host",
        server.host,
        "--port",
        str(server.imaps_port),
        "--user",
        "alice",
        "--ca-file",
        str(server.ca_pem),
        "--password-stdin",
        "--json",
    ]


def test_cli_account_lifecycle_keeps_the_password_only_in_the_keyring(
    dovecot: Dovecot, secret_keyring, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    password = dovecot.users["alice"]
    added = run(home, *add_args(dovecot, "clinic"), password=password)
    assert added.returncode == 0, added.stderr
    result = json.loads(added.stdout)
    assert result["tested"] is True and result["connection"]["tls"]["version"]
    assert secret_keyring.get_password("mailproof", "clinic") == password

    listed = run(home, "account", "list", "--json")
    assert [json.loads(line)["name"] for line in listed.stdout.splitlines()] == ["clinic"]
    tested = run(home, "account", "test", "clinic", "--json")
    assert tested.returncode == 0 and json.loads(tested.stdout)["ok"] is True

    for path in home.rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), f"password found in {path}"

    removed = run(home, "account", "remove", "clinic", "--json")
    assert removed.returncode == 0 and json.loads(removed.stdout)["removed"] is True
    assert secret_keyring.get_password("mailproof", "clinic") is None
    assert run(home, "account", "list", "--json").stdout == ""


def test_cli_add_with_a_wrong_password_saves_nothing(
    dovecot: Dovecot, secret_keyring, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    added = run(home, *add_args(dovecot, "typo"), password="not-the-password")
    assert added.returncode == 1
    errors = [line for line in added.stderr.splitlines() if line.startswith("mailproof: error:")]
    assert len(errors) == 1 and "refused the login" in errors[0]
    assert "not-the-password" not in added.stderr
    assert "Traceback" not in added.stderr
    assert secret_keyring.get_password("mailproof", "typo") is None
    assert run(home, "account", "list").stdout == ""
    log = (home / "mailproof.log").read_text()
    assert "refused the login" in log  # the failure is logged, with its traceback…
    assert "not-the-password" not in log  # …but never the password


def test_cli_refuses_plaintext_without_allow_insecure(dovecot: Dovecot, tmp_path: Path) -> None:
    result = run(
        tmp_path / "home",
        "account",
        "add",
        "lab",
        "--host",
        "127.0.0.1",
        "--security",
        "plain",
        "--user",
        "alice",
        "--password-stdin",
        password="alicepw",
    )
    assert result.returncode == 2 and "--allow-insecure" in result.stderr


def test_cli_without_a_usable_keyring_says_so_and_stores_nothing(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    result = run(
        home,
        *add_args(dovecot, "nokeyring"),
        password="alicepw",
        env={"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"},
    )
    assert result.returncode == 3
    assert "no OS keyring is usable" in result.stderr
    assert "mailproof keyring use-file" in result.stderr
    assert "Traceback" not in result.stderr
    assert run(home, "account", "list").stdout == ""


def test_account_whose_ca_file_vanished_is_listed_tested_with_a_reason_and_removable(
    dovecot: Dovecot, secret_keyring, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    ca_copy = tmp_path / "ca-copy.pem"
    ca_copy.write_bytes(dovecot.ca_pem.read_bytes())
    args = add_args(dovecot, "fragile")
    args[args.index("--ca-file") + 1] = str(ca_copy)
    assert run(home, *args, password=dovecot.users["alice"]).returncode == 0
    ca_copy.unlink()
    listed = run(home, "account", "list", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout)["name"] == "fragile"
    tested = run(home, "account", "test", "fragile")
    assert tested.returncode == 1 and "no longer exists" in tested.stderr
    removed = run(home, "account", "remove", "fragile")
    assert removed.returncode == 0
    assert secret_keyring.get_password("mailproof", "fragile") is None
