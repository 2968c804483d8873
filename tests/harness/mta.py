"""Real delivery chain: smtplib -> Postfix "out" (+OpenDKIM) -> Postfix "mx" -> Dovecot LMTP.

Also runs unbound on loopback serving the DKIM key record, so signatures verify for real.
"""

from __future__ import annotations

import base64
import contextlib
import email
import email.policy
import grp
import os
import pwd
import signal
import smtplib
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, localtime, make_msgid
from pathlib import Path

import dns.message
import dns.query
import dns.rdatatype
import dns.resolver
from cryptography.hazmat.primitives import serialization

from tests.harness._process import (
    connect_probe,
    free_port,
    free_ports,
    logs_tail,
    make_traversable,
    require_binary,
    start_group,
    stop_group,
    wait_until,
)
from tests.harness.dovecot import Dovecot

POSTFIX_APT = "postfix"
OPENDKIM_APT = "opendkim opendkim-tools"
UNBOUND_APT = "unbound"
DKIM_DOMAIN = "sender.test"
DKIM_SELECTOR = "sel1"
RECIPIENT_DOMAIN = "example.test"


def split_txt(value: str, size: int = 255) -> list[str]:
    """Split a TXT value into character-strings of at most ``size`` bytes (RFC 1035 limit)."""
    return [value[i : i + size] for i in range(0, len(value), size)]


def loopback_dnsfunc(port: int, host: str = "127.0.0.1") -> Callable[..., bytes | None]:
    """A ``dkim.verify`` dnsfunc that asks only the harness's unbound (TXT strings joined)."""
    resolver = dns.resolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = port
    resolver.lifetime = 5.0

    def dnsfunc(name: bytes | str, timeout: float = 5) -> bytes | None:
        qname = name.decode() if isinstance(name, bytes) else name
        try:
            answer = resolver.resolve(qname, "TXT", lifetime=timeout)
        except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
            return None
        return b"".join(answer[0].strings)

    return dnsfunc


class Unbound:
    """unbound on ``127.0.0.1:<port>`` (UDP+TCP) with static local zones of TXT records."""

    def __init__(self, workdir: Path, txt_records: dict[str, list[str]]) -> None:
        self.workdir = Path(workdir)
        self.txt_records = dict(txt_records)
        self.host = "127.0.0.1"
        self.port = 0
        self.conf_path = self.workdir / "unbound.conf"
        self.log_path = self.workdir / "unbound.log"
        self._binary = require_binary("unbound", UNBOUND_APT)
        self._proc: subprocess.Popen[bytes] | None = None

    def _config(self) -> str:
        # One static zone per registered domain, e.g. "sender.test" for sel1._domainkey...
        zones = sorted({_registered_zone(name) for name in self.txt_records})
        lines = [
            "server:",
            f"  interface: {self.host}@{self.port}",
            f"  port: {self.port}",
            "  do-daemonize: no",
            '  username: ""',
            '  chroot: ""',
            f'  directory: "{self.workdir}"',
            f'  pidfile: "{self.workdir / "unbound.pid"}"',
            "  use-syslog: no",
            '  logfile: ""',
            "  verbosity: 1",
            "  num-threads: 1",
            "  do-ip6: no",
            "  so-reuseport: no",
            '  module-config: "iterator"',
            "  access-control: 127.0.0.0/8 allow",
        ]
        for zone in zones:
            lines.append(f'  local-zone: "{zone}." static')
        for name, values in self.txt_records.items():
            strings = " ".join(f'"{chunk}"' for value in values for chunk in split_txt(value))
            lines.append(f"  local-data: '{name.rstrip('.')}. 300 IN TXT {strings}'")
        lines += ["remote-control:", "  control-enable: no", ""]
        return "\n".join(lines)

    def start(self) -> Unbound:
        make_traversable(self.workdir)
        if not self.port:
            self.port = free_ports(1, self.host)[0]
        self.conf_path.write_text(self._config())
        self._proc = start_group([self._binary, "-d", "-c", str(self.conf_path)], self.log_path)
        try:
            wait_until(
                self._probe,
                f"unbound on {self.host}:{self.port}",
                logs=(self.log_path,),
                proc=self._proc,
            )
        except BaseException:
            self.stop()
            raise
        return self

    def _probe(self) -> bool:
        name = next(iter(self.txt_records), "localhost.")
        query = dns.message.make_query(name, dns.rdatatype.TXT)
        response = dns.query.udp(query, self.host, port=self.port, timeout=0.5)
        return response.rcode() == 0

    def stop(self) -> None:
        if self._proc is None:
            return
        stop_group(self._proc.pid, self._proc)
        self._proc = None


