"""microcred verifier: the source of truth of what a valid credential is.

Public entry point::

    verifier.verify_credential(source, *, recipient=None, now=None, offline=False, documents=None)
        -> VerificationReport

This package never imports ``issuer``.
"""
from verifier.report import VerificationReport
from verifier.verify import verify_credential

__all__ = ["verify_credential", "VerificationReport"]
