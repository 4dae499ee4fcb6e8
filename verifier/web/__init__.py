"""The recruiter's verifier web app: a form, a plain-language result page and a JSON API.

``create_app(config)`` builds it as an app of its own (``microcred verifier serve``);
``verifier_blueprint(config, url_prefix="/verify")`` mounts the same pages in another app.
Like the rest of :mod:`verifier`, it never imports ``issuer``.
"""
from .app import create_app, verifier_blueprint
from .state import DEFAULTS

__all__ = ["DEFAULTS", "create_app", "verifier_blueprint"]
