"""The issuer's errors: one tree, each class carrying its HTTP status and its CLI exit code.

Every error the issuer raises on purpose is an :class:`IssuerError`. The web layer has one
handler for the tree (:func:`issuer.web.http.problem_for`: RFC 9457 problem JSON, or a
small page for a browser) and the CLI one (:class:`issuer.cli.shell.CleanErrorsGroup`:
one ``error:`` line and the class's exit code). Views and commands do not pick statuses
or exit codes by matching code strings: the class says it.

::

    IssuerError                 500  exit 1   something went wrong inside the issuer
    ├── InvalidInput            422  exit 2   a request or command breaks a rule (``field`` names the input)
    ├── NotFound                404  exit 2   no such achievement, award, key, user, token or job
    ├── Conflict                409  exit 1   it exists already, or it changed meanwhile (a retry may work)
    ├── NotAllowed              403  exit 2   the caller may not do this, or not in the record's state
    ├── NotReady                503  exit 1   the installation is not set up (no issuer, no key) or busy
    ├── ConfigError             500  exit 78  the configuration is wrong (EX_CONFIG): fix it and restart
    ├── SigningFailed           500  exit 1   a credential did not sign or did not verify; nothing was stored
    └── MailError               502  exit 75  the mail server failed (EX_TEMPFAIL): what was issued is
                                              stored and its email stays queued; not a usage error

``code`` is a stable machine-readable reason (``unknown_achievement``, ``duplicate``, ...),
sent in API problems as ``code``; ``details`` carries extra JSON-safe facts (a report).
Errors of the verifier (:mod:`verifier.errors`) stay the verifier's: a shell that verifies
something a user gave it reports them as invalid input.
"""
from __future__ import annotations

from typing import Any, ClassVar


class IssuerError(Exception):
    """The root: ``str(error)`` is a plain sentence for the person who asked."""

    http_status: ClassVar[int] = 500
    exit_code: ClassVar[int] = 1
    default_code: ClassVar[str] = "issuer_error"

    def __init__(self, message: str, *, code: str | None = None, field: str | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.default_code
        self.field = field
        self.details = details or {}


class InvalidInput(IssuerError):
    http_status = 422
    exit_code = 2
    default_code = "invalid_input"


class NotFound(IssuerError):
    http_status = 404
    exit_code = 2
    default_code = "not_found"


class Conflict(IssuerError):
    http_status = 409
    exit_code = 1
    default_code = "conflict"


class NotAllowed(IssuerError):
    http_status = 403
    exit_code = 2
    default_code = "not_allowed"


class NotReady(IssuerError):
    http_status = 503
    exit_code = 1
    default_code = "not_ready"


class ConfigError(IssuerError):
    http_status = 500
    exit_code = 78
    default_code = "config_error"


class SigningFailed(IssuerError):
    http_status = 500
    exit_code = 1
    default_code = "signing_failed"


class MailError(IssuerError):
    http_status = 502
    exit_code = 75
    default_code = "mail_failed"
