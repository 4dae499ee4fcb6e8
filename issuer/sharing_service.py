"""What the badge page shares and what HR sets for sharing: the share kit, the files, the certificate.

    sharing = services.sharing
    shared = sharing.page(award_id)              # the badge (verified now) + the LinkedIn company id
    stored = sharing.files(award_id)             # the credential for a download; NotShared when withheld
    pdf = sharing.certificate(award_id)          # the one-page PDF certificate (cached: same content, same PDF)
    sharing.settings(); sharing.set_linkedin_organization("1337", actor="staff:hr")

Built on :class:`issuer.public_service.PublicService` (the badge as issued and its live
verdict; the recipient's name only where the employee allowed it). A revoked or suspended
badge (:func:`issuer.sharing.withheld`) offers no share kit and no files: :meth:`files` and
:meth:`certificate` raise :class:`issuer.sharing.NotShared` (410). The credential URL itself is
not refused here: verifiers must still fetch it to learn that the badge was revoked.

The LinkedIn company id is the number in the company page's admin URL
(``linkedin.com/company/<id>/admin``); with it, "Add to LinkedIn" links the company page and
shows its logo. Setting it is audited (``sharing_settings``). Errors: a malformed id is a
:class:`~issuer.sharing.SharingError` (422); NotFound for an unknown award; NotReady before init.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import select

from issuer.awards.credentials import credential_url
from issuer.certificate import CertificateContent, certificate_pdf
from issuer.config import Settings
from issuer.db.models import AuditEntry, Award
from issuer.errors import NotFound
from issuer.public_service import UUID, Badge, PublicService, StoredCredential
from issuer.runtime import Runtime
from issuer.sharing import (
    LINKEDIN_ORGANIZATION_ID,
    NotShared,
    SharingError,
    achievement_name,
    badge_png,
    download_name,
    embed_snippet,
    linkedin_feed_url,
    linkedin_url,
    mailto_url,
    parse_timestamp,
    withheld,
)
from verifier.report import FAILED, VerificationReport

# the same content always makes the same PDF (dated with the award): about half a second saved per repeat
_certificate_pdf = lru_cache(maxsize=64)(certificate_pdf)


@dataclass(frozen=True)
class SharingSettings:
    organization: str                       # the issuer's name (what LinkedIn shows without an id)
    linkedin_organization_id: str | None


@dataclass(frozen=True)
class ShareKit:
    """The badge page's share links (:mod:`issuer.sharing` builds them) and the embeddable HTML."""

    linkedin: str                           # add to profile
    linkedin_feed: str                      # post on the feed
    email: str                              # mailto:
    embed: str                              # HTML, shown as text


@dataclass(frozen=True)
class SharedBadge:
    """The badge page's data: the badge as :meth:`PublicService.badge` returns it, the sharing settings, and
    the share kit (None when the badge is withheld)."""

    badge: Badge
    settings: SharingSettings
    withheld: str | None                    # "revoked" / "suspended": no share kit, no files
    kit: ShareKit | None


def share_kit(settings: Settings, badge: Badge, sharing: SharingSettings) -> ShareKit:
    """The links and the snippet for ``badge``, from its credential as issued (pure)."""
    credential, award_id = badge.credential, badge.award.id
    name, url = achievement_name(credential), credential_url(settings, award_id)
    issuer = credential.get("issuer")
    issuer_name = issuer.get("name") if isinstance(issuer, dict) else None
    issuer_name = issuer_name.strip() if isinstance(issuer_name, str) and issuer_name.strip() else sharing.organization
    return ShareKit(
        linkedin=linkedin_url(credential, organization=issuer_name, cert_id=award_id,
                              organization_id=sharing.linkedin_organization_id),
        linkedin_feed=linkedin_feed_url(url), email=mailto_url(name, issuer_name, url),
        embed=embed_snippet(name, issuer_name, url, settings.url(f"/credentials/{award_id}/image.png")))


@dataclass(frozen=True)
class Certificate:
    pdf: bytes
    filename: str


