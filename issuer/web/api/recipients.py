"""Recipients: list and get, with their awards."""
from __future__ import annotations

from flask import Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from issuer.db.models import Award, Recipient
from issuer.web.api.common import (
    DEFAULT_PAGE,
    MAX_PAGE,
    READ,
    UUID,
    ApiProblem,
    bp,
    current_time,
    decode_cursor,
    load_issuer_row,
    ok,
    page,
    paged,
    query_int,
    query_str,
    requires,
    state,
)
from issuer.web.serialise import award_json, recipient_json
from verifier.recipient import normalize_identity


@bp.get("/recipients")
@requires(READ)
def list_recipients() -> Response:
    limit = query_int("limit", DEFAULT_PAGE, 1, MAX_PAGE)
    cursor = decode_cursor()
    email = query_str("email", 320)
    with state().sessions() as session:
        issuer = load_issuer_row(session)
        query = select(Recipient).where(Recipient.issuer_id == issuer.id)
        if email is not None:
            query = query.where(Recipient.email == normalize_identity(email))
        rows = list(session.scalars(page(Recipient, query, limit, cursor)))
        return paged(rows, limit, recipient_json)


@bp.get("/recipients/<recipient_id>")
@requires(READ)
def get_recipient(recipient_id: str) -> Response:
    now = current_time()
    with state().sessions() as session:
        issuer = load_issuer_row(session)
        recipient = session.get(Recipient, recipient_id) if UUID.match(recipient_id) else None
        if recipient is None or recipient.issuer_id != issuer.id:
            raise ApiProblem(404, f"There is no recipient {recipient_id!r}.")
        awards = session.scalars(select(Award).where(Award.recipient_id == recipient.id)
                                 .options(selectinload(Award.achievement), selectinload(Award.recipient))
                                 .order_by(Award.created_at.desc(), Award.id.desc())).all()
        return ok({**recipient_json(recipient), "awards": [award_json(a, now=now) for a in awards]})
