"""Sign a credential: Data Integrity proof (eddsa-rdfc-2022, eddsa-jcs-2022) or VC-JWT.

Signing reuses the verifier's canonicalization and proof code. Key pairs are
checked for consistency when they are loaded (issuer.keys.files), and issuer storage
verifies every credential in full with the verifier before keeping it.
"""
from __future__ import annotations

from datetime import UTC, datetime

from issuer.keys.files import coerce_key
from issuer.portable_numbers import check_portable_numbers, number_problem
from issuer.vc_jwt import sign_vc_jwt
from verifier.errors import CredentialError
from verifier.jsonld import JsonLdEngine
from verifier.limits import copy_within_structure
from verifier.proofs import eddsa_jcs_2022, eddsa_rdfc_2022
from verifier.proofs.data_integrity import is_datetime_stamp

CRYPTOSUITES = {
    eddsa_rdfc_2022.NAME: eddsa_rdfc_2022,
    eddsa_jcs_2022.NAME: eddsa_jcs_2022,
}
JWT = "jwt"
SUPPORTED = (*CRYPTOSUITES, JWT)


def now_timestamp() -> str:
    """The current UTC time as an XML dateTimeStamp in whole seconds."""
    return datetime.now(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _checked_copy(credential: object, verification_method: object) -> dict:
    """A copy of ``credential`` to sign (the input is never changed), once it is fit to sign."""
    if not isinstance(credential, dict):
        raise CredentialError("a credential must be a JSON object", code="invalid_credential")
    # one pass: the structural limits, the numbers' portability and the copy
    document, odd_number = copy_within_structure(credential, number_problem=number_problem)
    if odd_number:
        check_portable_numbers(credential)  # names the number and where it is
    if "@context" not in credential:
        raise CredentialError("the credential has no @context", code="invalid_credential")
    if not isinstance(verification_method, str) or ":" not in verification_method:
        raise CredentialError("the verification method must be an absolute URL or DID URL",
                              code="invalid_verification_method")
    return document


def sign_credential(credential: dict, key, *, verification_method: str,
                    cryptosuite: str = eddsa_rdfc_2022.NAME, created: str | None = None,
                    engine: JsonLdEngine | None = None) -> dict | str:
    """A signed copy of ``credential`` (the input is never changed).

    ``key`` is a JWK dict with its private part or an :class:`issuer.keys.files.KeyPair`.
    ``cryptosuite`` is ``eddsa-rdfc-2022`` (default), ``eddsa-jcs-2022`` or ``jwt``;
    with ``jwt`` the result is the compact VC-JWT string (OB 3.0 section 8.2) whose
    ``kid`` is ``verification_method``. A credential that already has proofs gets one
    more (a proof set). Raises :class:`verifier.errors.CredentialError` subclasses
    with a clear message for bad input.
    """
    document = _checked_copy(credential, verification_method)
    pair = coerce_key(key)
    if cryptosuite == JWT:
        return sign_vc_jwt(credential, pair, kid=verification_method)
    suite = CRYPTOSUITES.get(cryptosuite)
    if suite is None:
        raise CredentialError(f"unknown cryptosuite {cryptosuite!r}; use one of {', '.join(SUPPORTED)}",
                              code="unsupported_cryptosuite")
    created = created or now_timestamp()
    if not is_datetime_stamp(created):
        raise CredentialError(f"created {created!r} is not a date-time with a time zone, "
                              "e.g. 2026-01-31T09:00:00Z", code="invalid_created")

    existing = document.pop("proof", None)
    options = {"created": created, "verificationMethod": verification_method,
               "proofPurpose": "assertionMethod"}
    proof = suite.create_proof(document, options, pair, engine)
    if existing is None:
        document["proof"] = proof
    else:
        document["proof"] = [*(existing if isinstance(existing, list) else [existing]), proof]
    return document

