"""The awards use case "issue": one function every entry point calls with the same JSON-like body.

    issued = services.awards.issue(body, actor="api:token-1", external_id=idempotency_key)
    issued.award, issued.created, issued.jwt

The REST API passes its JSON body, the console :func:`issuer.awards.rules.form_body` of its
form, the CLI a body made of its options; the bulk CSV makes the same body of each row
(:mod:`issuer.bulk.reading`). The service owns the transaction: it replays an award already
issued for the same request (an idempotency key reused for a *different* request is
refused), retries once when a concurrent request stored the same award first, and issues
through :func:`issuer.awards.issuance.issue_award`. Emails are queued with the award and sent
by :meth:`AwardService.deliver_mail` once the caller has answered.
"""
from __future__ import annotations

import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, selectinload

from issuer.awards.allocation import StatusIndexes
from issuer.awards.issuance import IssuerContext, existing_award, is_busy, issue_award
from issuer.awards.request import AwardRequest
from issuer.awards.rules import award_request
from issuer.db.models import Achievement, Award
from issuer.errors import Conflict, InvalidInput
from issuer.mail.outbox import Delivery
from issuer.metrics import award_path, count_awards
from issuer.runtime import Runtime

ATTEMPTS = 6


@dataclass(frozen=True)
class Issued:
    award: Award              # with its achievement and recipient loaded
    created: bool             # False: the same request was issued before (a replay)
    jwt: bool = False         # a VC-JWT form was asked for


def _same_request(session: Session, award: Award, request: AwardRequest) -> bool:
    achievement = session.get(Achievement, award.achievement_id)
    assert achievement is not None  # noqa: S101 - foreign key
    if request.achievement not in (achievement.id, achievement.slug) or request.email != award.recipient.email:
        return False
    if list(request.evidence) != list(award.evidence or []) or list(request.results) != list(award.results or []):
        return False
    return request.awarded_at is None or request.awarded_at == award.awarded_at


def _loaded(session: Session, award_id: str) -> Award:
    return session.scalars(select(Award).where(Award.id == award_id).options(
        selectinload(Award.achievement), selectinload(Award.recipient))).one()


class AwardService:
    """Issuing awards for this installation's issuer."""

    def __init__(self, runtime: Runtime, indexes: StatusIndexes) -> None:
        self.runtime = runtime
        self.indexes = indexes

    def issue(self, body: Mapping[str, Any], *, actor: str, external_id: str | None = None,
              notify: bool = True) -> Issued:
        """Check ``body`` by the award rules and issue it (or replay the award issued before for it)."""
        request, jwt = award_request(body, external_id, now=self.runtime.now())
        return self.issue_request(request, actor=actor, jwt=jwt, notify=notify)

    def issue_request(self, request: AwardRequest, *, actor: str, jwt: bool = False, notify: bool = True) -> Issued:
        """Issue a request already made by :func:`~issuer.awards.rules.award_request`."""
        for attempt in range(ATTEMPTS):
            try:
                issued = self._issue_once(request, actor=actor, jwt=jwt, notify=notify)
                if issued.created:                  # committed: count it (issuer.metrics)
                    count_awards(award_path(actor))
                return issued
            except IntegrityError:
                if attempt >= 1:      # a concurrent request with the same key won twice
                    raise Conflict("A concurrent request is issuing the same award; retry.",
                                   code="concurrent_request") from None
            except OperationalError as exc:
                if not is_busy(exc) or attempt == ATTEMPTS - 1:
                    raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))   # SQLite: a writer committed meanwhile
        raise AssertionError("unreachable")

    def _issue_once(self, request: AwardRequest, *, actor: str, jwt: bool, notify: bool) -> Issued:
        with self.runtime.transaction() as session:
            issuer = self.runtime.load_issuer(session)
            existing = existing_award(session, request)
            if existing is not None:
                if existing.issuer_id != issuer.id:
                    raise Conflict("This idempotency key is already used by another issuer's award.",
                                   code="idempotency_key_taken")
                if request.external_id is not None and not _same_request(session, existing, request):
                    raise InvalidInput("This idempotency key was already used for a different request.",
                                       code="idempotency_key_reused")
                return Issued(_loaded(session, existing.id), False, jwt)
            ctx = IssuerContext.load(session, self.runtime.settings, issuer, self.indexes)
            award, created = issue_award(session, ctx, request, actor=actor, now=self.runtime.now(), jwt=jwt,
                                         notify="awarded" if notify else None)
            return Issued(_loaded(session, award.id), created, jwt)

    def deliver_mail(self) -> Delivery | None:
        """Send the queued award emails now, or hand them to the workers (:meth:`Runtime.mail_after_commit`);
        never raises (what fails stays queued for a retry)."""
        return self.runtime.mail_after_commit()
