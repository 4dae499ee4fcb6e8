"""Awards: issue (one service call), list, get, revoke / suspend / unsuspend, renew."""
from __future__ import annotations

from datetime import timedelta

from flask import Response, g, request
from sqlalchemy import or_, select
from sqlalchemy.orm import selectinload

from issuer.awards import rules as award_rules
from issuer.db.models import AWARD_STATES, Achievement, Award, Recipient
from issuer.web.api.common import (
    DEFAULT_PAGE,
    IDEMPOTENCY_KEY,
    ISSUE,
    MAX_IDEMPOTENCY_KEY,
    MAX_PAGE,
    READ,
    ApiProblem,
    award_of_issuer,
    bp,
    current_time,
    decode_cursor,
    invalid,
    json_body,
    json_object,
    load_issuer_row,
    ok,
    page,
    paged,
    query_int,
    query_str,
    requires,
    settings,
    state,
)
from issuer.web.serialise import award_json
from verifier.recipient import normalize_identity


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
    achievement_ref = query_str("achievement", 100)
    state_filter = query_str("state", 20)
    if state_filter is not None and state_filter not in AWARD_STATES:
        raise ApiProblem(400, f"'state' must be one of {', '.join(AWARD_STATES)}.")
    email = query_str("email", 320)
    days = query_int("expiring_within_days", None, 0, 3650)
    now = current_time()
    with state().sessions() as session:
        issuer = load_issuer_row(session)
        query = select(Award).where(Award.issuer_id == issuer.id).options(
            selectinload(Award.achievement), selectinload(Award.recipient))
        if achievement_ref is not None:
            query = query.join(Achievement, Award.achievement_id == Achievement.id).where(
                or_(Achievement.slug == achievement_ref, Achievement.id == achievement_ref))
        if state_filter is not None:
            query = query.where(Award.state == state_filter)
        if email is not None:
            query = query.join(Recipient, Award.recipient_id == Recipient.id).where(
                Recipient.email == normalize_identity(email))
        if days is not None:
            query = query.where(Award.state == "active", Award.valid_until.is_not(None), Award.valid_until >= now,
                                Award.valid_until <= now + timedelta(days=days))
        rows = list(session.scalars(page(Award, query, limit, cursor)))
        return paged(rows, limit, lambda a: award_json(a, now=now))


@bp.get("/awards/<award_id>")
@requires(READ)
def get_award(award_id: str) -> Response:
    with state().sessions() as session:
        issuer = load_issuer_row(session)
        return ok(award_json(award_of_issuer(session, issuer, award_id), with_credential=True))


def _status_action(award_id: str, action: str) -> Response:
    from issuer.awards.lifecycle import LifecycleError, change_status

    with state().sessions() as session:
        issuer = load_issuer_row(session)
        award_of_issuer(session, issuer, award_id)
    body = json_object()
    try:
        award_rules.only(body, ("reason",), "The request")
        reason = award_rules.status_reason(body)
    except award_rules.AwardRuleError as exc:
        raise invalid(str(exc)) from None
    try:
        change = change_status(state().sessions, settings(), award_id, action, reason=reason, actor=g.caller.actor)
    except LifecycleError as exc:
        if exc.code == "unknown_award":
            raise ApiProblem(404, f"There is no award {award_id!r}.") from None
        if exc.code == "reason_required":
            raise invalid(str(exc), code=exc.code) from None
        raise ApiProblem(409, str(exc), code=exc.code) from None
    return ok({"id": change.award_id, "action": change.action, "state": change.state, "changed": change.changed})


@bp.post("/awards/<award_id>/revoke")
@requires(ISSUE)
def revoke(award_id: str) -> Response:
    return _status_action(award_id, "revoke")


@bp.post("/awards/<award_id>/suspend")
@requires(ISSUE)
def suspend(award_id: str) -> Response:
    return _status_action(award_id, "suspend")


@bp.post("/awards/<award_id>/unsuspend")
@requires(ISSUE)
def unsuspend(award_id: str) -> Response:
    return _status_action(award_id, "unsuspend")


@bp.post("/awards/<award_id>/renew")
@requires(ISSUE)
def renew_award(award_id: str) -> Response:
    from issuer.awards.lifecycle import LifecycleError, renew

    with state().sessions() as session:
        issuer = load_issuer_row(session)
        already = award_of_issuer(session, issuer, award_id).superseded_by
    body = json_body(required=False)
    if body not in (None, {}):
        raise invalid("Renewal takes no parameters (send no body or {}).")
    try:
        new = renew(state().sessions, settings(), award_id, actor=g.caller.actor)
    except LifecycleError as exc:
        if exc.code == "unknown_award":
            raise ApiProblem(404, f"There is no award {award_id!r}.") from None
        raise ApiProblem(409, str(exc), code=exc.code) from None
    with state().sessions() as session:
        award = session.scalars(select(Award).where(Award.id == new.id).options(
            selectinload(Award.achievement), selectinload(Award.recipient))).one()
        document = award_json(award)
    response = ok(document, 200 if already else 201,
                  {"Location": f"{request.script_root}/api/v1/awards/{document['id']}"})
    if not already:
        send_mail_after(response)
    return response