def verdict_state(report: VerificationReport) -> str:
    """"revoked" or "suspended" when the verifier's status check says so, else ""."""
    for check in report.checks:
        if check.check == "status" and check.status == FAILED and check.reason in ("revoked", "suspended"):
            return check.reason
    return ""


def shown_name(badge: Badge) -> str | None:
    """The recipient's name as the public page shows it: only when the employee chose to show it."""
    recipient = badge.award.recipient
    return recipient.name if recipient.show_name and recipient.name else None


def _withheld_error(state: str) -> NotShared:
    done = "revoked" if state == "revoked" else "suspended"
    return NotShared(f"This badge was {done} by its issuer, so its files and certificate are no longer offered. "
                     "Its page still shows its state.", code=f"badge_{done}")


class SharingService:
    """The badge page's share kit and files, and HR's sharing settings."""

    def __init__(self, runtime: Runtime, public: PublicService) -> None:
        self.runtime = runtime
        self.public = public

    # ------------------------------------------------------------ settings

    def settings(self) -> SharingSettings:
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            return SharingSettings(issuer.name, issuer.linkedin_organization_id)

    def set_linkedin_organization(self, value: str | None, *, actor: str) -> SharingSettings:
        """Set (digits) or clear (None or blank) the company's LinkedIn id."""
        cleaned = (value or "").strip() or None
        if cleaned is not None and not LINKEDIN_ORGANIZATION_ID.match(cleaned):
            raise SharingError("the LinkedIn company id is the number in your company page's admin address "
                               "(linkedin.com/company/12345/admin gives 12345)", field="linkedin_organization_id",
                               code="invalid_linkedin_id")
        with self.runtime.transaction() as session:
            issuer = self.runtime.load_issuer(session)
            before, issuer.linkedin_organization_id = issuer.linkedin_organization_id, cleaned
            session.add(AuditEntry(actor=actor, at=self.runtime.now(), action="sharing_settings",
                                   details={"linkedin_organization_id": cleaned, "before": before}))
            return SharingSettings(issuer.name, cleaned)

    # ------------------------------------------------------------ the badge page and its files

    def page(self, award_id: str) -> SharedBadge:
        """The badge, verified now, and its share kit unless it is revoked or suspended."""
        badge, sharing = self.public.badge(award_id), self.settings()
        state = withheld(badge.award.state, verdict_state(badge.report))
        kit = None if state else share_kit(self.runtime.settings, badge, sharing)
        return SharedBadge(badge, sharing, state, kit)

    def files(self, award_id: str) -> StoredCredential:
        """The credential as issued, for a download; :class:`NotShared` for a revoked or suspended badge."""
        if not UUID.fullmatch(award_id):
            raise NotFound("There is no such credential.", code="unknown_credential")
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            award = session.scalars(select(Award).where(Award.id == award_id, Award.issuer_id == issuer.id)
                                    ).one_or_none()
            if award is None:
                raise NotFound("There is no such credential.", code="unknown_credential")
            state = withheld(award.state, "")
            if state:
                raise _withheld_error(state)
            return StoredCredential(award.id, award.credential, award.credential_jwt)

    def certificate(self, award_id: str) -> Certificate:
        """The printable one-page PDF of a badge (the name only when shown publicly)."""
        shared = self.page(award_id)
        if shared.withheld:
            raise _withheld_error(shared.withheld)
        badge = shared.badge
        credential = badge.credential
        issuer = credential.get("issuer")
        issuer = issuer if isinstance(issuer, dict) else {}
        name = achievement_name(credential)
        content = CertificateContent(
            achievement=name, issuer=str(issuer.get("name") or shared.settings.organization),
            url=credential_url(self.runtime.settings, badge.award.id), award_id=badge.award.id,
            issued=parse_timestamp(credential.get("awardedDate")) or parse_timestamp(credential.get("validFrom")),
            valid_until=parse_timestamp(credential.get("validUntil")), recipient=shown_name(badge),
            image_png=badge_png(credential))
        created = content.issued or self.runtime.now()
        return Certificate(_certificate_pdf(content, created=created), download_name(name, "pdf"))
