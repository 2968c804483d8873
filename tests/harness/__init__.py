"""Real-component test harness: starts Dovecot, Postfix, OpenDKIM, unbound, GnuPG on loopback.

Each module holds one component; nothing here is mocked.
"""
