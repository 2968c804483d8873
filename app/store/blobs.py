"""Content-addressed blobs: ``blobs/ab/cdef…`` holds the raw bytes whose SHA-256 is ``abcdef…``."""

from __future__ import annotations

import hashlib
from pathlib import Path

from app.errors import StoreError
from app.store.atomic import write_atomic


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._made: set[str] = (
            set()
        )  # prefix folders known to exist: one mkdir each, not one per put

    def path(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256[2:]

    def has(self, sha256: str) -> bool:
        return self.path(sha256).is_file()

    def put(self, raw: bytes, *, durable: bool = True) -> str:
        """Store ``raw`` (if not already there) and return its SHA-256."""
        sha256 = hashlib.sha256(raw).hexdigest()
        target = self.path(sha256)
        if not target.exists():
            prefix = sha256[:2]
            if prefix not in self._made:
                target.parent.mkdir(parents=True, exist_ok=True)
                self._made.add(prefix)
            try:
                write_atomic(target, raw, durable=durable, make_parent=False)
            except FileNotFoundError:  # the folder was removed behind our back: make it again
                write_atomic(target, raw, durable=durable)
        return sha256

    def get(self, sha256: str) -> bytes:
        """The exact bytes; a blob whose content no longer matches its name is an error."""
        try:
            raw = self.path(sha256).read_bytes()
        except FileNotFoundError as err:
            raise StoreError(f"message {sha256[:12]} is missing from the store") from err
        if hashlib.sha256(raw).hexdigest() != sha256:
            raise StoreError(f"message {sha256[:12]} in the store is damaged (hash mismatch)")
        return raw
