"""Keys (admins only): the issuer's current and retired signing keys, and rotation."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from ...db.models import AuditEntry
from ...keyring import add_key, all_keys, verification_method
from .blueprint import actor, admin_only, bp, issuer_of, state


@bp.get("/keys")
@admin_only
def keys() -> str:
    settings = state().settings
    with state().sessions() as db:
        issuer = issuer_of(db)
        rows = [{"method": verification_method(issuer, k), "type": k.key_type, "state": k.state,
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
    flash(f"New signing key {method} is current. Earlier keys stay published, so every credential "
          f"issued before still verifies.", "ok")
    return redirect(url_for("admin.keys"), 303)
