"""Erasure, the database part: revoke a person's awards, then remove their personal data, in one transaction.

:func:`erase_person` runs in the caller's transaction
(:meth:`issuer.personal_data.service.PersonalDataService.erase` owns it, so a failure leaves
nothing half-done); :func:`erase_awards` is the same for some awards only (retention).

1. **Revoke first.** Every award that is not revoked yet is revoked through the award lifecycle
   (:func:`issuer.awards.lifecycle.change_record_status`): its revocation bit is set and the
   signed status list re-published in this transaction, so verifiers holding a copy of the
   credential see it revoked. An award without a status entry (none should exist) is marked revoked.
   No revocation notice is queued (``notify=False``): the person asked to be forgotten, not
   emailed, and a notice row would hold their address until the scrub below deleted it.
2. **Then scrub.** Awards: credential ``""``, JWT, evidence, results and reason gone, idempotency key
   replaced (their public URLs answer 410: :class:`~.markers.Withdrawn`).
   Recipients: email replaced by a random :func:`~.markers.erased_marker`; name, employee id, DID and
   public profile gone. Outbox: every message to them or about their awards is deleted, sent ones
   too. Bulk uploads: their CSV rows, dry-run rows and result rows are removed (an upload still
   queued or running is waited for: :class:`~issuer.errors.Conflict`). Audit entries about their
   awards or profile keep who did what and when, but their details lose everything but
   non-personal facts (:data:`AUDIT_KEEP`). Credentials signed through the VC-API that name the
   address are revoked the same way and their stored text becomes ``{}`` (:data:`ERASED_VCAPI`).
   The employee space: their sign-in links and sessions are deleted (a browser signed in as them
   is signed out on its next request), and so are their privacy choices (``award_privacy``); the
   sign-in emails to them go with the rest of their outbox messages.
3. **Record it.** One audit entry ``erase_person``: who, when, and counts; no address, no name.

Erasing someone already erased (or never awarded) finds nothing and changes nothing.
"""
from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from issuer.awards.lifecycle import AWARDS, Holder, LifecycleError, change_record_status
from issuer.awards.vcapi_records import VCAPI
from issuer.config import Settings
from issuer.db.models import AuditEntry, Award, OutboxMessage, VcapiCredential
from issuer.db.models_employee import AwardPrivacy, EmployeeSession, EmployeeSignInLink
from issuer.db.models_staff import BulkJob
from issuer.errors import Conflict
from issuer.personal_data.holdings import (
    IN_BATCH,
    PROFILE_ACTIONS,
    Holdings,
    address_pattern,
    csv_rows_naming,
    find_holdings,
    summary_mentions,
)
from issuer.personal_data.markers import (
    ERASED_CREDENTIAL,
    ERASED_PREFIX,
    ERASED_REASON,
    award_erased,
    erased_marker,
)

AUDIT_KEEP = ("achievement", "key", "purpose", "index", "new_award", "recipient",   # ids and codes, nothing personal
              "vcapiCredential", "types", "verificationMethod")
ERASED_VCAPI = "{}"      # an erased VC-API credential: still JSON for the pages and API that list them
ERASE_ACTION = "erase_person"
BUSY_JOB_STATES = ("queued", "running")


@dataclass(frozen=True)
class Erased:
    """What one erasure changed (all zero: nothing was held)."""

    recipients: int = 0
    awards: int = 0
    revoked: int = 0             # awards revoked by this erasure (the others were revoked before)
    messages: int = 0
    audit_entries: int = 0       # earlier audit entries whose details were scrubbed
    bulk_uploads: int = 0
    vcapi: int = 0               # credentials signed through the VC-API that named them
    sign_ins: int = 0            # the employee space's sign-in links and sessions
    privacy: int = 0             # their privacy choices on their awards

    @property
    def nothing(self) -> bool:
        return not (self.recipients or self.awards or self.messages or self.bulk_uploads or self.vcapi
                    or self.sign_ins or self.privacy)


def _revoke(session: Session, settings: Settings, record: Award | VcapiCredential, actor: str,
            holder: Holder = AWARDS) -> bool:
    """Revoke an award (or a VC-API credential) through the lifecycle (True if this changed it)."""
    if record.state == "revoked":
        return False
    try:
        return change_record_status(session, settings, holder, record.id, "revoke", {"reason": ERASED_REASON},
                                    actor=actor, notify=False).changed
    except LifecycleError as exc:
        if exc.code != "no_status_entry":
            raise
    record.state = "revoked"         # no revocation entry to set: nothing a verifier could read anyway
    return True


def scrub_audit(session: Session, award_ids: Iterable[str], recipient_ids: Iterable[str] = (),
                vcapi_ids: Iterable[str] = ()) -> int:
    """Reduce the details of audit entries about these awards, recipients and VC-API credentials to
    :data:`AUDIT_KEEP`."""
    award_ids, recipient_ids, vcapi_ids = list(award_ids), set(recipient_ids), set(vcapi_ids)
    entries: list[AuditEntry] = []
    for start in range(0, len(award_ids), IN_BATCH):
        entries += session.scalars(select(AuditEntry).where(AuditEntry.award_id.in_(award_ids[start:start + IN_BATCH])))
    if recipient_ids:
        entries += [e for e in session.scalars(select(AuditEntry).where(AuditEntry.action.in_(PROFILE_ACTIONS)))
                    if isinstance(e.details, dict) and e.details.get("recipient") in recipient_ids]
    if vcapi_ids:
        entries += [e for e in session.scalars(select(AuditEntry).where(AuditEntry.action.like("vcapi-%")))
                    if isinstance(e.details, dict) and e.details.get("vcapiCredential") in vcapi_ids]
    for entry in entries:
        details = entry.details if isinstance(entry.details, dict) else {}
        entry.details = {k: v for k, v in details.items() if k in AUDIT_KEEP} | {"erased": True}
    return len(entries)


