"""Authentication-Results headers (RFC 8601, parsed with ``authres``): which server asserted
what. These are claims written by servers on the way, not Mailproof's own verification."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import authres

from app.delivery.dkim import header_fields

CLAIM_WARNING = (
    "Authentication-Results are claims written by the servers that handled the message; "
    "Mailproof did not verify them — see the DKIM results above for what it checked itself."
)
NO_AUTHSERV_ID = (
    "this header does not name the server that wrote it (no authserv-id; Microsoft 365 "
    "writes it that way)"
)
#: Longer header values are kept (raw) but not parsed: authres backtracks on odd input.
MAX_PARSED_CHARS = 20_000
# Microsoft 365 starts with the first result ("spf=pass …") instead of its own name.
_STARTS_WITH_RESULT = re.compile(r"^[A-Za-z][\w-]*(/\d+)?\s*=")


@dataclass(frozen=True)
class AuthResults:
    """One Authentication-Results header: the server that wrote it and what it claims."""

    authserv_id: str | None
    results: tuple[dict[str, Any], ...]  # {method, result, reason, properties{"ptype.name": v}}
    raw: str  # the header value, unfolded
    parsed: bool  # False: not readable as RFC 8601; only ``raw`` is meaningful
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "authserv_id": self.authserv_id,
            "results": [dict(r, properties=dict(r["properties"])) for r in self.results],
            "raw": self.raw,
            "parsed": self.parsed,
            "warnings": list(self.warnings),
        }


def _parse(value: str) -> Any:
    return authres.AuthenticationResultsHeader.parse("Authentication-Results: " + value)


def _result(item: Any) -> dict[str, Any]:
    properties = {
        f"{p.type}.{p.name}".lower(): str(p.value) for p in getattr(item, "properties", None) or []
    }
    reason = getattr(item, "reason", None)
    return {
        "method": str(item.method).lower(),
        "result": str(item.result).lower(),
        "reason": str(reason) if reason else None,
        "properties": properties,
    }


def parse_authentication_results(value: str) -> AuthResults:
    """One header value (folded or not). Never raises: unreadable → ``parsed`` False."""
    raw = " ".join(value.split())
    guess = raw.split(";", 1)[0].strip() or None
    if len(raw) > MAX_PARSED_CHARS:
        return AuthResults(guess, (), raw, False, ("too long to read as RFC 8601",))
    warnings: list[str] = []
    authserv_id: str | None
    try:
        if _STARTS_WITH_RESULT.match(raw):
            header = _parse("unnamed.invalid; " + raw)
            authserv_id = None
            warnings.append(NO_AUTHSERV_ID)
        else:
            header = _parse(raw)
            authserv_id = str(header.authserv_id)
        results = tuple(_result(r) for r in header.results)
    except Exception:  # noqa: BLE001 - authres raises its own SyntaxError and others
        guess = None if guess and _STARTS_WITH_RESULT.match(guess) else guess
        return AuthResults(guess, (), raw, False, ("not readable as RFC 8601",))
    return AuthResults(authserv_id, results, raw, True, tuple(warnings))


def authentication_results(raw: bytes) -> list[AuthResults]:
    """Every Authentication-Results header, in header order (topmost = added last). A server
    asserts only what it saw; any header below the receiving server's own could have been
    written by the sender. Never raises."""
    try:
        fields, _problem = header_fields(raw)
    except Exception:  # noqa: BLE001
        return []
    return [
        parse_authentication_results(value.decode("utf-8", "replace"))
        for name, value in fields
        if name.lower() == b"authentication-results"
    ]
