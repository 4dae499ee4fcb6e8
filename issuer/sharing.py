"""What employees share: badge art, baked badges, the QR code, the LinkedIn link, public profiles.

Everything here works from a stored credential exactly as issued (JSON text), never from
the current achievement row, so a download always matches what was signed:

* :func:`badge_art` is the achievement image the credential carries (a PNG or an SVG
  ``data:`` URI, uploads already sanitised by :mod:`issuer.images`) or the generated default.
* :func:`baked_png` / :func:`baked_svg` bake the credential into that art with
  :func:`verifier.baked.bake_png` / :func:`~verifier.baked.bake_svg` (one uncompressed
  ``openbadgecredential`` iTXt chunk, replaced never duplicated; one
  ``<openbadges:credential>`` element). SVG-only art becomes a PNG drawn with Pillow
  (a circle and the initials, like :mod:`issuer.badge_art`): untrusted SVG is never rasterised.
* :func:`qr_svg`, :func:`linkedin_url`, :func:`linkedin_feed_url`, :func:`mailto_url`,
  :func:`embed_snippet`, :func:`download_name`: the share kit of the badge page (pure).
* :func:`withheld`: a revoked or suspended badge offers no share kit and no files
  (:class:`NotShared`, 410); its credential URL still answers, so verifiers see the state.
* :func:`publish_profile` / :func:`unpublish_profile`: the opt-in public skill profile, in the
  caller's transaction (:meth:`issuer.public_service.PublicService.publish_profile` owns it).
  A malformed slug is a :class:`SharingError` (invalid input), one already taken a
  :class:`~issuer.errors.Conflict`, an email never awarded a :class:`~issuer.errors.NotFound`.
"""
from __future__ import annotations

import base64
import hashlib
import io
import math
import re
import secrets
import struct
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape, quoteattr

import qrcode
import qrcode.image.svg
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.badge_art import _PALETTE, _initials, default_badge_svg
from issuer.db.models import AuditEntry, Issuer, Recipient, utcnow
from issuer.errors import Conflict, InvalidInput, NotAllowed, NotFound
from issuer.images import ImageError, check_svg
from verifier.baked import PNG_SIGNATURE, bake_png, bake_svg
from verifier.recipient import normalize_identity

PNG, SVG = "image/png", "image/svg+xml"
PNG_SIZE = 400
LINKEDIN_ADD = "https://www.linkedin.com/profile/add"
LINKEDIN_FEED = "https://www.linkedin.com/sharing/share-offsite/"
LINKEDIN_ORGANIZATION_ID = re.compile(r"^[0-9]{1,20}\Z")    # the number in linkedin.com/company/<id>/admin
WITHHELD_STATES = ("revoked", "suspended")                  # no share kit and no files in these states
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{2,63}\Z")
_SLUG_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"   # no look-alikes (l/1, o/0)


class SharingError(InvalidInput):
    """A share request that breaks a rule (422, exit 2)."""


class NotShared(NotAllowed):
    """A file of a revoked or suspended badge: it is not offered while the badge does not count (410)."""

    http_status = 410
    default_code = "badge_withheld"


@dataclass(frozen=True)
class BadgeArt:
    media_type: str     # PNG or SVG
    data: bytes


# ------------------------------------------------------------------ reading the credential

def achievement_of(credential: dict) -> dict:
    """The achievement embedded in the credential's (first) subject; {} when there is none."""
    subject = credential.get("credentialSubject")
    subject = subject[0] if isinstance(subject, list) and subject else subject
    achievement = subject.get("achievement") if isinstance(subject, dict) else None
    return achievement if isinstance(achievement, dict) else {}


def achievement_name(credential: dict) -> str:
    name = achievement_of(credential).get("name") or credential.get("name") or "Badge"
    return str(name)


def parse_timestamp(value: object) -> datetime | None:
    """An aware datetime from a credential's ISO 8601 date (None when absent or malformed)."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else None


# ------------------------------------------------------------------ art and baking

def _decode_data_uri(uri: object) -> BadgeArt | None:
    """A PNG or a safe SVG from a base64 ``data:`` URI; None for anything else (URLs included)."""
    if not isinstance(uri, str):
        return None
    for media_type in (PNG, SVG):
        prefix = f"data:{media_type};base64,"
        if uri.startswith(prefix):
            try:
                data = base64.b64decode(uri[len(prefix):], validate=True)
            except ValueError:
                return None
            if media_type == PNG:
                return BadgeArt(PNG, data) if data.startswith(PNG_SIGNATURE) else None
            try:
                check_svg(data)      # defence in depth: uploads were checked, but never trust stored data
            except ImageError:
                return None
            return BadgeArt(SVG, data)
    return None


def badge_art(credential: dict) -> BadgeArt:
    """The credential's own achievement image when it is embedded PNG/SVG, else the default art."""
    image = achievement_of(credential).get("image")
    uri = image.get("id") if isinstance(image, dict) else image
    return _decode_data_uri(uri) or BadgeArt(SVG, default_badge_svg(achievement_name(credential)).encode("utf-8"))


