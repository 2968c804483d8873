"""IMAP: accounts, the connection and its TLS policy, folder listing and sync."""