def erase_awards(session: Session, settings: Settings, awards: Iterable[Award], *, actor: str) -> tuple[int, int, int]:
    """Revoke, then scrub ``awards`` and delete their emails and privacy choices: (awards erased, revoked now,
    messages deleted)."""
    todo = [a for a in awards if not award_erased(a) or a.credential_jwt]
    revoked = sum(_revoke(session, settings, award, actor) for award in todo)
    for award in todo:
        award.credential, award.credential_jwt = ERASED_CREDENTIAL, None
        award.evidence, award.results, award.state_reason = [], [], ERASED_REASON
        award.external_key = f"{ERASED_PREFIX}{award.id}"
    ids = [a.id for a in todo]
    messages = 0
    for start in range(0, len(ids), IN_BATCH):
        messages += _deleted(session, OutboxMessage.award_id.in_(ids[start:start + IN_BATCH]))
    _delete_privacy(session, ids)
    scrub_audit(session, ids)
    return len(todo), revoked, messages


def _delete_privacy(session: Session, award_ids: list[str]) -> None:
    """The holder's privacy choices on these awards go with them (a withdrawn badge shows no name anyway)."""
    for start in range(0, len(award_ids), IN_BATCH):
        session.execute(delete(AwardPrivacy).where(AwardPrivacy.award_id.in_(award_ids[start:start + IN_BATCH])))


def _deleted(session: Session, condition: Any) -> int:
    found = list(session.scalars(select(OutboxMessage.id).where(condition)))
    if found:
        session.execute(delete(OutboxMessage).where(OutboxMessage.id.in_(found)))
    return len(found)


def _csv_bytes(rows: list[list[str]]) -> bytes:
    out = io.StringIO(newline="")
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode("utf-8")


def _scrub_value(value: Any, email: str) -> Any:
    """A dry-run summary without the rows that name ``email`` (and the address nowhere else)."""
    if isinstance(value, list):
        return [_scrub_value(v, email) for v in value if not (isinstance(v, dict) and summary_mentions(v, email))]
    if isinstance(value, dict):
        return {k: _scrub_value(v, email) for k, v in value.items()}
    if isinstance(value, str):
        return _without(value, email)
    return value


def _without(text: str, email: str) -> str:
    return address_pattern(email).sub("[erased]", text)


def scrub_bulk_job(job: BulkJob, email: str) -> None:
    """Remove ``email``'s rows from a bulk upload: its CSV, its dry-run table, its result CSV."""
    naming, others = csv_rows_naming(job.source, email)
    if naming:
        job.source = _csv_bytes(others)
        job.source_sha256 = hashlib.sha256(job.source).hexdigest()
    if job.result_csv:
        naming, others = csv_rows_naming(job.result_csv, email)
        if naming:
            job.result_csv = _csv_bytes(others)
    job.summary = _scrub_value(dict(job.summary or {}), email)
    if job.error:
        job.error = _without(job.error, email)


def _erase_employee_space(session: Session, held: Holdings) -> int:
    """Delete the sign-in links, sessions and privacy choices of ``held``; how many links and sessions."""
    _delete_privacy(session, [a.id for a in held.awards])
    session.execute(delete(EmployeeSignInLink).where(EmployeeSignInLink.email == held.email))
    session.execute(delete(EmployeeSession).where(EmployeeSession.email == held.email))
    return len(held.sign_in_links) + len(held.sessions)


def erase_person(session: Session, settings: Settings, email: str, *, actor: str, now: datetime) -> Erased:
    """Erase everything held about ``email`` in ``session``'s transaction (see the module docstring)."""
    held = find_holdings(session, email)
    if held.empty:
        return Erased()
    if any(job.state in BUSY_JOB_STATES for job in held.bulk_jobs):
        raise Conflict("A bulk upload that names this person is still being issued; erase them once it has "
                       "finished.", code="bulk_job_running")
    awards, revoked, messages = erase_awards(session, settings, held.awards, actor=actor)
    messages += _deleted(session, OutboxMessage.to_address == held.email)
    for record in held.vcapi:
        revoked += _revoke(session, settings, record, actor, VCAPI)
        record.credential, record.state_reason = ERASED_VCAPI, ERASED_REASON
    audit = scrub_audit(session, [a.id for a in held.awards], [r.id for r in held.recipients],
                        [v.id for v in held.vcapi])
    for recipient in held.recipients:
        recipient.email, recipient.name, recipient.employee_id, recipient.did = erased_marker(), None, None, None
        recipient.public_profile_slug, recipient.show_name = None, False
    for job in held.bulk_jobs:
        scrub_bulk_job(job, held.email)
    sign_ins = _erase_employee_space(session, held)
    erased = Erased(len(held.recipients), awards, revoked, messages, audit, len(held.bulk_jobs), len(held.vcapi),
                    sign_ins, len(held.privacy))
    session.add(AuditEntry(actor=actor, at=now, action=ERASE_ACTION, award_id=None, details={
        "recipients": erased.recipients, "awards": erased.awards, "revoked": erased.revoked,
        "messages": erased.messages, "bulk_uploads": erased.bulk_uploads, "vcapi_credentials": erased.vcapi,
        "sign_ins": erased.sign_ins, "privacy": erased.privacy}))
    return erased