def _registered_zone(name: str) -> str:
    """``sel1._domainkey.sender.test`` -> ``sender.test`` (last two labels)."""
    labels = name.rstrip(".").split(".")
    return ".".join(labels[-2:])


class OpenDkim:
    """opendkim signing milter (Mode s) on ``inet:<port>@127.0.0.1`` with a 2048-bit key."""

    def __init__(
        self, workdir: Path, domain: str = DKIM_DOMAIN, selector: str = DKIM_SELECTOR
    ) -> None:
        self.workdir = Path(workdir)
        self.domain = domain
        self.selector = selector
        self.host = "127.0.0.1"
        self.port = 0
        self.conf_path = self.workdir / "opendkim.conf"
        self.log_path = self.workdir / "opendkim.log"
        self.key_path = self.workdir / f"{selector}.private"
        self._binary = require_binary("opendkim", OPENDKIM_APT)
        self._genkey = require_binary("opendkim-genkey", OPENDKIM_APT)
        self._proc: subprocess.Popen[bytes] | None = None
        self.public_key_b64 = ""

    @property
    def txt_record_name(self) -> str:
        return f"{self.selector}._domainkey.{self.domain}"

    @property
    def txt_record_value(self) -> str:
        return f"v=DKIM1; k=rsa; p={self.public_key_b64}"

    def generate_key(self) -> None:
        """Run opendkim-genkey once and derive the p= value from the private key."""
        make_traversable(self.workdir)
        if not self.key_path.exists():
            result = subprocess.run(
                [
                    self._genkey,
                    "-b",
                    "2048",
                    "-s",
                    self.selector,
                    "-d",
                    self.domain,
                    "-D",
                    str(self.workdir),
                ],
                capture_output=True,
                text=True,
                check=False,
            )
            if result.returncode != 0 or not self.key_path.exists():
                raise RuntimeError(f"opendkim-genkey failed: {result.stderr}{result.stdout}")
        key = serialization.load_pem_private_key(self.key_path.read_bytes(), password=None)
        der = key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self.public_key_b64 = base64.b64encode(der).decode()

    def start(self) -> OpenDkim:
        if not self.public_key_b64:
            self.generate_key()
        if not self.port:
            self.port = free_port(self.host)
        self.conf_path.write_text(
            "\n".join(
                [
                    "Syslog no",
                    "Mode s",
                    f"Domain {self.domain}",
                    f"Selector {self.selector}",
                    f"KeyFile {self.key_path}",
                    f"Socket inet:{self.port}@{self.host}",
                    "Canonicalization relaxed/relaxed",
                    "SignatureAlgorithm rsa-sha256",
                    "OversignHeaders From",
                    "InternalHosts 127.0.0.1",
                    "RequireSafeKeys false",
                    f"PidFile {self.workdir / 'opendkim.pid'}",
                    "",
                ]
            )
        )
        self._proc = start_group([self._binary, "-f", "-x", str(self.conf_path)], self.log_path)
        try:
            wait_until(
                connect_probe(self.host, self.port),
                f"opendkim on {self.host}:{self.port}",
                logs=(self.log_path,),
                proc=self._proc,
            )
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """SIGTERM, then poke the milter socket: libmilter only notices the signal when its
        5 s accept-poll wakes up, so a connection makes shutdown take ~0.1 s instead of 5 s."""
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            self._proc.send_signal(signal.SIGTERM)
        with (
            contextlib.suppress(OSError),
            socket.create_connection((self.host, self.port), timeout=1.0),
        ):
            pass
        stop_group(self._proc.pid, self._proc)
        self._proc = None


_QUEUE_DIRS_0700 = [
    "active",
    "bounce",
    "corrupt",
    "defer",
    "deferred",
    "flush",
    "hold",
    "incoming",
    "private",
    "saved",
    "trace",
]
# (sub-directory, group or None for root, mode) as "postfix check" would create them.
_QUEUE_LAYOUT: tuple[tuple[str, str | None, int], ...] = (
    *((sub, None, 0o700) for sub in _QUEUE_DIRS_0700),
    ("maildrop", "postdrop", 0o730),
    ("public", "postdrop", 0o710),
    ("pid", None, 0o755),
)


