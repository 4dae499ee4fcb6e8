"""Signed verification of an Open Badges 2.0 assertion: a JWS by a key the issuer lists.

OB 2.0 §Verification, "Signed verification"
(https://www.imsglobal.org/sites/default/files/Badges/OBv2p0Final/index.html#SignedBadge), and
§CryptographicKey, §Profile (``publicKey``, ``revocationList``), §RevocationList:

1. KEY: the signing key is ``verification.creator`` (else the keys the issuer lists, at most
   :data:`MAX_KEYS`), a ``CryptographicKey`` document with ``publicKeyPem``, fetched from its id
   (or embedded in the fetched issuer Profile).
2. ISSUER_BINDING: the issuer Profile, fetched from its own id, lists the key under
   ``publicKey``, and the key names the issuer as its ``owner``.
3. PROOF: the compact JWS verifies with the key (:func:`verifier.jws.verify_compact_jws`:
   RS256, ES256 or EdDSA, bound to the key type; the PEM is read by
   :func:`verifier.key_documents.pem_public_key`).
4. STATUS: the assertion is not ``revoked`` and not on the issuer's ``revocationList``
   (by ``id``, or by the legacy ``uid``).
"""
from __future__ import annotations

from typing import Any

from ..accessors import as_list
from ..checks.base import passed, reported, skipped
from ..did import KeyResolutionError
from ..errors import CredentialError
from ..jws import verify_compact_jws
from ..key_documents import pem_public_key
from ..registry import CheckId, Status
from ..report import CheckResult
from .documents import KEY, REVOCATIONS, Documents
from .parse import Ob2Problem, ref_id, verification_of

MAX_KEYS = 4


def check_signing_keys(assertion: dict[str, Any], issuer: dict[str, Any],
                       documents: Documents) -> tuple[list[dict[str, Any]], list[CheckResult]]:
    """(1), (2): the usable keys, and the KEY and ISSUER_BINDING results (PROOF too when no key is usable)."""
    issuer_id = issuer.get("id")
    listed: dict[str, dict[str, Any] | None] = {}
    for entry in as_list(issuer.get("publicKey")):
        key_id = ref_id(entry)
        if key_id:
            listed[key_id] = entry if isinstance(entry, dict) else None
    creator = ref_id(verification_of(assertion).get("creator"))
    if creator is not None and creator not in listed:
        return [], _untrusted(reported(CheckId.ISSUER_BINDING, "key_not_controlled_by_issuer",
                                       f"the signing key {creator} is not listed in the publicKey of issuer "
                                       f"{issuer_id}",
                                       key=creator, issuer=issuer_id, listed=sorted(listed)))
    candidates = [creator] if creator is not None else list(listed)[:MAX_KEYS]
    if not candidates:
        return [], _untrusted(reported(CheckId.ISSUER_BINDING, "no_issuer_key",
                                       f"issuer {issuer_id} lists no publicKey", issuer=issuer_id))
    keys, not_owned, unusable = [], [], []
    for key_id in candidates:
        embedded = listed.get(key_id)
        if isinstance(embedded, dict) and isinstance(embedded.get("publicKeyPem"), str):
            key, owner_ok = embedded, embedded.get("owner") in (None, issuer_id)  # inside the fetched Profile
        else:
            try:
                key = documents.get(key_id, KEY)
            except Ob2Problem as problem:
                unusable.append(problem)
                continue
            if key.get("id") != key_id:
                not_owned.append(f"the key fetched from {key_id} says its id is {str(key.get('id'))[:200]!r}")
                continue
            owner_ok = key.get("owner") == issuer_id
        if owner_ok:
            keys.append(key)
        else:
            not_owned.append(f"key {key_id} names owner {str(key.get('owner'))[:200]!r}, not {issuer_id}")
    if keys:
        ids = [str(k.get("id")) for k in keys]
        return keys, [passed(CheckId.KEY, f"Found the issuer's key{'s' if len(ids) > 1 else ''}.",
                             keys=ids),
                      passed(CheckId.ISSUER_BINDING,
                             "The signing key is listed by the issuer and names the issuer as its owner.",
                             keys=ids, issuer=issuer_id)]
    pending = [p for p in unusable if p.result().status == Status.INDETERMINATE]
    if pending or (unusable and not not_owned):
        return [], [(pending or unusable)[0].result(), skipped(CheckId.ISSUER_BINDING, "not_reached"),
                    skipped(CheckId.PROOF, "not_reached")]
    return [], _untrusted(reported(CheckId.ISSUER_BINDING, "key_not_controlled_by_issuer",
                                   "no key the issuer lists is owned by the issuer: " + "; ".join(not_owned),
                                   issuer=issuer_id), key_found=True)


def _untrusted(binding: CheckResult, *, key_found: bool = False) -> list[CheckResult]:
    key = passed(CheckId.KEY, "Retrieved the keys the issuer lists.") if key_found else \
        skipped(CheckId.KEY, "no_trusted_key")
    return [key, binding, skipped(CheckId.PROOF, "no_trusted_key",
                                  "The signature was not checked: no key the issuer controls is available.")]


def check_signature(token: str, keys: list[dict[str, Any]]) -> CheckResult:
    """(3) PROOF: the JWS verifies with one of the issuer's keys."""
    failures: list[tuple[str, str]] = []
    for key in keys:
        try:
            jwk = pem_public_key(key.get("publicKeyPem"), str(key.get("id"))).to_jwk()
        except (KeyResolutionError, CredentialError) as exc:
            failures.append(("invalid_key", f"key {key.get('id')}: {exc}"))
            continue
        try:
            header, _payload = verify_compact_jws(token, jwk)
        except CredentialError as exc:
            failures.append((exc.code, f"key {key.get('id')}: {exc}"))
            continue
        return passed(CheckId.PROOF, "The signature matches, made with the issuer's key.",
                      key=key.get("id"), alg=header["alg"])
    reason = next((code for code, _ in failures if code != "invalid_key"), failures[0][0])
    return reported(CheckId.PROOF, reason, "; ".join(text for _, text in failures), keys=[k.get("id") for k in keys])


def check_revocation(assertion: dict[str, Any], issuer: dict[str, Any], documents: Documents) -> CheckResult:
    """(4) STATUS: not revoked in the assertion, nor on the issuer's revocation list."""
    if assertion.get("revoked") is True:
        return reported(CheckId.STATUS, "revoked", "the assertion itself says it is revoked")
    list_url = ref_id(issuer.get("revocationList"))
    if list_url is None:
        return passed(CheckId.STATUS, "The issuer publishes no list of revoked badges.")
    try:
        revocations = documents.get(list_url, REVOCATIONS)
    except Ob2Problem as problem:
        return problem.result()
    entries = revocations.get("revokedAssertions", [])
    if not isinstance(entries, list):
        return reported(CheckId.STATUS, "status_list_invalid", f"the list at {list_url} has no revokedAssertions array",
                        url=list_url)
    assertion_id, uid = assertion.get("id"), assertion.get("uid")
    for entry in entries:
        hit = entry == assertion_id if isinstance(entry, str) else isinstance(entry, dict) and (
            (entry.get("id") is not None and entry.get("id") == assertion_id)
            or (uid is not None and entry.get("uid") == uid))
        if hit:
            why = entry.get("revocationReason") if isinstance(entry, dict) else None
            return reported(CheckId.STATUS, "revoked",
                            "the issuer has revoked this badge" + (f": {why}" if why else ""),
                            url=list_url, revocationReason=why)
    return passed(CheckId.STATUS, "Not on the issuer's list of revoked badges.", url=list_url)
