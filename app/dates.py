"""Dates as people type them into a command or a dialog: ``YYYY-MM-DD`` or an ISO time."""

from __future__ import annotations

import datetime as dt

from app.errors import BadInput


def parse_day(text: str | None, what: str) -> dt.datetime | None:
    """``text`` as an aware datetime (UTC when it names no zone); None when empty. ``what``
    names the field in the error ("--since", "the date")."""
    text = (text or "").strip()
    if not text:
        return None
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadInput(f"{what} {text!r} is not YYYY-MM-DD or an ISO time") from None
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
