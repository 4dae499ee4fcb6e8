"""The declarative base every model module registers its tables on, and the two defaults they share.

The model modules (:mod:`issuer.db.models`, :mod:`issuer.db.models_api`,
:mod:`issuer.db.models_staff`) import from here and never from one another, so there is no
import cycle; importing :mod:`issuer.db` loads all of them, so ``Base.metadata`` is complete.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import JSON
from sqlalchemy.orm import DeclarativeBase

from issuer.db.types import UTCDateTime


def new_id() -> str:
    return str(uuid.uuid4())


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    # UTCDateTime: stored as UTC, always read back timezone-aware (SQLite drops offsets otherwise)
    type_annotation_map = {datetime: UTCDateTime(), dict: JSON, list: JSON}
