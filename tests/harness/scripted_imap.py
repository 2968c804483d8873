"""A scripted IMAP4rev1 peer over real TLS, for what a real Dovecot cannot be made to do:
lie about sizes, send 0-byte or garbled messages, answer BAD, close mid-literal.

It speaks just the commands Mailproof's sync sends (CAPABILITY, LOGIN, LIST, SELECT/EXAMINE,
UID SEARCH, UID FETCH, NOOP, LOGOUT). Faults are set per UID or per command; ``commands``
records every command line received (the LOGIN password is masked).
"""

from __future__ import annotations

import re
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

INTERNALDATE = "05-Mar-2024 10:00:00 +0100"


@dataclass
class Message:
    uid: int
    raw: bytes
    flags: tuple[str, ...] = ()


@dataclass
class Faults:
    # keys are "FOLDER/UID"
    lie_size: dict[str, int] = field(default_factory=dict)  # -> the RFC822.SIZE announced
    garbled_body: set[str] = field(default_factory=set)  # an unparsable FETCH answer
    cut_in_body: set[str] = field(default_factory=set)  # the socket closes inside the literal
    bad_command: dict[str, str] = field(default_factory=dict)  # "FOLDER:UID SEARCH" -> text
    garbled_list: bool = False


class ScriptedImap:
    def __init__(
        self,
        cert_pem: Path,
        key_pem: Path,
        user: str,
        password: str,
        folders: dict[str, list[Message]],
        uidvalidity: int = 4242,
    ) -> None:
        self.user, self.password = user, password
        self.folders = folders
        self.uidvalidity = uidvalidity
        self.faults = Faults()
        self.commands: list[str] = []
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(str(cert_pem), str(key_pem))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.host, self.port = self._listener.getsockname()[:2]
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._stopping = False

    def __enter__(self) -> ScriptedImap:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stopping = True
        self._listener.close()

    def _serve(self) -> None:
        while not self._stopping:
            try:
                raw_socket, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._session, args=(raw_socket,), daemon=True).start()

    # -- one connection ----------------------------------------------------------------------
    def _session(self, raw_socket: socket.socket) -> None:
        try:
            with self._context.wrap_socket(raw_socket, server_side=True) as tls:
                tls.settimeout(30)
                Session(self, tls).run()
        except (OSError, ssl.SSLError, ConnectionError):
            return


class Session:
    def __init__(self, server: ScriptedImap, tls: ssl.SSLSocket) -> None:
        self.server = server
        self.tls = tls
        self.reader = tls.makefile("rb")
        self.folder: str | None = None

    def send(self, data: bytes) -> None:
        self.tls.sendall(data)

    def line(self, text: str) -> None:
        self.send(text.encode() + b"\r\n")

    def run(self) -> None:
        self.line("* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] scripted peer ready")
        while True:
            received = self.reader.readline()
            if not received:
                return
            text = received.decode("utf-8", "replace").rstrip("\r\n")
            tag, _, rest = text.partition(" ")
            command, _, args = rest.partition(" ")
            shown = f"{command} {self.server.user} ***" if command.upper() == "LOGIN" else rest
            self.server.commands.append(shown)
            if not self.dispatch(tag, command.upper(), args):
                return

    def dispatch(self, tag: str, command: str, args: str) -> bool:
        faults = self.server.faults
        key = f"{self.folder}:{command} {args.split(' ', 1)[0].upper()}"
        if key in faults.bad_command:
            self.line(f"{tag} BAD {faults.bad_command[key]}")
            return True
        if command == "CAPABILITY":
            self.line("* CAPABILITY IMAP4rev1 AUTH=PLAIN")
        elif command == "LOGIN":
            user, password = (a.strip('"') for a in args.split(" ", 1))
            if (user, password) != (self.server.user, self.server.password):
                self.line(f"{tag} NO [AUTHENTICATIONFAILED] Authentication failed.")
                return True
        elif command == "LIST":
            if faults.garbled_list:
                self.line('* LIST (\\HasNoChildren "/" INBOX')
            for name in self.server.folders:
                self.line(f'* LIST (\\HasNoChildren) "/" "{name}"')
        elif command in ("SELECT", "EXAMINE"):
            self.folder = args.strip().strip('"')
            messages = self.server.folders.get(self.folder)
            if messages is None:
                self.line(f"{tag} NO Mailbox doesn't exist")
                return True
            uidnext = max((m.uid for m in messages), default=0) + 1
            self.line(f"* {len(messages)} EXISTS")
            self.line("* 0 RECENT")
            self.line(f"* OK [UIDVALIDITY {self.server.uidvalidity}] UIDs valid")
            self.line(f"* OK [UIDNEXT {uidnext}] Predicted next UID")
            self.line("* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)")
            self.line(f"{tag} OK [READ-ONLY] done")
            return True
        elif command == "UID":
            return self.uid_command(tag, args)
        elif command == "NOOP":
            pass
        elif command == "LOGOUT":
            self.line("* BYE bye")
            self.line(f"{tag} OK Logout completed.")
            return False
        else:
            self.line(f"{tag} BAD unknown command")
            return True
        self.line(f"{tag} OK done")
        return True

    def messages(self) -> list[Message]:
        return self.server.folders.get(self.folder or "", [])

    def uid_command(self, tag: str, args: str) -> bool:
        sub, _, rest = args.partition(" ")
        if sub.upper() == "SEARCH":
            self.line("* SEARCH " + " ".join(str(m.uid) for m in self.messages()))
            self.line(f"{tag} OK Search completed")
            return True
        if sub.upper() != "FETCH":
            self.line(f"{tag} BAD unsupported UID command")
            return True
        message_set, _, items = rest.partition(" ")
        ranges = list(_ranges(message_set))
        faults = self.server.faults
        seq = {m.uid: i + 1 for i, m in enumerate(self.messages())}
        for message in self.messages():
            if not any(low <= message.uid <= high for low, high in ranges):
                continue
            number = seq[message.uid]
            where = f"{self.folder}/{message.uid}"
            if "BODY.PEEK[]" in items.upper():
                if where in faults.garbled_body:
                    self.line(f"* {number} FETCH (UID {message.uid} BODY[] ((( garbage")
                    continue
                if where in faults.cut_in_body:
                    size = len(message.raw)
                    self.send(f"* {number} FETCH (UID {message.uid} BODY[] {{{size}}}\r\n".encode())
                    self.send(message.raw[: size // 2])
                    self.tls.close()
                    return False
                head = f"* {number} FETCH (UID {message.uid} BODY[] {{{len(message.raw)}}}\r\n"
                self.send(head.encode() + message.raw + b")\r\n")
            else:
                size = faults.lie_size.get(where, len(message.raw))
                flags = " ".join(message.flags)
                self.line(
                    f"* {number} FETCH (UID {message.uid} RFC822.SIZE {size} "
                    f'INTERNALDATE "{INTERNALDATE}" FLAGS ({flags}))'
                )
        self.line(f"{tag} OK Fetch completed")
        return True


def _ranges(message_set: str) -> Iterator[tuple[int, int]]:
    for part in message_set.split(","):
        if not re.fullmatch(r"\d+(:\d+|:\*)?", part):
            continue
        low, _, high = part.partition(":")
        yield int(low), (int(high) if high and high != "*" else 2**32 if high else int(low))
