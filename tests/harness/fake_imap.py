"""A fake IMAP4rev1 peer over real TLS, for the bad input a real Dovecot will not produce.

It serves ``{folder: [Message, ...]}`` on 127.0.0.1 (a free port, implicit TLS with a
certificate of the harness PKI) in a thread, one more thread per connection, and speaks just
what Mailproof's sync sends: CAPABILITY, LOGIN, ENABLE, LIST, SELECT/EXAMINE, UID SEARCH,
UID FETCH (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[]), NOOP, LOGOUT. ``faults`` scripts
the misbehaviour; ``commands`` records every command received, tag stripped and the LOGIN
password masked::

    with FakeImap(pki.server, {"INBOX": [Message(1, raw)]}, password="pw") as peer:
        peer.faults.cut_body.add(("INBOX", 1))
        ...  # Account("x", peer.host, peer.port, "tls", peer.user, str(pki.ca_pem))
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import threading
from dataclasses import dataclass, field

from imapclient import imap_utf7

from tests.harness.pki import CertPair

TOKEN = re.compile(rb'"((?:[^"\\]|\\.)*)"|(\S+)')
GARBAGE = "* {seq} FETCH (UID {uid} RFC822.SIZE ))( BODY[] ((( garbage \x7f"


@dataclass
class Message:
    uid: int
    raw: bytes
    flags: tuple[str, ...] = ()
    internaldate: str = "05-Mar-2024 10:00:00 +0100"


@dataclass
class Faults:
    """What to get wrong. A message is ``(folder, uid)``; everything stays until cleared."""

    size: dict[tuple[str, int], int] = field(default_factory=dict)  # RFC822.SIZE announced
    # a line sent instead of the message's FETCH answer (``{seq}``/``{uid}`` are filled in),
    # when BODY[] is asked for (garbled_body) or only RFC822.SIZE/FLAGS/… (garbled_meta)
    garbled_body: dict[tuple[str, int], str] = field(default_factory=dict)
    garbled_meta: dict[tuple[str, int], str] = field(default_factory=dict)
    cut_body: set[tuple[str, int]] = field(default_factory=set)  # socket shut inside the literal
    # (folder or None for any, regex searched in the command without tag) -> "NO …" / "BAD …";
    # the folder is the one being SELECTed/EXAMINEd, else the one selected
    replies: dict[tuple[str | None, str], str] = field(default_factory=dict)
    list_lines: list[str] = field(default_factory=list)  # extra raw lines in the LIST answer

    def clear(self) -> None:
        for value in vars(self).values():
            value.clear()


class FakeImap:
    def __init__(
        self,
        cert: CertPair,
        folders: dict[str, list[Message]],
        *,
        user: str = "nurse",
        password: str = "pw",
        capabilities: tuple[str, ...] = ("IMAP4rev1",),
        uidvalidity: int = 4242,
    ) -> None:
        self.folders, self.user, self.password = folders, user, password
        self.capabilities, self.uidvalidity = capabilities, uidvalidity
        self.faults = Faults()
        self.commands: list[str] = []
        self.connections = 0
        self._context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self._context.load_cert_chain(str(cert.cert_pem), str(cert.key_pem))
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.2)
        self.host, self.port = self._listener.getsockname()[:2]
        self._open: set[socket.socket] = set()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="fake-imap", daemon=True)

    def __enter__(self) -> FakeImap:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self._listener.close()
        for sock in list(self._open):
            _shut(sock)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                sock, _ = self._listener.accept()
            except TimeoutError:
                continue
            self.connections += 1
            threading.Thread(target=self._serve, args=(sock,), daemon=True).start()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(30)
        try:
            with self._context.wrap_socket(sock, server_side=True) as tls:
                self._open.add(tls)
                try:
                    _Session(self, tls).run()
                finally:
                    self._open.discard(tls)
                    _shut(tls)
        except (OSError, ValueError):
            pass  # the client went away, or a fault cut the connection


def _shut(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)  # at once, whatever file objects still refer to it
    sock.close()


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _uid_set(text: str, highest: int) -> set[int]:
    uids: set[int] = set()
    for part in text.split(","):
        low, _, high = part.partition(":")
        ends = [highest if n == "*" else int(n) for n in (low, high or low)]
        uids.update(range(min(ends), max(ends) + 1))
    return uids


class _Session:
    def __init__(self, server: FakeImap, tls: ssl.SSLSocket) -> None:
        self.server, self.tls, self.faults = server, tls, server.faults
        self.reader = tls.makefile("rb")
        self.folder: str | None = None

    def send(self, *lines: str) -> None:
        self.tls.sendall("".join(line + "\r\n" for line in lines).encode())

    def run(self) -> None:
        self.send(f"* OK [CAPABILITY {' '.join(self.server.capabilities)}] fake peer ready")
        while line := self.reader.readline():
            tag, _, rest = line.rstrip(b"\r\n").partition(b" ")
            words = [re.sub(rb"\\(.)", rb"\1", q) if q else a for q, a in TOKEN.findall(rest)]
            verb = words[0].decode().upper() if words else ""
            args = [w.decode("utf-8", "replace") for w in words[1:]]
            text = rest.decode("utf-8", "replace")
            if verb == "LOGIN":
                text = f"LOGIN {args[0] if args else ''} ***"
            self.server.commands.append(text)
            if not self.answer(tag.decode(), verb, args, text):
                return

    def scripted_reply(self, verb: str, args: list[str], text: str) -> str | None:
        selecting = verb in ("SELECT", "EXAMINE") and args
        folder = imap_utf7.decode(args[0].encode()) if selecting else self.folder
        for (where, pattern), reply in self.faults.replies.items():
            if where in (None, folder) and re.search(pattern, text, re.IGNORECASE):
                return reply
        return None

    def answer(self, tag: str, verb: str, args: list[str], text: str) -> bool:
        reply = self.scripted_reply(verb, args, text)
        if reply is not None:
            self.send(f"{tag} {reply}")
        elif verb == "CAPABILITY":
            self.send(f"* CAPABILITY {' '.join(self.server.capabilities)}", f"{tag} OK done")
        elif verb == "LOGIN":
            if args[:2] == [self.server.user, self.server.password]:
                self.send(f"{tag} OK Logged in")
            else:
                self.send(f"{tag} NO [AUTHENTICATIONFAILED] Authentication failed.")
        elif verb == "ENABLE":
            wanted = [a for a in args if a.upper() in self.server.capabilities]
            self.send(f"* ENABLED {' '.join(wanted)}".rstrip(), f"{tag} OK enabled")
        elif verb == "LIST":
            self.send(*self.faults.list_lines)
            for name in self.server.folders:
                encoded = imap_utf7.encode(name).decode("ascii")
                self.send(f'* LIST (\\HasNoChildren) "/" {_quote(encoded)}')
            self.send(f"{tag} OK List completed")
        elif verb in ("SELECT", "EXAMINE"):
            self.select(tag, verb, imap_utf7.decode(args[0].encode()))
        elif verb == "UID" and args and args[0].upper() == "SEARCH":
            self.search(tag, args[1:])
        elif verb == "UID" and args and args[0].upper() == "FETCH" and self.folder is not None:
            return self.fetch(tag, args[1], text.upper())
        elif verb == "NOOP":
            self.send(f"{tag} OK NOOP completed")
        elif verb == "LOGOUT":
            self.send("* BYE Logging out", f"{tag} OK Logout completed")
            return False
        else:
            self.send(f"{tag} BAD Command not understood by the fake peer")
        return True

    def messages(self) -> list[Message]:
        return self.server.folders.get(self.folder or "", [])

    def select(self, tag: str, verb: str, name: str) -> None:
        if name not in self.server.folders:
            self.folder = None
            self.send(f"{tag} NO [NONEXISTENT] Mailbox doesn't exist: {name}")
            return
        self.folder = name
        uidnext = max((m.uid for m in self.messages()), default=0) + 1
        self.send(
            "* FLAGS (\\Answered \\Flagged \\Deleted \\Seen \\Draft)",
            f"* {len(self.messages())} EXISTS",
            "* 0 RECENT",
            f"* OK [UIDVALIDITY {self.server.uidvalidity}] UIDs valid",
            f"* OK [UIDNEXT {uidnext}] Predicted next UID",
        )
        if "CONDSTORE" in self.server.capabilities:
            self.send("* OK [HIGHESTMODSEQ 1] Highest")
        mode = "READ-ONLY" if verb == "EXAMINE" else "READ-WRITE"
        self.send(f"{tag} OK [{mode}] {verb.capitalize()} completed")

    def search(self, tag: str, criteria: list[str]) -> None:
        uids = [m.uid for m in self.messages()]
        if len(criteria) == 2 and criteria[0].upper() == "UID":
            wanted = _uid_set(criteria[1], max(uids, default=0))
            uids = [uid for uid in uids if uid in wanted]
        self.send(" ".join(["* SEARCH", *map(str, uids)]), f"{tag} OK Search completed")

    def fetch(self, tag: str, message_set: str, text: str) -> bool:
        messages = self.messages()
        wanted = _uid_set(message_set, max((m.uid for m in messages), default=0))
        body = "BODY[]" in text or "BODY.PEEK[]" in text
        for seq, message in enumerate(messages, start=1):
            if message.uid not in wanted:
                continue
            key = (self.folder or "", message.uid)
            garbled = (self.faults.garbled_body if body else self.faults.garbled_meta).get(key)
            if garbled is not None:
                self.send(garbled.format(seq=seq, uid=message.uid))
                continue
            items = [f"UID {message.uid}"]
            if "FLAGS" in text:
                items.append(f"FLAGS ({' '.join(message.flags)})")
            if "INTERNALDATE" in text:
                items.append(f'INTERNALDATE "{message.internaldate}"')
            if "RFC822.SIZE" in text:
                items.append(f"RFC822.SIZE {self.faults.size.get(key, len(message.raw))}")
            head = f"* {seq} FETCH ({' '.join(items)}"
            if not body:
                self.send(head + ")")
                continue
            literal = f"{head} BODY[] {{{len(message.raw)}}}\r\n".encode()
            if key in self.faults.cut_body:
                self.tls.sendall(literal + message.raw[: len(message.raw) // 2])
                _shut(self.tls)
                return False
            self.tls.sendall(literal + message.raw + b")\r\n")
        self.send(f"{tag} OK Fetch completed")
        return True
