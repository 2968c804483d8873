"""The Qt window: widgets over the core in ``app/``; no protocol, crypto or parsing logic here."""
