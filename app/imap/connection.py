"""Connect and log in with verified TLS: implicit TLS or STARTTLS, never a silent fallback."""

from __future__ import annotations

import contextlib
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import imapclient
from imapclient.exceptions import IMAPClientError, LoginError

from app.errors import AuthError, ServerUnreachable, TLSError
from app.imap.account import Account
from app.imap.folders import RemoteFolder, list_folders

ClientFactory = Callable[..., Any]


@dataclass(frozen=True)
class ConnectionInfo:
    """What a successful connection proved, for `account test` and provenance."""

    server: str
    tls_version: str | None
    cipher: str | None
    capabilities: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "server": self.server,
            "tls": {"version": self.tls_version, "cipher": self.cipher}
            if self.tls_version
            else None,
            "capabilities": list(self.capabilities),
        }


def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Certificate and host name always verified: system trust, or the account's CA file."""
    if ca_file and not Path(ca_file).is_file():
        raise TLSError(
            f"the account's CA file {ca_file} no longer exists: give it again with --ca-file"
        )
    context = ssl.create_default_context(cafile=ca_file)
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def _explain_certificate(account: Account, err: ssl.SSLCertVerificationError) -> str:
    reason = err.verify_message or str(err)
    where = f"{account.host}:{account.port}"
    lowered = reason.lower()
    if "expired" in lowered:
        hint = "the server's certificate has expired; the server administrator must renew it"
    elif "hostname mismatch" in lowered or "ip address mismatch" in lowered:
        hint = f"the certificate is not valid for the name {account.host!r}; check the host name"
    elif "self-signed" in lowered or "local issuer" in lowered or "unable to get" in lowered:
        hint = (
            "the certificate is not signed by a trusted authority; if your organisation runs "
            "its own CA, give its certificate with --ca-file"
        )
    else:
        hint = "the certificate could not be verified"
    return f"TLS certificate of {where} refused: {reason} — {hint}. Nothing was sent."


def _tls_facts(client: Any) -> tuple[str | None, str | None]:
    sock = getattr(client, "socket", None)
    sock = sock() if callable(sock) else sock
    if isinstance(sock, ssl.SSLSocket):
        cipher = sock.cipher()
        return sock.version(), cipher[0] if cipher else None
    return None, None


def connect(
    account: Account,
    password: str,
    *,
    timeout: float = 30.0,
    factory: ClientFactory = imapclient.IMAPClient,
) -> tuple[Any, ConnectionInfo]:
    """A logged-in client and what the connection proved. Raises typed errors, never falls back.

    The password appears in no error text: messages name the account and user only.
    """
    where = f"{account.host}:{account.port}"
    context = tls_context(account.ca_file)
    client: Any = None
    try:
        if account.security == "tls":
            client = factory(
                account.host, port=account.port, ssl=True, ssl_context=context, timeout=timeout
            )
        else:
            client = factory(account.host, port=account.port, ssl=False, timeout=timeout)
            if account.security == "starttls":
                if b"STARTTLS" not in client.capabilities():
                    raise TLSError(
                        f"{where} does not offer STARTTLS: refusing to log in without encryption "
                        "(use --security tls for port 993, or --allow-insecure only for a lab "
                        "server)"
                    )
                client.starttls(context)
            elif not account.allow_insecure:  # Account() already forbids this; belt and braces
                raise TLSError(f"{account.name}: plaintext IMAP needs --allow-insecure")
        capabilities = client.capabilities()
        if b"LOGINDISABLED" in capabilities:
            raise AuthError(
                f"{where} forbids login on this connection (LOGINDISABLED): it wants TLS"
            )
        client.login(account.user, password)
        capabilities = client.capabilities()
    except ssl.SSLCertVerificationError as err:
        _close(client)
        raise TLSError(_explain_certificate(account, err)) from None
    except ssl.SSLError as err:
        _close(client)
        raise TLSError(f"TLS with {where} failed: {err.reason or err}. Nothing was sent.") from None
    except LoginError as err:
        _close(client)
        detail = str(err).strip() or "no reason given"
        raise AuthError(
            f"{where} refused the login of user {account.user!r} ({detail}); "
            "check the user name and password"
        ) from None
    except TimeoutError as err:
        _close(client)
        raise ServerUnreachable(f"{where} did not answer within {timeout:.0f} s") from err
    except (ConnectionError, socket.gaierror, OSError) as err:
        _close(client)
        reason = getattr(err, "strerror", None) or str(err)
        raise ServerUnreachable(f"cannot reach {where}: {reason}") from None
    except IMAPClientError as err:
        _close(client)
        raise ServerUnreachable(f"{where} answered unexpectedly: {err}") from None
    except BaseException:
        _close(client)
        raise
    version, cipher = _tls_facts(client)
    info = ConnectionInfo(
        server=where,
        tls_version=version,
        cipher=cipher,
        capabilities=tuple(sorted(c.decode("ascii", "replace") for c in capabilities)),
    )
    return client, info


def check_login(account: Account, password: str) -> ConnectionInfo:
    """Log in (verified TLS as the account says) and out again; what the connection proved."""
    client, info = connect(account, password)
    _close(client)
    return info


def server_folders(account: Account, password: str) -> list[RemoteFolder]:
    """The account's folders as the server lists them now."""
    client, _info = connect(account, password)
    try:
        try:
            return list_folders(client)
        except (IMAPClientError, OSError) as err:
            raise ServerUnreachable(
                f"{account.host}:{account.port} could not list folders: {err}"
            ) from None
    finally:
        _close(client)


def _close(client: Any) -> None:
    if client is None:
        return
    try:
        client.logout()
    except Exception:  # noqa: BLE001 - best effort on a connection already failing
        with contextlib.suppress(Exception):
            client.shutdown()
