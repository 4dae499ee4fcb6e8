"""From a verification method reference to a public key, and from a key to its issuer.

:func:`resolve_verification_method` turns a ``verificationMethod`` (or JWT ``kid``) into a
:class:`ResolvedMethod`: the key, the controller document that was read for it, and what that
document lists. :func:`check_issuer_binding` then decides whether the credential's issuer may
sign with it (research notes A 1-2, B 15-18, issue 11 section 2). :func:`resolve_jwt_key` does
both for a VC-JWT header. Parsing of key and controller documents lives in
:mod:`verifier.key_documents`.

The one rule: **the issuer's keys are the issuer's.** A key counts only if the issuer's own
document (its DID document, or for an https issuer the profile / controller document served at
the issuer id, whose ``id`` is exactly the issuer id) lists it for issuing. Being on the
issuer's website is not enough: anyone who can upload a file there could publish a key.

Verification method forms (resolution):

* ``did:key:z...#z...`` (the fragment must repeat the key; the key always comes from the DID),
  ``did:jwk:...#0`` (both local, no network), ``did:web:...#frag`` (the DID document is
  fetched, or taken from a local document keyed by the DID or its URL). In a DID document,
  methods are looked up in ``verificationMethod`` *and* embedded in the verification
  relationships; ``"#key-1"`` ids are relative to the document ``id``.
* ``https://...`` URLs (the fragment is stripped for the fetch). The response may be

  (a) a controller document or issuer Profile: it has ``verificationMethod``, ``publicKey``
      (OB 2.0) or a verification relationship; its ``id`` must be the fetched URL, and the
      method is looked up by the full URL (fragment included). The controller is that document.
  (b) a single key object (``Multikey``, ``JsonWebKey``, ``JsonWebKey2020``,
      ``Ed25519VerificationKey2020`` or OB 2.0 ``CryptographicKey`` with ``publicKeyPem``) whose
      ``id`` is the URL and which names its ``controller`` (OB 2.0: ``owner``); the controller
      document is fetched (or resolved, for a DID) and must have that ``id``; it is the
      controller. A key naming itself as controller has no document that lists it.
  (c) a JWK Set ``{"keys": [...]}``: the key whose ``kid`` equals the URL's fragment (or the
      whole URL, or, without a fragment, the ``kid`` query parameter). A JWK Set names no
      controller (``controller`` is ``None``).

Key types: ``Multikey`` and ``Ed25519VerificationKey2020`` (``publicKeyMultibase``),
``JsonWebKey`` / ``JsonWebKey2020`` (``publicKeyJwk``; private members refused), OB 2.0
``CryptographicKey`` (``publicKeyPem``). Anything else is ``unsupported_key``.

Document consistency (``did_document_mismatch``): the document ``id`` must be the DID / URL
fetched; every method a document *defines* must live inside it (a DID document: ids under the
DID; an https document: ids on the same origin); the method's ``controller`` must be the
document ``id``; one id defined twice with different keys or controllers is refused; a
controller (or issuer) document that also defines a standalone key's id must give the same key.

Issuer binding (:func:`check_issuer_binding`), in this order:

* DID issuer (unchanged): the method's controller must be the issuer DID (else
  ``key_not_controlled_by_issuer``) and the DID document must list the method under
  ``assertionMethod`` (else ``method_not_in_assertion_method``).
* https issuer (the id must be an http(s) URL, else ``key_not_controlled_by_issuer``):

  1. the method id must be an https URL (a DID-controlled key is ``key_not_controlled_by_issuer``)
     on the issuer's origin (else ``key_from_another_origin``);
  2. a method that has a controller must have the issuer id as controller (else
     ``key_not_controlled_by_issuer``: e.g. a key of another profile on the same host); its
     controller document, read while resolving, *is* the issuer's document;
  3. a key from a JWK Set has no controller, so the issuer's document is fetched now (this
     needs the ``fetcher``; without one the key is refused with ``key_not_listed_by_issuer``);
     if that document also defines the method's id, it must give the same key;
  4. the issuer's document must authorise the method id: list it under ``assertionMethod``
     (by id or embedded) or, OB 2.0 style, under ``publicKey``. If it names the method only
     elsewhere (``verificationMethod`` alone, ``authentication``, ...) that is
     ``method_not_in_assertion_method``; if it does not name it at all,
     ``key_not_listed_by_issuer``.

  **The pointer to a JWK Set** is the narrowest one: the issuer's document lists the exact
  method id the credential uses, i.e. the JWK Set URL plus ``#kid`` (or the ``?kid=`` URL),
  under ``assertionMethod`` or ``publicKey``, e.g. ``"assertionMethod":
  ["https://univ.example/.well-known/jwks.json#key-1"]``. Listing the bare JWK Set URL, an
  OAuth-style ``jwks_uri``, or a key with the same bytes under another id does not authorise
  the set's keys. Accepted real-world forms therefore are: OB 3.0 / controller-document
  profiles with ``assertionMethod`` (embedded ``Multikey`` / ``JsonWebKey`` or references to
  keys on the issuer's origin), OB 2.0 profiles with ``publicKey`` (embedded
  ``CryptographicKey`` or the URL of one whose ``owner`` is the issuer), and JWK Set keys
  referenced from the profile as above. A profile that lists no relationship at all is no
  longer enough, whatever its origin.

VC-JWT headers (:func:`resolve_jwt_key`): a ``kid`` (absolute, or ``"#frag"`` against the
issuer id) is resolved and bound as above; a ``jwk`` next to it must be the same key (else
``jwk_not_issuers``). A ``jwk`` alone counts only if a method the issuer's own document
*defines* (did:key / did:jwk, DID document, profile) has the same RFC 7638 thumbprint and
passes the binding (else ``jwk_not_issuers``); keys the profile only references are not
searched. ``jku``, ``x5u`` and ``x5c`` are never used (neither ``kid`` nor ``jwk``:
``key_not_found``); private members in ``jwk`` are ``private_key_in_header``.

Redirects: key, controller, issuer and DID documents are only accepted from the origin they
were requested from; a redirect to another origin (an open redirect on the issuer's site would
otherwise let anyone publish "its" keys) gives ``key_from_another_origin``.

Errors: :class:`KeyResolutionError` (``key_unresolvable``, ``key_not_found``,
``unsupported_key``, ``invalid_did``, ``unsupported_did_method``, ``did_document_mismatch``,
``invalid_verification_method``, ``private_key_in_header``, and ``key_from_another_origin``
for an off-origin redirect) and :class:`IssuerBindingError` (``key_not_controlled_by_issuer``,
``method_not_in_assertion_method``, ``key_from_another_origin``, ``key_not_listed_by_issuer``,
``jwk_not_issuers``). Network failures keep the :class:`~verifier.fetcher.FetchError` as
``__cause__``; ``details`` name the ``url`` and the ``fetch_error`` code.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any
from urllib.parse import parse_qs, urlsplit

from .did import KeyResolutionError, fetch_key_document, resolve_did, split_did_url
from .errors import CredentialError, KeyFormatError, KeyTypeMismatchError
from .fetcher import Fetcher
from .key_documents import (
    ResolvedMethod,
    authorised_ids,
    check_agrees,
    check_reference,
    controller_method,
    controller_of,
    defined_methods,
    is_controller_document,
    key_error,
    listed_ids,
    method_from_document,
    public_key_of_method,
    without_fragment,
)
from .keys import PRIVATE_JWK_MEMBERS, PublicKey, public_key_from_jwk
from .urls import origin

__all__ = [
    "ResolvedMethod",
    "KeyResolutionError",
    "IssuerBindingError",
    "resolve_verification_method",
    "check_issuer_binding",
    "resolve_jwt_key",
]

KEY_ACCEPT = ("application/did+json, application/ld+json;q=0.9, application/json;q=0.8, "
              "application/jwk-set+json;q=0.7, application/jwk+json;q=0.7")
MAX_KEY_DOCUMENT_BYTES = 256 * 1024


class IssuerBindingError(CredentialError):
    """The key is real, but the credential's issuer has not authorised it for issuing."""

    code = "key_not_controlled_by_issuer"


