"""A generated archive for search tests: who sent what when, kept as values so each test
computes the hits it expects from how the corpus was made."""

from __future__ import annotations

import random
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path

SENDERS = [
    ("Alice Meyer", "alice@clinic.example"),
    ("Bob Stone", "bob@lab.clinic.example"),
    ("Carol Smith", "carol@other.example"),
]
WORDS = ["results", "invoice", "schedule", "referral", "biopsy", "meeting", "holiday"]


@dataclass(frozen=True)
class Made:
    index: int
    sender: tuple[str, str]
    month: int
    day: int
    word: str
    attachment: bool
    seen: bool
    folders: tuple[str, ...]

    @property
    def message_id(self) -> str:
        return f"m{self.index}@corpus.example"


def build(made: Made) -> bytes:
    message = EmailMessage()
    message["From"] = f"{made.sender[0]} <{made.sender[1]}>"
    message["To"] = "Lena Hartmann <lena@clinic.example>"
    message["Subject"] = f"About the {made.word} number {made.index}"
    message["Date"] = f"{made.day:02d} {_month(made.month)} 2024 10:00:00 +0000"
    message["Message-ID"] = f"<{made.message_id}>"
    message.set_content(f"Dear Lena,\nplease see the {made.word} notes.\nRegards\n")
    if made.attachment:
        message.add_attachment(
            b"%PDF-1.4 fake", maintype="application", subtype="pdf", filename="report-2024.pdf"
        )
    return message.as_bytes()


def _month(month: int) -> str:
    return ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"][
        month - 1
    ]


def corpus(count: int = 60, seed: int = 7) -> list[Made]:
    rng = random.Random(seed)
    made = []
    for i in range(count):
        folders: tuple[str, ...] = ("INBOX",)
        if i % 10 == 3:
            folders = ("INBOX", "BACKUP")
        elif i % 10 == 7:
            folders = ("BACKUP",)
        made.append(
            Made(
                i,
                rng.choice(SENDERS),
                rng.randint(1, 6),
                rng.randint(1, 28),
                rng.choice(WORDS),
                rng.random() < 0.3,
                rng.random() < 0.5,
                folders,
            )
        )
    return made


def write_maildir(root: Path, made: list[Made]) -> Path:
    for sub in ("", ".BACKUP"):
        for part in ("cur", "new", "tmp"):
            (root / sub / part).mkdir(parents=True, exist_ok=True)
    for item in made:
        raw = build(item)  # once: a new build would get a new MIME boundary
        for folder in item.folders:
            base = root if folder == "INBOX" else root / ".BACKUP"
            flags = ":2,S" if item.seen else ":2,"
            (base / "cur" / f"{item.index}.corpus{flags}").write_bytes(raw)
    return root
