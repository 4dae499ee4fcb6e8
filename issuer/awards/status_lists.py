"""Bitstring Status Lists: one per issuer and purpose (revocation, suspension).

* At least 131,072 entries (16 KB) for herd privacy. Indexes are drawn at random and never
  reused, by one owner only: :class:`issuer.awards.allocation.StatusIndexes` (a
  ``StatusAllocation`` row per used index, whose primary key makes two credentials sharing an
  index impossible even under concurrency). This module opens lists and reads entries.
* Changing a bit bumps the list's version (optimistic locking), so two concurrent
  revocations can never lose one another's update: the loser retries
  (:func:`issuer.awards.lifecycle.change_record_status`).
* The list is published as a signed ``BitstringStatusListCredential`` at a stable URL
  (``/status/<purpose>/<number>``), re-signed on every change.
"""
from __future__ import annotations

import json
from typing import Any, cast

from sqlalchemy import func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from issuer.config import Settings
from issuer.db.models import Issuer, StatusAllocation, StatusList
from issuer.keys.keyring import current_key, verification_method
from issuer.signing import now_timestamp, sign_credential
from verifier.bitstring import encode_bitstring

LIST_SIZE = 131_072
PURPOSES = ("revocation", "suspension")
VC_V2 = "https://www.w3.org/ns/credentials/v2"


def list_url(settings: Settings, status_list: StatusList) -> str:
    return settings.url(f"/status/{status_list.purpose}/{status_list.number}")


def get_list(session: Session, issuer: Issuer, purpose: str, number: int = 1) -> StatusList | None:
    return session.scalars(select(StatusList).where(StatusList.issuer_id == issuer.id, StatusList.purpose == purpose,
                                                    StatusList.number == number)).one_or_none()


def ensure_lists(session: Session, settings: Settings, issuer: Issuer) -> list[StatusList]:
    """Create (and publish) the issuer's revocation and suspension lists if missing."""
    lists = []
    for purpose in PURPOSES:
        status_list = get_list(session, issuer, purpose)
        if status_list is None:
            status_list = StatusList(issuer_id=issuer.id, purpose=purpose, number=1, size=LIST_SIZE,
                                     bits=bytes(LIST_SIZE // 8))
            session.add(status_list)
            session.flush()
            publish(session, settings, issuer, status_list)
        lists.append(status_list)
    return lists


def open_list(session: Session, issuer: Issuer, purpose: str) -> StatusList:
    """The newest list of that purpose with room left (a new one when all are full)."""
    lists = session.scalars(select(StatusList).where(StatusList.issuer_id == issuer.id, StatusList.purpose == purpose)
                            .order_by(StatusList.number.desc())).all()
    for status_list in lists:
        used = session.scalar(select(func.count()).select_from(StatusAllocation)
                              .where(StatusAllocation.list_id == status_list.id)) or 0
        if used < status_list.size * 3 // 4:  # keep indexes unpredictable: never fill a list completely
            return status_list
    number = (lists[0].number + 1) if lists else 1
    status_list = StatusList(issuer_id=issuer.id, purpose=purpose, number=number, size=LIST_SIZE,
                             bits=bytes(LIST_SIZE // 8))
    session.add(status_list)
    session.flush()
    return status_list


def allocated_index(session: Session, status_list: StatusList, award_id: str) -> int | None:
    """The index of ``award_id`` on ``status_list`` (None: it has none there)."""
    return session.scalar(select(StatusAllocation.index).where(StatusAllocation.list_id == status_list.id,
                                                               StatusAllocation.award_id == award_id))


def locked_entry(session: Session, owner: InstrumentedAttribute[str | None], owner_id: str,
                 purpose: str) -> tuple[StatusList, int] | None:
    """The list holding the ``purpose`` entry of ``owner_id`` and its index, or None.

    ``owner`` is ``StatusAllocation.award_id`` or ``StatusAllocation.vcapi_credential_id``. The
    list row is locked for the rest of the transaction (PostgreSQL ``FOR UPDATE``: concurrent
    changes of one list queue up; SQLite serializes writers itself, and the list's version
    check still catches any race).
    """
    found = session.execute(select(StatusAllocation.list_id, StatusAllocation.index)
                            .join(StatusList, StatusList.id == StatusAllocation.list_id)
                            .where(owner == owner_id, StatusList.purpose == purpose)).first()
    if found is None:
        return None
    list_id, index = found
    status_list = session.scalars(select(StatusList).where(StatusList.id == list_id).with_for_update()).one()
    return status_list, index


def bit(status_list: StatusList, index: int) -> bool:
    return bool(status_list.bits[index // 8] & (0x80 >> (index % 8)))


def set_bit(status_list: StatusList, index: int, value: bool) -> None:
    bits = bytearray(status_list.bits)
    mask = 0x80 >> (index % 8)
    bits[index // 8] = (bits[index // 8] | mask) if value else (bits[index // 8] & ~mask)
    status_list.bits = bytes(bits)


def list_credential(settings: Settings, issuer: Issuer, status_list: StatusList) -> dict[str, Any]:
    url = list_url(settings, status_list)
    return {
        "@context": [VC_V2],
        "id": url,
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": issuer.did,
        "validFrom": now_timestamp(),
        "credentialSubject": {"id": f"{url}#list", "type": "BitstringStatusList",
                              "statusPurpose": status_list.purpose, "encodedList": encode_bitstring(status_list.bits)},
    }


def publish(session: Session, settings: Settings, issuer: Issuer, status_list: StatusList) -> dict[str, Any]:
    """Sign the list's current bits with the issuer's current key and store the credential."""
    key_row, pair = current_key(session, settings, issuer)
    signed = cast(dict[str, Any], sign_credential(list_credential(settings, issuer, status_list), pair,
                                                  verification_method=verification_method(issuer, key_row)))
    status_list.credential = json.dumps(signed)
    return signed


def republish_stale(session: Session, settings: Settings, issuer: Issuer) -> int:
    """Sign again every list of ``issuer`` that its current key did not sign (after a key rotation);
    the number signed. The row's version guards the write: a concurrent change wins, and this
    is run again on fresh bits (the caller's :func:`~issuer.awards.lifecycle.in_transaction`)."""
    key_row, _pair = current_key(session, settings, issuer)
    current = verification_method(issuer, key_row)
    signed = 0
    for status_list in session.scalars(select(StatusList).where(StatusList.issuer_id == issuer.id)):
        proof = json.loads(status_list.credential).get("proof") if status_list.credential else None
        if not isinstance(proof, dict) or proof.get("verificationMethod") != current:
            publish(session, settings, issuer, status_list)
            signed += 1
    return signed
