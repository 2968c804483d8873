"""The local store: byte-exact messages addressed by SHA-256, and their copies in SQLite."""
