"""Dovecot 2.3 IMAP (STARTTLS + implicit TLS) and LMTP on loopback, with passwd-file users."""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import smtplib
import socket
import ssl
import subprocess
from pathlib import Path

from tests.harness._process import (
    banner_probe,
    free_ports,
    kill_group,
    logs_tail,
    make_traversable,
    require_binary,
    start_group,
    stop_group,
    wait_until,
)
from tests.harness.pki import CertPair, Pki

APT_HINT = "dovecot-imapd dovecot-lmtpd dovecot-managesieved dovecot-sieve"
DEFAULT_USERS: dict[str, str] = {"alice": "alicepw", "bob": "bobpw"}
SPECIAL_FOLDERS: dict[str, str] = {
    "Sent": "\\Sent",
    "Junk": "\\Junk",
    "Trash": "\\Trash",
    "Archive": "\\Archive",
}


class Dovecot:
    """A private Dovecot instance under ``workdir``; call ``start()`` then ``stop()``.

    Attributes after start: ``host``, ``imap_port`` (STARTTLS), ``imaps_port`` (implicit TLS),
    ``lmtp_port``, ``ca_pem``, ``users`` (name -> password), ``log_path``.

    By default failed logins are answered at once and never slow later logins down
    (``auth_failure_delay = 0``, anvil auth penalty off); Dovecot's stock behaviour (2 s delay,
    then up to 15 s per-IP penalty for every following login, even correct ones, from
    127.0.0.1) comes back with ``auth_penalty=True``.
    """

    def __init__(
        self,
        workdir: Path,
        pki: Pki,
        host: str = "127.0.0.1",
        users: dict[str, str] | None = None,
        hostname: str = "mx.example.test",
        cert: CertPair | None = None,
        auth_penalty: bool = False,
        tls: bool = True,
        sieve: bool = False,
    ) -> None:
        self.workdir = Path(workdir)
        self.pki = pki
        self.host = host
        self.users = dict(users if users is not None else DEFAULT_USERS)
        self.hostname = hostname
        self.auth_penalty = auth_penalty
        self.tls = tls  # False: no TLS at all (no STARTTLS, no imaps) — for refusal tests
        self.sieve = sieve  # Pigeonhole: Sieve at LMTP delivery and ManageSieve on sieve_port
        self.sieve_port = 0
        if cert is None:
            cert = (
                pki.server
                if host == "127.0.0.1"
                else pki.issue_server_cert(
                    f"dovecot-{host}", ip_addresses=(host,), dns_names=("localhost",)
                )
            )
        self.cert = cert
        self.ca_pem: Path = pki.ca_pem
        self.imap_port = 0
        self.imaps_port = 0
        self.lmtp_port = 0
        self.conf_path = self.workdir / "dovecot.conf"
        self.log_path = self.workdir / "dovecot.log"
        self.stderr_path = self.workdir / "dovecot.stderr"
        self.mail_root = self.workdir / "mail"
        self._proc: subprocess.Popen[bytes] | None = None
        self._binary = require_binary("dovecot", APT_HINT)

    # -- paths -------------------------------------------------------------------------------
    def home(self, user: str) -> Path:
        """Home directory of ``user`` (Maildir lives below it)."""
        return self.mail_root / user

    def maildir(self, user: str) -> Path:
        """Root Maildir of ``user``; its ``new``/``cur`` hold INBOX, ``.Sent`` etc. the rest."""
        return self.home(user) / "Maildir"

    def renumber(self, user: str, folder: str) -> None:
        """Make Dovecot give ``folder`` a new UIDVALIDITY and UIDs from 1, as a server does
        after a restore or migration: drop its UID list and indexes (messages stay)."""
        path = self.maildir(user) if folder == "INBOX" else self.maildir(user) / f".{folder}"
        for name in os.listdir(path):
            if name == "dovecot-uidlist" or name.startswith("dovecot.index"):
                (path / name).unlink()

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self, attempts: int = 3, same_ports: bool = False) -> Dovecot:
        """Start Dovecot and wait until IMAP, IMAPS and LMTP greet; retry on port races.

        ``same_ports``: a restart on the ports of the last run (clients keep their settings).
        """
        make_traversable(self.workdir)
        last: RuntimeError | None = None
        for _ in range(attempts):
            if not (same_ports and self.imap_port):
                self.imap_port, self.imaps_port, self.lmtp_port, self.sieve_port = free_ports(
                    4, self.host
                )
            self._write_config()
            self._proc = start_group(
                [self._binary, "-F", "-c", str(self.conf_path)], self.stderr_path
            )
            try:
                probes = [(self.imap_port, b"* OK"), (self.lmtp_port, b"220 ")]
                if self.tls:
                    probes.insert(1, (self.imaps_port, b""))
                if self.sieve:
                    probes.append((self.sieve_port, b'"IMPLEMENTATION"'))
                for port, prefix in probes:
                    probe = banner_probe(self.host, port, prefix) if prefix else self._imaps_probe
                    wait_until(
                        probe,
                        f"dovecot on {self.host}:{port}",
                        logs=(self.stderr_path, self.log_path),
                        proc=self._proc,
                    )
                return self
            except RuntimeError as exc:
                last = exc
                self.stop()
                if "Address already in use" not in logs_tail((self.stderr_path, self.log_path)):
                    raise
        assert last is not None
        raise last

    def _imaps_probe(self) -> bool:
        # Readiness only: the certificate may be deliberately bad (expired, wrong host).
        ctx = ssl.create_default_context(cafile=str(self.ca_pem))
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with (
            socket.create_connection((self.host, self.imaps_port), timeout=1.0) as raw,
            ctx.wrap_socket(raw, server_hostname=self.host) as tls,
        ):
            tls.settimeout(2.0)
            return tls.recv(1024).startswith(b"* OK")

    def stop(self) -> None:
        """Stop the master and every child (process-group kill); idempotent."""
        if self._proc is None:
            return
        stop_group(self._proc.pid, self._proc)
        self._proc = None

    def crash(self) -> None:
        """Kill the master and every child at once (SIGKILL), as a power cut or OOM kill does:
        open connections drop mid-response."""
        if self._proc is None:
            return
        kill_group(self._proc.pid, signal.SIGKILL)
        stop_group(self._proc.pid, self._proc)
        self._proc = None

    def __enter__(self) -> Dovecot:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- helpers -----------------------------------------------------------------------------
    def deliver_lmtp(self, rcpt: str, raw: bytes, mail_from: str = "sender@example.test") -> None:
        """Deliver ``raw`` to ``rcpt`` (``alice`` or ``alice@example.test``) over LMTP."""
        if "@" not in rcpt:
            rcpt = f"{rcpt}@example.test"
        with smtplib.LMTP(self.host, self.lmtp_port, local_hostname="harness.test") as lmtp:
            refused = lmtp.sendmail(mail_from, [rcpt], raw)
        if refused:
            raise RuntimeError(f"LMTP refused {refused}")

    # -- config ------------------------------------------------------------------------------
    def _write_config(self) -> None:
        run_dir = self.workdir / "run"
        state_dir = self.workdir / "state"
        for d in (run_dir, state_dir, self.mail_root):
            d.mkdir(parents=True, exist_ok=True)
        users_file = self.workdir / "users"
        users_file.write_text(
            "".join(f"{name}:{{PLAIN}}{pw}::::::\n" for name, pw in self.users.items())
        )
        users_file.chmod(0o644)
        if os.geteuid() == 0:
            nobody = pwd.getpwnam("nobody")
            shutil.chown(self.mail_root, nobody.pw_uid, nobody.pw_gid)
            for login_user in ("dovenull", "dovecot"):
                try:
                    pwd.getpwnam(login_user)
                except KeyError as exc:
                    raise RuntimeError(
                        f"system user {login_user!r} missing: apt-get install {APT_HINT}"
                    ) from exc
            identity = (
                "default_login_user = dovenull\n"
                "default_internal_user = dovecot\n"
                "default_internal_group = dovecot\n"
            )
            userdb_args = f"uid=nobody gid=nogroup home={self.mail_root}/%n"
            chroot = ""
        else:
            me = pwd.getpwuid(os.geteuid()).pw_name
            identity = (
                f"default_login_user = {me}\n"
                f"default_internal_user = {me}\n"
                f"default_internal_group = {me}\n"
            )
            userdb_args = f"home={self.mail_root}/%n"
            chroot = "  chroot =\n"
        mailboxes = "".join(
            f"  mailbox {name} {{\n    special_use = {flag}\n    auto = subscribe\n  }}\n"
            for name, flag in SPECIAL_FOLDERS.items()
        )
        # Services that need "chroot =" when not root; anvil also gets the penalty switch.
        service_bodies: dict[str, str] = {}
        if chroot:
            for svc in ("anvil", "ipc", "aggregator", "old-stats"):
                service_bodies[svc] = chroot
        if not self.auth_penalty:
            # auth cannot reach anvil's penalty socket -> no growing per-IP login delays.
            service_bodies["anvil"] = service_bodies.get("anvil", "") + (
                "  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n"
            )
        extra_services = "".join(
            f"service {svc} {{\n{body}}}\n" for svc, body in service_bodies.items()
        )
        failure_delay = "2 secs" if self.auth_penalty else "0"
        h = self.host
        if self.tls:
            ssl_settings = (
                f"ssl = required\nssl_cert = <{self.cert.cert_pem}\n"
                f"ssl_key = <{self.cert.key_pem}\nssl_min_protocol = TLSv1.2\n"
            )
            imaps_listener = (
                f"  inet_listener imaps {{\n    address = {h}\n    port = {self.imaps_port}\n"
                "    ssl = yes\n  }\n"
            )
        else:
            ssl_settings = "ssl = no\n"
            imaps_listener = ""
        lmtp_plugins = "  mail_plugins = $mail_plugins sieve\n" if self.sieve else ""
        sieve_settings = (
            (
                f"service managesieve-login {{\n{chroot}  inet_listener sieve {{\n"
                f"    address = {h}\n    port = {self.sieve_port}\n  }}\n}}\n"
                "plugin {\n  sieve = file:~/sieve;active=~/.dovecot.sieve\n}\n"
            )
            if self.sieve
            else ""
        )
        self.conf_path.write_text(
            f"""# generated by tests/harness/dovecot.py
{identity}base_dir = {run_dir}
state_dir = {state_dir}
log_path = {self.log_path}
info_log_path = {self.log_path}
instance_name = mailproof-{self.imap_port}
protocols = imap lmtp{" sieve" if self.sieve else ""}
listen = {h}
hostname = {self.hostname}
{ssl_settings}disable_plaintext_auth = yes
auth_mechanisms = plain login
auth_failure_delay = {failure_delay}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%n {users_file}
}}
userdb {{
  driver = static
  args = {userdb_args}
}}
namespace inbox {{
  inbox = yes
  separator = /
{mailboxes}  mailbox BACKUP {{
    auto = subscribe
  }}
}}
service imap-login {{
{chroot}  inet_listener imap {{
    address = {h}
    port = {self.imap_port}
  }}
{imaps_listener}}}
service lmtp {{
  inet_listener lmtp {{
    address = {h}
    port = {self.lmtp_port}
  }}
}}
{extra_services}protocol lmtp {{
  postmaster_address = postmaster@example.test
{lmtp_plugins}}}
{sieve_settings}"""
        )