# --------------------------------------------------------------------------- #
# Documents
# --------------------------------------------------------------------------- #
def _fetch_document(url: str, fetcher: Fetcher, what: str) -> object:
    return fetch_key_document(fetcher, url, accept=KEY_ACCEPT, max_bytes=MAX_KEY_DOCUMENT_BYTES, what=what)


def _issuer_document(issuer_id: str, fetcher: Fetcher) -> dict[str, Any]:
    """The https issuer's own profile / controller document, fetched at its id."""
    check_reference(issuer_id, "issuer id")
    document = _fetch_document(without_fragment(issuer_id), fetcher, "issuer profile")
    if not isinstance(document, dict) or document.get("id") != issuer_id:
        raise key_error("did_document_mismatch", f"The issuer profile at {issuer_id[:200]} does not have that id.",
                        url=issuer_id)
    return document


# --------------------------------------------------------------------------- #
# https verification methods
# --------------------------------------------------------------------------- #
def _jwks_method(doc: dict[str, Any], vm_url: str, base: str) -> ResolvedMethod:
    fragment = vm_url.partition("#")[2] if "#" in vm_url else None
    query_kid = parse_qs(urlsplit(base).query).get("kid", [None])[0]
    wanted = {k for k in (fragment, vm_url, query_kid if fragment is None else None) if k}
    keys = [k for k in doc["keys"] if isinstance(k, dict)]
    matches = [k for k in keys if isinstance(k.get("kid"), str) and k["kid"] in wanted]
    if not matches:
        raise key_error("key_not_found", f"The JWK Set at {base} has no key with the kid {fragment or query_kid!r}.",
                        url=vm_url)
    if len(matches) > 1:
        raise key_error("did_document_mismatch", f"The JWK Set at {base} has several keys with that kid.", url=vm_url)
    if PRIVATE_JWK_MEMBERS & matches[0].keys():
        raise key_error("unsupported_key", f"The JWK Set at {base} publishes private key material.", url=vm_url)
    try:
        key = public_key_from_jwk(matches[0])
    except (KeyFormatError, KeyTypeMismatchError) as exc:
        raise key_error("unsupported_key", f"{vm_url}: the key is not usable: {exc}", url=vm_url) from exc
    return ResolvedMethod(vm_url, None, key, "https")


