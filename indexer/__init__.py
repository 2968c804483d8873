"""The Whoosh search index over every stored message (built by the archive-search issue).

Whoosh is first imported by :mod:`indexer.whoosh_private`, lightly (see there), before any
other module of the package imports it.
"""

from indexer import whoosh_private  # noqa: F401 - for the import above
