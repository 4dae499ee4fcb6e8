"""Recipients: list and get, with their awards (one service call each)."""
from __future__ import annotations

from flask import Response

from issuer.web.api.common import (
    DEFAULT_PAGE,
    MAX_PAGE,
    READ,
    bp,
    current_time,
    decode_cursor,
    ok,
    paged,
    query_int,
    query_str,
    requires,
    state,
)
from issuer.web.serialise import award_json, recipient_json


@bp.get("/recipients")
@requires(READ)
def list_recipients() -> Response:
    limit = query_int("limit", DEFAULT_PAGE, 1, MAX_PAGE)
    rows = state().use.search.recipients(email=query_str("email", 320), cursor=decode_cursor(), limit=limit)
    return paged(rows, limit, recipient_json)


@bp.get("/recipients/<recipient_id>")
@requires(READ)
def get_recipient(recipient_id: str) -> Response:
    now = current_time()
    found = state().use.search.recipient(recipient_id)
    return ok({**recipient_json(found.recipient), "awards": [award_json(a, now=now) for a in found.awards]})
