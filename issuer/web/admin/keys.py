"""Keys (admins only): the issuer's signing keys, rotation, and withdrawing a compromised key.

Each view calls one method of :class:`issuer.keys.service.KeyService`. An unknown key is a
404 (the app's error handler); a refused withdrawal (the only current key) is shown as a
message on the keys page.
"""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from issuer.errors import InvalidInput, NotAllowed
from issuer.web.admin.blueprint import actor, admin_only, bp, sentence, state

MAX_REASON = 1000


@bp.get("/keys")
@admin_only
def keys() -> str:
    ring = state().use.keys.list()
    return render_template("admin/keys.html", keys=list(reversed(ring.keys)), did=ring.did,
                           did_document=ring.did_document)


@bp.post("/keys/rotate")
@admin_only
def keys_rotate() -> Response:
    if request.form.get("confirm") != "yes":
        flash("Tick the box to confirm the rotation; nothing was changed.", "warn")
        return redirect(url_for("admin.keys"), 303)
    rotated = state().use.keys.rotate(actor=actor())
    flash(f"New signing key {rotated.method} is current. The old private key file was deleted; earlier keys stay "
          f"published, so every credential issued before still verifies.", "ok")
    return redirect(url_for("admin.keys"), 303)


@bp.get("/keys/<key_id>/revoke")
@admin_only
def key_revoke_confirm(key_id: str) -> str:
    """The confirmation step: what withdrawing this key does, and how many badges it re-issues."""
    plan = state().use.keys.withdrawal_plan(key_id)
    return render_template("admin/key_revoke.html", key=plan.key, affected=plan.affected)


@bp.post("/keys/<key_id>/revoke")
@admin_only
def key_revoke(key_id: str) -> Response:
    reason = " ".join((request.form.get("reason") or "").split())[:MAX_REASON]
    if request.form.get("confirm") != "yes" or not reason:
        flash("Give a reason and tick the box to confirm; nothing was changed.", "warn")
        return redirect(url_for("admin.key_revoke_confirm", key_id=key_id), 303)
    services = state().use
    try:
        done = services.keys.withdraw(key_id, reason=reason, actor=actor())
    except (InvalidInput, NotAllowed) as exc:
        flash(sentence(str(exc)), "bad")
        return redirect(url_for("admin.keys"), 303)
    count = len(done.reissued)
    flash(f"Key {done.method} is withdrawn: it is no longer published and its private key file was "
          f"deleted. {count} badge{'' if count == 1 else 's'} re-issued with the current key"
          + ("; the recipients were emailed the new credentials." if count else "."), "ok")
    response = redirect(url_for("admin.keys"), 303)
    if count:
        response.call_on_close(services.awards.deliver_mail)
    return response
