"""After issuance: revoke, suspend, unsuspend, renew, re-issue, and find what expires soon.

The steps here run inside a caller's transaction; :class:`issuer.awards.status_service.StatusService`
(the use case every view and command calls) owns the transactions, through :func:`in_transaction`.

* **One status change for every kind of credential** (:func:`change_record_status`): an award
  or a credential signed through the VC-API (:data:`AWARDS`, :data:`issuer.awards.vcapi_records.VCAPI`
  say how to find the record and what to audit). The record's bit is flipped on the issuer's
  status list and the signed list re-published in the same transaction as the record's new state
  and the audit entry. The list row is locked (:func:`~issuer.awards.status_lists.locked_entry`)
  and version-checked: should two changes still race, the loser's transaction fails with a
  stale-data error and :func:`in_transaction` runs it again on fresh data, so no update is ever
  lost. Changes are idempotent; revocation is final, suspension can be lifted. An award's
  recipient is emailed a notice of each change, queued in the same transaction
  (:func:`issuer.mail.outbox.enqueue_status_notice`, once per change).
* **Renewal and re-issue** issue the same award again (:func:`issuer.awards.issuance.issue_award`)
  and supersede the old one: renewal from today, re-issue with the old dates and the current key
  (after a key withdrawal, :func:`reissue_signed_with`).

Errors: an unknown record is :class:`~issuer.errors.NotFound`, a missing reason
:class:`~issuer.errors.InvalidInput`, a change the record's state does not allow a
:class:`LifecycleError` (a :class:`~issuer.errors.Conflict`, code ``invalid_transition``).

``change_status`` and ``renew`` with a session factory are the same steps for code that holds
no services (scripts, tests).
"""
from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import func, or_, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import InstrumentedAttribute, Session, selectinload, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from issuer.awards.allocation import StatusIndexes
from issuer.awards.issuance import IssuerContext, issue_award
from issuer.awards.request import AwardRequest
from issuer.awards.rules import only, status_reason
from issuer.awards.search import expiring_condition
from issuer.awards.status_lists import bit, locked_entry, publish, set_bit
from issuer.config import Settings
from issuer.db.models import AuditEntry, Award, Issuer, IssuerKey, StatusAllocation, StatusList, VcapiCredential, utcnow
from issuer.db.models_employee import AwardPrivacy
from issuer.errors import Conflict, InvalidInput, NotFound
from issuer.keys.keyring import Withdrawal, withdraw_key
from issuer.mail.outbox import enqueue_status_notice

# action -> (states it may start from, resulting state, purpose, bit value)
TRANSITIONS = {
    "revoke": (("active", "suspended", "expired", "superseded"), "revoked", "revocation", True),
    "suspend": (("active",), "suspended", "suspension", True),
    "unsuspend": (("suspended",), "active", "suspension", False),
}
DONE = {"revoke": "revoked", "suspend": "suspended", "unsuspend": "unsuspended"}
NOTIFIED = ("revoke", "suspend", "unsuspend")        # an award's recipient is emailed a notice of each
ATTEMPTS = 10
RECORD_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")   # new_id's form

T = TypeVar("T")
Record = Award | VcapiCredential


class LifecycleError(Conflict):
    """The record's state does not allow this change (revoked, suspended, no status entry)."""

    default_code = "invalid_transition"


@dataclass(frozen=True)
class StatusChange:
    id: str            # the award's or the VC-API credential's record id
    action: str
    state: str
    changed: bool      # False when the record was already in the requested state


@dataclass(frozen=True)
class Holder:
    """How a status change finds one kind of credential and what it writes in the audit log."""

    model: type[Award] | type[VcapiCredential]
    name: str                                   # "award": "there is no award '...'"
    a_name: str                                 # "an award": "an award that is revoked cannot be ..."
    unknown_code: str                           # NotFound's code
    owner: InstrumentedAttribute[str | None]    # the StatusAllocation column naming the record
    no_entry: str                               # LifecycleError without a status entry ({id}, {purpose})
    audit: Callable[[Record, str, dict[str, Any]], tuple[str, str | None, dict[str, Any]]]
    # (record, action, details) -> the audit entry's (action, award_id, details)


AWARDS = Holder(Award, "award", "an award", "unknown_award", StatusAllocation.award_id,
                "award {id} has no {purpose} status entry",
                lambda record, action, details: (action, record.id, details))