def art_data_uri(art: BadgeArt) -> str:
    return f"data:{art.media_type};base64," + base64.b64encode(art.data).decode("ascii")


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)     # Pillow's scalable default font (FreeType)
    except (OSError, TypeError, ImportError):        # pragma: no cover - Pillow without FreeType
        return ImageFont.load_default()


@lru_cache(maxsize=128)      # the same art for every award of an achievement (bulk emails, downloads)
def png_badge(name: str, size: int = PNG_SIZE) -> bytes:
    """A round PNG badge with the name's initials, the raster twin of :func:`badge_art.default_badge_svg`."""
    big = size * 2                                   # drawn at 2x, scaled down: smooth edges
    colour = _PALETTE[hashlib.sha256(name.encode("utf-8")).digest()[0] % len(_PALETTE)]
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    unit = big / 200                                 # the SVG's 200-unit view box
    draw.ellipse([8 * unit, 8 * unit, 192 * unit, 192 * unit], fill=colour)
    draw.ellipse([22 * unit, 22 * unit, 178 * unit, 178 * unit], outline="#ffffff", width=round(4 * unit))
    initials = _initials(name)
    if initials.isascii() and initials.isalnum():
        draw.text((big / 2, big / 2), initials, font=_font(round(60 * unit)), fill="#ffffff", anchor="mm")
    else:                                            # a five-pointed star instead of a missing glyph
        points = [(big / 2 + r * unit * math.sin(math.pi * k / 5), big / 2 - r * unit * math.cos(math.pi * k / 5))
                  for k, r in zip(range(10), [40, 17] * 5, strict=True)]
        draw.polygon(points, fill="#ffffff")
    out = io.BytesIO()
    image.resize((size, size), Image.Resampling.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()


def _png_size(data: bytes) -> tuple[int, int]:
    width, height = struct.unpack(">II", data[16:24])   # IHDR comes first (checked when baking)
    return width, height


def badge_png(credential: dict) -> bytes:
    art = badge_art(credential)
    return art.data if art.media_type == PNG else png_badge(achievement_name(credential))


def badge_svg(credential: dict) -> bytes:
    """The SVG art, or an SVG that shows the PNG art (nothing but the embedded image)."""
    art = badge_art(credential)
    if art.media_type == SVG:
        return art.data
    width, height = _png_size(art.data)
    title = escape(achievement_name(credential)[:200])
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img" aria-label={quoteattr(title)}><title>{title}</title>'
            f'<image width="{width}" height="{height}" href="{art_data_uri(art)}"/></svg>').encode()


def baked_png(credential_text: str, credential: dict) -> bytes:
    """The badge PNG carrying ``credential_text`` (the credential JSON exactly as issued, or its JWT)."""
    return bake_png(badge_png(credential), credential_text)


def baked_svg(credential_text: str, credential: dict) -> bytes:
    return bake_svg(badge_svg(credential), credential_text)


# ------------------------------------------------------------------ links

