"""From a verification method reference to a public key, and from a key to its issuer.

:func:`resolve_verification_method` turns a ``verificationMethod`` (or JWT ``kid``) into a
:class:`ResolvedMethod`: the key, who controls it, and which methods that controller lists under
``assertionMethod``. :func:`check_issuer_binding` then decides whether the credential's issuer
may sign with it (research notes A 1-2 and B 15-18). :func:`resolve_jwt_key` does both for a
VC-JWT header.

Verification method forms:

* ``did:key:z...#z...`` (the fragment must repeat the key; the key always comes from the DID),
  ``did:jwk:...#0`` (both local, no network), ``did:web:...#frag`` (the DID document is fetched).
  In a DID document, methods are looked up in ``verificationMethod`` *and* embedded in the
  verification relationships (``assertionMethod``, ``authentication``, ...); ``"#key-1"`` ids are
  relative to the document ``id``.
* ``https://...`` URLs (the fragment is stripped for the fetch). The response may be

  (a) a controller document / (d) an OB issuer Profile: it has ``verificationMethod``, a
      verification relationship, or (OB 2.0 style) ``publicKey``; its ``id`` must be the
      fetched URL, and the method is looked up by the full URL (fragment included);
  (b) a single key object (``Multikey``, ``JsonWebKey``, ``JsonWebKey2020``,
      ``Ed25519VerificationKey2020`` or OB 2.0 ``CryptographicKey`` with ``publicKeyPem``) whose
      ``id`` is the URL and which names its ``controller`` (OB 2.0: ``owner``); the controller
      document is then fetched (or resolved, for a DID) to learn its ``assertionMethod`` list;
  (c) a JWK Set ``{"keys": [...]}``: the key whose ``kid`` equals the URL's fragment (or the whole
      URL, or, without a fragment, the ``kid`` query parameter). A JWK Set says nothing about
      its controller, so **the controller is the origin of the JWK Set URL**
      (``https://host[:port]``) and ``assertion_methods`` is unknown.

Key types: ``Multikey`` and ``Ed25519VerificationKey2020`` (``publicKeyMultibase``),
``JsonWebKey`` / ``JsonWebKey2020`` (``publicKeyJwk``; private members refused), OB 2.0
``CryptographicKey`` (``publicKeyPem``). Anything else is ``unsupported_key``.

Document consistency (``did_document_mismatch``): the document ``id`` must be the DID / URL
fetched; every method a document *defines* must live inside it (a DID document: ids under the
DID; an https document: ids on the same origin); the method's ``controller`` must be the
document ``id``; one id defined twice with different keys or controllers is refused.

Issuer binding (:func:`check_issuer_binding`):

* DID issuer: ``method.controller == issuer`` (else ``key_not_controlled_by_issuer``) and
  ``method.id`` in ``method.assertion_methods`` (else ``method_not_in_assertion_method``).
* https issuer: the method id must be on the issuer's origin (else ``key_from_another_origin``);
  the controller must be the issuer id, or, for a key from a JWK Set, the issuer's origin
  (else ``key_not_controlled_by_issuer``); and when the controller document declares
  verification relationships, the method must be under ``assertionMethod`` (else
  ``method_not_in_assertion_method``). **A profile that declares no verification
  relationship at all** (typical OB 2.0 ``publicKey`` profiles and JWK Sets) is accepted on
  same origin + controller alone: that is the OB 2.0 validator's key-ownership rule.

Redirects: key, controller and DID documents are only accepted from the origin they were
requested from; a redirect to another origin (an open redirect on the issuer's site would
otherwise let anyone publish "its" keys) gives ``key_from_another_origin``.

Errors: :class:`KeyResolutionError` (``key_unresolvable``, ``key_not_found``,
``unsupported_key``, ``invalid_did``, ``unsupported_did_method``, ``did_document_mismatch``,
``invalid_verification_method``, ``private_key_in_header``, and ``key_from_another_origin``
for an off-origin redirect) and :class:`IssuerBindingError`
(``key_not_controlled_by_issuer``, ``method_not_in_assertion_method``,
``key_from_another_origin``, ``jwk_not_issuers``). Network failures keep the
:class:`~verifier.fetcher.FetchError` as ``__cause__``; ``details`` name the ``url`` and the
``fetch_error`` code.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .did import KeyResolutionError, fetch_key_document, resolve_did, split_did_url
from .errors import CredentialError, KeyFormatError, KeyTypeMismatchError
from .fetcher import Fetcher
from .keys import ED25519, P256, PRIVATE_JWK_MEMBERS, RSA, PublicKey, public_key_from_jwk, public_key_from_multibase

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
MAX_REFERENCE_LENGTH = 2048
RELATIONSHIPS = ("assertionMethod", "authentication", "keyAgreement", "capabilityInvocation",
                 "capabilityDelegation")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


class IssuerBindingError(CredentialError):
    """The key is real, but the credential's issuer has not authorised it for issuing."""

    code = "key_not_controlled_by_issuer"


