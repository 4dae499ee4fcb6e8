"""microcred issuer: builds, signs, stores and serves Open Badges 3.0 credentials.

Public entry points::

    issuer.sign_credential(credential, key, *, verification_method, cryptosuite="eddsa-rdfc-2022", created=None)
    issuer.sign_jwt(credential, key, *, verification_method)

``key`` is a JWK dict with its private part, or a key loaded with
``issuer.keys.files.load_key`` / made with ``issuer.keys.files.generate_key``.

``sign_credential`` is looked up in :mod:`issuer.signing` when it is first used (:data:`EXPORTS`,
PEP 562), not when the package is imported: every ``issuer.*`` import runs this file, and
``microcred verify`` (``issuer.cli``) must not load the signing stack (the key files, jwcrypto).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from verifier.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from issuer.signing import sign_credential

#: public name -> the module that defines it
EXPORTS = {"sign_credential": "issuer.signing"}


__getattr__ = lazy_exports(__name__, EXPORTS, globals())


def sign_jwt(credential: dict, key, *, verification_method: str) -> str:
    """The credential as a compact VC-JWT (OB 3.0 section 8.2), ``kid`` = verification_method."""
    return __getattr__("sign_credential")(credential, key, verification_method=verification_method,
                                          cryptosuite="jwt")


__all__ = ["sign_credential", "sign_jwt"]
