"""Mailproof core: store, sources, MIME, CLI. Imports no Qt."""

__version__ = "0.1.0"
