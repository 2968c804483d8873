"""Whoosh's posting blocks, laid out as a few byte strings instead of hundreds of objects.

Whoosh 3 stores a block of up to 128 postings as a pickle of three tuples: the document
gaps, the weights, the values (for ``subject``/``body``, each document's positions). Reading
a block unpickles every number and every value as its own Python object; at 100k messages a
phrase of two common words reads ~1,000 blocks that way (36 ms of its 90). Here the same
three are arrays and one joined byte string with its offsets: unpickling makes five objects,
and C code (``array``, ``itertools.accumulate``) rebuilds what the matcher hands out. Block
headers, skipping, inlined single postings and everything above the block are Whoosh's.

Little-endian on disk whatever the machine.
"""

from __future__ import annotations

import operator
import sys
from array import array
from itertools import accumulate
from typing import Any

from whoosh.codec.whoosh3 import W3LeafMatcher, W3PerDocWriter, W3PostingsWriter

_SWAP = sys.byteorder == "big"


def to_le_bytes(numbers: array) -> bytes:  # type: ignore[type-arg]
    if _SWAP:  # pragma: no cover - little-endian machines
        numbers.byteswap()
    return numbers.tobytes()


def from_le_bytes(code: str, raw: bytes) -> array:  # type: ignore[type-arg]
    numbers = array(code)
    numbers.frombytes(raw)
    if _SWAP:  # pragma: no cover
        numbers.byteswap()
    return numbers


class MailPostingsWriter(W3PostingsWriter):  # type: ignore[misc]
    def _mini_ids(self) -> Any:
        ids = self._ids
        if self._byteids:  # term vectors: Whoosh's own layout
            return tuple(ids)
        return to_le_bytes(array("I", map(operator.sub, ids, [0, *ids[:-1]])))

    def _mini_weights(self) -> Any:
        weights = self._weights
        first = weights[0]
        if all(w == first for w in weights):
            return None if first == 1.0 else first
        return to_le_bytes(array("f", weights))

    def _mini_values(self) -> Any:
        fixedsize = self._format.fixed_value_size()
        values = self._values
        if fixedsize is not None and fixedsize >= 0:
            return super()._mini_values()
        offsets = array("I", accumulate(map(len, values), initial=0))
        return (to_le_bytes(offsets), b"".join(values))


class MailLeafMatcher(W3LeafMatcher):  # type: ignore[misc]
    def _read_ids(self) -> None:
        if self._data is None:
            self._read_data()
        raw = self._data[0]
        self._ids = raw if self._byteids else list(accumulate(from_le_bytes("I", raw)))

    def block_ids(self) -> list[int]:
        """Every document number of the current block (the engine reads blocks whole)."""
        if self._ids is None:
            self._read_ids()
        return self._ids

    def _read_weights(self) -> None:
        if self._data is None:
            self._read_data()
        weights = self._data[1]
        count = self._blocklength
        if weights is None:
            self._weights = array("f", [1.0]) * count
        elif isinstance(weights, float):
            self._weights = array("f", [weights]) * count
        else:
            self._weights = from_le_bytes("f", weights)

    def _read_values(self) -> None:
        packed = self.block_packed()
        if packed is None:  # fixed-size values: Whoosh's own layout
            super()._read_values()
            return
        offsets, joined = packed
        self._values = [joined[a:b] for a, b in zip(offsets, offsets[1:], strict=False)]

    def block_values(self) -> list[Any]:
        if self._values is None:
            self._read_values()
        return self._values

    def block_packed(self) -> tuple[array, bytes] | None:  # type: ignore[type-arg]
        """The block's values unsliced (offsets, joined bytes); None for fixed-size ones."""
        if self._data is None:
            self._read_data()
        fixedsize = self._fixedsize
        if fixedsize is not None and fixedsize >= 0:
            return None
        packed, joined = self._data[2]
        return from_le_bytes("I", packed), joined


class MailPerDocWriter(W3PerDocWriter):  # type: ignore[misc]
    """Whoosh's per-document writer, writing the stored fields' offsets in every segment.

    Whoosh writes them only past 32,768 documents; below that a reader rebuilds them from
    the lengths, one Python append per document (12 ms of every `mailproof search` at 100k
    messages in segments of 10k)."""

    def _create_column(self, fieldname: str, column: Any) -> None:
        super()._create_column(fieldname, column)
        if fieldname == "_stored":
            child = getattr(self._colwriters[fieldname], "_child", None)
            if child is not None and hasattr(child, "cutoff"):
                child.cutoff = 0