@dataclass(frozen=True)
class ResolvedMethod:
    """A resolved verification method.

    ``assertion_methods``: absolute ids the controller lists under ``assertionMethod`` (``()``
    if unknown). ``assertion_method_declared``: the controller document declares verification
    relationships, so ``assertion_methods`` is authoritative even when empty (always true for
    DID documents).
    """

    id: str
    controller: str
    public_key: PublicKey
    source: str  # "did:key" | "did:jwk" | "did:web" | "https"
    assertion_methods: tuple[str, ...] = ()
    assertion_method_declared: bool = False


# --------------------------------------------------------------------------- #
# Helpers
# --------------------------------------------------------------------------- #
def _error(code: str, message: str, **details) -> KeyResolutionError:
    return KeyResolutionError(message, code=code, details={k: v for k, v in details.items() if v is not None})


def _origin(url: str) -> str | None:
    """``scheme://host[:port]`` of an http(s) URL (default ports omitted), else None."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except (ValueError, TypeError):
        return None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not parts.hostname or "@" in parts.netloc:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == (443 if scheme == "https" else 80):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _base(url: str) -> str:
    return url.split("#", 1)[0]


def _absolute(ref: object, doc_id: str) -> str | None:
    """Resolve a method reference found in a document; None if it is not usable."""
    if not isinstance(ref, str) or not ref or len(ref) > MAX_REFERENCE_LENGTH:
        return None
    if ref.startswith("#"):
        return _base(doc_id) + ref
    if _SCHEME.match(ref):
        return ref
    return None


def _inside(method_id: str, doc_id: str) -> bool:
    if doc_id.startswith("did:"):
        return _base(method_id) == doc_id
    return _origin(method_id) is not None and _origin(method_id) == _origin(doc_id)


def _as_list(value: object) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _defined_methods(doc: dict, doc_id: str) -> list[tuple[str, dict]]:
    """Every method object the document defines, with its absolute id."""
    found: list[tuple[str, dict]] = []
    for prop in ("verificationMethod", "publicKey", *RELATIONSHIPS):
        for entry in _as_list(doc.get(prop)):
            if not isinstance(entry, dict):
                continue
            method_id = _absolute(entry.get("id"), doc_id)
            if method_id is None or not _inside(method_id, doc_id):
                raise _error("did_document_mismatch",
                             f"The document {doc_id} defines a verification method with the id "
                             f"{str(entry.get('id'))[:200]!r}, which is not inside the document.",
                             url=doc_id)
            found.append((method_id, entry))
    return found


def _declares_relationships(doc: dict) -> bool:
    return any(prop in doc for prop in RELATIONSHIPS)


def _assertion_list(doc: dict, doc_id: str) -> tuple[str, ...]:
    listed = []
    for entry in _as_list(doc.get("assertionMethod")):
        ref = entry.get("id") if isinstance(entry, dict) else entry
        method_id = _absolute(ref, doc_id)
        if method_id is not None and method_id not in listed:
            listed.append(method_id)
    return tuple(listed)


def _types(vm: dict) -> set[str]:
    return {t for t in _as_list(vm.get("type")) if isinstance(t, str)}


def _pem_key(pem: object, where: str) -> PublicKey:
    if not isinstance(pem, str) or len(pem) > 16384:
        raise _error("unsupported_key", f"{where}: publicKeyPem is not a PEM string.", method=where)
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError, TypeError) as exc:
        raise _error("unsupported_key", f"{where}: publicKeyPem is not a public key.", method=where) from exc
    if isinstance(key, ed25519.Ed25519PublicKey):
        return PublicKey(ED25519, key)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return PublicKey(P256, key)
    if isinstance(key, rsa.RSAPublicKey):
        return PublicKey(RSA, key)
    raise _error("unsupported_key", f"{where}: the PEM key type is not supported.", method=where)


def public_key_of_method(vm: dict, where: str) -> PublicKey:
    """The public key of a verification method object (see the module docstring for types)."""
    types = _types(vm)
    material = [p for p in ("publicKeyMultibase", "publicKeyJwk", "publicKeyPem", "publicKeyBase58") if p in vm]
    try:
        if len(material) != 1:
            raise _error("unsupported_key", f"{where} must carry exactly one public key property, "
                         f"not {material or 'none'}.", method=where)
        if types & {"Multikey", "Ed25519VerificationKey2020"} and material == ["publicKeyMultibase"] \
                and not types & {"JsonWebKey", "JsonWebKey2020", "CryptographicKey"}:
            key = public_key_from_multibase(vm["publicKeyMultibase"])
            if "Ed25519VerificationKey2020" in types and key.key_type != ED25519:
                raise _error("unsupported_key", f"{where}: an Ed25519VerificationKey2020 must be an Ed25519 key.",
                             method=where)
            return key
        if types & {"JsonWebKey", "JsonWebKey2020"} and material == ["publicKeyJwk"] \
                and not types & {"Multikey", "Ed25519VerificationKey2020", "CryptographicKey"}:
            jwk = vm["publicKeyJwk"]
            if not isinstance(jwk, dict):
                raise _error("unsupported_key", f"{where}: publicKeyJwk is not a JSON object.", method=where)
            return public_key_from_jwk(jwk)
        if material == ["publicKeyPem"] and types <= {"CryptographicKey"}:
            return _pem_key(vm["publicKeyPem"], where)
    except (KeyFormatError, KeyTypeMismatchError) as exc:
        raise _error("unsupported_key", f"{where}: the key is not usable: {exc}", method=where) from exc
    raise _error("unsupported_key", f"{where} has the unsupported type {sorted(types) or 'none'} "
                 f"with {material}.", method=where)


def _controller_of(vm: dict) -> object:
    return vm.get("controller", vm.get("owner"))


def _method_from_document(doc: dict, doc_id: str, vm_url: str, source: str) -> ResolvedMethod:
    """Look ``vm_url`` up in a controller document whose ``id`` is ``doc_id``."""
    defined = _defined_methods(doc, doc_id)
    matches = [vm for method_id, vm in defined if method_id == vm_url]
    if not matches:
        raise _error("key_not_found", f"{doc_id} has no verification method {vm_url}.", url=vm_url)
    keys = [public_key_of_method(vm, vm_url) for vm in matches]
    controllers = {str(_controller_of(vm)) for vm in matches}
    if len({key.thumbprint() for key in keys}) > 1 or len(controllers) > 1:
        raise _error("did_document_mismatch",
                     f"{doc_id} defines {vm_url} more than once, with different keys or controllers.", url=vm_url)
    controller = _controller_of(matches[0])
    if controller is None and "CryptographicKey" in _types(matches[0]):
        controller = doc_id  # OB 2.0 keys inside a profile may omit "owner"
    if controller != doc_id:
        raise _error("did_document_mismatch",
                     f"{vm_url} names {str(controller)[:200]!r} as its controller, but it is published by "
                     f"{doc_id}.", url=vm_url)
    declared = doc_id.startswith("did:") or _declares_relationships(doc)
    return ResolvedMethod(vm_url, doc_id, keys[0], source, _assertion_list(doc, doc_id), declared)


def _fetch_document(url: str, fetcher: Fetcher, what: str) -> object:
    return fetch_key_document(fetcher, url, accept=KEY_ACCEPT, max_bytes=MAX_KEY_DOCUMENT_BYTES, what=what)


def _is_controller_document(doc: dict) -> bool:
    return any(prop in doc for prop in ("verificationMethod", "publicKey", *RELATIONSHIPS))


def _check_reference(ref: object, what: str) -> str:
    if not isinstance(ref, str) or not ref:
        raise _error("invalid_verification_method", f"The {what} is missing or not a string.")
    if len(ref) > MAX_REFERENCE_LENGTH:
        raise _error("invalid_verification_method", f"The {what} is longer than {MAX_REFERENCE_LENGTH} characters.")
    if any(ord(c) <= 0x20 or ord(c) == 0x7F for c in ref):
        raise _error("invalid_verification_method", f"The {what} contains spaces or control characters.")
    if not (ref.startswith("did:") or ref.startswith("https://") or ref.startswith("http://")):
        raise _error("invalid_verification_method",
                     f"The {what} {ref[:200]!r} is not an absolute DID URL or https URL.")
    return ref


# --------------------------------------------------------------------------- #
# https verification methods
# --------------------------------------------------------------------------- #
def _jwks_method(doc: dict, vm_url: str, base: str) -> ResolvedMethod:
    fragment = vm_url.partition("#")[2] if "#" in vm_url else None
    query_kid = parse_qs(urlsplit(base).query).get("kid", [None])[0]
    wanted = {k for k in (fragment, vm_url, query_kid if fragment is None else None) if k}
    keys = [k for k in doc["keys"] if isinstance(k, dict)]
    matches = [k for k in keys if isinstance(k.get("kid"), str) and k["kid"] in wanted]
    if not matches:
        raise _error("key_not_found", f"The JWK Set at {base} has no key with the kid {fragment or query_kid!r}.",
                     url=vm_url)
    if len(matches) > 1:
        raise _error("did_document_mismatch", f"The JWK Set at {base} has several keys with that kid.", url=vm_url)
    if PRIVATE_JWK_MEMBERS & matches[0].keys():
        raise _error("unsupported_key", f"The JWK Set at {base} publishes private key material.", url=vm_url)
    try:
        key = public_key_from_jwk(matches[0])
    except (KeyFormatError, KeyTypeMismatchError) as exc:
        raise _error("unsupported_key", f"{vm_url}: the key is not usable: {exc}", url=vm_url) from exc
    return ResolvedMethod(vm_url, _origin(base) or base, key, "https", (), False)


def _single_key_method(doc: dict, vm_url: str, base: str, fetcher: Fetcher) -> ResolvedMethod:
    if doc.get("id") != vm_url:
        raise _error("did_document_mismatch",
                     f"The key at {base} has the id {str(doc.get('id'))[:200]!r}, not {vm_url}.", url=vm_url)
    key = public_key_of_method(doc, vm_url)
    controller = _controller_of(doc)
    if not isinstance(controller, str) or not controller:
        raise _error("did_document_mismatch", f"The key {vm_url} does not name its controller.", url=vm_url)
    if controller.startswith("did:"):
        did, fragment = split_did_url(controller)
        if fragment is not None:
            raise _error("did_document_mismatch", f"The controller of {vm_url} is not a DID: {controller}.",
                         url=vm_url)
        controller_doc: object = resolve_did(did, fetcher)
    else:
        _check_reference(controller, "controller")
        controller_doc = doc if _base(controller) == base else _fetch_document(
            _base(controller), fetcher, "controller document")
        if not isinstance(controller_doc, dict) or controller_doc.get("id") != controller:
            raise _error("did_document_mismatch",
                         f"The controller document of {vm_url} does not have the id {controller}.", url=controller)
    assert isinstance(controller_doc, dict)
    # if the controller document defines the same method too, it must agree
    for method_id, vm in _defined_methods(controller_doc, controller) if controller_doc is not doc else []:
        if method_id == vm_url and public_key_of_method(vm, vm_url).thumbprint() != key.thumbprint():
            raise _error("did_document_mismatch", f"{controller} publishes a different key for {vm_url}.",
                         url=vm_url)
    declared = controller.startswith("did:") or (controller_doc is not doc and _declares_relationships(controller_doc))
    assertion = _assertion_list(controller_doc, controller) if controller_doc is not doc else ()
    return ResolvedMethod(vm_url, controller, key, "https", assertion, declared)


def _https_method(vm_url: str, fetcher: Fetcher) -> ResolvedMethod:
    base = _base(vm_url)
    if "#" in vm_url and not vm_url.partition("#")[2]:
        raise _error("invalid_verification_method", f"{vm_url} has an empty fragment.")
    doc = _fetch_document(base, fetcher, "key document")
    if not isinstance(doc, dict):
        raise _error("key_not_found", f"The document at {base} is not a JSON object.", url=vm_url)
    if isinstance(doc.get("keys"), list) and "id" not in doc:
        return _jwks_method(doc, vm_url, base)
    if _is_controller_document(doc):
        if doc.get("id") != base:
            raise _error("did_document_mismatch",
                         f"The document at {base} has the id {str(doc.get('id'))[:200]!r}, not {base}.", url=vm_url)
        return _method_from_document(doc, base, vm_url, "https")
    if any(p in doc for p in ("publicKeyMultibase", "publicKeyJwk", "publicKeyPem")):
        return _single_key_method(doc, vm_url, base, fetcher)
    raise _error("key_not_found", f"The document at {base} is neither a key, a JWK Set nor a controller document.",
                 url=vm_url)


# --------------------------------------------------------------------------- #
# Public API
# --------------------------------------------------------------------------- #
def resolve_verification_method(vm_url: str, fetcher: Fetcher) -> ResolvedMethod:
    """Resolve an absolute verification method id (DID URL or https URL) to its key."""
    _check_reference(vm_url, "verification method")
    if vm_url.startswith("did:"):
        did, fragment = split_did_url(vm_url)
        if fragment is None:
            raise _error("key_not_found", f"{vm_url} names a DID, not one of its verification methods "
                         "(a '#fragment' is missing).", url=vm_url)
        document = resolve_did(did, fetcher)
        source = "did:" + did.split(":", 2)[1]
        return _method_from_document(document, did, vm_url, source)
    return _https_method(vm_url, fetcher)


def _binding_error(code: str, message: str, method: ResolvedMethod, issuer_id: str) -> IssuerBindingError:
    return IssuerBindingError(message, code=code, details={"method": method.id, "issuer": issuer_id,
                                                           "controller": method.controller})


def check_issuer_binding(method: ResolvedMethod, issuer_id: str) -> None:
    """Raise :class:`IssuerBindingError` unless ``issuer_id`` may issue with ``method``."""
    if not isinstance(issuer_id, str) or not issuer_id:
        raise _binding_error("key_not_controlled_by_issuer", "The credential names no issuer.", method, str(issuer_id))
    if issuer_id.startswith("did:"):
        if method.controller != issuer_id:
            raise _binding_error("key_not_controlled_by_issuer",
                                 f"The key {method.id} is controlled by {method.controller}, not by the issuer "
                                 f"{issuer_id}.", method, issuer_id)
        if method.id not in method.assertion_methods:
            raise _binding_error("method_not_in_assertion_method",
                                 f"{issuer_id} does not list {method.id} under assertionMethod, so it may not "
                                 "sign credentials with it.", method, issuer_id)
        return
    issuer_origin = _origin(issuer_id)
    if issuer_origin is None:
        raise _binding_error("key_not_controlled_by_issuer",
                             f"The issuer id {issuer_id[:200]!r} is neither a DID nor an https URL.", method, issuer_id)
    method_origin = _origin(method.id)
    if method_origin is not None and method_origin != issuer_origin:
        raise _binding_error("key_from_another_origin",
                             f"The key {method.id} is on {method_origin}, not on the issuer's origin "
                             f"{issuer_origin}.", method, issuer_id)
    jwks_origin_match = method.source == "https" and method.controller == issuer_origin
    if method_origin is None or not (method.controller == issuer_id or jwks_origin_match):
        raise _binding_error("key_not_controlled_by_issuer",
                             f"The key {method.id} is controlled by {method.controller}, not by the issuer "
                             f"{issuer_id}.", method, issuer_id)
    if (method.assertion_methods or method.assertion_method_declared) and method.id not in method.assertion_methods:
        raise _binding_error("method_not_in_assertion_method",
                             f"{issuer_id} does not list {method.id} under assertionMethod, so it may not "
                             "sign credentials with it.", method, issuer_id)


def _issuer_candidates(issuer_id: str, fetcher: Fetcher) -> list[ResolvedMethod]:
    """Every method the issuer's own document defines (for matching an embedded JWK)."""
    if issuer_id.startswith("did:"):
        did, fragment = split_did_url(issuer_id)
        if fragment is not None:
            raise _error("invalid_did", f"The issuer id {issuer_id} has a fragment.")
        document = resolve_did(did, fetcher)
        source = "did:" + did.split(":", 2)[1]
        doc_id = did
    else:
        _check_reference(issuer_id, "issuer id")
        document = _fetch_document(_base(issuer_id), fetcher, "issuer profile")
        if not isinstance(document, dict) or document.get("id") != issuer_id:
            raise _error("did_document_mismatch", f"The issuer profile at {issuer_id} does not have that id.",
                         url=issuer_id)
        source, doc_id = "https", issuer_id
    methods = []
    seen = set()
    for method_id, _vm in _defined_methods(document, doc_id):
        if method_id in seen:
            continue
        seen.add(method_id)
        try:
            methods.append(_method_from_document(document, doc_id, method_id, source))
        except KeyResolutionError:
            continue  # an unusable other key does not matter here
    return methods


