"""The issuer's identity: which issuer this installation is, and its public documents (DID document, Profile, JWKS).

:func:`load_issuer` answers "which issuer is this installation?" (the one whose DID the base URL
gives) — the one place it is written; :class:`issuer.runtime.Runtime` and the services use it.

Pure functions of the database rows, and one reader: :func:`published_documents`, the map of
every document the issuer publishes for verifiers (its DID document and its signed status
lists, by URL) — what the badge pages, the VC-API and the self-check of signed credentials
verify against, offline, so they conclude what any verifier fetching them would.

The current key and every retired one are listed under ``verificationMethod`` and
``assertionMethod``, so old credentials keep verifying after a rotation (a retired key's
private file is destroyed, so it signs nothing new). A withdrawn (compromised) key is left
out of every document, so nothing signed with it verifies any more. Only public key material
appears here.
"""
from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.awards.status_lists import list_url
from issuer.config import Settings
from issuer.db.models import Issuer, IssuerKey, StatusList
from issuer.errors import NotReady
from issuer.keys.keyring import all_keys
from verifier.did import did_web_url


def find_issuer(session: Session, settings: Settings) -> Issuer | None:
    """This installation's issuer (by the base URL's DID), or None before ``microcred init``."""
    return session.scalars(select(Issuer).where(Issuer.did == settings.did)).one_or_none()


def load_issuer(session: Session, settings: Settings) -> Issuer:
    """This installation's issuer; :class:`~issuer.errors.NotReady` before ``microcred init``."""
    issuer = find_issuer(session, settings)
    if issuer is None:
        others = session.scalars(select(Issuer.base_url).order_by(Issuer.created_at)).all()
        if others:     # init would make a second issuer: the address is most likely what is wrong
            raise NotReady(f"no issuer is set up for {settings.base_url}: this installation's issuer is at "
                           f"{' and '.join(others)}. Use that address (MICROCRED_BASE_URL={others[0]}, or "
                           f"leave MICROCRED_BASE_URL unset to use the one the instance folder remembers)",
                           code="other_base_url", details={"base_url": others[0]})
        raise NotReady(f"no issuer is set up for {settings.base_url}; run 'microcred init'", code="not_initialized")
    return issuer


DID_CONTEXTS = ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1",
                "https://w3id.org/security/suites/jws-2020/v1"]
OB_CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]


def _method(issuer: Issuer, key: IssuerKey) -> dict[str, Any]:
    vm = {"id": f"{issuer.did}#{key.key_id}", "controller": issuer.did}
    if key.key_type == "Ed25519":
        return {**vm, "type": "Multikey", "publicKeyMultibase": key.public_multibase}
    return {**vm, "type": "JsonWebKey2020", "publicKeyJwk": {k: v for k, v in key.public_jwk.items() if k != "d"}}


PUBLISHED_STATES = ("current", "retired")


def published(keys: list[IssuerKey]) -> list[IssuerKey]:
    """The keys that may verify: current and retired, never withdrawn."""
    return [key for key in keys if key.state in PUBLISHED_STATES]


def did_document(issuer: Issuer, keys: list[IssuerKey]) -> dict[str, Any]:
    methods = [_method(issuer, key) for key in published(keys)]
    contexts = DID_CONTEXTS if any(m["type"] == "JsonWebKey2020" for m in methods) else DID_CONTEXTS[:2]
    return {
        "@context": contexts,
        "id": issuer.did,
        "verificationMethod": methods,
        "assertionMethod": [m["id"] for m in methods],
    }


def profile(issuer: Issuer, settings: Settings) -> dict[str, Any]:
    """The OB 3.0 issuer Profile (also embedded in every credential, minus @context)."""
    document: dict[str, Any] = {"id": issuer.did, "type": ["Profile"], "name": issuer.name}
    for field_name in ("url", "email", "description"):
        value = getattr(issuer, field_name)
        if value:
            document[field_name] = value
    if issuer.image:
        document["image"] = {"id": issuer.image, "type": "Image"}
    return document


def profile_document(issuer: Issuer, settings: Settings) -> dict[str, Any]:
    return {"@context": OB_CONTEXTS, **profile(issuer, settings)}


def jwks(issuer: Issuer, keys: list[IssuerKey]) -> dict[str, Any]:
    return {"keys": [{**{k: v for k, v in key.public_jwk.items() if k != "d"}, "kid": f"{issuer.did}#{key.key_id}"}
                     for key in published(keys)]}


def did_document_url(issuer: Issuer) -> str:
    return did_web_url(issuer.did)


def published_documents(session: Session, settings: Settings, issuer: Issuer) -> dict[str, bytes]:
    """URL -> the JSON bytes a verifier fetches for everything the issuer publishes: the DID
    document (published keys only) and every signed status list, as served now (the lists
    exactly as stored: nothing is parsed to be encoded again)."""
    documents = {did_document_url(issuer): json.dumps(did_document(issuer, all_keys(session, issuer))).encode()}
    for status_list in session.scalars(select(StatusList).where(StatusList.issuer_id == issuer.id)):
        if status_list.credential is not None:
            documents[list_url(settings, status_list)] = status_list.credential.encode()
    return documents
