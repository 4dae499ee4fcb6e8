"""The HR web console, ``/admin``: server-rendered pages for issuer staff.

:func:`register_admin` mounts it. Every module of this package adds its views to the one
blueprint of :mod:`issuer.web.admin.blueprint` and is imported here, so a new page is a new
module. The shared rules live in the blueprint module: sign-in required for every page but
the sign-in form, roles (``admin`` for keys and users), CSRF tokens on every POST plus a
same-origin check, no caching, and a page CSP that allows forms to post only to this site.
"""
from __future__ import annotations

import importlib
import pkgutil

from flask import Flask

from issuer.web.admin.blueprint import bp, install

# every page module, imported once with this package (before any app registers the blueprint)
PAGES = tuple(importlib.import_module(f"{__name__}.{module.name}")
              for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name)
              if module.name != "blueprint")


def register_admin(app: Flask) -> None:
    """Mount the console on ``app`` (CSRF protection, session settings, all admin pages)."""
    if "admin" in app.blueprints:
        return
    install(app)
    app.register_blueprint(bp)
