"""Finding awards and recipients: the one search the console and the REST API share.

    listing = services.search.console(filters, page=2)          # the console's list: numbered pages
    awards = services.search.awards(filters, cursor=c, limit=50)   # the API's: cursor pages (limit + 1 rows)
    detail = services.search.award_detail(award_id)               # one award with its audit trail

Both lists are :func:`issuer.awards.search.awards_query` (the same filters mean the same awards
everywhere); recipients are paged the same way. Everything returned is loaded for rendering
after the session has ended (achievement and recipient of each award). Only this
installation's issuer's awards and recipients are found; others are :class:`~issuer.errors.NotFound`.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from issuer.awards.lifecycle import RECORD_ID, get_award
from issuer.awards.search import (
    PAGE_SIZE,
    AwardFilters,
    AwardPage,
    Cursor,
    after_cursor,
    awards_query,
    loaded_award,
    newest_first,
    search_awards,
    shown_state,
)
from issuer.db.models import Achievement, AuditEntry, Award, Issuer, Recipient
from issuer.errors import NotFound
from issuer.runtime import Runtime
from verifier.recipient import normalize_identity

MAX_REF = 100


@dataclass(frozen=True)
class AwardListing:
    """The console's awards list: a page (None when the filters were refused) and the filter form's choices."""

    page: AwardPage | None
    achievements: list[Achievement]          # by name
    chosen: Achievement | None               # the achievement filtered by, when it exists


@dataclass(frozen=True)
class AwardDetail:
    award: Award                             # achievement and recipient loaded
    state: str                               # as shown: "expired" for an active award past its validity
    trail: list[AuditEntry]                  # oldest first
    renewal_of: str | None                   # the award this one renewed


@dataclass(frozen=True)
class RecipientDetail:
    recipient: Recipient
    awards: list[Award]                      # newest first, achievement and recipient loaded


def _achievement(session: Session, issuer: Issuer, ref: str | None) -> Achievement | None:
    if not ref or len(ref) > MAX_REF:
        return None
    return session.scalars(select(Achievement).where(
        Achievement.issuer_id == issuer.id, or_(Achievement.id == ref, Achievement.slug == ref))).one_or_none()


def _achievements(session: Session, issuer: Issuer) -> list[Achievement]:
    return list(session.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id)
                                .order_by(Achievement.name)))


class AwardSearchService:
    """Finding awards and recipients: the one search the console and the REST API share."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime

    # ------------------------------------------------------------ awards

    def console(self, filters: AwardFilters, page: int | None, page_size: int = PAGE_SIZE) -> AwardListing:
        """Page ``page`` of the awards matching ``filters``, newest first (None: just the form's choices)."""
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            found = None if page is None else search_awards(session, issuer, filters, now=self.runtime.now(),
                                                            page=page, page_size=page_size)
            return AwardListing(found, _achievements(session, issuer),
                                _achievement(session, issuer, filters.achievement))

    def awards(self, filters: AwardFilters, *, cursor: Cursor | None, limit: int) -> list[Award]:
        """Up to ``limit`` + 1 awards matching ``filters``, newest first, after ``cursor``."""
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            return after_cursor(session, awards_query(issuer, filters, self.runtime.now()), Award, cursor, limit)

    def award(self, award_id: str) -> Award:
        """One award of this issuer, achievement and recipient loaded."""
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            return loaded_award(session, get_award(session, award_id, issuer.id).id)

    def award_detail(self, award_id: str) -> AwardDetail:
        """One award with its audit trail (oldest first) and the award it renewed, if any."""
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            award = loaded_award(session, get_award(session, award_id, issuer.id).id)
            trail = list(session.scalars(select(AuditEntry).where(AuditEntry.award_id == award.id)
                                         .order_by(AuditEntry.at, AuditEntry.id)))
            renewal_of = session.scalars(select(Award.id).where(Award.superseded_by == award.id)).first()
            return AwardDetail(award, shown_state(award, self.runtime.now()), trail, renewal_of)

    # ------------------------------------------------------------ achievements to choose from

    def achievement_choices(self, ref: str | None = None) -> tuple[list[Achievement], Achievement | None]:
        """This issuer's achievements (by name), and the one ``ref`` (id or slug) names, if any."""
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            return _achievements(session, issuer), _achievement(session, issuer, ref)

    # ------------------------------------------------------------ recipients

    def recipients(self, *, email: str | None, cursor: Cursor | None, limit: int) -> list[Recipient]:
        """Up to ``limit`` + 1 recipients (with this whole email, when given), newest first, after ``cursor``."""
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            query = select(Recipient).where(Recipient.issuer_id == issuer.id)
            if email is not None:
                query = query.where(Recipient.email == normalize_identity(email))
            return after_cursor(session, query, Recipient, cursor, limit)

    def recipient(self, recipient_id: str) -> RecipientDetail:
        """One recipient of this issuer with all their awards, newest first."""
        with self.runtime.reading() as session:
            issuer = self.runtime.load_issuer(session)
            recipient = session.get(Recipient, recipient_id) if RECORD_ID.fullmatch(recipient_id) else None
            if recipient is None or recipient.issuer_id != issuer.id:
                raise NotFound(f"there is no recipient {recipient_id!r}", code="unknown_recipient")
            query = newest_first(awards_query(issuer, AwardFilters(), self.runtime.now())
                                 .where(Award.recipient_id == recipient.id), Award)
            return RecipientDetail(recipient, list(session.scalars(query).unique()))

