"""Authentication-Results headers (RFC 8601, via ``authres``): who asserted what. These are
claims written by servers on the way, not Mailproof's own verification."""

from __future__ import annotations

from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import compat32
from typing import Any

import authres

CLAIM_WARNING = (
    "Authentication-Results are claims written by the servers that handled the message; "
    "Mailproof did not verify them — the DKIM results above are what it checked itself."
)


@dataclass(frozen=True)
class AuthResults:
    authserv_id: str | None
    results: tuple[dict[str, Any], ...]
    raw: str
    parsed: bool
    warnings: tuple[str, ...] = field(default=())

    def to_json(self) -> dict[str, Any]:
        return {
            "authserv_id": self.authserv_id,
            "results": list(self.results),
            "raw": self.raw,
            "parsed": self.parsed,
            "warnings": list(self.warnings),
        }


def _one(value: str) -> AuthResults:
    raw = " ".join(value.split())
    try:
        header = authres.AuthenticationResultsHeader.parse("Authentication-Results: " + raw)
    except Exception:  # noqa: BLE001 - authres raises its own and others on odd input
        authserv = raw.split(";", 1)[0].strip() or None
        return AuthResults(authserv, (), raw, False, ("not readable as RFC 8601",))
    results = []
    for result in header.results:
        properties = {
            f"{p.type}.{p.name}": p.value for p in getattr(result, "properties", []) or []
        }
        results.append(
            {
                "method": str(result.method),
                "result": str(result.result),
                "reason": str(result.reason) if result.reason else None,
                "properties": properties,
            }
        )
    return AuthResults(str(header.authserv_id), tuple(results), raw, True)


def authentication_results(raw: bytes) -> list[AuthResults]:
    """Every Authentication-Results header, newest first (header order). Never raises."""
    try:
        message = message_from_bytes(raw, policy=compat32)
        values = [str(v) for v in message.get_all("Authentication-Results") or []]
    except Exception:  # noqa: BLE001
        return []
    return [_one(value) for value in values]
