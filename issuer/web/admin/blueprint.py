"""The console's blueprint and the rules every admin page shares.

- Sign-in: every view needs a signed-in, still-valid staff account
  (:meth:`issuer.access.service.AccessService.check_session`), except those marked
  :func:`public`; the account is re-read on every request, so a disabled account or a
  changed password ends its sessions at once.
- Roles: :func:`admin_only` views answer 403 to ``issuer`` accounts.
- CSRF: every POST needs the form's ``csrf_token`` (Flask-WTF, bound to the session) and,
  when the browser says where it came from (``Sec-Fetch-Site``, ``Origin``), this site
  (:func:`issuer.web.http.same_site_request`, one check for the console and ``/me``).
- Responses are never cached and carry a CSP allowing this site's CSS/JS and form posts to
  this site only.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, abort, current_app, g, redirect, request, session, url_for
from flask_wtf.csrf import CSRFError, CSRFProtect

from issuer.access.staff import SignedIn
from issuer.web.http import error_page, private_page_headers, same_site_request

if TYPE_CHECKING:
    pass

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="../templates")
csrf = CSRFProtect()

SESSION_KEY = "staff"
SESSION_HOURS = 8
ADMIN_CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; script-src 'self'; connect-src 'self'; "
             "form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
# (endpoint, label, admin only): the navigation; entries whose view does not exist are left out
NAV = (
    ("admin.dashboard", "Skills", False),
    ("admin.achievements", "Achievements", False),
    ("admin.frameworks", "Frameworks", False),
    ("admin.award_new", "Issue", False),
    ("admin.bulk", "Bulk issue", False),
    ("admin.awards", "Awards", False),
    ("admin.vcapi_credentials", "VC-API", False),
    ("admin.people", "People", False),
    ("admin.keys", "Keys", True),
    ("admin.users", "Users", True),
    ("admin.settings", "Settings", True),
)
_PUBLIC: set[str] = set()
_UPLOAD_LIMITS: dict[str, int] = {}      # view name -> request size limit for its POSTs
UPLOAD_SLACK = 64 * 1024                 # multipart overhead on top of the file itself


def install(app: Flask) -> None:
    """Session cookie settings and CSRF protection (checked by :func:`_guard`, not globally:
    the JSON APIs authenticate with bearer tokens, not cookies)."""
    https = app.config.get("SESSION_COOKIE_SECURE", False)
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)      # as long as the session: forms may stay open
    app.config.setdefault("WTF_CSRF_SSL_STRICT", True)      # on https, the Referer must be this site too
    app.config.update(PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
                      SESSION_COOKIE_NAME="__Host-microcred" if https else "microcred_session",
                      SESSION_COOKIE_PATH="/")
    csrf.init_app(app)


def public(view: Callable) -> Callable:
    """Mark a view as reachable without signing in (the sign-in form)."""
    _PUBLIC.add(view.__name__)
    return view


def accepts_upload(max_bytes: int) -> Callable[[Callable], Callable]:
    """Let a view's POSTs carry a file of up to ``max_bytes`` (above the app-wide request limit).

    The limit is set before the form is read (the CSRF check reads it first)."""
    def mark(view: Callable) -> Callable:
        _UPLOAD_LIMITS[view.__name__] = max_bytes + UPLOAD_SLACK
        return view
    return mark


def admin_only(view: Callable) -> Callable:
    """403 for anyone but an ``admin`` account."""
    @wraps(view)
    def wrapper(*args, **kwargs):
        if g.staff is None or g.staff.role != "admin":
            abort(403, "Only administrators may do this.")
        return view(*args, **kwargs)
    return wrapper


def state() -> Any:
    """The app's :class:`issuer.web.app.WebState` (``state().use``: the services)."""
    return current_app.extensions["microcred"]


def actor() -> str:
    """Who acts, for the audit log: ``staff:<username>``."""
    return f"staff:{g.staff.username}"


def is_admin() -> bool:
    return g.get("staff") is not None and g.staff.role == "admin"


@bp.before_request
def _guard() -> Response | None:
    g.staff = None
    view = request.endpoint.rsplit(".", 1)[-1] if request.endpoint else ""
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        if view in _UPLOAD_LIMITS:
            request.max_content_length = _UPLOAD_LIMITS[view]
        if not same_site_request():
            abort(403, "This form was sent from another site; it was refused.")
        csrf.protect()          # raises CSRFError (400) without a valid token
    raw = session.get(SESSION_KEY)
    if isinstance(raw, dict):
        try:
            signed_in = SignedIn(**raw)
        except TypeError:
            signed_in = None
        user = state().use.access.check_session(signed_in) if signed_in is not None else None
        if user is not None:
            g.staff = signed_in
            g.staff_name = user.name or user.username
        if g.staff is None:
            session.clear()
    if g.staff is None and view not in _PUBLIC:
        if request.method in ("GET", "HEAD"):
            return redirect(url_for("admin.login", next=request.full_path.rstrip("?")))
        abort(401, "Sign in first.")
    return None


@bp.after_request
def _headers(response: Response) -> Response:
    return private_page_headers(response, ADMIN_CSP)


@bp.errorhandler(CSRFError)
def _csrf_error(exc: CSRFError) -> Response:
    return error_page(400, "Form refused", "This form has expired or was not sent from this site's page. "
                      "Go back, reload the page and try again.")


@bp.errorhandler(413)
def _too_large(exc: Exception) -> Response:
    limit = request.max_content_length or current_app.config.get("MAX_CONTENT_LENGTH") or 0
    return error_page(413, "Upload too large", f"What you sent is larger than this form accepts "
                      f"({limit // 1024} KiB). Badge images may be up to 512 KiB; split a large CSV file.")


@bp.app_template_global()
def admin_nav() -> list[tuple[str, str, bool]]:
    """(url, label, current) for each console page the signed-in account may open."""
    items = []
    for endpoint, label, admin in NAV:
        if endpoint in current_app.view_functions and (not admin or is_admin()):
            items.append((url_for(endpoint), label, request.endpoint == endpoint
                          or (request.endpoint or "").startswith(endpoint + "_")))
    return items


@bp.app_template_filter("sentence")
def sentence(message: object) -> str:
    """A service error ("the slug ... is taken") as a sentence for a page ("The slug ... is taken.")."""
    text = str(message).strip()
    if not text:
        return text
    text = text[0].upper() + text[1:]
    return text if text[-1] in ".!?" else text + "."
