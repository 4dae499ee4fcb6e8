"""The use cases after issuance: status changes (awards and VC-API credentials), renewal, re-issue, expiring.

    change = services.status.change_status(award_id, "revoke", {"reason": "issued in error"}, actor="api:t1")
    change = services.status.change_vcapi_status(record_id, "suspend", {"reason": "checking"}, actor="staff:ann")
    renewal = services.status.renew(award_id, actor="cli")          # renewal.award, renewal.created

Like issuing (:meth:`issuer.awards.service.AwardService.issue`), a status change takes the
request as the REST API's body, ``{"reason": "..."}``, whichever entry point asks; it is checked
once the record is found, so an unknown record is NotFound whatever was asked.
    soon = services.status.expiring(30)

Each call is one transaction of its own, run again on fresh data when a concurrent change
won (:func:`issuer.awards.lifecycle.in_transaction`); the steps are those of
:mod:`issuer.awards.lifecycle`, one status change for both kinds of credential. Only records of
this installation's issuer are found (another issuer's are :class:`~issuer.errors.NotFound`).
Renewals queue the recipient's email; :meth:`issuer.awards.service.AwardService.deliver_mail`
sends it once the caller has answered.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from issuer.awards.allocation import StatusIndexes
from issuer.awards.lifecycle import (
    AWARDS,
    Holder,
    Reissued,
    StatusChange,
    change_record_status,
    expiring,
    get_award,
    in_transaction,
    reissue_signed_with,
    renew_award,
)
from issuer.awards.search import loaded_award
from issuer.awards.status_lists import republish_stale
from issuer.awards.vcapi_records import VCAPI
from issuer.db.models import Award, IssuerKey
from issuer.metrics import award_path, count_awards
from issuer.runtime import Runtime


@dataclass(frozen=True)
class Renewal:
    award: Award          # the new award, achievement and recipient loaded
    created: bool         # False: the award had been renewed before (this is that renewal)


class StatusService:
    """Status changes of awards and VC-API credentials, renewal, re-issue after a key withdrawal, expiring."""

    def __init__(self, runtime: Runtime, indexes: StatusIndexes) -> None:
        self.runtime = runtime
        self.indexes = indexes

    def _change(self, holder: Holder, record_id: str, action: str, body: Mapping[str, Any],
                actor: str) -> StatusChange:
        def work(session: Session) -> StatusChange:
            issuer = self.runtime.load_issuer(session)
            return change_record_status(session, self.runtime.settings, holder, record_id, action, body, actor=actor,
                                        issuer_id=issuer.id)
        return in_transaction(self.runtime.sessions, work)

    def change_status(self, award_id: str, action: str, body: Mapping[str, Any], *, actor: str) -> StatusChange:
        """Revoke, suspend or unsuspend an award (idempotent: ``changed`` False when it already was)."""
        return self._change(AWARDS, award_id, action, body, actor)

    def change_vcapi_status(self, record_id: str, action: str, body: Mapping[str, Any], *,
                            actor: str) -> StatusChange:
        """Revoke, suspend or unsuspend a credential signed through the VC-API (as :meth:`change_status`)."""
        return self._change(VCAPI, record_id, action, body, actor)

    def renew(self, award_id: str, *, actor: str, body: object = None) -> Renewal:
        """A new credential for the same achievement and recipient, valid from now; the old one is superseded.

        ``body``: the request, which must be empty (None or ``{}``); a renewal takes no parameters.
        """
        def work(session: Session) -> Renewal:
            issuer = self.runtime.load_issuer(session)
            old = get_award(session, award_id, issuer.id)
            new, created = renew_award(session, self.runtime.settings, old, actor=actor, now=self.runtime.now(),
                                       indexes=self.indexes, body=body)
            return Renewal(loaded_award(session, new.id), created)
        renewal = in_transaction(self.runtime.sessions, work)
        if renewal.created:                     # committed: a new award (issuer.metrics)
            count_awards(award_path(actor))
        return renewal

    def republish_lists(self) -> int:
        """Sign again the status lists the current key did not sign (the periodic task after a key
        rotation); how many were signed."""
        def work(session: Session) -> int:
            return republish_stale(session, self.runtime.settings, self.runtime.load_issuer(session))
        return in_transaction(self.runtime.sessions, work)

    def expiring(self, days: int) -> list[Award]:
        """Active awards whose validity ends within ``days`` days, soonest first."""
        with self.runtime.reading() as session:
            return expiring(session, self.runtime.load_issuer(session), days, self.runtime.now())

    def reissue_signed_with(self, key: IssuerKey | str, *, actor: str, reason: str,
                            progress: Callable[[int, int], None] | None = None, batch: int = 25) -> Reissued:
        """Re-issue with the current key every active award ``key`` signed (after its withdrawal), in batches."""
        return reissue_signed_with(self.runtime.sessions, self.runtime.settings, key, actor=actor, reason=reason,
                                   progress=progress, batch=batch, now=self.runtime.now(), indexes=self.indexes)