def in_transaction(factory: sessionmaker[Session], work: Callable[[Session], T], *, attempts: int = ATTEMPTS) -> T:
    """``work(session)`` in a transaction of its own, committed when it returns.

    Run again on fresh data (after a short random pause) when a concurrent change won: a status
    list's version moved (StaleDataError) or the database refused a lock (OperationalError).
    """
    for attempt in range(attempts):
        try:
            with factory.begin() as session:
                return work(session)
        except (StaleDataError, OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    raise AssertionError("unreachable")


def find_record(session: Session, holder: Holder, record_id: str, issuer_id: str | None = None) -> Record:
    """The record ``record_id`` (of issuer ``issuer_id`` when given); NotFound otherwise."""
    record = cast(Record | None, session.get(holder.model, record_id)) if RECORD_ID.fullmatch(record_id) else None
    if record is None or (issuer_id is not None and record.issuer_id != issuer_id):
        raise NotFound(f"there is no {holder.name} {record_id!r}", code=holder.unknown_code)
    return record


def get_award(session: Session, award_id: str, issuer_id: str | None = None) -> Award:
    award = find_record(session, AWARDS, award_id, issuer_id)
    assert isinstance(award, Award)  # noqa: S101 - AWARDS finds awards
    return award


def reason_of(body: Mapping[str, Any]) -> str:
    """The reason of a status change request ``{"reason": "..."}`` (by the award rules), stripped."""
    only(body, ("reason",), "The request")
    reason = (status_reason(body, required=False) or "").strip()
    if not reason:
        raise InvalidInput("a reason is required (it is kept in the audit log)", code="reason_required",
                           field="reason")
    return reason


def change_record_status(session: Session, settings: Settings, holder: Holder, record_id: str, action: str,
                         body: Mapping[str, Any], *, actor: str, issuer_id: str | None = None,
                         notify: bool = True) -> StatusChange:
    """Revoke, suspend or unsuspend one record in ``session``'s transaction (see the module docstring).

    ``body`` is the request, ``{"reason": "..."}``, checked once the record is found (an unknown
    record is NotFound whatever was asked). ``notify``: queue the award recipient's notice of the
    change (False: e.g. when the person's data is being erased).
    """
    if action not in TRANSITIONS:
        raise InvalidInput(f"unknown action {action!r}", code="invalid_action")
    allowed_from, new_state, purpose, value = TRANSITIONS[action]
    record = find_record(session, holder, record_id, issuer_id)
    reason = reason_of(body)
    if record.state == new_state:
        return StatusChange(record.id, action, record.state, False)
    if record.state not in allowed_from:
        raise LifecycleError(f"{holder.a_name} that is {record.state} cannot be {DONE[action]}")
    entry = locked_entry(session, holder.owner, record.id, purpose)
    if entry is None:
        raise LifecycleError(holder.no_entry.format(id=record.id, purpose=purpose), code="no_status_entry")
    status_list, index = entry
    if bit(status_list, index) != value:
        set_bit(status_list, index, value)
        issuer = session.get(Issuer, record.issuer_id)
        assert issuer is not None  # noqa: S101 - foreign key
        publish(session, settings, issuer, status_list)
    record.state, record.state_reason = new_state, reason
    audited, award_id, details = holder.audit(record, action, {"reason": reason, "purpose": purpose, "index": index})
    if notify and isinstance(record, Award) and action in NOTIFIED:     # the recipient's notice, in this transaction
        before = session.scalar(select(func.count()).select_from(AuditEntry)
                                .where(AuditEntry.award_id == record.id, AuditEntry.action == audited)) or 0
        enqueue_status_notice(session, settings, record, action, reason=reason, occurrence=before + 1)
    session.add(AuditEntry(actor=actor, action=audited, award_id=award_id, details=details))
    return StatusChange(record.id, action, new_state, True)


def _again(old: Award, *, awarded_at: datetime, external_id: str) -> AwardRequest:
    """The request that issues ``old`` again: same achievement, recipient, evidence and results."""
    return AwardRequest(achievement=old.achievement_id, email=old.recipient.email, name=old.recipient.name,
                        employee_id=old.recipient.employee_id, did=old.recipient.did,
                        evidence=tuple(old.evidence or ()), results=tuple(old.results or ()),
                        awarded_at=awarded_at, external_id=external_id)


def _successor(session: Session, old: Award) -> Award | None:
    return session.get(Award, old.superseded_by) if old.superseded_by else None


def _carry_choices(session: Session, old: Award, new: Award) -> None:
    """The holder's privacy choices for ``old`` (name shown, listed on the profile) carry over to
    the award that supersedes it: renewing or re-issuing never changes what the public sees."""
    choices = session.get(AwardPrivacy, old.id)
    if choices is not None and session.get(AwardPrivacy, new.id) is None:
        session.add(AwardPrivacy(award_id=new.id, show_name=choices.show_name, on_profile=choices.on_profile,
                                 updated_at=choices.updated_at))


def renew_award(session: Session, settings: Settings, old: Award, *, actor: str, now: datetime,
                indexes: StatusIndexes | None = None, body: object = None) -> tuple[Award, bool]:
    """(new award, created): a new credential for the same achievement and recipient, valid from ``now``.

    The old award is superseded; its credential stays verifiable until it expires. Renewing the
    same award again returns the renewal already made (created False). The recipient's email
    ("renewed") leaves the outbox after commit. ``body``: the request, which must be empty.
    """
    if body not in (None, {}):
        raise InvalidInput("Renewal takes no parameters (send no body or {}).", code="no_parameters")
    if old.state in ("revoked", "suspended"):
        raise LifecycleError(f"an award that is {old.state} cannot be renewed")
    done = _successor(session, old)
    if done is not None:
        return done, False
    issuer = session.get(Issuer, old.issuer_id)
    assert issuer is not None  # noqa: S101 - foreign key
    ctx = IssuerContext.load(session, settings, issuer, indexes)
    request = _again(old, awarded_at=now.replace(microsecond=0), external_id=f"renewal-of:{old.id}")
    new, _ = issue_award(session, ctx, request, actor=actor, now=now, notify="renewed")
    old.state, old.state_reason, old.superseded_by = "superseded", f"renewed as {new.id}", new.id
    _carry_choices(session, old, new)
    session.add(AuditEntry(actor=actor, action="renew", award_id=old.id, details={"new_award": new.id}))
    return new, True


def reissue(session: Session, ctx: IssuerContext, old: Award, *, actor: str, reason: str,
            now: datetime | None = None) -> Award:
    """Sign the same award again with the current key; the old award is superseded.

    Same achievement, recipient, evidence, results and award date (so the same validity
    under the achievement's rules); a JWT form too if the old award had one. The recipient
    is emailed the new credential (the outbox's "renewed" email). Re-issuing the same award
    again returns the re-issue already made. Audited as ``reissue``.
    """
    done = _successor(session, old)
    if done is not None:
        return done
    if old.state != "active":
        raise LifecycleError(f"an award that is {old.state} cannot be re-issued")
    request = _again(old, awarded_at=old.awarded_at, external_id=f"reissue-of:{old.id}")
    new, _ = issue_award(session, ctx, request, actor=actor, now=now, jwt=bool(old.credential_jwt), notify="renewed")
    old.state, old.state_reason, old.superseded_by = "superseded", f"re-issued as {new.id}: {reason}", new.id
    _carry_choices(session, old, new)
    session.add(AuditEntry(actor=actor, action="reissue", award_id=old.id,
                           details={"new_award": new.id, "reason": reason}))
    return new


def signed_with(session: Session, issuer: Issuer, method: str, now: datetime | None = None) -> list[str]:
    """Ids of the issuer's active, unexpired awards whose credential's proof names ``method``."""
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
                        now: datetime | None = None, attempts: int = 5,
                        indexes: StatusIndexes | None = None) -> Reissued:
    """Re-issue, with the current key, every active award a (withdrawn) key signed.

    Runs in batches of ``batch`` awards, one transaction each, so a long run keeps what it
    has done; running it again after an interruption re-issues only the rest (re-issuing
    is idempotent). ``progress(done, total)`` is called after each batch.
    """
    with factory() as session:
        issuer_key = key if isinstance(key, IssuerKey) else session.get(IssuerKey, key)
        if issuer_key is None:
            raise NotFound(f"there is no key {key!r}", code="unknown_key")
        issuer = session.get(Issuer, issuer_key.issuer_id)
        assert issuer is not None  # noqa: S101 - foreign key
        method = f"{issuer.did}#{issuer_key.key_id}"
        todo = signed_with(session, issuer, method, now)
        issuer_id = issuer.id

    def one_batch(ids: list[str]) -> Callable[[Session], list[tuple[str, str]]]:
        def work(session: Session) -> list[tuple[str, str]]:
            issuer = session.get(Issuer, issuer_id)
            assert issuer is not None  # noqa: S101 - read above
            ctx = IssuerContext.load(session, settings, issuer, indexes)
            pairs = []
            for award_id in ids:
                old = get_award(session, award_id)
                if old.state == "active":     # revoked or suspended meanwhile: left as it is
                    pairs.append((old.id, reissue(session, ctx, old, actor=actor, reason=reason, now=now).id))
            return pairs
        return work

    done: list[tuple[str, str]] = []
    if progress:
        progress(0, len(todo))
    for start in range(0, len(todo), batch):
        done.extend(in_transaction(factory, one_batch(todo[start:start + batch]), attempts=attempts))
        if progress:
            progress(len(done), len(todo))
    return Reissued(method, done)