def resolve_jwt_key(header: dict, issuer_id: str, fetcher: Fetcher) -> ResolvedMethod:
    """The issuer-bound key for a VC-JWT header (``kid`` or ``jwk``; ``jku``/``x5u`` are never fetched).

    ``kid`` must be absolute; ``"#key-1"`` is resolved against the issuer id. An embedded ``jwk``
    is accepted only if the issuer (did:key / did:jwk, or a method its DID document / profile
    publishes) has a key with the same RFC 7638 thumbprint. The result has passed
    :func:`check_issuer_binding`.
    """
    if not isinstance(header, dict):
        raise _error("invalid_verification_method", "The JWT header is not a JSON object.")
    kid, jwk = header.get("kid"), header.get("jwk")
    embedded: PublicKey | None = None
    if jwk is not None:
        if not isinstance(jwk, dict):
            raise _error("unsupported_key", "The 'jwk' header member is not a JSON object.")
        if PRIVATE_JWK_MEMBERS & jwk.keys():
            raise _error("private_key_in_header", "The 'jwk' header contains private key material.")
        try:
            embedded = public_key_from_jwk(jwk)
        except (KeyFormatError, KeyTypeMismatchError) as exc:
            raise _error("unsupported_key", f"The 'jwk' header is not a usable public key: {exc}") from exc
    if kid is not None:
        if isinstance(kid, str) and kid.startswith("#") and isinstance(issuer_id, str) and issuer_id:
            kid = _base(issuer_id) + kid
        _check_reference(kid, "JWT 'kid'")
        method = resolve_verification_method(kid, fetcher)
        if embedded is not None and embedded.thumbprint() != method.public_key.thumbprint():
            raise _binding_error("jwk_not_issuers", "The 'jwk' header is not the key its 'kid' names.",
                                 method, str(issuer_id))
        check_issuer_binding(method, issuer_id)
        return method
    if embedded is None:
        raise _error("key_not_found", "The JWT header names no key ('kid' or 'jwk'); 'jku', 'x5u' and 'x5c' "
                     "are never used.")
    if not isinstance(issuer_id, str) or not issuer_id:
        raise IssuerBindingError("The credential names no issuer.", code="jwk_not_issuers")
    thumbprint = embedded.thumbprint()
    candidates = [m for m in _issuer_candidates(issuer_id, fetcher) if m.public_key.thumbprint() == thumbprint]
    first_error: IssuerBindingError | None = None
    for method in candidates:
        try:
            check_issuer_binding(method, issuer_id)
            return method
        except IssuerBindingError as exc:
            first_error = first_error or exc
    if first_error is not None:
        raise first_error
    raise IssuerBindingError(f"The key in the JWT header is not one {issuer_id[:200]} publishes.",
                             code="jwk_not_issuers", details={"issuer": issuer_id[:200], "thumbprint": thumbprint})
