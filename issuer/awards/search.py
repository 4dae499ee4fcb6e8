"""Find awards: the one query behind the console's awards list and the REST API's ``GET /awards``.

:func:`awards_query` builds it from :class:`AwardFilters`; the console reads it in numbered
pages (:func:`search_awards`), the API in cursor pages (:func:`after_cursor`, the same keyset
paging as ``GET /recipients`` and ``GET /vcapi-credentials``)::

    filters, page = parse_filters(request.args)      # AwardFilters, or FilterError by field
    page = search_awards(session, issuer, filters, now=clock(), page=2)
    for row in page.rows: row.award, row.recipient, row.achievement, row.state

States: ``active``, ``suspended``, ``revoked``, ``superseded`` as stored, and ``expired``:
an active award whose ``valid_until`` has passed (so ``active`` means active and still valid).
``expiring_within_days``: active awards whose ``valid_until`` is between now and now + N days.
``recipient`` matches part of the email or name in any case; ``email`` the whole email.
Awards come with their recipient and achievement loaded.
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, contains_eager, selectinload

from issuer.db.models import Achievement, Award, Issuer, Recipient, VcapiCredential
from issuer.errors import InvalidInput
from verifier.recipient import normalize_identity

PAGE_SIZE = 50
STATES = ("active", "expired", "suspended", "revoked", "superseded")
MAX_DAYS = 3650
MAX_PAGE = 100_000

Row = TypeVar("Row", Award, Recipient, VcapiCredential)
Cursor = tuple[datetime, str]          # (created_at, id) of the last row of the page before


class FilterError(InvalidInput):
    """A query parameter of the awards list is not one the list understands (``field`` names it)."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message, code="invalid_filter", field=field)
        self.field: str = field


@dataclass(frozen=True)
class AwardFilters:
    achievement: str | None = None          # id or slug
    recipient: str | None = None            # part of the email or name, any case
    state: str | None = None                # one of STATES
    expiring_within_days: int | None = None
    email: str | None = None                # the recipient's whole email (any case)

    def query_args(self) -> dict[str, str]:
        """These filters as query parameters (for links to other pages of the same list)."""
        values = {"achievement": self.achievement, "recipient": self.recipient, "state": self.state,
                  "expiring": self.expiring_within_days}
        return {k: str(v) for k, v in values.items() if v is not None}


@dataclass(frozen=True)
class AwardRow:
    award: Award
    recipient: Recipient
    achievement: Achievement
    state: str                              # the stored state, or "expired"


@dataclass(frozen=True)
class AwardPage:
    rows: list[AwardRow]
    page: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.page > 1


def _text(args: Mapping[str, Any], key: str, max_length: int, label: str) -> str | None:
    value = str(args.get(key) or "").strip()
    if len(value) > max_length or "\x00" in value:
        raise FilterError(f"The {label} must be at most {max_length} characters.", key)
    return value or None


def parse_filters(args: Mapping[str, Any]) -> tuple[AwardFilters, int]:
    """(filters, page number) from query parameters ``achievement``, ``recipient``, ``state``,
    ``expiring`` (days) and ``page``; raises FilterError naming the parameter."""
    state = _text(args, "state", 20, "state")
    if state is not None and state not in STATES:
        raise FilterError(f"Choose a state: {', '.join(STATES)}.", "state")
    days = _text(args, "expiring", 6, "number of days")
    if days is not None and (not re.fullmatch(r"\d{1,6}", days) or int(days) > MAX_DAYS):
        raise FilterError(f"Expiring within: a whole number of days from 0 to {MAX_DAYS}.", "expiring")
    page = _text(args, "page", 6, "page number") or "1"
    if not re.fullmatch(r"\d{1,6}", page) or not 1 <= int(page) <= MAX_PAGE:
        raise FilterError("The page number must be a whole number from 1.", "page")
    filters = AwardFilters(achievement=_text(args, "achievement", 100, "achievement"),
                           recipient=_text(args, "recipient", 320, "recipient"), state=state,
                           expiring_within_days=int(days) if days is not None else None)
    return filters, int(page)


def expiring_condition(days: int, now: datetime) -> ColumnElement[bool]:
    """Active awards whose validity ends between ``now`` and ``now`` + ``days`` days."""
    return and_(Award.state == "active", Award.valid_until.is_not(None), Award.valid_until >= now,
                Award.valid_until <= now + timedelta(days=days))


def _state_condition(state: str, now: datetime) -> ColumnElement[bool]:
    still_valid = or_(Award.valid_until.is_(None), Award.valid_until > now)
    if state == "active":
        return and_(Award.state == "active", still_valid)
    if state == "expired":
        return or_(Award.state == "expired",
                   and_(Award.state == "active", Award.valid_until.is_not(None), Award.valid_until <= now))
    return Award.state == state


def awards_query(issuer: Issuer, filters: AwardFilters, now: datetime) -> Select[Award]:
    """The issuer's awards matching ``filters`` (unordered), with recipient and achievement loaded."""
    query = (select(Award)
             .join(Recipient, Award.recipient_id == Recipient.id)
             .join(Achievement, Award.achievement_id == Achievement.id)
             .options(contains_eager(Award.recipient), contains_eager(Award.achievement))
             .where(Award.issuer_id == issuer.id))
    if filters.achievement is not None:
        query = query.where(or_(Achievement.id == filters.achievement, Achievement.slug == filters.achievement))
    if filters.recipient is not None:
        term = filters.recipient.lower()
        query = query.where(or_(func.lower(Recipient.email).contains(term, autoescape=True),
                                func.lower(func.coalesce(Recipient.name, "")).contains(term, autoescape=True)))
    if filters.email is not None:
        query = query.where(Recipient.email == normalize_identity(filters.email))
    if filters.state is not None:
        query = query.where(_state_condition(filters.state, now))
    if filters.expiring_within_days is not None:
        query = query.where(expiring_condition(filters.expiring_within_days, now))
    return query


def shown_state(award: Award, now: datetime) -> str:
    """The state to show: "expired" for an active award past its valid_until, else the stored state."""
    if award.state == "active" and award.valid_until is not None and award.valid_until <= now:
        return "expired"
    return award.state


def loaded_award(session: Session, award_id: str) -> Award:
    """The award with its achievement and recipient (for rendering after the session has ended)."""
    return session.scalars(select(Award).where(Award.id == award_id).options(
        selectinload(Award.achievement), selectinload(Award.recipient))).one()


def newest_first(query: Select[Row], model: type[Row]) -> Select[Row]:
    return query.order_by(model.created_at.desc(), model.id.desc())


def search_awards(session: Session, issuer: Issuer, filters: AwardFilters, *, now: datetime, page: int = 1,
                  page_size: int = PAGE_SIZE) -> AwardPage:
    """One numbered page of the issuer's awards matching ``filters``, newest first."""
    query = newest_first(awards_query(issuer, filters, now), Award)
    found = list(session.scalars(query.offset((page - 1) * page_size).limit(page_size + 1)).unique())
    rows = [AwardRow(award, award.recipient, award.achievement, shown_state(award, now))
            for award in found[:page_size]]
    return AwardPage(rows, page, len(found) > page_size)


def after_cursor(session: Session, query: Select[Row], model: type[Row], cursor: Cursor | None,
                 limit: int) -> list[Row]:
    """Up to ``limit`` + 1 rows of ``query``, newest first, after ``cursor`` (one more: there is a next page)."""
    if cursor is not None:
        moment, row_id = cursor
        query = query.where(or_(model.created_at < moment, and_(model.created_at == moment, model.id < row_id)))
    return list(session.scalars(newest_first(query, model).limit(limit + 1)).unique())
