"""microcred verifier: the source of truth of what a valid credential is.

Public entry point::

    verifier.verify_credential(source, *, recipient=None, now=None, offline=False, documents=None)
        -> VerificationReport

This package never imports ``issuer``.
"""
from typing import Any

__all__ = ["verify_credential", "VerificationReport"]


def __getattr__(name: str) -> Any:  # imported lazily: signing needs none of the network code
    if name == "verify_credential":
        from .verify import verify_credential
        return verify_credential
    if name == "VerificationReport":
        from .report import VerificationReport
        return VerificationReport
    raise AttributeError(name)
