"""Retention: personal data that is no longer needed leaves once its time is up.

:func:`purge` applies :class:`issuer.config.RetentionSettings` at ``now``, in the caller's
transaction (:meth:`issuer.personal_data.service.PersonalDataService.purge` owns it):

* **Sent mail** older than ``sent_mail_days`` (by ``sent_at``): the text and HTML parts, attachment,
  address, name and last error of the outbox row are removed (:data:`BLANKED`). The row itself
  stays, kind, subject and dates only, because
  its key is what makes each email go out once per award (a deleted row would let an expiry
  reminder be queued again). The ``.eml`` copies in the instance folder older than that go too
  (:mod:`.files`, deleted after the commit).
* **Ended awards** (revoked or superseded) whose change is older than ``ended_awards_days``: erased as
  an erasure erases them (:func:`~.erase.erase_awards`): a superseded one is revoked first, the
  credential and everything personal removed, its page says "withdrawn". The date of the change
  is the audit log's (``revoke``, ``renew``, ``reissue``), else the award's creation. A recipient
  left with no award that is not erased is erased as well (nothing needs their address any more).

* **The employee space's sign-ins**, whatever the settings, since nothing needs them once they cannot
  be used: sign-in links an hour after they were made (they work for 15 minutes; the hourly cap on
  links per address counts them until then), sessions once ended or expired, and the sign-in
  emails (outbox key ``sign-in:<hash>``) an hour after they were queued (their link is dead; the
  row held only the subject, the address and the time). (A recipient erased by retention has no
  live session left: ended awards wait at least a day, sessions last 12 hours.)

``dry_run`` counts without changing anything. Each purge that changed something is one audit
entry ``retention_purge`` with its counts.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, func, or_, select, update
from sqlalchemy.orm import Session

from issuer.config import RetentionSettings, Settings
from issuer.db.models import AuditEntry, Award, OutboxMessage, Recipient
from issuer.db.models_employee import EmployeeSession, EmployeeSignInLink
from issuer.employees.access import LINK_CAP_WINDOW, SIGN_IN_KEY
from issuer.personal_data.erase import erase_awards, scrub_audit
from issuer.personal_data.holdings import IN_BATCH
from issuer.personal_data.markers import ERASED_CREDENTIAL, erased_marker, recipient_erased

ENDED_STATES = ("revoked", "superseded")
CHANGE_ACTIONS = ("revoke", "renew", "reissue")
PURGE_ACTION = "retention_purge"
BLANKED: dict[str, object] = {"to_address": "", "to_name": None, "body": "", "html": None, "attachment": None,
                              "last_error": None}     # what is left of a sent email: its kind, subject and dates


@dataclass(frozen=True)
class Purged:
    """What a purge removed (or, for a dry run, would remove)."""

    dry_run: bool
    sent_mail: int = 0          # sent emails whose text and address were removed
    awards: int = 0             # ended awards erased
    recipients: int = 0         # recipients erased because no award of theirs is left
    mail_files: int = 0         # .eml files in the instance folder (deleted after the commit)
    sign_ins: int = 0           # employee sign-in links, sessions and sign-in emails past use


def _sent_mail_condition(cutoff: datetime) -> tuple[ColumnElement[bool], ...]:
    return (OutboxMessage.sent_at.is_not(None), OutboxMessage.sent_at < cutoff,
            or_(OutboxMessage.to_address != "", OutboxMessage.body != "", OutboxMessage.html.is_not(None),
                OutboxMessage.attachment.is_not(None), OutboxMessage.to_name.is_not(None)))


def ended_awards_due(session: Session, days: int, now: datetime) -> list[Award]:
    """Revoked or superseded awards not erased yet whose change is ``days`` days old or older."""
    cutoff = now - timedelta(days=days)
    candidates = list(session.scalars(select(Award).where(Award.state.in_(ENDED_STATES),
                                                          Award.credential != ERASED_CREDENTIAL)
                                      .order_by(Award.created_at, Award.id)))
    changed: dict[str, datetime] = {}
    ids = [a.id for a in candidates]
    for start in range(0, len(ids), IN_BATCH):
        for award_id, at in session.execute(select(AuditEntry.award_id, func.max(AuditEntry.at))
                                            .where(AuditEntry.award_id.in_(ids[start:start + IN_BATCH]),
                                                   AuditEntry.action.in_(CHANGE_ACTIONS))
                                            .group_by(AuditEntry.award_id)):
            if award_id is not None:
                changed[award_id] = at
    return [a for a in candidates if changed.get(a.id, a.created_at) <= cutoff]


def _left_without_awards(session: Session, due: list[Award]) -> list[Recipient]:
    """The recipients of ``due`` (not erased) whose every award not erased yet is in ``due``."""
    due_ids = {a.id for a in due}
    left = []
    for recipient_id in sorted({a.recipient_id for a in due}):
        recipient = session.get(Recipient, recipient_id)
        if recipient is None or recipient_erased(recipient):
            continue
        live = set(session.scalars(select(Award.id).where(Award.recipient_id == recipient_id,
                                                          Award.credential != ERASED_CREDENTIAL)))
        if live <= due_ids:
            left.append(recipient)
    return left


def _sign_ins_past_use(now: datetime) -> tuple[tuple[type, ColumnElement[bool]], ...]:
    cutoff = now - LINK_CAP_WINDOW
    return ((EmployeeSignInLink, EmployeeSignInLink.created_at <= cutoff),
            (EmployeeSession, or_(EmployeeSession.ended_at.is_not(None), EmployeeSession.expires_at <= now)),
            (OutboxMessage, and_(OutboxMessage.key.like(f"{SIGN_IN_KEY}%"), OutboxMessage.award_id.is_(None),
                                 OutboxMessage.created_at <= cutoff)))


def _purge_sign_ins(session: Session, now: datetime, dry_run: bool) -> int:
    """Delete (or count) the sign-ins past use (see the module docstring)."""
    count = 0
    for model, condition in _sign_ins_past_use(now):
        found = session.scalar(select(func.count()).select_from(model).where(condition)) or 0
        if found and not dry_run:
            session.execute(delete(model).where(condition))
        count += found
    return count


def purge(session: Session, settings: Settings, retention: RetentionSettings, *, now: datetime, actor: str,
          dry_run: bool, mail_files: int = 0) -> Purged:
    """Apply ``retention`` at ``now`` (see the module docstring); ``mail_files``: the count to report."""
    sent_mail = 0
    if retention.sent_mail_days is not None:
        condition = _sent_mail_condition(now - timedelta(days=retention.sent_mail_days))
        sent_mail = session.scalar(select(func.count()).select_from(OutboxMessage).where(*condition)) or 0
        if sent_mail and not dry_run:
            session.execute(update(OutboxMessage).where(*condition).values(
                **BLANKED))
    due = ended_awards_due(session, retention.ended_awards_days, now) \
        if retention.ended_awards_days is not None else []
    recipients = _left_without_awards(session, due)
    sign_ins = _purge_sign_ins(session, now, dry_run)
    if due and not dry_run:
        erase_awards(session, settings, due, actor=actor)
        for recipient in recipients:
            session.execute(update(OutboxMessage).where(OutboxMessage.to_address == recipient.email).values(
                **BLANKED))
            recipient.email, recipient.name, recipient.employee_id, recipient.did = erased_marker(), None, None, None
            recipient.public_profile_slug, recipient.show_name = None, False
        scrub_audit(session, [], [r.id for r in recipients])
    result = Purged(dry_run, sent_mail, len(due), len(recipients), mail_files, sign_ins)
    if not dry_run and (sent_mail or due or mail_files or sign_ins):
        session.add(AuditEntry(actor=actor, at=now, action=PURGE_ACTION, award_id=None, details={
            "sent_mail": sent_mail, "awards": len(due), "recipients": len(recipients), "mail_files": mail_files,
            "sign_ins": sign_ins}))
    return result
