"""Store signed awards: 1..N in the caller's transaction, the same way for one award and for a bulk chunk.

:func:`store_awards` writes, for every signed award, exactly what makes it complete: the
recipient (found by email and updated with the values given, or created), the award row
with its credential, its status list allocations, its audit entry and (``notify``) its
email in the outbox. It uses a few set-based statements whatever the number of awards, so a
bulk chunk of 500 costs about what one award does.

Concurrency: the ``StatusAllocation`` primary key refuses an index another issuer took first
(:class:`sqlalchemy.exc.IntegrityError`), and :class:`StoreConflict` is raised when a
recipient's DID changed after the credential naming it was planned. Either way the caller
rolls back (nothing of the chunk is kept) and plans again.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from issuer.awards.allocation import allocation_rows
from issuer.awards.signer import SignedAward
from issuer.config import Settings
from issuer.db.models import AuditEntry, Award, OutboxMessage, Recipient, StatusAllocation, new_id, utcnow
from issuer.mail.compose import AwardMail
from issuer.mail.outbox import outbox_row

IN_BATCH = 500                           # ids per IN (...) query
PERSON = ("name", "employee_id", "did")


class StoreConflict(Exception):
    """What the awards were planned on changed meanwhile (a recipient's DID): plan them again."""


def _own_claims(session: Session, rows: list[dict[str, object]]) -> None:
    """Give each claimed (list, index) row its award; StoreConflict unless every one was an unowned claim."""
    table = cast(Table, StatusAllocation.__table__)
    session.connection().execute(
        update(table).where(table.c.list_id == bindparam("claim_list"), table.c.index == bindparam("claim_index"),
                            table.c.award_id.is_(None), table.c.vcapi_credential_id.is_(None))
        .values(award_id=bindparam("owner")),
        [{"claim_list": r["list_id"], "claim_index": r["index"], "owner": r["award_id"]} for r in rows])
    owners = sorted({str(r["award_id"]) for r in rows})
    owned = sum(session.scalar(select(func.count()).select_from(StatusAllocation)
                               .where(StatusAllocation.award_id.in_(owners[i:i + IN_BATCH]))) or 0
                for i in range(0, len(owners), IN_BATCH))
    if owned != len(rows):
        raise StoreConflict("a claimed status index was lost before the awards were stored")


def _recipients(session: Session, issuer_id: str, awards: Sequence[SignedAward],
                now: datetime) -> dict[str, dict[str, Any]]:
    """email -> the recipient's values after this store (id included): found, updated or created.

    Values given in a request win over stored ones; an empty value leaves the stored one.
    """
    emails = sorted({a.planned.request.email for a in awards})
    found: dict[str, dict[str, Any]] = {}
    for start in range(0, len(emails), IN_BATCH):
        for row in session.execute(select(Recipient.id, Recipient.email, *(getattr(Recipient, c) for c in PERSON))
                                   .where(Recipient.issuer_id == issuer_id,
                                          Recipient.email.in_(emails[start:start + IN_BATCH]))):
            found[row.email] = {"id": row.id, **{c: getattr(row, c) for c in PERSON}}
    new: dict[str, dict[str, Any]] = {}
    changed: dict[str, dict[str, Any]] = {}
    people: dict[str, dict[str, Any]] = {}
    for award in awards:
        request = award.planned.request
        given = {c: getattr(request, c) for c in PERSON if getattr(request, c)}
        person = people.get(request.email)
        if person is None:
            if request.email in found:
                person = dict(found[request.email])
            else:
                person = new[request.email] = {"id": new_id(), "issuer_id": issuer_id, "email": request.email,
                                               "created_at": now, **dict.fromkeys(PERSON)}
            people[request.email] = person
        diff = {c: v for c, v in given.items() if person.get(c) != v}
        if diff:
            person.update(diff)
            if request.email not in new:
                changed.setdefault(person["id"], {}).update(diff)
    for award in awards:                 # the credential names the DID the recipient has once all are stored
        if people[award.planned.request.email]["did"] != award.planned.recipient_did:
            raise StoreConflict("a recipient's DID changed while the award was being signed")  # no address: logged
    if new:
        session.execute(insert(Recipient), list(new.values()))
    for recipient_id, values in changed.items():
        session.execute(update(Recipient).where(Recipient.id == recipient_id).values(**values))
    return people


def store_awards(session: Session, settings: Settings, issuer_id: str, awards: Sequence[SignedAward], *,
                 actor: str, verification_method: str, slugs: Mapping[str, str], notify: str | None = None,
                 details: Callable[[SignedAward], dict[str, Any]] | None = None, claimed: bool = False) -> None:
    """Write ``awards`` (see the module docstring) in ``session``'s transaction.

    ``slugs``: achievement id -> slug, for the audit log; ``details(award)``: extra audit
    details (a bulk file's name and line); ``notify``: the email kind to queue ("awarded",
    "renewed"), or None. ``claimed``: the slots' indexes were claimed beforehand
    (:meth:`~issuer.awards.allocation.StatusIndexes.claim`): their rows get their owner instead of
    being inserted (StoreConflict if one is no longer an unowned claim).
    """
    if not awards:
        return
    now = utcnow()                       # when it was stored (the award dates come from the plans)
    people = _recipients(session, issuer_id, awards, now)
    session.execute(insert(Award), [{
        "id": a.planned.award_id, "issuer_id": issuer_id, "achievement_id": a.planned.achievement_id,
        "recipient_id": people[a.planned.request.email]["id"], "external_key": a.planned.key,
        "evidence": list(a.planned.request.evidence), "results": list(a.planned.request.results),
        "awarded_at": a.planned.awarded, "valid_from": a.planned.awarded, "valid_until": a.planned.valid_until,
        "state": "active", "credential": a.credential, "credential_jwt": a.credential_jwt, "created_at": now,
    } for a in awards])
    rows = [row for a in awards for row in allocation_rows(a.planned.slots, award_id=a.planned.award_id)]
    if claimed:
        _own_claims(session, rows)
    else:
        session.execute(insert(StatusAllocation), rows)
    session.execute(insert(AuditEntry), [{
        "at": now, "actor": actor, "action": "issue", "award_id": a.planned.award_id,
        "details": {"achievement": slugs.get(a.planned.achievement_id), "key": verification_method,
                    **(details(a) if details else {})},
    } for a in awards])
    if notify:
        session.execute(insert(OutboxMessage), [outbox_row(settings, AwardMail(
            award_id=a.planned.award_id, credential=a.credential, to_address=a.planned.request.email,
            to_name=people[a.planned.request.email]["name"], valid_until=a.planned.valid_until), notify, now)
            for a in awards])
