"""The issuer's public identity documents: DID document, Profile, JWKS.

Pure functions of the database rows. The current key and every retired one are
listed under ``verificationMethod`` and ``assertionMethod``, so old credentials keep
verifying after a rotation (a retired key's private file is destroyed, so it signs
nothing new). A withdrawn (compromised) key is left out of every document, so nothing
signed with it verifies any more. Only public key material appears here.
"""
from __future__ import annotations

from issuer.config import Settings
from issuer.db.models import Issuer, IssuerKey
from verifier.did import did_web_url

DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1",
                "https://w3id.org/security/suites/jws-2020/v1"]
OB_CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]


def _method(issuer: Issuer, key: IssuerKey) -> dict:
    vm = {"id": f"{issuer.did}#{key.key_id}", "controller": issuer.did}
    if key.key_type == "Ed25519":
        return {**vm, "type": "Multikey", "publicKeyMultibase": key.public_multibase}
    return {**vm, "type": "JsonWebKey2020", "publicKeyJwk": {k: v for k, v in key.public_jwk.items() if k != "d"}}


PUBLISHED_STATES = ("current", "retired")


def published(keys: list[IssuerKey]) -> list[IssuerKey]:
    """The keys that may verify: current and retired, never withdrawn."""
    return [key for key in keys if key.state in PUBLISHED_STATES]


def did_document(issuer: Issuer, keys: list[IssuerKey]) -> dict:
    methods = [_method(issuer, key) for key in published(keys)]
    contexts = DID_CONTEXTS if any(m["type"] == "JsonWebKey2020" for m in methods) else DID_CONTEXTS[:2]
    return {
        "@context": contexts,
        "id": issuer.did,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }


def profile(issuer: Issuer, settings: Settings) -> dict:
    """The OB 3.0 issuer Profile (also embedded in every credential, minus @context)."""
    document = {"id": issuer.did, "type": ["Profile"], "name": issuer.name}
    for field_name in ("url", "email", "description"):
        value = getattr(issuer, field_name)
        if value:
            document[field_name] = value
    if issuer.image:
        document["image"] = {"id": issuer.image, "type": "Image"}
    return document


def profile_document(issuer: Issuer, settings: Settings) -> dict:
    return {"@context": OB_CONTEXTS, **profile(issuer, settings)}


def jwks(issuer: Issuer, keys: list[IssuerKey]) -> dict:
    return {"keys": [{**{k: v for k, v in key.public_jwk.items() if k != "d"}, "kid": f"{issuer.did}#{key.key_id}"}
                     for key in published(keys)]}


def did_document_url(issuer: Issuer) -> str:
    return did_web_url(issuer.did)
