"""Column types that behave the same on SQLite and PostgreSQL.

``DateTime(timezone=True)`` is a ``timestamptz`` on PostgreSQL, but SQLite has no time zones:
SQLAlchemy writes the wall-clock fields of an aware datetime and silently drops the offset
(12:00+02:00 is stored as 12:00, a different instant) and reads back naive datetimes.
:class:`UTCDateTime` fixes both: it stores every value as UTC and always returns aware UTC
datetimes, on both backends. Naive datetimes are refused rather than guessed at.

The schema is unchanged (it is ``DateTime(timezone=True)`` underneath; migrations render it
as ``sa.DateTime(timezone=True)``), so switching a column to it needs no migration.
"""
from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import DateTime
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"UTCDateTime needs a datetime, not {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} for a UTCDateTime column: give it a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)          # stored as UTC wall-clock text
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)  # SQLite: stored as UTC
        return value.astimezone(UTC)          # PostgreSQL: in the session's TimeZone

    @property
    def python_type(self) -> type:
        return datetime
