"""VC-API credentials (admins and issuer staff): what ``/credentials/issue`` signed, who asked, and
revoke / suspend / unsuspend for those with status entries (:mod:`issuer.awards.vcapi_records`)."""
from __future__ import annotations

import json

from flask import Response, abort, flash, redirect, render_template, request, url_for
from sqlalchemy import func, select

from issuer.awards.vcapi_records import STATES, allocations, change_vcapi_status, list_query
from issuer.db.models import VcapiCredential
from issuer.web.admin.blueprint import actor, bp, issuer_of, state
from verifier.errors import CredentialError

PAGE_SIZE = 50
DONE = {"revoke": "revoked", "suspend": "suspended", "unsuspend": "unsuspended"}


@bp.get("/vcapi-credentials")
def vcapi_credentials() -> str:
    chosen = request.args.get("state") or None
    if chosen is not None and chosen not in STATES:
        chosen = None
    try:
        page = max(1, min(int(request.args.get("page", "1")), 10_000))
    except ValueError:
        page = 1
    with state().sessions() as db:
        issuer = issuer_of(db)
        query = list_query(issuer, chosen)
        total = db.scalar(select(func.count()).select_from(query.subquery()))
        records = db.scalars(query.order_by(VcapiCredential.created_at.desc(), VcapiCredential.id.desc())
                             .offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE)).all()
        rows = [{"record": r, "status": allocations(db, r.id),
                 "credential": json.dumps(json.loads(r.credential), indent=2)} for r in records]
    return render_template("admin/vcapi_credentials.html", rows=rows, states=STATES, chosen=chosen or "",
                           page=page, has_next=page * PAGE_SIZE < total, total=total)


@bp.post("/vcapi-credentials/<record_id>/<any(revoke, suspend, unsuspend):action>")
def vcapi_credential_action(record_id: str, action: str) -> Response:
    with state().sessions() as db:
        record = db.get(VcapiCredential, record_id) if len(record_id) <= 36 else None
        if record is None or record.issuer_id != issuer_of(db).id:
            abort(404)
    reason = (request.form.get("reason") or "").strip()[:1000]
    try:
        change = change_vcapi_status(state().sessions, state().settings, record_id, action, reason=reason,
                                     actor=actor())
    except CredentialError as exc:
        message = str(exc)
        flash(message[:1].upper() + message[1:] + ".", "bad")
    else:
        flash(f"Credential {DONE[action]}." if change.changed else
              f"The credential was already {change.state}; nothing changed.", "ok")
    return redirect(url_for("admin.vcapi_credentials"), 303)
