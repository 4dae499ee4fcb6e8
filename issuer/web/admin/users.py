"""Users (admins only): staff accounts, their roles, creating and disabling them.

Each view calls one method of :class:`issuer.access.service.AccessService`; a refused account
(bad name, weak password, taken name) re-renders the form with the reason (422).
"""
from __future__ import annotations

from flask import Response, flash, g, redirect, render_template, request, url_for

from issuer.access.staff import STAFF_ROLES
from issuer.errors import Conflict, InvalidInput
from issuer.web.admin.blueprint import admin_only, bp, state


@bp.get("/users")
@admin_only
def users() -> str:
    return render_template("admin/users.html", users=state().use.access.list_users(), roles=STAFF_ROLES, form={},
                           error=None)


@bp.post("/users")
@admin_only
def users_create() -> Response | tuple[str, int]:
    form = {k: request.form.get(k, "")[:255] for k in ("username", "name", "role")}
    access = state().use.access
    try:
        user = access.create_user(form["username"], request.form.get("password", ""), form["role"],
                                  name=form["name"])
    except (InvalidInput, Conflict) as exc:
        return render_template("admin/users.html", users=access.list_users(), roles=STAFF_ROLES, form=form,
                               error=str(exc)), 422
    flash(f"Account {user.username} created.", "ok")
    return redirect(url_for("admin.users"), 303)


@bp.post("/users/<user_id>/<any(disable, enable):action>")
@admin_only
def users_set_active(user_id: str, action: str) -> Response:
    user = state().use.access.set_active_by_id(user_id, action == "enable", acting_user_id=g.staff.user_id)
    flash(f"Account {user.username} {action}d." + (" Its open sessions were ended." if action == "disable" else ""),
          "ok")
    return redirect(url_for("admin.users"), 303)
