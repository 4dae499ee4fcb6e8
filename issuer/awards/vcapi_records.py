"""Credentials signed through the VC-API: recorded, given ids and status entries, revocable.

    entries = status_entries(session, settings, issuer, record_id)   # revocation + suspension
    change = change_vcapi_status(factory, settings, record_id, "revoke", reason="...", actor="staff:ann")

Every credential ``POST /credentials/issue`` signs as the installation's own identity gets
the id ``{base_url}/credentials/{record id}`` and two ``BitstringStatusListEntry`` entries
on the issuer's revocation and suspension lists (random indexes, drawn the way
:func:`issuer.awards.status_lists.allocate` draws them for awards, in the same ``status_allocations``
table, so an index is never shared with an award). A :class:`VcapiCredential` row keeps the
signed credential, the token that asked and its state. Status changes flip the bit and
re-publish the list, as :func:`issuer.awards.lifecycle.change_status` does for awards.
"""
from __future__ import annotations

import random
import secrets
import time
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.exc import StaleDataError

from issuer.awards.credentials import credential_url
from issuer.awards.lifecycle import TRANSITIONS
from issuer.awards.status_lists import PURPOSES, bit, ensure_lists, open_list, publish, set_bit, status_entry
from issuer.config import Settings
from issuer.db.models import AuditEntry, Award, Issuer, StatusAllocation, StatusList, VcapiCredential
from verifier.errors import CredentialError

STATES = ("active", "suspended", "revoked")


class VcapiRecordError(CredentialError):
    code = "invalid_transition"


@dataclass(frozen=True)
class VcapiStatusChange:
    record_id: str
    action: str
    state: str
    changed: bool


def record_id_of(settings: Settings, credential_id: str) -> str | None:
    """The record id in ``{base_url}/credentials/{id}``, or None for any other URL."""
    prefix = credential_url(settings, "")
    return credential_id[len(prefix):] if credential_id.startswith(prefix) and "/" not in credential_id[len(prefix):] \
        else None


def id_in_use(session: Session, settings: Settings, credential_id: str) -> bool:
    """Whether ``credential_id`` already names a credential of this installation (an award or a VC-API one)."""
    if session.scalar(select(VcapiCredential.id).where(VcapiCredential.credential_id == credential_id).limit(1)):
        return True
    local = record_id_of(settings, credential_id)
    return bool(local) and (session.get(Award, local) is not None or session.get(VcapiCredential, local) is not None)


def status_entries(session: Session, settings: Settings, issuer: Issuer, record_id: str,
                   *, attempts: int = 64) -> list[dict]:
    """Allocate a revocation and a suspension index for ``record_id``; their credentialStatus entries."""
    ensure_lists(session, settings, issuer)
    entries = []
    for purpose in PURPOSES:
        status_list = open_list(session, issuer, purpose)
        for _ in range(attempts):
            index = secrets.randbelow(status_list.size)
            try:
                with session.begin_nested():
                    session.add(StatusAllocation(list_id=status_list.id, index=index, vcapi_credential_id=record_id))
                break
            except IntegrityError:
                continue    # taken by an award or another credential: draw again
        else:
            raise RuntimeError("could not find a free status list index")
        entries.append(status_entry(settings, status_list, index))
    return entries


def allocations(session: Session, record_id: str) -> list[dict]:
    rows = session.execute(select(StatusList.purpose, StatusList.number, StatusAllocation.index)
                           .join(StatusList, StatusList.id == StatusAllocation.list_id)
                           .where(StatusAllocation.vcapi_credential_id == record_id)
                           .order_by(StatusList.purpose)).all()
    return [{"purpose": purpose, "list": number, "index": index} for purpose, number, index in rows]


def _allocation(session: Session, record: VcapiCredential, purpose: str) -> tuple[StatusList, int]:
    lists = session.scalars(select(StatusList).where(StatusList.issuer_id == record.issuer_id,
                                                     StatusList.purpose == purpose)
                            .order_by(StatusList.id).with_for_update()).all()
    for status_list in lists:
        index = session.scalar(select(StatusAllocation.index).where(
            StatusAllocation.list_id == status_list.id, StatusAllocation.vcapi_credential_id == record.id))
        if index is not None:
            return status_list, index
    raise VcapiRecordError("this credential has no status entries (it was signed in did:key suite mode), "
                           "so it cannot be revoked or suspended", code="no_status_entry")


def change_vcapi_status(factory: sessionmaker[Session], settings: Settings, record_id: str, action: str, *,
                        reason: str, actor: str, attempts: int = 10) -> VcapiStatusChange:
    """Revoke, suspend or unsuspend a VC-API credential; idempotent; retried when a concurrent change wins."""
    if action not in TRANSITIONS:
        raise VcapiRecordError(f"unknown action {action!r}", code="invalid_action")
    if not reason or not reason.strip():
        raise VcapiRecordError("a reason is required (it is kept in the audit log)", code="reason_required")
    allowed_from, new_state, purpose, value = TRANSITIONS[action]
    for attempt in range(attempts):
        try:
            with factory.begin() as session:
                record = session.get(VcapiCredential, record_id) if len(record_id) <= 36 else None
                if record is None:
                    raise VcapiRecordError(f"there is no VC-API credential {record_id!r}", code="unknown_credential")
                if record.state == new_state:
                    return VcapiStatusChange(record.id, action, record.state, False)
                if record.state not in allowed_from:
                    raise VcapiRecordError(f"a credential that is {record.state} cannot be "
                                           + ("unsuspended" if action == "unsuspend" else f"{action.rstrip('e')}ed"))
                status_list, index = _allocation(session, record, purpose)
                if bit(status_list, index) != value:
                    set_bit(status_list, index, value)
                    publish(session, settings, session.get(Issuer, record.issuer_id), status_list)
                record.state, record.state_reason = new_state, reason.strip()
                session.add(AuditEntry(actor=actor, action=f"vcapi-{action}", award_id=None, details={
                    "vcapiCredential": record.id, "credential": record.credential_id, "reason": reason.strip(),
                    "purpose": purpose, "index": index}))
            return VcapiStatusChange(record_id, action, new_state, True)
        except (StaleDataError, OperationalError):
            if attempt == attempts - 1:
                raise
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
    raise AssertionError("unreachable")


def list_query(issuer: Issuer, state: str | None = None):
    query = select(VcapiCredential).where(VcapiCredential.issuer_id == issuer.id)
    return query.where(VcapiCredential.state == state) if state else query

