"""Issue an award: build, sign, verify with the verifier, store — all or nothing.

:func:`issue_award` runs inside the caller's transaction; any failure raises and the
caller's rollback leaves nothing behind (no award, no recipient, no status index).
Requests are idempotent: the same request (same achievement, recipient, evidence,
results and awarded date) returns the award already issued instead of a duplicate.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from issuer.awards.credentials import build_credential
from issuer.awards.status_lists import PURPOSES, allocate, list_url, open_list, publish, status_entry
from issuer.config import Settings
from issuer.db.models import Achievement, AuditEntry, Award, Issuer, Recipient, new_id, utcnow
from issuer.identity import did_document, did_document_url, profile
from issuer.keys.keyring import all_keys, current_key, verification_method
from issuer.signing import sign_credential
from verifier import verify_credential
from verifier.errors import CredentialError
from verifier.jsonld import JsonLdEngine
from verifier.recipient import normalize_identity

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class IssuanceError(CredentialError):
    code = "issuance_failed"


@dataclass(frozen=True)
class AwardRequest:
    achievement: str                      # slug or id
    email: str
    name: str | None = None
    employee_id: str | None = None
    did: str | None = None
    evidence: tuple[dict, ...] = ()       # e.g. {"id": url} or {"narrative": text, "name": ...}
    results: tuple[dict, ...] = ()        # e.g. {"resultDescription": rd_id, "value": "B"}
    awarded_at: datetime | None = None
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


@dataclass
class IssuerContext:
    """What every issuance for one issuer needs, loaded once (bulk runs reuse it)."""

    settings: Settings
    issuer: Issuer
    documents: dict = field(default_factory=dict)   # URL -> document, for self-verification
    lists: dict = field(default_factory=dict)       # purpose -> StatusList
    memo: dict = field(default_factory=dict)        # status lists already verified (see verify_credential)
    engine: JsonLdEngine = field(default_factory=lambda: JsonLdEngine(remember_canonical=True))

    @classmethod
    def load(cls, session: Session, settings: Settings, issuer: Issuer) -> IssuerContext:
        ctx = cls(settings, issuer)
        ctx.refresh(session)
        return ctx

    def refresh(self, session: Session) -> None:
        self.memo = {}
        self.documents = {did_document_url(self.issuer): did_document(self.issuer, all_keys(session, self.issuer))}
        for purpose in PURPOSES:
            status_list = open_list(session, self.issuer, purpose)
            self.lists[purpose] = status_list
            if status_list.credential is None:
                publish(session, self.settings, self.issuer, status_list)
            self.documents[list_url(self.settings, status_list)] = json.loads(status_list.credential)


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


def find_achievement(session: Session, issuer: Issuer, ref: str) -> Achievement:
    achievement = session.scalars(select(Achievement).where(
        Achievement.issuer_id == issuer.id, or_(Achievement.slug == ref, Achievement.id == ref))).one_or_none()
    if achievement is None:
        raise IssuanceError(f"there is no achievement {ref!r}", code="unknown_achievement")
    return achievement


def _recipient(session: Session, issuer: Issuer, request: AwardRequest) -> Recipient:
    email = normalize_identity(request.email)
    if not EMAIL.match(email):
        raise IssuanceError(f"{request.email!r} is not an email address", code="invalid_email")
    recipient = session.scalars(select(Recipient).where(Recipient.issuer_id == issuer.id,
                                                        Recipient.email == email)).one_or_none()
    if recipient is None:
        recipient = Recipient(id=new_id(), issuer_id=issuer.id, email=email)
        session.add(recipient)
    for attr in ("name", "employee_id", "did"):
        value = getattr(request, attr)
        if value:
            setattr(recipient, attr, value)
    return recipient


def _check_results(achievement: Achievement, results: tuple[dict, ...]) -> None:
    known = {r.get("id") for r in achievement.result_descriptions or []}
    for result in results:
        ref = result.get("resultDescription")
        if ref is not None and ref not in known:
            raise IssuanceError(f"the result refers to {ref!r}, which is not one of the achievement's result "
                                "descriptions", code="unknown_result_description")


def issue_award(session: Session, ctx: IssuerContext, request: AwardRequest, *, actor: str,
                now: datetime | None = None, jwt: bool = False, notify: str | None = None) -> tuple[Award, bool]:
    """(award, created). ``created`` is False when the same request was issued before.

    ``notify``: the kind of email to queue in the outbox for the recipient ("awarded",
    "renewed"; default none). It leaves only after the transaction commits.
    """
    key = request.external_key()
    existing = session.scalars(select(Award).where(Award.external_key == key)).one_or_none()
    if existing is not None:
        return existing, False
    now = now or utcnow()
    achievement = find_achievement(session, ctx.issuer, request.achievement)
    _check_results(achievement, request.results)
    recipient = _recipient(session, ctx.issuer, request)
    awarded = request.awarded_at or now.replace(microsecond=0)
    valid_until = add_months(awarded, achievement.validity_months) if achievement.validity_months else None
    award = Award(id=new_id(), issuer_id=ctx.issuer.id, achievement_id=achievement.id, recipient_id=recipient.id,
                  external_key=key, evidence=list(request.evidence), results=list(request.results),
                  awarded_at=awarded, valid_from=awarded, valid_until=valid_until, state="active", credential="")
    session.add(award)
    session.flush()
    entries = [status_entry(ctx.settings, ctx.lists[p], allocate(session, ctx.lists[p], award.id)) for p in PURPOSES]
    credential = build_credential(ctx.settings, profile(ctx.issuer, ctx.settings), achievement, recipient, award,
                                  entries)
    key_row, pair = current_key(session, ctx.settings, ctx.issuer)
    vm = verification_method(ctx.issuer, key_row)
    signed = sign_credential(credential, pair, verification_method=vm, engine=ctx.engine)
    self_check(signed, ctx, now)
    award.credential = json.dumps(signed, ensure_ascii=False)
    if jwt:
        award.credential_jwt = sign_credential(credential, pair, verification_method=vm, cryptosuite="jwt")
    session.add(AuditEntry(actor=actor, action="issue", award_id=award.id,
                           details={"achievement": achievement.slug, "key": vm}))
    if notify:
        from issuer.mail.outbox import enqueue_award_mail  # mail builds on issuance: imported when used

        session.flush()
        enqueue_award_mail(session, ctx.settings, award, notify)
    return award, True


def self_check(signed: dict, ctx: IssuerContext, now: datetime) -> None:
    """Verify with the verifier, offline, against the issuer's own published documents."""
    report = verify_credential(signed, now=max(now, datetime.now(UTC)), offline=True, strict=True,
                               documents=ctx.documents, memo=ctx.memo, engine=ctx.engine, flag_supplied=False)
    if not report.verified:
        problems = [f"{c.check}: {c.reason}" for c in report.checks if c.status in ("failed", "indeterminate")]
        raise IssuanceError(f"the signed credential did not verify ({', '.join(problems)}); nothing was stored",
                            details={"report": report.to_dict()})


def load_issuer(session: Session, settings: Settings) -> Issuer:
    issuer = session.scalars(select(Issuer).where(Issuer.did == settings.did)).one_or_none()
    if issuer is None:
        raise IssuanceError(f"no issuer is set up for {settings.base_url}; run 'microcred init'",
                            code="not_initialized")
    return issuer


