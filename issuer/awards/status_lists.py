"""Bitstring Status Lists: one per issuer and purpose (revocation, suspension).

* At least 131,072 entries (16 KB) for herd privacy; indexes are drawn at random and
  never reused: a ``StatusAllocation`` row per used index, whose primary key makes two
  awards sharing an index impossible even under concurrency.
* Changing a bit bumps the list's version (optimistic locking), so two concurrent
  revocations can never lose one another's update: the loser retries.
* The list is published as a signed ``BitstringStatusListCredential`` at a stable URL
  (``/status/<purpose>/<number>``), re-signed on every change.
"""
from __future__ import annotations

import json
import secrets

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

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
                              .where(StatusAllocation.list_id == status_list.id))
        if used < status_list.size * 3 // 4:  # keep indexes unpredictable: never fill a list completely
            return status_list
    number = (lists[0].number + 1) if lists else 1
    status_list = StatusList(issuer_id=issuer.id, purpose=purpose, number=number, size=LIST_SIZE,
                             bits=bytes(LIST_SIZE // 8))
    session.add(status_list)
    session.flush()
    return status_list


def allocate(session: Session, status_list: StatusList, award_id: str, *, attempts: int = 64) -> int:
    """A fresh random index on ``status_list`` (see :func:`open_list`), recorded for ``award_id``."""
    for _ in range(attempts):
        index = secrets.randbelow(status_list.size)
        try:
            with session.begin_nested():
                session.add(StatusAllocation(list_id=status_list.id, index=index, award_id=award_id))
            return index
        except IntegrityError:
            continue  # taken (by an earlier award or a concurrent one): draw again
    raise RuntimeError("could not find a free status list index")


def allocated_index(session: Session, status_list: StatusList, award_id: str) -> int | None:
    return session.scalar(select(StatusAllocation.index).where(StatusAllocation.list_id == status_list.id,
                                                               StatusAllocation.award_id == award_id))


def bit(status_list: StatusList, index: int) -> bool:
    return bool(status_list.bits[index // 8] & (0x80 >> (index % 8)))


def set_bit(status_list: StatusList, index: int, value: bool) -> None:
    bits = bytearray(status_list.bits)
    mask = 0x80 >> (index % 8)
    bits[index // 8] = (bits[index // 8] | mask) if value else (bits[index // 8] & ~mask)
    status_list.bits = bytes(bits)


def list_credential(settings: Settings, issuer: Issuer, status_list: StatusList) -> dict:
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


def publish(session: Session, settings: Settings, issuer: Issuer, status_list: StatusList) -> dict:
    """Sign the list's current bits with the issuer's current key and store the credential."""
    key_row, pair = current_key(session, settings, issuer)
    signed = sign_credential(list_credential(settings, issuer, status_list), pair,
                             verification_method=verification_method(issuer, key_row))
    status_list.credential = json.dumps(signed)
    return signed


def status_entry(settings: Settings, status_list: StatusList, index: int) -> dict:
    url = list_url(settings, status_list)
    return {"id": f"{url}#{index}", "type": "BitstringStatusListEntry", "statusPurpose": status_list.purpose,
            "statusListIndex": str(index), "statusListCredential": url}
