"""What every verdict's presenter produces: labelled lines with a tone, grouped in sections.

A verdict is turned into lines once, next to its model (``app.delivery.present``, …); the window
colours them by tone, the CLI prints them as ``label: text`` and the PDF report writes them as
paragraphs. No face words a verdict on its own.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Tone(StrEnum):
    """How a line reads: a check that passed, one that failed, a caution, or plain fact."""

    GOOD = "good"
    BAD = "bad"
    WARN = "warn"
    PLAIN = "plain"


@dataclass(frozen=True)
class Line:
    section: str
    label: str
    text: str
    tone: Tone = Tone.PLAIN

    @property
    def plain(self) -> str:
        """The line as the CLI and the PDF write it."""
        return f"{self.label}: {self.text}"


def in_section(lines: Iterable[Line], *sections: str) -> list[Line]:
    return [line for line in lines if line.section in sections]
