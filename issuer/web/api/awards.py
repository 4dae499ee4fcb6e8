"""Awards: issue, list, get, revoke / suspend / unsuspend, renew: each one service call.

The list is the console's search (:mod:`issuer.awards.search`: ``state=active`` means active
and still valid, ``state=expired`` active but past its validity), read in cursor pages.
"""
from __future__ import annotations

from flask import Response, g, request

from issuer.awards.search import MAX_DAYS, AwardFilters
from issuer.awards.states import AWARD_STATES
from issuer.web.api.common import (
    DEFAULT_PAGE,
    IDEMPOTENCY_KEY,
    ISSUE,
    MAX_IDEMPOTENCY_KEY,
    MAX_PAGE,
    READ,
    ApiProblem,
    bp,
    current_time,
    decode_cursor,
    json_body,
    json_object,
    ok,
    paged,
    query_choice,
    query_int,
    query_str,
    requires,
    state,
    status_routes,
)
from issuer.web.serialise import award_json


def _idempotency_key() -> str | None:
    value = request.headers.get("Idempotency-Key")
    if value is None:
        return None
    value = value.strip()
    if value.startswith('"') and value.endswith('"') and len(value) >= 2:   # RFC 8941 sf-string form
        value = value[1:-1]
    if not IDEMPOTENCY_KEY.match(value):
        raise ApiProblem(400, f"The Idempotency-Key header must be 1 to {MAX_IDEMPOTENCY_KEY} visible ASCII "
                              "characters.")
    return value


@bp.post("/awards")
@requires(ISSUE)
def issue() -> Response:
    issued = state().use.awards.issue(json_object(), actor=g.caller.actor, external_id=_idempotency_key())
    document = award_json(issued.award)
    response = ok(document, 201 if issued.created else 200,
                  {"Location": f"{request.script_root}/api/v1/awards/{document['id']}"}
                  | ({} if issued.created else {"Idempotent-Replayed": "true"}))
    if issued.created:
        send_mail_after(response)
    return response


def send_mail_after(response: Response) -> None:
    """Deliver queued award emails once the response has gone out (the outbox retries failures)."""
    response.call_on_close(state().use.awards.deliver_mail)


@bp.get("/awards")
@requires(READ)
def list_awards() -> Response:
    limit = query_int("limit", DEFAULT_PAGE, 1, MAX_PAGE)
    cursor = decode_cursor()
    state_filter = query_choice("state", AWARD_STATES)
    filters = AwardFilters(achievement=query_str("achievement", 100), state=state_filter, email=query_str("email", 320),
                           expiring_within_days=query_int("expiring_within_days", None, 0, MAX_DAYS))
    now = current_time()
    rows = state().use.search.awards(filters, cursor=cursor, limit=limit)
    return paged(rows, limit, lambda award: award_json(award, now=now))


@bp.get("/awards/<award_id>")
@requires(READ)
def get_award(award_id: str) -> Response:
    return ok(award_json(state().use.search.award(award_id), with_credential=True))


status_routes("/awards", "award_id", lambda services: services.status.change_status)


@bp.post("/awards/<award_id>/renew")
@requires(ISSUE)
def renew_award(award_id: str) -> Response:
    renewal = state().use.status.renew(award_id, actor=g.caller.actor, body=json_body(required=False))
    document = award_json(renewal.award)
    response = ok(document, 201 if renewal.created else 200,
                  {"Location": f"{request.script_root}/api/v1/awards/{document['id']}"})
    if renewal.created:
        send_mail_after(response)
    return response
