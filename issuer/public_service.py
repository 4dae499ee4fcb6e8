"""What the public pages and documents show, and the opt-in profiles employees share.

    public = services.public
    public.did_document(); public.jwks(); public.issuer_profile()        # the identity documents
    public.status_list("revocation", 1)                                   # signed, as stored
    stored = public.credential(award_id)                                  # as issued (and its VC-JWT)
    badge = public.badge(award_id)                                        # + the live verification
    shown = public.profile("alex-m")                                      # a published skill profile
    public.publish_profile("alex@example.com", slug="alex-m", show_name=True, actor="cli")

Privacy: the recipient's name shows on a badge's page only where they chose it for that badge
(:class:`~issuer.db.models_employee.AwardPrivacy`, set by the employee in ``/me``,
:mod:`issuer.employees`) and never on a revoked or suspended one; their profile lists the active
and expired awards they left on it (``AwardPrivacy.on_profile``; listed when there is no row) and
shows their name with ``Recipient.show_name``. HR's ``microcred profile publish [--show-name]``
and ``unpublish`` keep their promise ("the name on the profile and their badge pages"): with
``badge_pages`` (the default) they set the name on every badge page of the recipient too; the
employee's own publishing leaves the per-badge choices alone.

:mod:`issuer.web.public` (the documents a verifier fetches) and :mod:`issuer.web.pages` (the
badge page, downloads, profiles) render what these return; ``microcred profile`` publishes and
unpublishes. Everything is read for this installation's issuer only, and a credential is
always the stored one, byte for byte as issued. :meth:`PublicService.badge` verifies it with the
verifier, offline, against the issuer's published documents as served now
(:func:`issuer.identity.published_documents`), at the runtime's clock.

Errors: :class:`~issuer.errors.NotFound` for an unknown (or malformed) id, slug or list
(:class:`~issuer.personal_data.markers.Withdrawn`, 410, for an award whose personal data was erased);
:class:`~issuer.errors.NotReady` before ``microcred init``; publishing raises
:class:`~issuer.sharing.SharingError` (a bad slug), NotFound (no such recipient) or
:class:`~issuer.errors.Conflict` (a slug taken).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from issuer.awards.credentials import achievement_document
from issuer.awards.status_lists import PURPOSES, get_list
from issuer.db.models import Achievement, AuditEntry, Award, Issuer, Recipient
from issuer.db.models_employee import AwardPrivacy
from issuer.employees.privacy import privacy_of
from issuer.errors import Conflict, NotFound
from issuer.identity import (
    OB_CONTEXTS,
    did_document,
    jwks,
    profile,
    profile_document,
    published_documents,
)
from issuer.keys.keyring import all_keys
from issuer.personal_data.markers import Withdrawn, award_erased
from issuer.runtime import Runtime
from issuer.sharing import SLUG, publish_profile, slug_taken, unpublish_profile
from verifier import verify_credential
from verifier.report import VerificationReport

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MAX_LIST_NUMBER = 2**31 - 1
SHOWN_STATES = ("active", "expired")        # on a profile: revoked, suspended and superseded awards are not
NAMELESS_STATES = ("revoked", "suspended")   # their pages never name the recipient


@dataclass(frozen=True)
class StoredCredential:
    """An award's credential exactly as issued (JSON text) and its VC-JWT, when one was issued."""

    award_id: str
    credential: str
    jwt: str | None
    issued_at: datetime | None = None   # when these bytes were stored (they are never rewritten)


@dataclass(frozen=True)
class PublishedList:
    """A signed status list as stored, and when it was last re-signed (its ``Last-Modified``)."""

    credential: str
    updated_at: datetime


@dataclass(frozen=True)
class Badge:
    """What the badge page shows: the award (its recipient loaded), its credential and the verdict.

    ``award`` and ``award.recipient`` are read-only copies, detached from the database: the
    recipient's ``show_name`` is the choice for *this* badge (:func:`_as_shown`), so a page that
    shows ``recipient.name`` when ``recipient.show_name`` shows it only where the employee chose.
    """

    award: Award
    credential: dict[str, Any]
    report: VerificationReport
    since: datetime | None          # when it was revoked or suspended (from the audit log), if it is


