"""Parsing raw messages with the stdlib ``email`` package: summaries, safe rendering."""
