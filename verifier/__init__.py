"""microcred verifier: the source of truth of what a valid credential is.

Public entry point::

    verifier.verify_credential(source, *, recipient=None, now=None, offline=False, documents=None)
        -> VerificationReport

This package never imports ``issuer``.

The public names are looked up in their modules when first used (:data:`EXPORTS`, PEP 562), not
when the package is imported: importing any ``verifier.*`` module runs this file, and a caller
that needs only, say, :mod:`verifier.errors` (the ``microcred`` command group's error handler)
or :mod:`verifier.multiformats` should not load every check, pyld and the schemas.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from verifier.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from verifier.report import VerificationReport
    from verifier.verify import verify_credential

#: public name -> the module that defines it
EXPORTS = {"verify_credential": "verifier.verify", "VerificationReport": "verifier.report"}

__all__ = ["verify_credential", "VerificationReport"]


__getattr__ = lazy_exports(__name__, EXPORTS, globals())
