"""Readers of local mail (Maildir, mbox, folders of .eml) that yield raw bytes with provenance."""

from app.sources.base import FolderRef, Provenance, RawMessage
from app.sources.detect import MailSource, open_source

__all__ = ["FolderRef", "MailSource", "Provenance", "RawMessage", "open_source"]