@dataclass(frozen=True)
class Profile:
    """A published profile: the issuer, the recipient, and the awards it shows (newest first), read at ``as_of``."""

    issuer: Issuer
    recipient: Recipient
    awards: list[Award]
    as_of: datetime


def _no_credential() -> NotFound:
    return NotFound("There is no such credential.", code="unknown_credential")


def _as_shown(session: Session, award: Award) -> Award:
    """The award detached from ``session``, its recipient's ``show_name`` being this badge's choice
    (never on a revoked or suspended badge). Detached, the change is never written back."""
    choice = session.get(AwardPrivacy, award.id)
    recipient = award.recipient
    session.expunge(recipient)
    session.expunge(award)
    recipient.show_name = choice is not None and choice.show_name and award.state not in NAMELESS_STATES
    return award


def _status_since(session: Session, award: Award) -> datetime | None:
    """When the award got its current revoked/suspended state (from the audit log)."""
    action = {"revoked": "revoke", "suspended": "suspend"}.get(award.state)
    if action is None:
        return None
    return session.scalar(select(AuditEntry.at).where(AuditEntry.award_id == award.id, AuditEntry.action == action)
                          .order_by(AuditEntry.at.desc()).limit(1))


class PublicService:
    """What the public pages and documents show: credentials, achievements, profiles, the issuer's DID document
    and status lists.
    """

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    # ------------------------------------------------------------ the issuer's documents

    def did_document(self) -> dict[str, Any]:
        """The DID document: every key that may verify (current and retired)."""
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            return did_document(issuer, all_keys(session, issuer))

    def jwks(self) -> dict[str, Any]:
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            return jwks(issuer, all_keys(session, issuer))

    def issuer_profile(self) -> dict[str, Any]:
        """The OB 3.0 issuer Profile, as JSON-LD."""
        with self.runtime.reading() as session:
            return profile_document(self.runtime.load_issuer(session), self.runtime.settings)

    def status_list(self, purpose: str, number: int) -> str:
        """The signed BitstringStatusListCredential, as stored (JSON text)."""
        return self.published_status_list(purpose, number).credential

    def published_status_list(self, purpose: str, number: int) -> PublishedList:
        """The signed BitstringStatusListCredential as stored, with the time it was last re-signed."""
        if purpose in PURPOSES and 1 <= number <= MAX_LIST_NUMBER:
            with self.runtime.reading() as session:
                row = get_list(session, self.runtime.load_issuer(session), purpose, number)
                if row is not None and row.credential is not None:
                    return PublishedList(row.credential, row.updated_at)
        raise NotFound("There is no such status list.", code="unknown_status_list")

    def achievement(self, achievement_id: str) -> dict[str, Any]:
        """The Achievement as credentials embed it (creator: the issuer's Profile), as JSON-LD."""
        missing = NotFound("There is no such achievement.", code="unknown_achievement")
        if not UUID.fullmatch(achievement_id):
            raise missing               # a malformed id never reaches the database
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            row = session.scalars(select(Achievement).where(
                Achievement.id == achievement_id, Achievement.issuer_id == issuer.id)).one_or_none()
            if row is None:
                raise missing
            settings = self.runtime.settings
            return {"@context": OB_CONTEXTS, **achievement_document(settings, row, profile(issuer, settings))}

    def check_database(self) -> None:
        """Raise (a database error) unless the database answers."""
        with self.runtime.reading() as session:
            session.execute(text("SELECT 1"))

    # ------------------------------------------------------------ credentials

    def _award(self, session: Session, award_id: str) -> tuple[Issuer, Award]:
        issuer = self.runtime.load_issuer(session)
        award = session.scalars(select(Award).where(Award.id == award_id, Award.issuer_id == issuer.id)
                                .options(selectinload(Award.recipient))).one_or_none()
        if award is None:
            raise _no_credential()
        if award_erased(award):             # its personal data was erased (issuer.personal_data): 410 Gone
            raise Withdrawn("This badge was withdrawn by its issuer.")
        return issuer, award

    def credential(self, award_id: str) -> StoredCredential:
        """The credential of the award ``award_id`` as issued, and its VC-JWT (revoked ones too)."""
        if not UUID.fullmatch(award_id):
            raise _no_credential()      # a malformed id never reaches the database
        with self.runtime.reading() as session:
            _issuer, award = self._award(session, award_id)
            return StoredCredential(award.id, award.credential, award.credential_jwt, award.created_at)

    def badge(self, award_id: str) -> Badge:
        """The award, its credential, and what the verifier concludes about it right now."""
        if not UUID.fullmatch(award_id):
            raise _no_credential()
        with self.runtime.reading() as session:
            issuer, award = self._award(session, award_id)
            credential = json.loads(award.credential)
            documents = published_documents(session, self.runtime.settings, issuer)
            report = verify_credential(credential, now=self.runtime.now(), offline=True, documents=documents,
                                       flag_supplied=False)
            since = _status_since(session, award)
            return Badge(_as_shown(session, award), credential, report, since)

    # ------------------------------------------------------------ profiles

    def profile(self, slug: str) -> Profile:
        """A published profile and the awards it shows (active and expired ones the employee left on it,
        newest first)."""
        missing = NotFound("There is no such profile.", code="unknown_profile")
        if not SLUG.match(slug):
            raise missing
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            recipient = session.scalars(select(Recipient).where(
                Recipient.issuer_id == issuer.id, Recipient.public_profile_slug == slug)).one_or_none()
            if recipient is None:
                raise missing
            awards = list(session.scalars(select(Award).outerjoin(AwardPrivacy, AwardPrivacy.award_id == Award.id)
                                          .where(Award.recipient_id == recipient.id, Award.state.in_(SHOWN_STATES),
                                                 or_(AwardPrivacy.on_profile.is_(None),
                                                     AwardPrivacy.on_profile.is_(True)))
                                          .order_by(Award.awarded_at.desc())))
            return Profile(issuer, recipient, awards, self.runtime.now())

    def publish_profile(self, email: str, *, slug: str | None = None, show_name: bool = False,
                        actor: str, badge_pages: bool = True) -> Recipient:
        """Publish (or update) the recipient's profile at ``/profiles/<slug>`` (the rules:
        :func:`issuer.sharing.publish_profile`); a slug taken by a concurrent publish is a Conflict too.

        ``show_name``: the name on the profile, and with ``badge_pages`` on every badge page of theirs."""
        try:
            with self.runtime.transaction() as session:
                recipient = publish_profile(session, self.runtime.load_issuer(session), email, slug=slug,
                                            show_name=show_name, actor=actor, now=self.runtime.now())
                if badge_pages:
                    _name_on_badges(session, recipient, show_name, self.runtime.now())
                return recipient
        except IntegrityError:          # taken by a concurrent publish
            raise slug_taken(slug) if slug else Conflict("the profile address drawn was taken meanwhile; publish "
                                                         "again", code="duplicate", field="slug") from None

    def unpublish_profile(self, email: str, *, actor: str, badge_pages: bool = True) -> Recipient:
        """Remove the recipient's profile and hide their name on it (and, with ``badge_pages``, on every
        badge page of theirs) again."""
        with self.runtime.transaction() as session:
            recipient = unpublish_profile(session, self.runtime.load_issuer(session), email, actor=actor,
                                          now=self.runtime.now())
            if badge_pages:
                _name_on_badges(session, recipient, False, self.runtime.now())
            return recipient


def _name_on_badges(session: Session, recipient: Recipient, show: bool, now: datetime) -> None:
    """HR's choice for every badge page of the recipient (audited with the publish or unpublish)."""
    for award_id in list(session.scalars(select(Award.id).where(Award.recipient_id == recipient.id))):
        choice = privacy_of(session, award_id, now)
        choice.show_name, choice.updated_at = show, now