def _single_key_method(doc: dict[str, Any], vm_url: str, base: str, fetcher: Fetcher) -> ResolvedMethod:
    if doc.get("id") != vm_url:
        raise key_error("did_document_mismatch",
                        f"The key at {base} has the id {str(doc.get('id'))[:200]!r}, not {vm_url}.", url=vm_url)
    key = public_key_of_method(doc, vm_url)
    controller = controller_of(doc)
    if not isinstance(controller, str) or not controller:
        raise key_error("did_document_mismatch", f"The key {vm_url} does not name its controller.", url=vm_url)
    if controller.startswith("did:"):
        did, fragment = split_did_url(controller)
        if fragment is not None:
            raise key_error("did_document_mismatch", f"The controller of {vm_url} is not a DID: {controller}.",
                            url=vm_url)
        controller_doc = resolve_did(did, fetcher)
    else:
        check_reference(controller, "controller")
        if without_fragment(controller) == base:
            if controller != vm_url:
                raise key_error("did_document_mismatch", f"The controller document of {vm_url} does not have "
                                f"the id {controller}.", url=controller)
            return ResolvedMethod(vm_url, controller, key, "https")  # self-controlled: no document lists it
        fetched = _fetch_document(without_fragment(controller), fetcher, "controller document")
        if not isinstance(fetched, dict) or fetched.get("id") != controller:
            raise key_error("did_document_mismatch",
                            f"The controller document of {vm_url} does not have the id {controller}.", url=controller)
        controller_doc = fetched
    check_agrees(controller_doc, controller, vm_url, key)
    return controller_method(controller, controller_doc, vm_url, key, "https")


def _https_method(vm_url: str, fetcher: Fetcher) -> ResolvedMethod:
    base = without_fragment(vm_url)
    if "#" in vm_url and not vm_url.partition("#")[2]:
        raise key_error("invalid_verification_method", f"{vm_url} has an empty fragment.")
    doc = _fetch_document(base, fetcher, "key document")
    if not isinstance(doc, dict):
        raise key_error("key_not_found", f"The document at {base} is not a JSON object.", url=vm_url)
    if isinstance(doc.get("keys"), list) and "id" not in doc:
        return _jwks_method(doc, vm_url, base)
    if is_controller_document(doc):
        if doc.get("id") != base:
            raise key_error("did_document_mismatch",
                            f"The document at {base} has the id {str(doc.get('id'))[:200]!r}, not {base}.", url=vm_url)
        return method_from_document(doc, base, vm_url, "https")
    if any(p in doc for p in ("publicKeyMultibase", "publicKeyJwk", "publicKeyPem")):
        return _single_key_method(doc, vm_url, base, fetcher)
    raise key_error("key_not_found", f"The document at {base} is neither a key, a JWK Set nor a controller document.",
                    url=vm_url)


