"""The personal data use cases: export, erase, retention purge.

    people = services.people
    document = people.export("alex@example.com")          # JSON-safe dict (see issuer.personal_data.export)
    erasure = people.erase("alex@example.com", actor="staff:hana")
    erasure.erased.awards, erasure.files_deleted, erasure.files_left
    purged = people.purge(dry_run=True)

``export`` is what the employee space offers as "download my data", the console as "Download their
data" and ``microcred person export``. ``erase`` (console, ``microcred person erase``) is one
database transaction (:func:`issuer.personal_data.erase.erase_person`, run again on fresh data
when a concurrent status change won), with the person's mail files marked before it and deleted
after its commit (:mod:`issuer.personal_data.files`). ``purge`` applies the retention settings
(:func:`issuer.config.load_retention`, read from the environment when the service was not given
any) at the runtime's clock.

Errors: :class:`~issuer.errors.InvalidInput` for something that is not an email address;
:class:`~issuer.errors.Conflict` while a bulk upload naming the person runs; an
:class:`~issuer.errors.IssuerError` (nothing erased) if their mail files cannot be set aside.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from issuer.awards.lifecycle import in_transaction
from issuer.config import RetentionSettings, load_retention
from issuer.errors import InvalidInput, IssuerError
from issuer.personal_data import files
from issuer.personal_data.erase import Erased, erase_person
from issuer.personal_data.export import export_person
from issuer.personal_data.holdings import normalized_email
from issuer.personal_data.retention import Purged, purge
from issuer.runtime import Runtime

RETENTION_ACTOR = "retention"
MAX_EMAIL = 320


@dataclass(frozen=True)
class Erasure:
    erased: Erased
    files_deleted: int           # mail files removed from the instance folder
    files_left: int              # could not be deleted now: the next erasure or purge deletes them

    @property
    def nothing(self) -> bool:
        return self.erased.nothing and not self.files_deleted


def _address(email: str) -> str:
    address = normalized_email(email if isinstance(email, str) else "")
    if not address or "@" not in address or len(address) > MAX_EMAIL or any(c.isspace() for c in address):
        raise InvalidInput("Give the person's email address (name@example.com).", code="invalid_email",
                           field="email")
    return address


class PersonalDataService:
    """What the installation holds about a person: export, erasure; retention of ended data."""

    def __init__(self, runtime: Runtime, retention: RetentionSettings | None = None) -> None:
        self.runtime = runtime
        self.retention = retention

    def export(self, email: str) -> dict[str, Any]:
        """Everything held about ``email`` (:mod:`issuer.personal_data.export`); empty lists when nothing is."""
        address = _address(email)
        with self.runtime.reading() as session:
            return export_person(session, self.runtime.settings, address, self.runtime.now())

    def erase(self, email: str, *, actor: str) -> Erasure:
        """Revoke the person's awards and erase their personal data (database, outbox, mail files)."""
        address = _address(email)
        settings, now = self.runtime.settings, self.runtime.now()
        files.sweep(settings)                       # what an earlier erasure could not delete
        try:
            marked = files.mark_files(files.files_to(settings, address))
        except OSError as exc:
            raise IssuerError(f"The person's mail files could not be set aside ({type(exc).__name__}); nothing "
                              "was erased. Check the instance folder's permissions and try again.",
                              code="files_busy") from None

        def work(session: Session) -> Erased:
            return erase_person(session, settings, address, actor=actor, now=now)
        try:
            erased = in_transaction(self.runtime.sessions, work)
        except BaseException:
            files.unmark_files(marked)
            raise
        deleted, left = files.sweep(settings)
        return Erasure(erased, deleted, left)

    def purge(self, *, dry_run: bool = False, actor: str = RETENTION_ACTOR,
              retention: RetentionSettings | None = None) -> Purged:
        """Apply the retention settings now (``dry_run``: count only)."""
        retention = retention or self.retention or load_retention()
        settings, now = self.runtime.settings, self.runtime.now()
        old = files.old_files(settings, retention.sent_mail_days, now) if retention.sent_mail_days else []
        if not dry_run:
            files.sweep(settings)
        marked = [] if dry_run else files.mark_files(old)

        def work(session: Session) -> Purged:
            return purge(session, settings, retention, now=now, actor=actor, dry_run=dry_run,
                         mail_files=len(old))
        try:
            purged = in_transaction(self.runtime.sessions, work)
        except BaseException:
            files.unmark_files(marked)
            raise
        if marked:
            files.sweep(settings)
        return purged
