"""Keys (admins only): the issuer's signing keys, rotation, and withdrawing a compromised key."""
from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for

from issuer.awards.lifecycle import reissue_signed_with, signed_with, withdraw_compromised_key
from issuer.db.models import AuditEntry
from issuer.keys.keyring import add_key, all_keys, find_key, verification_method
from issuer.mail.outbox import send_after_commit
from issuer.web.admin.blueprint import actor, admin_only, bp, issuer_of, sentence, state
from verifier.errors import CredentialError

MAX_REASON = 1000


@bp.get("/keys")
@admin_only
def keys() -> str:
    settings = state().settings
    with state().sessions() as db:
        issuer = issuer_of(db)
        rows = [{"id": k.key_id, "method": verification_method(issuer, k), "type": k.key_type, "state": k.state,
                 "created": k.created_at, "retired": k.retired_at, "multibase": k.public_multibase}
                for k in reversed(all_keys(db, issuer))]
    return render_template("admin/keys.html", keys=rows, did=issuer.did,
                           did_document=settings.url("/.well-known/did.json"))


@bp.post("/keys/rotate")
@admin_only
def keys_rotate() -> Response:
    if request.form.get("confirm") != "yes":
        flash("Tick the box to confirm the rotation; nothing was changed.", "warn")
        return redirect(url_for("admin.keys"), 303)
    settings = state().settings
    with state().sessions.begin() as db:
        issuer = issuer_of(db)
        key = add_key(db, settings, issuer)
        method = verification_method(issuer, key)
        db.add(AuditEntry(actor=actor(), action="rotate_key", award_id=None, details={"key": method}))
    flash(f"New signing key {method} is current. The old private key file was deleted; earlier keys stay "
          f"published, so every credential issued before still verifies.", "ok")
    return redirect(url_for("admin.keys"), 303)


def _key_or_404(db, key_id: str):
    try:
        return find_key(db, issuer_of(db), key_id)
    except CredentialError:
        abort(404)


@bp.get("/keys/<key_id>/revoke")
@admin_only
def key_revoke_confirm(key_id: str) -> str:
    """The confirmation step: what withdrawing this key does, and how many badges it re-issues."""
    with state().sessions() as db:
        issuer = issuer_of(db)
        key = _key_or_404(db, key_id)
        method = verification_method(issuer, key)
        affected = len(signed_with(db, issuer, method, state().clock()))
        shown = {"id": key.key_id, "method": method, "state": key.state}
    return render_template("admin/key_revoke.html", key=shown, affected=affected)


@bp.post("/keys/<key_id>/revoke")
@admin_only
def key_revoke(key_id: str) -> Response:
    reason = " ".join((request.form.get("reason") or "").split())[:MAX_REASON]
    if request.form.get("confirm") != "yes" or not reason:
        flash("Give a reason and tick the box to confirm; nothing was changed.", "warn")
        return redirect(url_for("admin.key_revoke_confirm", key_id=key_id), 303)
    settings, sessions, who = state().settings, state().sessions, actor()
    try:
        with sessions.begin() as db:
            _key_or_404(db, key_id)
            withdrawal = withdraw_compromised_key(db, settings, issuer_of(db), key_id, reason=reason, actor=who)
            key_pk = withdrawal.key.id
        result = reissue_signed_with(sessions, settings, key_pk, actor=who, reason=f"key withdrawn: {reason}",
                                     now=state().clock())
    except CredentialError as exc:
        flash(sentence(str(exc)), "bad")
        return redirect(url_for("admin.keys"), 303)
    count = len(result.reissued)
    flash(f"Key {withdrawal.method} is withdrawn: it is no longer published and its private key file was "
          f"deleted. {count} badge{'' if count == 1 else 's'} re-issued with the current key"
          + ("; the recipients were emailed the new credentials." if count else "."), "ok")
    response = redirect(url_for("admin.keys"), 303)
    if count:
        response.call_on_close(lambda: send_after_commit(sessions, settings))
    return response
