"""What erased personal data looks like, and the error an erased award's public URLs answer.

Erasure keeps rows that other records point to (a recipient, an award, its status list
entries) but leaves nothing personal in them:

* a recipient's ``email`` becomes :func:`erased_marker` (``erased:`` and a random id: unique, as the
  column requires, and derived from nothing about the person); name, employee id, DID and profile go;
* an award's credential becomes ``""`` (:data:`ERASED_CREDENTIAL`; the column stays NOT NULL so the
  code that reads live awards keeps its type), its JWT, evidence and results go, and ``erased_at`` is set.

:class:`Withdrawn` (410 Gone) is what the public service raises for an erased award: its page says the
badge was withdrawn and shows nothing else.
"""
from __future__ import annotations

from issuer.db.models import new_id
from issuer.errors import NotFound

ERASED_PREFIX = "erased:"
ERASED_CREDENTIAL = ""
ERASED_REASON = "personal data erased"


def erased_marker() -> str:
    """A random stand-in for an erased email address (``erased:<uuid>``)."""
    return ERASED_PREFIX + new_id()


def is_erased_marker(value: str | None) -> bool:
    return bool(value) and str(value).startswith(ERASED_PREFIX)


class Withdrawn(NotFound):
    """The award was withdrawn and its personal data erased: 410 Gone (exit 2)."""

    http_status = 410
    default_code = "withdrawn"
