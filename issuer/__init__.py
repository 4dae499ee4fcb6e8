"""microcred issuer: builds, signs, stores and serves Open Badges 3.0 credentials.

Public entry points::

    issuer.sign_credential(credential, key, *, verification_method, cryptosuite="eddsa-rdfc-2022", created=None)
    issuer.sign_jwt(credential, key, *, verification_method)

``key`` is a JWK dict with its private part, or a key loaded with
``issuer.keys.files.load_key`` / made with ``issuer.keys.files.generate_key``.
"""
from issuer.signing import sign_credential


def sign_jwt(credential: dict, key, *, verification_method: str) -> str:
    """The credential as a compact VC-JWT (OB 3.0 section 8.2), ``kid`` = verification_method."""
    return sign_credential(credential, key, verification_method=verification_method, cryptosuite="jwt")


__all__ = ["sign_credential", "sign_jwt"]
