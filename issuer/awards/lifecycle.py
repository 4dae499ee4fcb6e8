"""After issuance: revoke, suspend, unsuspend, renew, re-issue, and find what expires soon.

Status changes flip the award's bit on the issuer's status list and re-publish the
signed list in the same transaction as the award's new state and the audit entry.
The list row is locked for the change (PostgreSQL ``FOR UPDATE``; SQLite serializes
writers) and version-checked: should two changes still race, the loser's transaction
fails with a stale-data error and is retried on fresh data, so no update is ever lost. Revocation is final; suspension
can be lifted.
"""
from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from issuer.awards.issuance import AwardRequest, IssuerContext, issue_award
from issuer.awards.status_lists import allocated_index, bit, publish, set_bit
from issuer.config import Settings
from issuer.db.models import AuditEntry, Award, Issuer, IssuerKey, StatusList, utcnow
from issuer.keys.keyring import Withdrawal, withdraw_key
from verifier.errors import CredentialError
from verifier.recipient import normalize_identity

# action -> (states it may start from, resulting state, purpose, bit value)
TRANSITIONS = {
    "revoke": (("active", "suspended", "expired", "superseded"), "revoked", "revocation", True),
    "suspend": (("active",), "suspended", "suspension", True),
    "unsuspend": (("suspended",), "active", "suspension", False),
}


class LifecycleError(CredentialError):
    code = "invalid_transition"


@dataclass(frozen=True)
class StatusChange:
    award_id: str
    action: str
    state: str
    changed: bool      # False when the award was already in the requested state


def get_award(session: Session, award_id: str) -> Award:
    award = session.get(Award, award_id) if isinstance(award_id, str) and len(award_id) <= 36 else None
    if award is None:
        raise LifecycleError(f"there is no award {award_id!r}", code="unknown_award")
    return award


def _status_list_for(session: Session, award: Award, purpose: str) -> tuple[StatusList, int]:
    # FOR UPDATE (PostgreSQL): concurrent changes to one list queue up instead of colliding;
    # SQLite serializes writers itself, and the version check still catches any race.
    lists = session.scalars(select(StatusList).where(StatusList.issuer_id == award.issuer_id,
                                                     StatusList.purpose == purpose)
                            .order_by(StatusList.id).with_for_update()).all()
    for status_list in lists:
        index = allocated_index(session, status_list, award.id)
        if index is not None:
            return status_list, index
    raise LifecycleError(f"award {award.id} has no {purpose} status entry", code="no_status_entry")


