"""The ``/me`` blueprint and the rules every page of the employees' space shares.

- Who is signed in: the session cookie (:data:`COOKIE`, HttpOnly, SameSite=Lax, Secure and
  ``__Host-`` on https) holds a random token; :meth:`issuer.employees.service.EmployeeService.signed_in`
  checks it against the database on every request, so any app server gives the same answer and
  signing out ends it everywhere. :func:`current_employee` answers for any view of the app.
- Every view needs a signed-in employee except those marked :func:`public` (the sign-in pages):
  a GET is sent to the sign-in page, anything else gets 401.
- CSRF: every POST needs the form's ``csrf_token`` (Flask-WTF, bound to the Flask session) and,
  when the browser says where it came from (``Sec-Fetch-Site``, ``Origin``), this site
  (:func:`issuer.web.http.same_site_request`, one check for the console and ``/me``).
- Responses are never cached and carry a CSP allowing this site's CSS/JS and form posts to this
  site only (the public pages' CSP allows no forms at all).
"""
from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, abort, current_app, g, redirect, request, url_for
from flask_wtf.csrf import generate_csrf, validate_csrf
from wtforms import ValidationError

from issuer.employees.access import SESSION_HOURS
from issuer.employees.service import Employee, EmployeeService
from issuer.web.http import error_page, private_page_headers, same_site_request

bp = Blueprint("me", __name__, url_prefix="/me", template_folder="../templates")

ME_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; "
          "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
_PUBLIC: set[str] = set()
_UNSET = object()


def service() -> EmployeeService:
    return current_app.extensions["microcred"].use.employees


def cookie_name() -> str:
    """``__Host-microcred-me`` on https (Secure, path /, no domain), ``microcred_me`` on plain http."""
    return "__Host-microcred-me" if _https() else "microcred_me"


def _https() -> bool:
    return urlsplit(current_app.extensions["microcred"].settings.base_url).scheme == "https"


def set_session_cookie(response: Response, token: str) -> None:
    response.set_cookie(cookie_name(), token, max_age=SESSION_HOURS * 3600, path="/", secure=_https(),
                        httponly=True, samesite="Lax")


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(cookie_name(), path="/", secure=_https(), httponly=True, samesite="Lax")


def session_token() -> str | None:
    return request.cookies.get(cookie_name())


def current_employee() -> Employee | None:
    """The employee signed in on this request (checked once per request), or None.

    Usable from any view of the app, e.g. ``me = current_employee(); me.email`` (normalised)."""
    cached = g.get("employee", _UNSET)
    if cached is _UNSET:
        cached = g.employee = service().signed_in(session_token())
    return cached  # type: ignore[return-value]


def employee_required(view: Callable) -> Callable:
    """For views outside ``/me``: GET goes to the sign-in page, other methods get 401, without a sign-in."""
    @wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if current_employee() is None:
            if request.method in ("GET", "HEAD"):
                return redirect(url_for("me.sign_in_form"))
            abort(401, "Sign in first.")
        return view(*args, **kwargs)
    return wrapper


def public(view: Callable) -> Callable:
    """Mark a ``/me`` view as reachable without signing in."""
    _PUBLIC.add(view.__name__)
    return view


def _form_refused() -> Response:
    return error_page(400, "Form refused", "This form has expired or was not sent from this site's page. "
                      "Go back, reload the page and try again.")


@bp.before_request
def _guard() -> Response | None:
    view = request.endpoint.rsplit(".", 1)[-1] if request.endpoint else ""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if not same_site_request():
            return error_page(403, "Forbidden", "This form was sent from another site; it was refused.")
        try:
            validate_csrf(request.form.get("csrf_token"))
        except ValidationError:
            return _form_refused()
    if view not in _PUBLIC and current_employee() is None:
        if request.method in ("GET", "HEAD"):
            return redirect(url_for("me.sign_in_form"))
        abort(401, "Your session has ended. Sign in again.")
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    return private_page_headers(response, ME_CSP)


@bp.context_processor
def _template_helpers() -> dict[str, Any]:
    return {"csrf_token": generate_csrf, "employee": current_employee()}