class Postfix:
    """One Postfix instance with its own config/queue/data dirs, SMTP on ``127.0.0.1:<port>``.

    ``extra`` holds main.cf settings specific to the instance's role (relayhost, milters...).
    """

    def __init__(self, workdir: Path, name: str, myhostname: str, extra: dict[str, str]) -> None:
        self.workdir = Path(workdir)
        self.name = name
        self.myhostname = myhostname
        self.extra = dict(extra)
        self.host = "127.0.0.1"
        self.port = 0
        self.etc = self.workdir / "etc"
        self.queue = self.workdir / "queue"
        self.data = self.workdir / "data"
        self.maillog = self.workdir / "maillog"
        self.start_log = self.workdir / "postfix-start.log"
        self._postfix = require_binary("postfix", POSTFIX_APT)
        self._postconf = require_binary("postconf", POSTFIX_APT)
        self._master_pid: int | None = None
        if not Path("/usr/share/postfix/master.cf.dist").exists():
            raise RuntimeError(
                f"/usr/share/postfix/master.cf.dist not found: apt-get install {POSTFIX_APT}"
            )

    def _write_config(self) -> None:
        try:
            postfix_uid = pwd.getpwnam("postfix").pw_uid
            postfix_gid = grp.getgrnam("postfix").gr_gid
            grp.getgrnam("postdrop")
        except KeyError as exc:
            raise RuntimeError(
                f"postfix system user/group missing: apt-get install {POSTFIX_APT}"
            ) from exc
        make_traversable(self.workdir)
        self.etc.mkdir(parents=True, exist_ok=True)
        # The queue layout "postfix check" would create (it takes ~2 s); built by hand so the
        # start can use Postfix's quick-start path.
        self.queue.mkdir(mode=0o755, parents=True, exist_ok=True)
        self.data.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chown(self.data, postfix_uid, postfix_gid)
        for sub, owner_gid, mode in _QUEUE_LAYOUT:
            d = self.queue / sub
            d.mkdir(exist_ok=True)
            if sub == "pid":
                os.chown(d, 0, 0)
            else:
                os.chown(d, postfix_uid, 0 if owner_gid is None else grp.getgrnam(owner_gid).gr_gid)
            d.chmod(mode)
        (self.queue / "quick-start").touch()
        settings = {
            "compatibility_level": "3.6",
            "queue_directory": str(self.queue),
            "data_directory": str(self.data),
            "meta_directory": "/etc/postfix",
            "shlib_directory": "/usr/lib/postfix",
            "daemon_directory": "/usr/lib/postfix/sbin",
            "command_directory": "/usr/sbin",
            "mail_owner": "postfix",
            "setgid_group": "postdrop",
            "syslog_name": f"postfix-{self.name}",
            "maillog_file": str(self.maillog),
            "maillog_file_prefixes": str(self.workdir),
            "myhostname": self.myhostname,
            "mydomain": self.myhostname.split(".", 1)[1],
            "myorigin": "$myhostname",
            "inet_interfaces": "127.0.0.1",
            "inet_protocols": "ipv4",
            "mydestination": "",
            "mynetworks": "127.0.0.0/8",
            "local_recipient_maps": "",
            "alias_maps": "",
            "alias_database": "",
            "smtp_dns_support_level": "disabled",
            "biff": "no",
            "append_dot_mydomain": "no",
            "smtpd_banner": "$myhostname ESMTP",
            "smtputf8_enable": "yes",
            "smtpd_error_sleep_time": "0",
            "in_flow_delay": "0",
            "queue_run_delay": "1s",
            "minimal_backoff_time": "1s",
            "maximal_backoff_time": "2s",
            "smtp_connect_timeout": "5s",
            "lmtp_connect_timeout": "5s",
            "message_size_limit": "52428800",
            "readme_directory": "no",
            "html_directory": "no",
        }
        settings.update(self.extra)
        (self.etc / "main.cf").write_text(
            "# generated by tests/harness/mta.py\n"
            + "".join(f"{k} = {v}\n" for k, v in settings.items())
        )
        master = []
        for line in Path("/usr/share/postfix/master.cf.dist").read_text().splitlines():
            if line.startswith("smtp ") and " inet " in line:
                continue
            master.append(line)
        master.append(f"{self.host}:{self.port} inet n - n - - smtpd")
        (self.etc / "master.cf").write_text("\n".join(master) + "\n")
        result = subprocess.run(
            [self._postconf, "-c", str(self.etc), "-F", "*/*/chroot = n"],
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(f"postconf -F failed for {self.name}: {result.stderr}")
        # Postfix re-reads a config file in 300 ms steps until its mtime is ~2 s old
        # ("file is being edited"); back-date the files instead of waiting.
        past = time.time() - 60
        for cf in self.etc.iterdir():
            os.utime(cf, (past, past))

    def _postfix_cmd(self, action: str) -> int:
        """Run ``postfix -c etc <action>`` with output appended to ``start_log``.

        The file is kept next to the maillog so start failures can be diagnosed later.
        """
        with open(self.start_log, "ab") as log:
            return subprocess.run(
                [self._postfix, "-c", str(self.etc), action],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
                timeout=60,
            ).returncode

    def start(self) -> Postfix:
        if os.geteuid() != 0:
            raise RuntimeError("the Postfix master daemon needs root; run the suite as root")
        if not self.port:
            self.port = free_port(self.host)
        self._write_config()
        status = self._postfix_cmd("start")
        try:
            if status != 0:
                raise RuntimeError(
                    f"postfix ({self.name}) start failed with status {status} "
                    "(Postfix logs to its maillog, not stderr, when stderr is not a tty)\n"
                    + logs_tail((self.start_log, self.maillog))
                )
            self._master_pid = self._read_master_pid()
            wait_until(
                _smtp_banner_probe(self.host, self.port),
                f"postfix ({self.name}) on {self.host}:{self.port}",
                logs=(self.maillog, self.start_log),
            )
        except BaseException:
            self.stop()
            raise
        return self

    def _read_master_pid(self) -> int:
        pid_file = self.queue / "pid" / "master.pid"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                return int(pid_file.read_text().split()[0])
            except (FileNotFoundError, IndexError, ValueError):
                time.sleep(0.02)
        raise RuntimeError(
            f"postfix ({self.name}): no {pid_file} after start\n" + logs_tail((self.maillog,))
        )

    def stop(self) -> None:
        """SIGTERM the master (it stops its children), then make sure its process group is gone.

        The master runs in its own session, so its pid is also the process-group id. This
        avoids ``postfix stop``, which polls in 1 s steps.
        """
        pid = self._master_pid
        if pid is None:
            try:
                pid = int((self.queue / "pid" / "master.pid").read_text().split()[0])
            except (FileNotFoundError, IndexError, ValueError):
                return
        stop_group(pid)
        (self.queue / "pid" / "master.pid").unlink(missing_ok=True)
        self._master_pid = None

    def queue_ids(self) -> list[str]:
        """Message files still in this instance's queue (diagnostics)."""
        found = []
        for sub in ("incoming", "active", "deferred", "hold", "maildrop"):
            d = self.queue / sub
            if d.exists():
                found += [p.name for p in d.rglob("*") if p.is_file()]
        return found


def _run_parallel(functions: list[Callable[[], object]]) -> None:
    """Run callables in threads; re-raise the first exception after all have finished."""
    errors: list[BaseException] = []

    def run(fn: Callable[[], object]) -> None:
        try:
            fn()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(fn,)) for fn in functions]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def _smtp_banner_probe(host: str, port: int) -> Callable[[], bool]:
    def probe() -> bool:
        with smtplib.SMTP(host, port, timeout=2) as smtp:
            code, _ = smtp.noop()
            return code == 250

    return probe