# --------------------------------------------------------------------------- #
# Public API
# --------------------------------------------------------------------------- #
def resolve_verification_method(vm_url: str, fetcher: Fetcher) -> ResolvedMethod:
    """Resolve an absolute verification method id (DID URL or https URL) to its key.

    A did:key or did:jwk method is its own document (nothing is fetched): resolved once and
    remembered (:func:`_self_describing_method`); errors are raised each time."""
    check_reference(vm_url, "verification method")
    if vm_url.startswith(("did:key:", "did:jwk:")):
        return _self_describing_method(vm_url)
    return _resolve(vm_url, fetcher)


@lru_cache(maxsize=1024)
def _self_describing_method(vm_url: str) -> ResolvedMethod:
    return _resolve(vm_url, _NO_FETCHER)


class _NoFetcher:
    """For DID methods whose document is the DID itself: any fetch is a bug, so it fails loudly."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"did:key and did:jwk resolve without fetching (asked for {name})")


_NO_FETCHER: Any = _NoFetcher()


def _resolve(vm_url: str, fetcher: Fetcher) -> ResolvedMethod:
    if vm_url.startswith("did:"):
        did, fragment = split_did_url(vm_url)
        if fragment is None:
            raise key_error("key_not_found", f"{vm_url} names a DID, not one of its verification methods "
                            "(a '#fragment' is missing).", url=vm_url)
        document = resolve_did(did, fetcher)
        source = "did:" + did.split(":", 2)[1]
        return method_from_document(document, did, vm_url, source)
    return _https_method(vm_url, fetcher)


def _binding_error(code: str, message: str, method: ResolvedMethod, issuer_id: str) -> IssuerBindingError:
    details = {"method": method.id, "issuer": issuer_id[:200], "controller": method.controller}
    return IssuerBindingError(message, code=code, details={k: v for k, v in details.items() if v is not None})


def _not_controlled(method: ResolvedMethod, issuer_id: str) -> IssuerBindingError:
    by = f"is controlled by {method.controller}" if method.controller else "names no controller"
    return _binding_error("key_not_controlled_by_issuer",
                          f"The key {method.id} {by}, not the issuer {issuer_id[:200]}.", method, issuer_id)


def _not_for_issuing(method: ResolvedMethod, issuer_id: str, where: str) -> IssuerBindingError:
    return _binding_error("method_not_in_assertion_method",
                          f"{issuer_id[:200]} does not list {method.id} under {where}, so it may not sign "
                          "credentials with it.", method, issuer_id)


def _issuer_lists(method: ResolvedMethod, issuer_id: str,
                  fetcher: Fetcher | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(authorised, listed) ids of the https issuer's own document, for ``method``."""
    if method.controller == issuer_id:
        return method.assertion_methods, method.listed_methods  # read while resolving the method
    if fetcher is None:
        raise _binding_error("key_not_listed_by_issuer",
                             f"The key {method.id} comes from a JWK Set, which names no owner; it counts only if "
                             f"the issuer's profile {issuer_id[:200]} lists it, and the profile was not consulted.",
                             method, issuer_id)
    document = _issuer_document(issuer_id, fetcher)
    check_agrees(document, issuer_id, method.id, method.public_key)
    return authorised_ids(document, issuer_id), listed_ids(document, issuer_id)


def check_issuer_binding(method: ResolvedMethod, issuer_id: str, fetcher: Fetcher | None = None) -> None:
    """Raise unless ``issuer_id`` may issue with ``method`` (the rules: module docstring).

    ``fetcher`` is needed only for a key from a JWK Set with an https issuer: the issuer's
    profile is then fetched to see whether it lists the key. Without it such a key is refused
    (``key_not_listed_by_issuer``). Raises :class:`IssuerBindingError`; fetching the profile can
    also raise :class:`KeyResolutionError` (``key_unresolvable``, ``did_document_mismatch``,
    ``key_from_another_origin``).
    """
    if not isinstance(issuer_id, str) or not issuer_id:
        raise _binding_error("key_not_controlled_by_issuer", "The credential names no issuer.", method, str(issuer_id))
    if issuer_id.startswith("did:"):
        if method.controller != issuer_id:
            raise _not_controlled(method, issuer_id)
        if method.id not in method.assertion_methods:
            raise _not_for_issuing(method, issuer_id, "assertionMethod")
        return
    issuer_origin = origin(issuer_id)
    if issuer_origin is None:
        raise _binding_error("key_not_controlled_by_issuer",
                             f"The issuer id {issuer_id[:200]!r} is neither a DID nor an https URL.", method, issuer_id)
    method_origin = origin(method.id)
    if method_origin is None:
        raise _not_controlled(method, issuer_id)
    if method_origin != issuer_origin:
        raise _binding_error("key_from_another_origin",
                             f"The key {method.id} is on {method_origin}, not on the issuer's origin "
                             f"{issuer_origin}.", method, issuer_id)
    if method.controller is not None and method.controller != issuer_id:
        raise _not_controlled(method, issuer_id)
    authorised, listed = _issuer_lists(method, issuer_id, fetcher)
    if method.id in authorised:
        return
    if method.id in listed:
        raise _not_for_issuing(method, issuer_id, "assertionMethod or publicKey")
    raise _binding_error("key_not_listed_by_issuer",
                         f"The key {method.id} is on the issuer's site, but the issuer's profile {issuer_id[:200]} "
                         "does not list it, so it is not the issuer's key.", method, issuer_id)


