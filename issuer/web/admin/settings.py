"""Sharing settings (admins only): the company's LinkedIn id, so "Add to LinkedIn" shows its logo.

One form, one service call (:meth:`issuer.sharing_service.SharingService.set_linkedin_organization`);
a malformed id re-renders the form with the reason beside the field (422). An empty field
clears the id (LinkedIn then gets the issuer's name). Changes are audited by the service.
"""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for

from issuer.errors import InvalidInput
from issuer.web.admin.blueprint import actor, admin_only, bp, sentence, state

FIELD = "linkedin_organization_id"


@bp.get("/settings")
@admin_only
def settings() -> str:
    current = state().use.sharing.settings()
    return render_template("admin/settings.html", current=current, value=current.linkedin_organization_id or "",
                           error=None)


@bp.post("/settings")
@admin_only
def settings_save() -> Response | tuple[str, int]:
    value = (request.form.get(FIELD) or "")[:100]
    sharing = state().use.sharing
    try:
        saved = sharing.set_linkedin_organization(value, actor=actor())
    except InvalidInput as exc:
        return render_template("admin/settings.html", current=sharing.settings(), value=value,
                               error=sentence(str(exc))), 422
    flash(f"Saved: \"Add to LinkedIn\" now names the company page {saved.linkedin_organization_id}, with its logo."
          if saved.linkedin_organization_id else
          f"Saved: \"Add to LinkedIn\" now names the organisation as \"{saved.organization}\" (no logo).", "ok")
    return redirect(url_for("admin.settings"), 303)
