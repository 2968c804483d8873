"""The ``mailproof`` executable: search verbs start light (no Qt, keyring, IMAP or crypto
imports, so a search answers in a fraction of a second); everything else goes to ``app.cli``."""

from __future__ import annotations

import sys


def main() -> int:
    argv = sys.argv[1:]
    if argv[:1] and argv[0] in ("search", "count") and not {"-h", "--help"} & set(argv):
        from app.search_cli import fast_main

        return fast_main(argv)
    from app.cli import main as full_main

    return full_main(argv)


if __name__ == "__main__":
    sys.exit(main())
