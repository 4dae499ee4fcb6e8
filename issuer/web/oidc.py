"""Sign-in with the company's OpenID Connect provider: ``/oidc/start`` and ``/oidc/callback``.

    GET /oidc/start?for=staff[&next=/admin/awards]   -> 302 to the provider (a pending sign-in in the session)
    GET /oidc/start?for=employee                     -> the same, for the employee space
    GET /oidc/callback?code=...&state=...            -> staff: signed into the console; employee: see below

A thin shell over :class:`issuer.access.oidc_service.OidcService` (built here by
:func:`register_oidc` from the environment, :func:`issuer.access.oidc_settings.load_oidc_settings`:
only the web app signs anybody in this way, so no other ``microcred`` command reads those
settings). Without a configured provider every route answers 404 and the sign-in pages show no
button (:func:`oidc_sign_in`, a template global).

The start is a plain link (GET), not a form: the console's CSP (``form-action 'self'``) would
stop a form whose answer redirects to another site, and starting a sign-in changes nothing but
the browser's own pending state. The pending sign-in (state, nonce, PKCE verifier) lives in the
signed session cookie, and the callback removes it before anything else, so an answer is used
at most once.

Staff: the console session is made exactly as a password sign-in makes it
(:mod:`issuer.web.admin.auth`: a cleared session, the :class:`~issuer.access.staff.SignedIn`
under :data:`~issuer.web.admin.blueprint.SESSION_KEY`); a refusal goes back to the console's
sign-in page with the reason.

Employees — the seam: the employee space registers one callable,
``app.extensions["microcred_employee_sign_in"] = start_employee_session``, with
``start_employee_session(email: str) -> Response`` starting its own session for that verified,
lower-cased address and answering the browser (e.g. a redirect to ``/me``). Until one is
registered, ``for=employee`` answers 404 and no employee button shows.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict

from flask import Blueprint, Flask, Response, abort, current_app, flash, redirect, request, session, url_for

from issuer.access.oidc import PendingSignIn
from issuer.access.oidc_service import OidcService
from issuer.access.oidc_settings import load_oidc_settings
from issuer.access.oidc_tokens import OidcRefused, OidcUnavailable
from issuer.web.admin.auth import _safe_next
from issuer.web.admin.blueprint import SESSION_KEY
from issuer.web.ratelimit import over_limit

__all__ = ["EMPLOYEE_SIGN_IN", "EXTENSION", "bp", "oidc_sign_in", "register_oidc"]

bp = Blueprint("oidc", __name__, url_prefix="/oidc")

EXTENSION = "microcred_oidc"                        # app.extensions[EXTENSION]: the OidcService
EMPLOYEE_SIGN_IN = "microcred_employee_sign_in"     # app.extensions[EMPLOYEE_SIGN_IN]: (email) -> Response
PENDING_KEY = "oidc_pending"
RATE_LIMIT = "30/minute"                            # starts and callbacks per client address (OIDC_RATE_LIMIT)

log = logging.getLogger(__name__)


def register_oidc(app: Flask) -> None:
    """Build the sign-in service from the environment (ConfigError for a wrong setting) and add the routes."""
    state = app.extensions["microcred"]
    app.extensions[EXTENSION] = OidcService(state.use.runtime, load_oidc_settings())
    app.register_blueprint(bp)


def _service() -> OidcService:
    service: OidcService = current_app.extensions[EXTENSION]
    return service


def _employee_seam() -> Callable[[str], Response] | None:
    seam = current_app.extensions.get(EMPLOYEE_SIGN_IN)
    return seam if callable(seam) else None


@bp.app_template_global()
def oidc_sign_in(purpose: str, next_path: str = "") -> dict[str, str] | None:
    """For a sign-in page: ``{"url": ..., "name": ...}`` of the "Sign in with <name>" link, or None
    when no provider is configured (or, for ``employee``, no employee space takes the address)."""
    button = _service().button() if EXTENSION in current_app.extensions else None
    if button is None or purpose not in ("staff", "employee") or (purpose == "employee" and _employee_seam() is None):
        return None
    args = {"for": purpose}
    if purpose == "staff" and next_path:
        args["next"] = next_path
    return {"url": url_for("oidc.start", **args), "name": button.name}


def _limit() -> None:
    wait = over_limit("oidc", current_app.config.get("OIDC_RATE_LIMIT", RATE_LIMIT), request.remote_addr or "-")
    if wait is not None:
        abort(429, f"Too many sign-in attempts from your address; try again in {wait} seconds.")


def _check_purpose(purpose: str | None) -> str:
    if purpose not in ("staff", "employee") or (purpose == "employee" and _employee_seam() is None):
        abort(404, "There is no such sign-in here.")
    return purpose


def _back_to_console(message: str, next_path: str = "") -> Response:
    flash(message, "bad")
    args = {"next": next_path} if next_path else {}
    return redirect(url_for("admin.login", **args), 303)


@bp.get("/start")
def start() -> Response:
    _limit()
    purpose = _check_purpose(request.args.get("for"))
    next_path = _safe_next(request.args.get("next")) if purpose == "staff" else ""
    try:
        url, pending = _service().start(purpose, next_path=next_path)
    except OidcUnavailable as exc:
        if purpose == "staff":
            return _back_to_console(str(exc), next_path)
        raise
    session[PENDING_KEY] = pending
    return redirect(url, 302)


@bp.get("/callback")
def callback() -> Response:
    _limit()
    service = _service()
    if service.button() is None:
        abort(404, "There is no such sign-in here.")
    pending = PendingSignIn.from_dict(session.pop(PENDING_KEY, None))    # used at most once, whatever follows
    purpose = _check_purpose(pending.purpose) if pending is not None else None
    try:
        identity = service.finish(pending, request.args.to_dict())     # OidcRefused without a pending sign-in
        if purpose == "employee":
            seam = _employee_seam()
            if seam is None:
                abort(404, "There is no such sign-in here.")
            return seam(identity.email)
        signed_in = service.staff_sign_in(identity)
    except (OidcRefused, OidcUnavailable) as exc:
        log.info("sign-in with the identity provider refused: %s (%s)", exc.code, purpose or "no pending sign-in")
        if purpose == "staff" and pending is not None:
            return _back_to_console(str(exc), pending.next_path)
        raise
    session.clear()                              # a fresh session: nothing from before signing in survives
    session.permanent = True
    session[SESSION_KEY] = asdict(signed_in)
    return redirect(_safe_next(pending.next_path if pending is not None else None), 303)


@bp.after_request
def _headers(response: Response) -> Response:
    response.headers["Cache-Control"] = "no-store"
    return response