def qr_svg(url: str) -> bytes:
    """A QR code (error correction M, 4-module quiet zone, white background) for ``url``, as SVG."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4,
                         image_factory=qrcode.image.svg.SvgPathFillImage)
    code.add_data(url)
    code.make(fit=True)
    svg = code.make_image().to_string(encoding="unicode")
    return svg.replace("<path ", '<path shape-rendering="crispEdges" ', 1).encode("utf-8")


def linkedin_url(credential: dict, *, organization: str, cert_id: str, organization_id: str | None = None) -> str:
    """LinkedIn's add-to-profile URL, pre-filled as a certification.

    Parameters: name, organizationId when HR set the company's LinkedIn id (LinkedIn then
    links the company page and shows its logo), else organizationName; issueYear/issueMonth
    (awardedDate, else validFrom), expirationYear/expirationMonth (validUntil, when there is
    one), certUrl (the credential URL) and certId.
    """
    params = {"startTask": "CERTIFICATION_NAME", "name": achievement_name(credential)}
    if organization_id:
        params["organizationId"] = organization_id
    else:
        params["organizationName"] = organization
    issued = parse_timestamp(credential.get("awardedDate")) or parse_timestamp(credential.get("validFrom"))
    if issued:
        params |= {"issueYear": str(issued.year), "issueMonth": str(issued.month)}
    expires = parse_timestamp(credential.get("validUntil"))
    if expires:
        params |= {"expirationYear": str(expires.year), "expirationMonth": str(expires.month)}
    params |= {"certUrl": str(credential.get("id") or ""), "certId": cert_id}
    return f"{LINKEDIN_ADD}?{urlencode(params, quote_via=quote)}"


def linkedin_feed_url(page_url: str) -> str:
    """LinkedIn's share-offsite URL: a post on the member's feed linking ``page_url`` (LinkedIn reads its
    preview from the page's Open Graph tags)."""
    return f"{LINKEDIN_FEED}?{urlencode({'url': page_url}, quote_via=quote)}"


def mailto_url(name: str, issuer: str, page_url: str) -> str:
    """A ``mailto:`` link with a plain subject and body (RFC 6068: percent-encoded, spaces as %20)."""
    subject = f"My badge: {name}"
    body = (f"I earned the badge “{name}” from {issuer}.\n\nYou can see it, and check that it is genuine "
            f"and current, here:\n{page_url}\n")
    return "mailto:?" + urlencode({"subject": subject, "body": body}, quote_via=quote)


def embed_snippet(name: str, issuer: str, page_url: str, image_url: str) -> str:
    """An HTML card for other sites: the badge image and name, linking to the public page.

    Every value is escaped here (the snippet is HTML); the page escapes the whole snippet again
    to show it as text. No inline style or script (pages that paste it often forbid both): the
    ``microcred-badge`` class lets the host site style it.
    """
    href, src, alt = quoteattr(page_url), quoteattr(image_url), quoteattr(f"Badge: {name}")
    return (f'<div class="microcred-badge">\n'
            f'  <a href={href}><img src={src} alt={alt} width="96" height="96"></a>\n'
            f'  <p><a href={href}><strong>{escape(name)}</strong></a><br>\n'
            f'  <small>Issued by {escape(issuer)}. Open the link to check that it is genuine.</small></p>\n'
            f'</div>')


def withheld(award_state: str, verdict_state: str) -> str | None:
    """"revoked" or "suspended" when the badge must offer no sharing and no files, else None.

    The stored state and the verifier's live verdict are both asked: either one is enough.
    """
    for state in (award_state, verdict_state):
        if state in WITHHELD_STATES:
            return state
    return None


def download_name(name: str, extension: str) -> str:
    """A safe file name from an achievement name: ``team-leadership.png`` (``badge.png`` if nothing is left)."""
    stem = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60].strip("-") or "badge"
    return f"{stem}.{extension}"


# ------------------------------------------------------------------ public profiles

def _recipient(session: Session, issuer: Issuer, email: str) -> Recipient:
    recipient = session.scalars(select(Recipient).where(Recipient.issuer_id == issuer.id,
                                                        Recipient.email == normalize_identity(email))).one_or_none()
    if recipient is None:
        raise NotFound(f"no badges were ever awarded to {email!r}", code="unknown_recipient", field="email")
    return recipient


def publish_profile(session: Session, issuer: Issuer, email: str, *, slug: str | None = None,
                    show_name: bool = False, actor: str, now: datetime | None = None) -> Recipient:
    """Give the recipient a public profile at ``/profiles/<slug>`` (their choice: opt-in).

    Without ``slug`` the current one is kept, or a random one is made (never derived from the
    name, which stays private unless ``show_name``). Publishing again updates both settings.
    """
    recipient = _recipient(session, issuer, email)
    if slug is not None and not SLUG.match(slug):
        raise SharingError(f"the profile slug {slug!r} must be 3-64 lower-case letters, digits and '-'",
                           field="slug")
    slug = slug or recipient.public_profile_slug or "".join(secrets.choice(_SLUG_ALPHABET) for _ in range(12))
    taken = session.scalars(select(Recipient.id).where(Recipient.public_profile_slug == slug,
                                                       Recipient.id != recipient.id)).first()
    if taken:
        raise slug_taken(slug)
    recipient.public_profile_slug, recipient.show_name = slug, show_name
    session.add(AuditEntry(actor=actor, at=now or utcnow(), action="profile_publish",
                           details={"recipient": recipient.id, "slug": slug, "show_name": show_name}))
    return recipient


def slug_taken(slug: str) -> Conflict:
    return Conflict(f"the profile slug {slug!r} is already taken", code="duplicate", field="slug")


def unpublish_profile(session: Session, issuer: Issuer, email: str, *, actor: str,
                      now: datetime | None = None) -> Recipient:
    """Remove the public profile and hide the name everywhere again."""
    recipient = _recipient(session, issuer, email)
    recipient.public_profile_slug, recipient.show_name = None, False
    session.add(AuditEntry(actor=actor, at=now or utcnow(), action="profile_unpublish",
                           details={"recipient": recipient.id}))
    return recipient
