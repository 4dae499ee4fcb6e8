"""Each of an employee's awards as "My badges" shows it: its state in plain words and what it offers.

Pure: :func:`badge_state` judges one award at ``now``; :func:`my_badge` makes the row the page
renders (links from the configured base URL, never from the request). The states
(:class:`BadgeState`, a registry) are the stored award states with two refinements the employee
cares about: an active award past its ``valid_until`` is *expired* even before anything marks it
so, and one ending within :data:`EXPIRING_DAYS` is *expiring*. Only a badge that counts or once
counted (active, expiring, expired) offers downloads, its public page and sharing choices; a
revoked or suspended one shows its state and the reason HR gave, a renewed one links to its
successor.
"""
from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from issuer.awards.credentials import credential_url
from issuer.config import Settings
from issuer.db.models import Award
from issuer.db.models_employee import AwardPrivacy
from issuer.sharing import achievement_name

EXPIRING_DAYS = 30


class BadgeState(enum.Enum):
    """(code, label): the code is the CSS class and test hook, the label the words on the page."""

    ACTIVE = ("active", "Active")
    EXPIRING = ("expiring", "Expires soon")
    EXPIRED = ("expired", "Expired")
    SUSPENDED = ("suspended", "Suspended")
    REVOKED = ("revoked", "Revoked")
    SUPERSEDED = ("superseded", "Renewed")

    @property
    def code(self) -> str:
        return self.value[0]

    @property
    def label(self) -> str:
        return self.value[1]

    @property
    def usable(self) -> bool:
        """Downloads, its public page and the sharing choices are offered."""
        return self in (BadgeState.ACTIVE, BadgeState.EXPIRING, BadgeState.EXPIRED)


ORDER = (BadgeState.EXPIRING, BadgeState.ACTIVE, BadgeState.EXPIRED, BadgeState.SUPERSEDED,
         BadgeState.SUSPENDED, BadgeState.REVOKED)


def badge_state(award: Award, now: datetime) -> BadgeState:
    if award.state == "revoked":
        return BadgeState.REVOKED
    if award.state == "suspended":
        return BadgeState.SUSPENDED
    if award.state == "superseded":
        return BadgeState.SUPERSEDED
    if award.state == "expired" or (award.valid_until is not None and award.valid_until <= now):
        return BadgeState.EXPIRED
    if award.valid_until is not None and award.valid_until <= now + timedelta(days=EXPIRING_DAYS):
        return BadgeState.EXPIRING
    return BadgeState.ACTIVE


@dataclass(frozen=True)
class Download:
    label: str
    url: str
    hint: str


@dataclass(frozen=True)
class MyBadge:
    """One row of "My badges"."""

    award_id: str
    name: str
    state: BadgeState
    awarded_at: datetime
    valid_until: datetime | None
    reason: str | None                   # why HR revoked or suspended it, when they said
    page_url: str | None                 # its public page (usable badges only)
    renewed_url: str | None              # the badge that replaced it (renewed ones)
    downloads: tuple[Download, ...]
    show_name: bool                      # the employee's name on its public page
    on_profile: bool                     # listed on their public skill profile


def _downloads(settings: Settings, award: Award) -> tuple[Download, ...]:
    base = f"/credentials/{award.id}"
    items = [Download("Certificate (PDF)", settings.url(f"{base}/certificate.pdf"), "a printable page with a QR code"),
             Download("Badge image (PNG)", settings.url(f"{base}/badge.png"), "the proof is inside the image"),
             Download("Badge image (SVG)", settings.url(f"{base}/badge.svg"), "the proof is inside the image"),
             Download("Signed file (JSON)", settings.url(f"{base}/credential.json"), "for digital wallets")]
    if award.credential_jwt:
        items.append(Download("Signed file (JWT)", settings.url(f"{base}/credential.jwt"), "for digital wallets"))
    return tuple(items)


def my_badge(settings: Settings, award: Award, choice: AwardPrivacy | None, now: datetime) -> MyBadge:
    """The row of ``award``; ``choice``: its privacy row (None: the defaults)."""
    state = badge_state(award, now)
    reason = award.state_reason if state in (BadgeState.REVOKED, BadgeState.SUSPENDED) else None
    return MyBadge(
        award_id=award.id, name=achievement_name(json.loads(award.credential)), state=state,
        awarded_at=award.awarded_at, valid_until=award.valid_until, reason=(reason or "").strip() or None,
        page_url=credential_url(settings, award.id) if state.usable else None,
        renewed_url=credential_url(settings, award.superseded_by)
        if state is BadgeState.SUPERSEDED and award.superseded_by else None,
        downloads=_downloads(settings, award) if state.usable else (),
        show_name=bool(choice and choice.show_name), on_profile=choice is None or bool(choice.on_profile))


def sort_badges(badges: list[MyBadge]) -> list[MyBadge]:
    """Current ones first, then expired, renewed, suspended and revoked; newest first within each."""
    return sorted(sorted(badges, key=lambda b: b.awarded_at, reverse=True), key=lambda b: ORDER.index(b.state))