def _issuer_candidates(issuer_id: str, fetcher: Fetcher) -> list[ResolvedMethod]:
    """Every method the issuer's own document defines (for matching an embedded JWK)."""
    if issuer_id.startswith("did:"):
        did, fragment = split_did_url(issuer_id)
        if fragment is not None:
            raise key_error("invalid_did", f"The issuer id {issuer_id} has a fragment.")
        document = resolve_did(did, fetcher)
        source, doc_id = "did:" + did.split(":", 2)[1], did
    else:
        document = _issuer_document(issuer_id, fetcher)
        source, doc_id = "https", issuer_id
    methods = []
    seen = set()
    for method_id, _vm in defined_methods(document, doc_id):
        if method_id in seen:
            continue
        seen.add(method_id)
        try:
            methods.append(method_from_document(document, doc_id, method_id, source))
        except KeyResolutionError:
            continue  # an unusable other key does not matter here
    return methods


def resolve_jwt_key(header: dict[str, Any], issuer_id: str, fetcher: Fetcher) -> ResolvedMethod:
    """The issuer-bound key for a VC-JWT header (``kid`` or ``jwk``; ``jku``/``x5u`` are never fetched).

    ``kid`` must be absolute; ``"#key-1"`` is resolved against the issuer id. An embedded ``jwk``
    is accepted only if the issuer (did:key / did:jwk, or a method its DID document / profile
    defines) has a key with the same RFC 7638 thumbprint. The result has passed
    :func:`check_issuer_binding`.
    """
    if not isinstance(header, dict):
        raise key_error("invalid_verification_method", "The JWT header is not a JSON object.")
    kid, jwk = header.get("kid"), header.get("jwk")
    embedded: PublicKey | None = None
    if jwk is not None:
        if not isinstance(jwk, dict):
            raise key_error("unsupported_key", "The 'jwk' header member is not a JSON object.")
        if PRIVATE_JWK_MEMBERS & jwk.keys():
            raise key_error("private_key_in_header", "The 'jwk' header contains private key material.")
        try:
            embedded = public_key_from_jwk(jwk)
        except (KeyFormatError, KeyTypeMismatchError) as exc:
            raise key_error("unsupported_key", f"The 'jwk' header is not a usable public key: {exc}") from exc
    if kid is not None:
        if isinstance(kid, str) and kid.startswith("#") and isinstance(issuer_id, str) and issuer_id:
            kid = without_fragment(issuer_id) + kid
        check_reference(kid, "JWT 'kid'")
        method = resolve_verification_method(kid, fetcher)
        if embedded is not None and embedded.thumbprint() != method.public_key.thumbprint():
            raise _binding_error("jwk_not_issuers", "The 'jwk' header is not the key its 'kid' names.",
                                 method, str(issuer_id))
        check_issuer_binding(method, issuer_id, fetcher)
        return method
    if embedded is None:
        raise key_error("key_not_found", "The JWT header names no key ('kid' or 'jwk'); 'jku', 'x5u' and 'x5c' "
                        "are never used.")
    if not isinstance(issuer_id, str) or not issuer_id:
        raise IssuerBindingError("The credential names no issuer.", code="jwk_not_issuers")
    thumbprint = embedded.thumbprint()
    candidates = [m for m in _issuer_candidates(issuer_id, fetcher) if m.public_key.thumbprint() == thumbprint]
    first_error: IssuerBindingError | None = None
    for method in candidates:
        try:
            check_issuer_binding(method, issuer_id, fetcher)
            return method
        except IssuerBindingError as exc:
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    raise IssuerBindingError(f"The key in the JWT header is not one {issuer_id[:200]} publishes.",
                             code="jwk_not_issuers", details={"issuer": issuer_id[:200], "thumbprint": thumbprint})
