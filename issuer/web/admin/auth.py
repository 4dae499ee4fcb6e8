"""Sign in and sign out of the console; ``/admin/`` sends a signed-in user to the dashboard.

Passwords, the per-address lock and session tokens are :class:`issuer.access.service.AccessService`'s;
this module keeps the request limit per address, the cookie and where to go next.
"""
from __future__ import annotations

from dataclasses import asdict
from urllib.parse import urlsplit

from flask import Response, abort, current_app, g, redirect, render_template, request, session, url_for

from issuer.access.staff import StaffError
from issuer.web.admin.blueprint import SESSION_KEY, admin_nav, bp, public, state
from issuer.web.ratelimit import over_limit

LOGIN_RATE_LIMIT = "20/minute"     # sign-in attempts per client address (app.config ADMIN_LOGIN_RATE_LIMIT)


def _safe_next(target: str | None) -> str:
    """Only a path inside the console; anything else (another site, //host) goes to the home page."""
    if target and target.startswith("/admin") and not target.startswith("//"):
        parts = urlsplit(target)
        if not parts.scheme and not parts.netloc and "\\" not in target:
            return target
    return url_for("admin.home")


@bp.route("/login", methods=["GET", "POST"])
@public
def login() -> Response | str:
    if request.method == "GET":
        if g.staff is not None:
            return redirect(_safe_next(request.args.get("next")))
        return render_template("admin/login.html", next=request.args.get("next", ""), error=None, username="")
    wait = over_limit("admin-login", current_app.config.get("ADMIN_LOGIN_RATE_LIMIT", LOGIN_RATE_LIMIT),
                      request.remote_addr or "-")
    if wait is not None:
        abort(429, f"Too many sign-in attempts from your address; try again in {wait} seconds.")
    username = request.form.get("username", "")[:100]
    try:
        signed_in = state().use.access.sign_in(username, request.form.get("password", ""),
                                               client=request.remote_addr or "-")
    except StaffError as exc:
        return render_template("admin/login.html", next=request.form.get("next", ""), error=str(exc),
                               username=username), 401
    session.clear()                              # a fresh session: nothing from before signing in survives
    session.permanent = True
    session[SESSION_KEY] = asdict(signed_in)
    return redirect(_safe_next(request.form.get("next")), 303)


@bp.post("/logout")
def logout() -> Response:
    state().use.access.end_session(g.staff)
    session.clear()
    return redirect(url_for("admin.login"), 303)


@bp.get("/")
def home() -> Response:
    """The first console page this account may open (the skills dashboard once it exists)."""
    pages = admin_nav()
    if not pages:
        abort(404, "No console pages are available.")
    return redirect(pages[0][0])
