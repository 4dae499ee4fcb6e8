"""VC-API credentials (admins and issuer staff): what ``/credentials/issue`` signed, who asked, and
revoke / suspend / unsuspend for those with status entries (:class:`issuer.awards.vcapi_service.VcapiService`,
:meth:`issuer.awards.status_service.StatusService.change_vcapi_status`)."""
from __future__ import annotations

import json

from flask import Response, flash, redirect, render_template, request, url_for

from issuer.awards.vcapi_records import STATES
from issuer.errors import Conflict, InvalidInput
from issuer.web.admin.blueprint import actor, bp, sentence, state

MAX_PAGE = 10_000
DONE = {"revoke": "revoked", "suspend": "suspended", "unsuspend": "unsuspended"}


@bp.get("/vcapi-credentials")
def vcapi_credentials() -> str:
    chosen = request.args.get("state") or None
    if chosen is not None and chosen not in STATES:
        chosen = None
    try:
        number = max(1, min(int(request.args.get("page", "1")), MAX_PAGE))
    except ValueError:
        number = 1
    found = state().use.vcapi.page(chosen, number)
    rows = [{"record": listed.record, "status": listed.status,
             "credential": json.dumps(json.loads(listed.record.credential), indent=2)} for listed in found.rows]
    return render_template("admin/vcapi_credentials.html", rows=rows, states=STATES, chosen=chosen or "",
                           page=found.page, has_next=found.has_next, total=found.total)


@bp.post("/vcapi-credentials/<record_id>/<any(revoke, suspend, unsuspend):action>")
def vcapi_credential_action(record_id: str, action: str) -> Response:
    try:
        change = state().use.status.change_vcapi_status(record_id, action, {"reason": request.form.get("reason")},
                                                        actor=actor())
    except (InvalidInput, Conflict) as exc:      # refused: said on the list (unknown: 404)
        flash(sentence(exc.message), "bad")
    else:
        flash(f"Credential {DONE[action]}." if change.changed else
              f"The credential was already {change.state}; nothing changed.", "ok")
    return redirect(url_for("admin.vcapi_credentials"), 303)
