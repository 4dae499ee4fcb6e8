"""``/``: the installation's home page, what someone who opens the bare address meets first.

It says whose installation this is (the issuer's name, description, website and contact, from
the issuer's public profile: :meth:`issuer.public_service.PublicService.issuer_profile`) and
where each of its three kinds of visitor goes: recruiters to the verifier (``/verify``),
employees to "My badges" (``/me/``), HR staff to the console sign-in (``/admin/``). The
technical addresses (issuer profile, DID document) are folded away under "Technical details".

Before ``microcred init`` the page says the installation is not set up yet (200, nothing else
of the site works then: a 503 would read as an outage); served at an address other than the
one its issuer was set up for, it says where the issuer is instead (never "run init").
Server-rendered, no script, public data only; the issuer's texts are escaped by Jinja.
"""
from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, render_template

from issuer.config import Settings
from issuer.errors import NotReady

bp = Blueprint("landing", __name__)


def _text(value: Any) -> str | None:
    return value.strip() if isinstance(value, str) and value.strip() else None


def _web_url(value: Any) -> str | None:
    text = _text(value)
    return text if text and text.startswith(("https://", "http://")) else None


def home_view(settings: Settings, profile: dict[str, Any] | None, elsewhere: str | None = None) -> dict[str, Any]:
    """What the home page shows, from the issuer's public profile (None: not set up yet; ``elsewhere``:
    the base URL the installation's issuer was set up for, when it is not this one)."""
    view: dict[str, Any] = {"did_document": settings.did_document_location, "profile_url": settings.url("/issuer"),
                            "ready": profile is not None, "elsewhere": _web_url(elsewhere)}
    if profile is None:
        return view | {"name": "microcred"}
    return view | {"name": _text(profile.get("name")) or "This issuer",
                   "description": _text(profile.get("description")), "website": _web_url(profile.get("url")),
                   "email": _text(profile.get("email")),
                   "did": _text(profile.get("id"))}


@bp.get("/")
def home() -> Response:
    settings = current_app.extensions["microcred"].settings
    elsewhere = None
    try:
        profile = current_app.extensions["microcred"].use.public.issuer_profile()
    except NotReady as exc:
        profile, elsewhere = None, exc.details.get("base_url")
    page = home_view(settings, profile, elsewhere)
    response = Response(render_template("landing.html", page=page), mimetype="text/html")
    response.headers["Cache-Control"] = "no-cache"
    return response
