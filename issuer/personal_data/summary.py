"""The counts of an erasure and of a retention purge in plain words, for the console and the commands.

    erasure_counts(erasure)   # ["3 badges revoked and withdrawn", "4 emails deleted", ...]: the non-zero ones
    purge_counts(purged)      # ["5 sent emails (text and address)", "0 mail files", ...]: every one

Every count of :class:`~.service.Erasure` (with its :class:`~.erase.Erased`) and of
:class:`~.retention.Purged` has its words here (:data:`ERASED_WORDS`, :data:`PURGED_WORDS`), in
the order the shells show them; a test checks that no field of those result types is missing, so
a count added to the service cannot be silently left out of what HR reads. ``files_left`` is not
a count of what was done but a warning, which the shells print on its own line. Pure.
"""
from __future__ import annotations

from issuer.personal_data.retention import Purged
from issuer.personal_data.service import Erasure

# field: (one, many)
ERASED_WORDS: dict[str, tuple[str, str]] = {
    "awards": ("badge revoked and withdrawn", "badges revoked and withdrawn"),
    "revoked": ("of them revoked now", "of them revoked now"),
    "messages": ("email deleted", "emails deleted"),
    "files_deleted": ("mail file deleted", "mail files deleted"),
    "recipients": ("person record erased", "person records erased"),
    "audit_entries": ("audit entry cleaned of personal details", "audit entries cleaned of personal details"),
    "bulk_uploads": ("bulk upload cleaned", "bulk uploads cleaned"),
    "vcapi": ("badge signed for another system revoked", "badges signed for another system revoked"),
    "sign_ins": ("sign-in link or session deleted", "sign-in links and sessions deleted"),
    "privacy": ("privacy choice deleted", "privacy choices deleted"),
}
NOT_COUNTS = ("files_left", "dry_run")

PURGED_WORDS: dict[str, tuple[str, str]] = {
    "sent_mail": ("sent email (text and address)", "sent emails (text and address)"),
    "mail_files": ("mail file", "mail files"),
    "awards": ("ended badge", "ended badges"),
    "recipients": ("person with no badge left", "people with no badge left"),
    "sign_ins": ("sign-in past use (link, session or its email)", "sign-ins past use (links, sessions, their emails)"),
}


def counted(count: int, words: tuple[str, str]) -> str:
    return f"{count} {words[0] if count == 1 else words[1]}"


def erasure_counts(erasure: Erasure) -> list[str]:
    """What an erasure did, one phrase per non-zero count (see :data:`ERASED_WORDS`)."""
    values = {"files_deleted": erasure.files_deleted} | {name: getattr(erasure.erased, name)
                                                         for name in ERASED_WORDS if name != "files_deleted"}
    return [counted(values[name], words) for name, words in ERASED_WORDS.items() if values[name]]


def purge_counts(purged: Purged) -> list[str]:
    """What a purge removed (or would remove), one phrase per count, zeros included (see :data:`PURGED_WORDS`)."""
    return [counted(getattr(purged, name), words) for name, words in PURGED_WORDS.items()]