def expiring(session: Session, issuer: Issuer, days: int, now: datetime | None = None) -> list[Award]:
    """Active awards whose validity ends within ``days`` days (soonest first), achievement and recipient loaded."""
    return list(session.scalars(select(Award).where(Award.issuer_id == issuer.id,
                                                    expiring_condition(days, now or utcnow()))
                                .options(selectinload(Award.achievement), selectinload(Award.recipient))
                                .order_by(Award.valid_until, Award.id)))


# ---------------------------------------------------------------- with a session factory

def change_status(factory: sessionmaker[Session], settings: Settings, award_id: str, action: str, *,
                  reason: str, actor: str, attempts: int = ATTEMPTS) -> StatusChange:
    """Revoke, suspend or unsuspend an award: :func:`change_record_status` in a transaction of its own."""
    return in_transaction(factory, lambda session: change_record_status(
        session, settings, AWARDS, award_id, action, {"reason": reason}, actor=actor), attempts=attempts)


def renew(factory: sessionmaker[Session], settings: Settings, award_id: str, *, actor: str,
          now: datetime | None = None) -> Award:
    """Renew an award (:func:`renew_award`) in a transaction of its own: the new award."""
    return in_transaction(factory, lambda session: renew_award(
        session, settings, get_award(session, award_id), actor=actor, now=now or utcnow())[0])

