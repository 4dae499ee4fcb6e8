"""Signing in by emailed link, and signing out.

Asking for a link always gives the same page, whether or not the address holds badges here
(:meth:`issuer.employees.service.EmployeeService.request_sign_in` decides quietly), and the email
leaves after the answer (``call_on_close``), so neither the words nor the time to answer tell who
works here. Requests are limited per address and per client (:func:`issuer.web.ratelimit.over_limit`,
counted before anything is looked up, so a refusal says nothing about the address either).
Opening the link only shows a "Sign in" button: mail scanners that fetch links do not use it up;
the button's POST does.

Where the company's identity provider is set up (:mod:`issuer.web.oidc`), the sign-in page also
offers "Sign in with <provider>", and :func:`provider_sign_in` is what :mod:`issuer.web.oidc`'s
callback hands the verified address to (registered by :func:`issuer.web.employee.register_employee`):
the same session as a link opens
(:meth:`~issuer.employees.service.EmployeeService.sign_in_verified`), or, for an address with no
badges here, the sign-in page saying so (see that method for why this is refused, not an empty session).
"""
from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, request, session, url_for

from issuer.employees.access import LINK_MINUTES
from issuer.employees.service import normalised_address
from issuer.errors import InvalidInput
from issuer.web.employee.blueprint import (
    bp,
    clear_session_cookie,
    current_employee,
    public,
    service,
    session_token,
    set_session_cookie,
)
from issuer.web.ratelimit import over_limit

RATE_PER_ADDRESS = "5/hour"        # links asked for one address (app.config ME_SIGN_IN_ADDRESS_LIMIT)
RATE_PER_CLIENT = "30/hour"        # links asked from one client address (app.config ME_SIGN_IN_CLIENT_LIMIT)


def _form(email: str = "", error: str | None = None, status: int = 200) -> tuple[str, int]:
    return render_template("me/sign_in.html", email=email, error=error, minutes=LINK_MINUTES), status


def _too_many(wait: int) -> tuple[str, int, dict[str, str]]:
    minutes = max(1, (wait + 59) // 60)
    html = render_template("me/sign_in.html", email="", minutes=LINK_MINUTES,
                           error=f"Too many sign-in links were asked for. Try again in {minutes} "
                                 f"minute{'s' if minutes != 1 else ''}.")
    return html, 429, {"Retry-After": str(wait)}


@bp.get("/sign-in")
@public
def sign_in_form() -> Response | tuple[str, int]:
    if current_employee() is not None:
        return redirect(url_for("me.my_badges"))
    return _form()


@bp.post("/sign-in")
@public
def sign_in_request() -> Response | tuple[str, int] | tuple[str, int, dict[str, str]]:
    email = request.form.get("email", "")[:400]
    try:
        address = normalised_address(email)
    except InvalidInput as exc:
        return _form(email, str(exc), 422)
    config = current_app.config
    for purpose, rate, key in (("me-sign-in-client", config.get("ME_SIGN_IN_CLIENT_LIMIT", RATE_PER_CLIENT),
                                request.remote_addr or "-"),
                               ("me-sign-in-address", config.get("ME_SIGN_IN_ADDRESS_LIMIT", RATE_PER_ADDRESS),
                                address)):
        wait = over_limit(purpose, rate, key)
        if wait is not None:
            return _too_many(wait)
    service().request_sign_in(address)
    response = Response(render_template("me/sign_in_sent.html", minutes=LINK_MINUTES), mimetype="text/html")
    response.call_on_close(service().deliver_mail)
    return response


@bp.get("/sign-in/<token>")
@public
def sign_in_link(token: str) -> tuple[str, int]:
    if not service().link_works(token):
        return render_template("me/link_invalid.html"), 410
    return render_template("me/link.html", token=token), 200


@bp.post("/sign-in/<token>")
@public
def sign_in_confirm(token: str) -> Response | tuple[str, int]:
    cookie = service().sign_in(token)
    if cookie is None:
        return render_template("me/link_invalid.html"), 410
    return _signed_in(cookie)


def _signed_in(cookie: str) -> Response:
    """Into My badges with the new session ``cookie``."""
    service().sign_out(session_token())           # a session this browser had before ends
    session.pop("csrf_token", None)               # a new CSRF token after signing in (the console's sign-in stays)
    response = redirect(url_for("me.my_badges"), 303)
    set_session_cookie(response, cookie)
    return response


def provider_sign_in(email: str) -> Response:
    """The identity provider has verified ``email`` (lower-cased): sign in, or say there are no badges for it."""
    cookie = service().sign_in_verified(email)
    if cookie is None:
        flash(f"You signed in as {email}, but no badges have been given to that address here. If your badges "
              "were sent to another address, ask for a sign-in link for that one below.", "bad")
        return redirect(url_for("me.sign_in_form"), 303)
    return _signed_in(cookie)


@bp.post("/sign-out")
@public                                           # an ended session can still clear its cookie
def sign_out() -> Response:
    service().sign_out(session_token())
    flash("You are signed out.", "ok")
    response = redirect(url_for("me.sign_in_form"), 303)
    clear_session_cookie(response)
    return response
