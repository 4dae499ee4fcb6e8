"""Issue one award inside the caller's transaction: check, plan, sign, self-verify, store.

The path of every award, whichever entry point asked (the bulk run takes the same steps for
many awards at once, :mod:`issuer.bulk.run`)::

    request, jwt = rules.award_request(body, ...)        # one rule set (issuer.awards.rules)
    award, created = issue_award(session, ctx, request, actor=...)
        check_award      the achievement and results, against the issuer's data
        reserve          status indexes (issuer.awards.allocation: their one owner)
        plan_award       ids, dates, validity, slots (issuer.awards.plan: pure)
        AwardSigner      build, sign, verify with the verifier (issuer.awards.signer)
        store_awards     recipient, award, allocations, audit, outbox (issuer.awards.store)

:func:`issue_award` runs in the caller's transaction (a renewal supersedes the old award in
the same one); any failure raises and the caller's rollback leaves nothing behind. Requests
are idempotent: the same request (same achievement, recipient, evidence, results and award
date, or the same external id) returns the award already issued instead of a duplicate.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from issuer.awards.allocation import ListsFull, OpenList, StatusIndexes
from issuer.awards.plan import plan_award
from issuer.awards.request import AwardRequest
from issuer.awards.rules import Catalog, check_award
from issuer.awards.signer import AwardSigner, SelfCheck
from issuer.awards.store import StoreConflict, store_awards
from issuer.config import Settings
from issuer.db.models import Award, Issuer, Recipient, new_id, utcnow
from issuer.errors import Conflict
from issuer.keys.keyring import current_key, verification_method

ATTEMPTS = 5


@dataclass
class IssuerContext:
    """What issuing for one issuer needs, loaded once per request or command (bulk runs keep one).

    ``indexes`` is the process's :class:`StatusIndexes` (the services pass theirs); ``lists``
    the open status lists; ``check`` the published documents the self-check verifies against.
    """

    settings: Settings
    issuer: Issuer
    indexes: StatusIndexes = field(default_factory=StatusIndexes)
    lists: dict[str, OpenList] = field(default_factory=dict)
    check: SelfCheck = field(default_factory=SelfCheck)

    @classmethod
    def load(cls, session: Session, settings: Settings, issuer: Issuer,
             indexes: StatusIndexes | None = None) -> IssuerContext:
        ctx = cls(settings, issuer, indexes or StatusIndexes())
        ctx.refresh(session)
        return ctx

    def refresh(self, session: Session) -> None:
        """Open (and publish) the status lists to use, and read the documents as published now."""
        self.lists = self.indexes.open_lists(session, self.settings, self.issuer)
        self.check = SelfCheck.load(session, self.settings, self.issuer)

    @property
    def documents(self) -> dict[str, object]:
        return self.check.documents


def is_busy(exc: OperationalError) -> bool:
    """A database that was busy (SQLite: locked, or a writer committed since this transaction read;
    PostgreSQL: a deadlock): the transaction may be run again."""
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return "locked" in text or "busy" in text or "deadlock" in text


def existing_award(session: Session, request: AwardRequest) -> Award | None:
    """The award already issued for this request (its idempotency key), if any."""
    return session.scalars(select(Award).where(Award.external_key == request.external_key())).one_or_none()


def _stored_did(session: Session, issuer: Issuer, email: str) -> str | None:
    return session.scalar(select(Recipient.did).where(Recipient.issuer_id == issuer.id, Recipient.email == email))


def issue_award(session: Session, ctx: IssuerContext, request: AwardRequest, *, actor: str,
                now: datetime | None = None, jwt: bool = False, notify: str | None = None) -> tuple[Award, bool]:
    """(award, created). ``created`` is False when the same request was issued before.

    ``notify``: the kind of email to queue in the outbox for the recipient ("awarded",
    "renewed"; default none). It leaves only after the transaction commits.
    """
    now = now or utcnow()
    session.flush()                        # the caller's pending changes go first: the store writes set-based
    for _attempt in range(ATTEMPTS):
        existing = existing_award(session, request)
        if existing is not None:
            return existing, False
        achievement = check_award(request, Catalog.load(session, ctx.issuer, [request.achievement]), now=now)
        try:
            slots = ctx.indexes.reserve(session, ctx.lists, 1)[0]
        except ListsFull:
            ctx.refresh(session)
            continue
        key_row, pair = current_key(session, ctx.settings, ctx.issuer)
        method = verification_method(ctx.issuer, key_row)
        planned = plan_award(request, achievement, award_id=new_id(), now=now, slots=slots,
                             recipient_did=request.did or _stored_did(session, ctx.issuer, request.email))
        try:
            signer = AwardSigner(ctx.settings, ctx.issuer, pair, method, {achievement.id: achievement}, ctx.check)
            signed = signer.sign(planned, now, jwt=jwt)
            with session.begin_nested():
                store_awards(session, ctx.settings, ctx.issuer.id, [signed], actor=actor,
                             verification_method=method, slugs={achievement.id: achievement.slug}, notify=notify)
        except (IntegrityError, StoreConflict):
            ctx.indexes.forget([slots])    # an index or the request was taken meanwhile: look and plan again
            continue
        except BaseException:
            ctx.indexes.forget([slots])
            raise
        ctx.indexes.stored([slots])
        session.expire_all()               # the ORM sees what the set-based statements wrote
        award = session.get(Award, planned.award_id)
        assert award is not None  # noqa: S101 - just stored
        return award, True
    raise Conflict("the award could not be stored: concurrent issuing kept taking its status indexes; retry",
                   code="concurrent_issuing")
