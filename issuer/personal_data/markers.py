"""What erased personal data looks like, and the error an erased award's public URLs answer.

Erasure keeps rows that other records point to (a recipient, an award, its status list
entries) but leaves nothing personal in them, and the emptied columns are the markers (no schema
change: a column added to ``recipients`` or ``awards`` would also break the tests that load old
revisions' rows through today's models):

* a recipient's ``email`` becomes :func:`erased_marker` (``erased:`` and a random id: unique, as the
  column requires, and derived from nothing about the person); name, employee id, DID and profile go;
  :func:`recipient_erased` tells;
* an award's credential becomes ``""`` (:data:`ERASED_CREDENTIAL`: a stored credential is never
  empty otherwise, and the column stays NOT NULL so code reading live awards keeps its type); its
  JWT, evidence and results go; :func:`award_erased` tells. When it happened is in the audit log.

:class:`Withdrawn` (410 Gone) is what the public service raises for an erased award: its page says the
badge was withdrawn and shows nothing else.
"""
from __future__ import annotations

from issuer.db.models import Award, Recipient, new_id
from issuer.errors import NotFound

ERASED_PREFIX = "erased:"
ERASED_CREDENTIAL = ""
ERASED_REASON = "personal data erased"


def erased_marker() -> str:
    """A random stand-in for an erased email address (``erased:<uuid>``)."""
    return ERASED_PREFIX + new_id()


def is_erased_marker(value: str | None) -> bool:
    return bool(value) and str(value).startswith(ERASED_PREFIX)


def recipient_erased(recipient: Recipient) -> bool:
    return is_erased_marker(recipient.email)


def award_erased(award: Award) -> bool:
    """True once the award's personal data was erased (its credential is gone)."""
    return award.credential == ERASED_CREDENTIAL


class Withdrawn(NotFound):
    """The award was withdrawn and its personal data erased: 410 Gone (exit 2)."""

    http_status = 410
    default_code = "withdrawn"
