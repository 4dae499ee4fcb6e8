"""The issuer's web surface (Flask).

    from issuer.web import create_app
    app = create_app(settings)        # migrates the database; never in debug mode

Modules: :mod:`issuer.web.app` (the factory: configuration, secret key, security
headers, problem-JSON errors) and :mod:`issuer.web.public` (the public, read-only JSON
documents a verifier fetches: DID document, issuer profile, JWKS, status lists,
credentials, achievements).
"""
from issuer.web.app import create_app

__all__ = ["create_app"]