class MailChain:
    """The full chain; ``send()`` into Postfix "out", ``wait_for_delivery()`` polls the Maildir.

    Attributes after start: ``out_port`` (SMTP submission into "out"), ``mx_port``,
    ``dkim_port`` (milter), ``dns_port`` (unbound), ``dkim_domain``, ``dkim_selector``.
    """

    def __init__(self, workdir: Path, dovecot: Dovecot) -> None:
        self.workdir = Path(workdir)
        self.dovecot = dovecot
        self.dkim_domain = DKIM_DOMAIN
        self.dkim_selector = DKIM_SELECTOR
        self.opendkim = OpenDkim(self.workdir / "opendkim")
        self.unbound: Unbound | None = None
        self.mx: Postfix | None = None
        self.out: Postfix | None = None

    @property
    def dns_port(self) -> int:
        assert self.unbound is not None, "MailChain not started"
        return self.unbound.port

    @property
    def out_port(self) -> int:
        assert self.out is not None, "MailChain not started"
        return self.out.port

    @property
    def mx_port(self) -> int:
        assert self.mx is not None, "MailChain not started"
        return self.mx.port

    @property
    def dkim_port(self) -> int:
        return self.opendkim.port

    def logs(self) -> list[Path]:
        paths = [self.opendkim.log_path, self.dovecot.log_path]
        for inst in (self.out, self.mx):
            if inst is not None:
                paths += [inst.maillog]
        if self.unbound is not None:
            paths.append(self.unbound.log_path)
        return paths

    def start(self) -> MailChain:
        """Start unbound, OpenDKIM and both Postfix instances in parallel (ports fixed first)."""
        make_traversable(self.workdir)
        try:
            self.opendkim.generate_key()
            dns_port, dkim_port, mx_port, out_port = free_ports(4)
            self.opendkim.port = dkim_port
            self.unbound = Unbound(
                self.workdir / "unbound",
                {self.opendkim.txt_record_name: [self.opendkim.txt_record_value]},
            )
            self.unbound.port = dns_port
            self.mx = Postfix(
                self.workdir / "postfix-mx",
                "mx",
                "mx.example.test",
                {
                    "virtual_mailbox_domains": RECIPIENT_DOMAIN,
                    "virtual_transport": f"lmtp:inet:{self.dovecot.host}:{self.dovecot.lmtp_port}",
                },
            )
            self.mx.port = mx_port
            self.out = Postfix(
                self.workdir / "postfix-out",
                "out",
                "smtp.sender.test",
                {
                    "relayhost": f"[127.0.0.1]:{mx_port}",
                    "smtpd_milters": f"inet:127.0.0.1:{dkim_port}",
                    "non_smtpd_milters": "$smtpd_milters",
                    "milter_default_action": "tempfail",
                },
            )
            self.out.port = out_port
            _run_parallel([self.unbound.start, self.opendkim.start, self.mx.start, self.out.start])
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Stop every started component (in parallel); idempotent."""
        components = [c for c in (self.out, self.mx, self.opendkim, self.unbound) if c]
        _run_parallel([c.stop for c in components])

    def __enter__(self) -> MailChain:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- use ---------------------------------------------------------------------------------
    def send(self, mail_from: str, rcpt: str | Iterable[str], raw: bytes) -> None:
        """Submit ``raw`` to Postfix "out" over SMTP; raises if any recipient is refused."""
        rcpts = [rcpt] if isinstance(rcpt, str) else list(rcpt)
        with smtplib.SMTP(
            self.out.host if self.out else "127.0.0.1",
            self.out_port,
            local_hostname="client.sender.test",
            timeout=30,
        ) as smtp:
            refused = smtp.sendmail(mail_from, rcpts, raw)
        if refused:
            raise RuntimeError(f"Postfix out refused {refused}")

    def deliver(self, subject: str, body: str, tag: str) -> tuple[str, bytes]:
        """Send someone@sender.test → alice@example.test through the whole chain (signed by
        OpenDKIM); return the Message-ID and the bytes Dovecot stored."""
        msgid = make_msgid(idstring=tag, domain="sender.test")
        message = EmailMessage()
        message["From"] = "Someone <someone@sender.test>"
        message["To"] = "Alice <alice@example.test>"
        message["Subject"] = subject
        message["Date"] = format_datetime(localtime())
        message["Message-ID"] = msgid
        message.set_content(body)
        self.send("someone@sender.test", "alice@example.test", message.as_bytes(policy=SMTP))
        return msgid, self.wait_for_delivery("alice", timeout=20, message_id=msgid)

    def inbox_files(self, user: str) -> list[Path]:
        maildir = self.dovecot.maildir(user)
        files: list[Path] = []
        for sub in ("new", "cur"):
            d = maildir / sub
            if d.is_dir():
                files += sorted(p for p in d.iterdir() if p.is_file())
        return files

    def wait_for_delivery(
        self, user: str, timeout: float = 15.0, message_id: str | None = None
    ) -> bytes:
        """Wait until a message is in ``user``'s INBOX Maildir and return its raw bytes.

        With ``message_id`` the message whose Message-ID header matches is returned (use this:
        the fixtures are session-wide); without it, the first message that was not in the
        INBOX when this was called. Bytes are as stored by Dovecot (LF line endings).
        """

        def key(path: Path) -> str:  # Maildir unique name; ":2,<flags>" changes in cur/
            return path.name.split(":", 1)[0]

        seen_before = set() if message_id else {key(p) for p in self.inbox_files(user)}
        deadline = time.monotonic() + timeout
        while True:
            for path in self.inbox_files(user):
                if key(path) in seen_before:
                    continue
                try:
                    raw = path.read_bytes()
                except FileNotFoundError:  # moved new/ -> cur/ meanwhile
                    continue
                if message_id is None:
                    return raw
                msg = email.message_from_bytes(raw, policy=email.policy.compat32)
                if (msg.get("Message-ID") or "").strip() == message_id.strip():
                    return raw
            if time.monotonic() >= deadline:
                queued = {inst.name: inst.queue_ids() for inst in (self.out, self.mx) if inst}
                raise RuntimeError(
                    f"no message {message_id or ''} for {user} after {timeout:.0f} s; "
                    f"still queued: {queued}\n" + logs_tail(self.logs(), lines=25)
                )
            time.sleep(0.05)
