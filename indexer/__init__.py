"""The Whoosh search index over every stored message copy (built by the archive-search issue)."""
