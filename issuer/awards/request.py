"""An award request: what every entry point (API, console, CLI, bulk CSV) turns its input into.

:class:`AwardRequest` holds the request as the rules of :mod:`issuer.awards.rules` accepted it
(email normalised, dates in UTC, whole seconds). Its :meth:`~AwardRequest.external_key` is the
idempotency key: the same request issues one award, however often and through whichever entry
point it arrives.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from verifier.recipient import normalize_identity


@dataclass(frozen=True)
class AwardRequest:
    achievement: str                      # slug or id
    email: str
    name: str | None = None
    employee_id: str | None = None
    did: str | None = None
    evidence: tuple[dict[str, Any], ...] = ()   # e.g. {"id": url} or {"narrative": text, "name": ...}
    results: tuple[dict[str, Any], ...] = ()    # e.g. {"resultDescription": rd_id, "value": "B"}
    awarded_at: datetime | None = None    # None: when it is issued
    external_id: str | None = None        # caller-chosen idempotency key (replaces the computed one)

    def external_key(self) -> str:
        """Stable across re-runs of the same request: the idempotency key."""
        if self.external_id:
            return hashlib.sha256(f"external:{self.external_id}".encode()).hexdigest()
        material = json.dumps({
            "achievement": self.achievement, "email": normalize_identity(self.email),
            "evidence": list(self.evidence), "results": list(self.results),
            "awarded": self.awarded_at.astimezone(UTC).isoformat() if self.awarded_at else None,
        }, sort_keys=True)
        return hashlib.sha256(material.encode("utf-8")).hexdigest()


def add_months(value: datetime, months: int) -> datetime:
    """``value`` plus whole calendar months; the day is clamped (Jan 31 + 1 month = Feb 28/29)."""
    month_index = value.month - 1 + months
    year, month = value.year + month_index // 12, month_index % 12 + 1
    for day in (value.day, 30, 29, 28):
        try:
            return value.replace(year=year, month=month, day=day)
        except ValueError:
            continue
    raise ValueError("unreachable")
