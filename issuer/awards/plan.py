"""The plan of an award: everything decided before signing, as plain values. Pure.

:func:`plan_award` fixes the award's id, its award date and validity (from the
achievement's rules), the DID the credential names and its status slots;
:func:`unsigned_credential` turns a plan into the OB 3.0 credential to sign. Neither reads
the database or the clock: single issuing, bulk runs (whose signing processes get plans,
not rows) and renewals all plan the same way.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from issuer.awards.allocation import Slots
from issuer.awards.credentials import build_credential
from issuer.awards.request import AwardRequest, add_months
from issuer.config import Settings
from issuer.db.models import Achievement


@dataclass(frozen=True)
class PlannedAward:
    award_id: str
    request: AwardRequest                  # as the rules accepted it
    key: str                               # the idempotency key (request.external_key())
    achievement_id: str
    recipient_did: str | None              # the DID the credential names: given, or the recipient's stored one
    awarded: datetime
    valid_until: datetime | None
    slots: Slots                           # purpose -> (status list, index)

    def status_entries(self) -> list[dict[str, str]]:
        return [status_list.entry(index) for status_list, index in self.slots.values()]


def plan_award(request: AwardRequest, achievement: Achievement, *, award_id: str, recipient_did: str | None,
               slots: Slots, now: datetime) -> PlannedAward:
    """The plan of ``request`` for ``achievement``: awarded at the date asked (else ``now``), valid for the
    achievement's months (none: no end)."""
    awarded = request.awarded_at or now.replace(microsecond=0)
    months = achievement.validity_months
    return PlannedAward(award_id=award_id, request=request, key=request.external_key(),
                        achievement_id=achievement.id, recipient_did=recipient_did, awarded=awarded,
                        valid_until=add_months(awarded, months) if months else None, slots=slots)


def unsigned_credential(settings: Settings, issuer_profile: dict[str, Any], achievement: Achievement,
                        planned: PlannedAward) -> dict[str, Any]:
    """The OB 3.0 ``OpenBadgeCredential`` of a plan, ready to sign."""
    request = planned.request
    return build_credential(settings, issuer_profile, achievement, award_id=planned.award_id, email=request.email,
                            did=planned.recipient_did, evidence=request.evidence, results=request.results,
                            awarded=planned.awarded, valid_until=planned.valid_until,
                            status_entries=planned.status_entries())
