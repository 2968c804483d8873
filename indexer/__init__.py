"""The Whoosh search index over every stored message copy (built by the archive-search issue).

Importing Whoosh pulls in ``urllib.request`` (for a download helper in ``whoosh.compat`` that
Mailproof never calls) and the ``cached_property`` package (which imports asyncio): together
about a third of ``mailproof search``'s start-up. While Whoosh is first imported, both are
stood in for: a ``urlretrieve`` that imports the real one when called, and the standard
library's ``functools.cached_property``. The stand-ins are removed from ``sys.modules`` right
after, so any later ``import urllib.request`` gets the real module.
"""

from __future__ import annotations

import functools
import sys
import types
from typing import Any


def _urlretrieve(*args: Any, **kwargs: Any) -> Any:  # pragma: no cover - never called
    from urllib.request import urlretrieve

    return urlretrieve(*args, **kwargs)  # noqa: S310 - only Whoosh's own helper, unused


def _import_whoosh_lightly() -> None:
    if "whoosh.reading" in sys.modules:
        return
    stubs: dict[str, types.ModuleType] = {}
    if "urllib.request" not in sys.modules:
        stubs["urllib.request"] = types.ModuleType("urllib.request")
        stubs["urllib.request"].urlretrieve = _urlretrieve  # type: ignore[attr-defined]
    if "cached_property" not in sys.modules:
        stubs["cached_property"] = types.ModuleType("cached_property")
        stubs["cached_property"].cached_property = functools.cached_property  # type: ignore[attr-defined]
    sys.modules.update(stubs)
    try:
        import whoosh.compat  # noqa: F401
        import whoosh.reading  # noqa: F401
    finally:
        for name, stub in stubs.items():
            if sys.modules.get(name) is stub:
                del sys.modules[name]


_import_whoosh_lightly()
