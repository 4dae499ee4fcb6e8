"""Errors raised by the credential core, each with a stable reason code.

The verification report (and the CLI) turn these into plain-language lines; the
``code`` is what scripts and tests match on.
"""
from __future__ import annotations

from typing import Any


class CredentialError(Exception):
    """A credential, key or proof is unusable. ``code`` is a stable reason code."""

    code = "invalid_input"

    def __init__(self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        if code:
            self.code = code
        self.details = details or {}


class UnknownContextError(CredentialError):
    code = "unknown_context"


class DroppedTermError(CredentialError):
    """JSON-LD expansion would silently lose data (safe mode)."""

    code = "dropped_term"


class JsonLdProcessingError(CredentialError):
    code = "jsonld_error"


class CanonicalizationLimitError(CredentialError):
    """RDFC-1.0 exceeded its work or time budget (e.g. a poison graph)."""

    code = "canonicalization_limit"


class MalformedProofError(CredentialError):
    code = "malformed_proof"


class UnsupportedCryptosuiteError(CredentialError):
    code = "unsupported_cryptosuite"


class SignatureMismatchError(CredentialError):
    code = "signature_mismatch"


class KeyFormatError(CredentialError):
    code = "invalid_key"


class KeyTypeMismatchError(CredentialError):
    code = "key_type_mismatch"


class JwsError(CredentialError):
    code = "invalid_jws"
