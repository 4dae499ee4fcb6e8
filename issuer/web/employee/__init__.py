"""The employees' own space, ``/me``: sign in by emailed link, "My badges", privacy choices.

:func:`register_employee` mounts it. Every module of this package adds its views to the one
blueprint of :mod:`issuer.web.employee.blueprint`, which holds the shared rules (sign-in
required except on the sign-in pages, CSRF and a same-site check on every POST, no caching, a
CSP that lets forms post to this site only). Other parts of the web layer that serve a signed-in
employee use :func:`~issuer.web.employee.blueprint.current_employee` and
:func:`~issuer.web.employee.blueprint.employee_required`.

=====================================  ==========================================================
``GET/POST /me/sign-in``               ask for a sign-in link (the same answer for any address)
``GET/POST /me/sign-in/<token>``       the link: a "Sign in" button that uses it (once)
``POST /me/sign-out``                  end the session
(``/oidc/start?for=employee``)         sign in with the company's identity provider, when set up
``GET /me/``                           My badges
``GET /me/data.json``                  everything held about them (the personal data export), a download
``POST /me/badges/<id>/name``          show or hide the name on that badge's public page
``POST /me/badges/<id>/profile``       list that badge on the profile or not
``POST /me/profile``                   publish (or update) the skill profile
``POST /me/profile/unpublish``         stop publishing it
=====================================  ==========================================================
"""
from __future__ import annotations

from flask import Flask

from issuer.web.employee import my_badges, sign_in  # noqa: F401  (their views join the blueprint)
from issuer.web.employee.blueprint import bp, current_employee, employee_required
from issuer.web.employee.sign_in import provider_sign_in
from issuer.web.oidc import EMPLOYEE_SIGN_IN

__all__ = ["bp", "current_employee", "employee_required", "register_employee"]


def register_employee(app: Flask) -> None:
    """Mount ``/me`` on ``app`` and take the employees' sign-ins of the identity provider, when one is set up
    (:data:`issuer.web.oidc.EMPLOYEE_SIGN_IN`; without a provider, :mod:`issuer.web.oidc` answers 404 anyway)."""
    if "me" not in app.blueprints:
        app.register_blueprint(bp)
    app.extensions[EMPLOYEE_SIGN_IN] = provider_sign_in
