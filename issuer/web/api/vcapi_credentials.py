"""Credentials signed through the VC-API: list them (``GET /vcapi-credentials``: what was signed, who asked,
its state) and revoke, suspend or unsuspend one (``POST /vcapi-credentials/{id}/revoke|suspend|unsuspend``
with ``{"reason": "..."}``), through the same status change as awards."""
from __future__ import annotations

from flask import Response

from issuer.awards.vcapi_records import STATES
from issuer.web.api.common import (
    DEFAULT_PAGE,
    MAX_PAGE,
    READ,
    bp,
    decode_cursor,
    paged,
    query_choice,
    query_int,
    requires,
    state,
    status_routes,
)
from issuer.web.serialise import vcapi_credential_json


@bp.get("/vcapi-credentials")
@requires(READ)
def list_vcapi_credentials() -> Response:
    limit = query_int("limit", DEFAULT_PAGE, 1, MAX_PAGE)
    cursor = decode_cursor()
    state_filter = query_choice("state", STATES)
    rows = state().use.vcapi.listing(state_filter, cursor=cursor, limit=limit)
    return paged(rows, limit, lambda listed: vcapi_credential_json(listed.record, listed.status))


status_routes("/vcapi-credentials", "record_id", lambda services: services.status.change_vcapi_status)
