"""The employee's privacy choices, in the caller's transaction, each audited like HR's changes.

    award = own_award(session, issuer, "alex@example.com", award_id)   # NotFound unless it is theirs
    set_badge_name(session, award, True, actor="employee:<recipient id>", now=now)
    set_profile_listing(session, award, False, actor=..., now=now)
    choice = privacy_of(session, award_id, now)                          # the row (added with the defaults)

The choices are :class:`~issuer.db.models_employee.AwardPrivacy` rows; an award without one has
the defaults (name hidden, listed on the profile), so nothing is written until someone chooses.

Only the holder's own awards can be changed (an id of somebody else's award is "no such badge",
exactly like an unknown one), and only while the badge counts or once counted
(:attr:`issuer.employees.badges.BadgeState.usable`): a revoked or suspended badge offers no sharing.
The audit entries name the recipient by id, never by address or name.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.db.models import AuditEntry, Award, Issuer, Recipient
from issuer.db.models_employee import AwardPrivacy
from issuer.employees.badges import badge_state
from issuer.errors import NotAllowed, NotFound

NAME_ACTION = "employee_badge_name"
LISTING_ACTION = "employee_profile_listing"
ID_LENGTH = 36                 # award ids are UUIDs; anything else is never looked up


def actor_for(recipient_id: str) -> str:
    """Who acts, for the audit log: ``employee:<recipient id>`` (no personal data)."""
    return f"employee:{recipient_id}"


def own_award(session: Session, issuer: Issuer, email: str, award_id: str) -> Award:
    """The award ``award_id`` of the holder ``email`` (normalised); NotFound for anyone else's."""
    award = None if len(award_id) != ID_LENGTH else session.scalars(
        select(Award).join(Recipient, Award.recipient_id == Recipient.id).where(
            Award.id == award_id, Award.issuer_id == issuer.id, Recipient.email == email)).one_or_none()
    if award is None:
        raise NotFound("You have no such badge.", code="unknown_badge")
    return award


def privacy_of(session: Session, award_id: str, now: datetime) -> AwardPrivacy:
    """The award's choices, a row with the defaults added when it has none (in the caller's transaction)."""
    choice = session.get(AwardPrivacy, award_id)
    if choice is None:
        choice = AwardPrivacy(award_id=award_id, show_name=False, on_profile=True, updated_at=now)
        session.add(choice)
    return choice


def _changeable(award: Award, now: datetime) -> None:
    if not badge_state(award, now).usable:
        raise NotAllowed(f"This badge is {award.state}: it cannot be shared, so there is nothing to choose.",
                         code="badge_not_shareable")


def set_badge_name(session: Session, award: Award, show: bool, *, actor: str, now: datetime) -> AwardPrivacy:
    """Show (or hide) the holder's name on this badge's public page."""
    _changeable(award, now)
    choice = privacy_of(session, award.id, now)
    if choice.show_name != show:
        choice.show_name, choice.updated_at = show, now
        session.add(AuditEntry(actor=actor, at=now, action=NAME_ACTION, award_id=award.id,
                               details={"show_name": show}))
    return choice


def set_profile_listing(session: Session, award: Award, listed: bool, *, actor: str,
                        now: datetime) -> AwardPrivacy:
    """List this badge on the holder's public skill profile, or take it off."""
    _changeable(award, now)
    choice = privacy_of(session, award.id, now)
    if choice.on_profile != listed:
        choice.on_profile, choice.updated_at = listed, now
        session.add(AuditEntry(actor=actor, at=now, action=LISTING_ACTION, award_id=award.id,
                               details={"on_profile": listed}))
    return choice
