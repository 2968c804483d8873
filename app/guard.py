"""The last guard of every ``mailproof`` command: a clear line and an exit code, never a
traceback; details in ``$MAILPROOF_HOME/mailproof.log``.

Commands that start light (``mailproof search|count``) must not pay for ``logging`` at start:
the log file is set up here when something is to be written, if ``app.cli`` has not already.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path

from app.config import data_home
from app.errors import Exit, MailproofError


def setup_logging(debug: bool) -> None:
    """Log to ``mailproof.log`` in the data directory (and stderr with ``--debug``)."""
    import logging

    handlers: list[logging.Handler] = []
    try:
        home = data_home()
        home.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(home / "mailproof.log", encoding="utf-8"))
    except OSError:
        pass
    if debug:
        handlers.append(logging.StreamHandler(sys.stderr))
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers or [logging.NullHandler()],
    )


def _log(debug: bool, level: str, message: str, *args: object) -> None:
    import logging

    if not logging.getLogger().handlers:
        setup_logging(debug)
    getattr(logging.getLogger("mailproof"), level)(message, *args, exc_info=True)


def guarded(run: Callable[[], int], *, debug: bool = False) -> int:
    """``run()``'s exit code; any failure becomes one line on stderr and an exit code."""
    try:
        return run()
    except MailproofError as err:
        _log(debug, "info", "error: %s", err)
        print(f"mailproof: error: {err}", file=sys.stderr)
        return err.exit_code
    except KeyboardInterrupt:
        print("mailproof: interrupted; nothing half-written was kept", file=sys.stderr)
        return Exit.INTERRUPTED
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return Exit.OK
    except MemoryError:
        print("mailproof: error: out of memory", file=sys.stderr)
        return Exit.ENVIRONMENT
    except Exception as err:  # noqa: BLE001 - the last guard: never a traceback for users
        _log(debug, "error", "internal error")
        if debug:
            import traceback

            traceback.print_exc()
        where = Path(data_home()) / "mailproof.log"
        print(
            f"mailproof: internal error: {type(err).__name__}: {err} (details in {where})",
            file=sys.stderr,
        )
        return Exit.ENVIRONMENT