def change_status(factory: sessionmaker[Session], settings: Settings, award_id: str, action: str, *,
                  reason: str, actor: str, attempts: int = 10) -> StatusChange:
    """Revoke, suspend or unsuspend an award; idempotent; retried when a concurrent change wins."""
    if action not in TRANSITIONS:
        raise LifecycleError(f"unknown action {action!r}", code="invalid_action")
    if not reason or not reason.strip():
        raise LifecycleError("a reason is required (it is kept in the audit log)", code="reason_required")
    allowed_from, new_state, purpose, value = TRANSITIONS[action]
    for attempt in range(attempts):
        try:
            with factory.begin() as session:
                award = get_award(session, award_id)
                if award.state == new_state:
                    return StatusChange(award.id, action, award.state, False)
                if award.state not in allowed_from:
                    raise LifecycleError(f"an award that is {award.state} cannot be {action.rstrip('e')}ed"
                                         if action != "unsuspend" else
                                         f"an award that is {award.state} cannot be unsuspended")
                status_list, index = _status_list_for(session, award, purpose)
                if bit(status_list, index) != value:
                    set_bit(status_list, index, value)
                    issuer = session.get(Issuer, award.issuer_id)
                    publish(session, settings, issuer, status_list)
                award.state, award.state_reason = new_state, reason.strip()
                session.add(AuditEntry(actor=actor, action=action, award_id=award.id,
                                       details={"reason": reason.strip(), "purpose": purpose, "index": index}))
            return StatusChange(award_id, action, new_state, True)
        except (StaleDataError, OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    raise AssertionError("unreachable")


def renew(factory: sessionmaker[Session], settings: Settings, award_id: str, *, actor: str,
          now: datetime | None = None) -> Award:
    """Issue a new credential for the same achievement and recipient; the old award is superseded.

    The old credential stays verifiable until it expires. Renewing the same award again
    returns the renewal already made.
    """
    with factory.begin() as session:
        old = get_award(session, award_id)
        if old.state in ("revoked", "suspended"):
            raise LifecycleError(f"an award that is {old.state} cannot be renewed")
        if old.superseded_by:
            return session.get(Award, old.superseded_by)
        issuer = session.get(Issuer, old.issuer_id)
        ctx = IssuerContext.load(session, settings, issuer)
        request = AwardRequest(achievement=old.achievement_id, email=old.recipient.email, name=old.recipient.name,
                               employee_id=old.recipient.employee_id, did=old.recipient.did,
                               evidence=tuple(old.evidence or ()), results=tuple(old.results or ()),
                               awarded_at=(now or utcnow()).replace(microsecond=0), external_id=f"renewal-of:{old.id}")
        new, _ = issue_award(session, ctx, request, actor=actor, now=now, notify="renewed")
        old.state, old.state_reason, old.superseded_by = "superseded", f"renewed as {new.id}", new.id
        session.add(AuditEntry(actor=actor, action="renew", award_id=old.id, details={"new_award": new.id}))
        return new


def reissue(session: Session, ctx: IssuerContext, old: Award, *, actor: str, reason: str,
            now: datetime | None = None) -> Award:
    """Sign the same award again with the current key; the old award is superseded.

    Same achievement, recipient, evidence, results and award date (so the same validity
    under the achievement's rules); a JWT form too if the old award had one. The recipient
    is emailed the new credential (the outbox's "renewed" email). Re-issuing the same award
    again returns the re-issue already made. Audited as ``reissue``.
    """
    if old.superseded_by:
        return session.get(Award, old.superseded_by)
    if old.state != "active":
        raise LifecycleError(f"an award that is {old.state} cannot be re-issued")
    request = AwardRequest(achievement=old.achievement_id, email=old.recipient.email, name=old.recipient.name,
                           employee_id=old.recipient.employee_id, did=old.recipient.did,
                           evidence=tuple(old.evidence or ()), results=tuple(old.results or ()),
                           awarded_at=old.awarded_at, external_id=f"reissue-of:{old.id}")
    new, _ = issue_award(session, ctx, request, actor=actor, now=now, jwt=bool(old.credential_jwt), notify="renewed")
    old.state, old.state_reason, old.superseded_by = "superseded", f"re-issued as {new.id}: {reason}", new.id
    session.add(AuditEntry(actor=actor, action="reissue", award_id=old.id,
                           details={"new_award": new.id, "reason": reason}))
    return new


def signed_with(session: Session, issuer: Issuer, method: str, now: datetime | None = None) -> list[str]:
    """Ids of the issuer's active, unexpired awards whose credential's proof names ``method``."""
    import json

    now = now or utcnow()
    rows = session.execute(select(Award.id, Award.credential).where(
        Award.issuer_id == issuer.id, Award.state == "active",
        or_(Award.valid_until.is_(None), Award.valid_until > now),
        Award.credential.contains(json.dumps(method), autoescape=True)).order_by(Award.created_at, Award.id))
    found = []
    for award_id, text in rows:
        proofs = json.loads(text).get("proof")
        proofs = proofs if isinstance(proofs, list) else [proofs]
        if any(isinstance(p, dict) and p.get("verificationMethod") == method for p in proofs):
            found.append(award_id)
    return found


@dataclass(frozen=True)
class Reissued:
    method: str
    reissued: list[tuple[str, str]]        # (old award id, new award id)


def withdraw_compromised_key(session: Session, settings: Settings, issuer: Issuer, ref: str, *, reason: str,
                             actor: str) -> Withdrawal:
    """Withdraw a compromised key (:func:`issuer.keys.keyring.withdraw_key`) and sign every status list
    of the issuer again with the current key, in case the withdrawn key signed them. The awards
    it signed are re-issued afterwards with :func:`reissue_signed_with`."""
    withdrawal = withdraw_key(session, settings, issuer, ref, reason=reason, actor=actor)
    if withdrawal.changed:
        for status_list in session.scalars(select(StatusList).where(StatusList.issuer_id == issuer.id)
                                           .order_by(StatusList.id).with_for_update()):
            publish(session, settings, issuer, status_list)
    return withdrawal


def reissue_signed_with(factory: sessionmaker[Session], settings: Settings, key: IssuerKey | str, *, actor: str,
                        reason: str, progress: Callable[[int, int], None] | None = None, batch: int = 25,
                        now: datetime | None = None, attempts: int = 5) -> Reissued:
    """Re-issue, with the current key, every active award a (withdrawn) key signed.

    Runs in batches of ``batch`` awards, one transaction each, so a long run keeps what it
    has done; running it again after an interruption re-issues only the rest (re-issuing
    is idempotent). ``progress(done, total)`` is called after each batch.
    """
    with factory() as session:
        issuer_key = key if isinstance(key, IssuerKey) else session.get(IssuerKey, key)
        issuer = session.get(Issuer, issuer_key.issuer_id)
        method = f"{issuer.did}#{issuer_key.key_id}"
        todo = signed_with(session, issuer, method, now)
        issuer_id = issuer.id
    done: list[tuple[str, str]] = []
    if progress:
        progress(0, len(todo))
    for start in range(0, len(todo), batch):
        ids = todo[start:start + batch]
        for attempt in range(attempts):
            try:
                with factory.begin() as session:
                    issuer = session.get(Issuer, issuer_id)
                    ctx = IssuerContext.load(session, settings, issuer)
                    pairs = []
                    for award_id in ids:
                        old = get_award(session, award_id)
                        if old.state == "active":     # revoked or suspended meanwhile: left as it is
                            pairs.append((old.id, reissue(session, ctx, old, actor=actor, reason=reason,
                                                          now=now).id))
                break
            except (StaleDataError, OperationalError):
                if attempt == attempts - 1:
                    raise
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        done.extend(pairs)
        if progress:
            progress(len(done), len(todo))
    return Reissued(method, done)


def expiring(session: Session, issuer: Issuer, days: int, now: datetime | None = None) -> list[Award]:
    """Active awards whose validity ends within ``days`` days (soonest first)."""
    now = now or utcnow()
    return list(session.scalars(select(Award).where(
        Award.issuer_id == issuer.id, Award.state == "active", Award.valid_until.is_not(None),
        Award.valid_until >= now, Award.valid_until <= now + timedelta(days=days)).order_by(Award.valid_until)))


def awards_for_email(session: Session, issuer: Issuer, email: str) -> list[Award]:
    from issuer.db.models import Recipient

    return list(session.scalars(select(Award).join(Recipient).where(
        Award.issuer_id == issuer.id, Recipient.email == normalize_identity(email)).order_by(Award.created_at)))
