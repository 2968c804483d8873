"""The ``mailproof`` executable: the command registry (``app.cli``) imports only the module of
the verb given, so ``mailproof search`` answers without loading Qt, IMAP, crypto or the keyring."""

from __future__ import annotations

import sys


def main() -> int:
    from app.cli import main as cli_main

    return cli_main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
