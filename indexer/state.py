"""The index's bookkeeping: what each message's document is made from (its live copies and
their flags, hashed into a state) and how that compares with what ``state.sqlite`` records."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from app.store.index_state import FIELD_SEPARATOR, PLACE_SEPARATOR, live_places

if TYPE_CHECKING:
    from app.store.library import Library

Desired = dict[str, tuple[str, str]]  # sha256 → (state, places) of every message to index


@dataclass(frozen=True)
class Changes:
    to_index: list[str]  # new, or indexed from another state of their copies
    to_remove: list[str]  # indexed, no longer in the store
    unchanged: int


def desired(library: Library) -> Desired:
    """sha256 → (state, places) for every message with a live copy."""
    return {sha256: (_state_of(places), places) for sha256, places in live_places(library).items()}


def copies(places: str) -> list[tuple[str, str, str]]:
    """The (account, folder, flags) of every copy in ``places``."""
    found = []
    for place in places.split(PLACE_SEPARATOR):
        account, folder, flags = (place.split(FIELD_SEPARATOR) + ["", "", ""])[:3]
        found.append((account, folder, flags))
    return found


def changes(wanted: Desired, recorded: Mapping[str, str]) -> Changes:
    """What an update has to do to bring the recorded documents to ``wanted``."""
    to_remove = [sha for sha in recorded if sha not in wanted]
    to_index = [sha for sha, (state, _) in wanted.items() if recorded.get(sha) != state]
    return Changes(to_index, to_remove, len(wanted) - len(to_index))


def drift(
    wanted: Desired, recorded: Mapping[str, str], in_index: set[str]
) -> tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
    """The messages missing from the index, the documents it holds for messages no longer
    stored, and the stale ones (indexed from an older state of their copies)."""
    missing = tuple(sorted(set(wanted) - in_index))
    extra = tuple(sorted(in_index - set(wanted)))
    stale = tuple(
        sorted(
            sha
            for sha, (state, _) in wanted.items()
            if sha in in_index and recorded.get(sha) != state
        )
    )
    return missing, extra, stale


def _state_of(places: str) -> str:
    return hashlib.sha256(places.encode("utf-8", "surrogatepass")).hexdigest()[:24]
