"""Users (admins only): staff accounts, their roles, creating and disabling them."""
from __future__ import annotations

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from sqlalchemy import select

from issuer.access.staff import StaffError, create_user, set_active
from issuer.db.models_staff import STAFF_ROLES, StaffUser
from issuer.web.admin.blueprint import admin_only, bp, state


def _accounts() -> list[StaffUser]:
    with state().sessions() as db:
        return list(db.scalars(select(StaffUser).order_by(StaffUser.username)))


@bp.get("/users")
@admin_only
def users() -> str:
    return render_template("admin/users.html", users=_accounts(), roles=STAFF_ROLES, form={}, error=None)


@bp.post("/users")
@admin_only
def users_create() -> Response | tuple[str, int]:
    form = {k: request.form.get(k, "")[:255] for k in ("username", "name", "role")}
    try:
        with state().sessions.begin() as db:
            user = create_user(db, form["username"], request.form.get("password", ""), form["role"],
                               name=form["name"], now=state().clock())
            username = user.username
    except StaffError as exc:
        return render_template("admin/users.html", users=_accounts(), roles=STAFF_ROLES, form=form,
                               error=str(exc)), 422
    flash(f"Account {username} created.", "ok")
    return redirect(url_for("admin.users"), 303)


@bp.post("/users/<user_id>/<any(disable, enable):action>")
@admin_only
def users_set_active(user_id: str, action: str) -> Response:
    if user_id == g.staff.user_id:
        abort(409, "You cannot disable your own account.")
    with state().sessions.begin() as db:
        user = db.get(StaffUser, user_id)
        if user is None:
            abort(404, "No such account.")
        set_active(db, user, action == "enable")
        username = user.username
    flash(f"Account {username} {action}d." + (" Its open sessions were ended." if action == "disable" else ""), "ok")
    return redirect(url_for("admin.users"), 303)
