"""Find everything the database holds about one person, by their email address (every issuer).

:func:`find_holdings` is shared by the export (which serialises it) and the erasure (which
scrubs it), so both always cover the same rows:

* ``recipients`` — their recipient rows, one per issuer that awarded them (email normalized as
  stored: trimmed, lower-case);
* ``awards`` — those recipients' awards (achievement loaded), erased ones included;
* ``messages`` — outbox emails to the address or about those awards, sent ones too;
* ``audit`` — audit entries about those awards or recipients (issue, status changes, profile);
* ``bulk_jobs`` — console bulk uploads whose CSV, dry-run table or results name the address;
* ``vcapi`` — credentials signed through the VC-API whose text names the address (a caller may put
  an email in a subject; a hashed identity, as awards carry, is not found this way);
* ``sign_in_links``, ``sessions`` — the employee space's one-time sign-in links and the sessions they
  (or the identity provider) opened for the address (:mod:`issuer.db.models_employee`);
* ``privacy`` — the holder's privacy choices on those awards (``award_privacy`` rows).

The sign-in emails (outbox key ``sign-in:<hash>``, no award) are among ``messages``: they are
addressed to the person.

Pure reads in the caller's session; nothing here writes.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, selectinload

from issuer.db.models import AuditEntry, Award, OutboxMessage, Recipient, VcapiCredential
from issuer.db.models_employee import AwardPrivacy, EmployeeSession, EmployeeSignInLink
from issuer.db.models_staff import BulkJob
from verifier.recipient import normalize_identity

PROFILE_ACTIONS = ("profile_publish", "profile_unpublish")
IN_BATCH = 500


@dataclass(frozen=True)
class Holdings:
    email: str                       # normalized
    recipients: list[Recipient]
    awards: list[Award]
    messages: list[OutboxMessage]
    audit: list[AuditEntry]
    bulk_jobs: list[BulkJob]
    vcapi: list[VcapiCredential]
    sign_in_links: list[EmployeeSignInLink] = field(default_factory=list)
    sessions: list[EmployeeSession] = field(default_factory=list)
    privacy: list[AwardPrivacy] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.recipients or self.awards or self.messages or self.audit or self.bulk_jobs or self.vcapi
                    or self.sign_in_links or self.sessions or self.privacy)


def normalized_email(email: str) -> str:
    """The address as recipients are stored (trimmed, NFC, lower-case)."""
    return normalize_identity(email or "")


def _batches(values: list[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), IN_BATCH):
        yield values[start:start + IN_BATCH]


def address_pattern(email: str) -> re.Pattern[str]:
    """``email`` as a whole address inside a text (not the tail of ``xpat@...`` nor the head of ``...com.au``)."""
    return re.compile(r"(?<![\w.+-])" + re.escape(email) + r"(?![\w-]|\.\w)", re.IGNORECASE)


def csv_rows_naming(data: bytes | None, email: str) -> tuple[list[list[str]], list[list[str]]]:
    """(the CSV's records that name ``email`` in any cell, every other record), header included in the others."""
    text = bytes(data or b"").decode("utf-8-sig", errors="replace")
    naming: list[list[str]] = []
    others: list[list[str]] = []
    for record in csv.reader(io.StringIO(text, newline="")):
        (naming if any(normalize_identity(cell) == email for cell in record) else others).append(record)
    return naming, others


def summary_mentions(value: Any, email: str) -> bool:
    """True if a (JSON) value holds ``email`` anywhere, as a whole address."""
    if isinstance(value, str):
        return address_pattern(email).search(value) is not None
    if isinstance(value, dict):
        return any(summary_mentions(v, email) for v in value.values())
    if isinstance(value, list):
        return any(summary_mentions(v, email) for v in value)
    return False


def _names(job: BulkJob, email: str) -> bool:
    """Whether a bulk upload names ``email``: a row of its CSV or of its results, or its dry-run summary."""
    if email.encode("utf-8") not in (bytes(job.source or b"") + bytes(job.result_csv or b"")).lower() \
            and not summary_mentions(job.summary, email):
        return False                                   # the cheap test first: most uploads never name them
    return bool(csv_rows_naming(job.source, email)[0] or csv_rows_naming(job.result_csv, email)[0]
                or summary_mentions(job.summary, email) or (job.error and summary_mentions(job.error, email)))


def find_holdings(session: Session, email: str) -> Holdings:
    """What the database holds about ``email`` (see the module docstring)."""
    email = normalized_email(email)
    if not email:
        return Holdings(email, [], [], [], [], [], [])
    recipients = list(session.scalars(select(Recipient).where(Recipient.email == email)
                                      .order_by(Recipient.created_at, Recipient.id)))
    recipient_ids = [r.id for r in recipients]
    awards: list[Award] = []
    for batch in _batches(recipient_ids):
        awards += session.scalars(select(Award).where(Award.recipient_id.in_(batch))
                                  .options(selectinload(Award.achievement))
                                  .order_by(Award.created_at, Award.id))
    award_ids = [a.id for a in awards]
    message_ids: set[int] = set(session.scalars(select(OutboxMessage.id).where(OutboxMessage.to_address == email)))
    audit: list[AuditEntry] = []
    for batch in _batches(award_ids):
        message_ids |= set(session.scalars(select(OutboxMessage.id).where(OutboxMessage.award_id.in_(batch))))
        audit += session.scalars(select(AuditEntry).where(AuditEntry.award_id.in_(batch)))
    if recipient_ids:
        audit += [entry for entry in session.scalars(select(AuditEntry).where(AuditEntry.action.in_(PROFILE_ACTIONS)))
                  if isinstance(entry.details, dict) and entry.details.get("recipient") in recipient_ids]
    messages = [m for m in (session.get(OutboxMessage, i) for i in sorted(message_ids)) if m is not None]
    jobs = [job for job in session.scalars(select(BulkJob).where(or_(BulkJob.source.is_not(None),
                                                                     BulkJob.result_csv.is_not(None)))
                                           .order_by(BulkJob.created_at, BulkJob.id))
            if _names(job, email)]
    named = address_pattern(email)
    vcapi = [v for v in session.scalars(select(VcapiCredential).where(
             func.lower(VcapiCredential.credential).contains(email, autoescape=True))
             .order_by(VcapiCredential.created_at, VcapiCredential.id)) if named.search(v.credential)]
    vcapi_ids = {v.id for v in vcapi}
    if vcapi_ids:
        audit += [entry for entry in session.scalars(select(AuditEntry).where(AuditEntry.action.like("vcapi-%")))
                  if isinstance(entry.details, dict) and entry.details.get("vcapiCredential") in vcapi_ids]
    privacy: list[AwardPrivacy] = []
    for batch in _batches(award_ids):
        privacy += session.scalars(select(AwardPrivacy).where(AwardPrivacy.award_id.in_(batch)))
    links = list(session.scalars(select(EmployeeSignInLink).where(EmployeeSignInLink.email == email)
                                 .order_by(EmployeeSignInLink.created_at)))
    sessions = list(session.scalars(select(EmployeeSession).where(EmployeeSession.email == email)
                                    .order_by(EmployeeSession.created_at)))
    return Holdings(email, recipients, awards, messages, sorted(audit, key=lambda e: (e.at, e.id)), jobs, vcapi,
                    links, sessions, privacy)
