"""Reading key and controller documents: method ids, key material, and what a document lists.

Pure functions over parsed JSON (no network), and :class:`ResolvedMethod`, what they produce
(:func:`method_from_document`); :mod:`verifier.key_resolution` fetches the documents and
applies the rules (its module docstring is the spec). Ids found in a document are
made absolute against the document ``id`` (``"#key-1"``); other relative references are ignored.

What a controller document *lists*:

* :func:`authorised_ids`: the methods it authorises for issuing: ``assertionMethod`` (ids or
  embedded methods); for an https document (issuer profile) also OB 2.0 ``publicKey``.
  A DID document authorises through ``assertionMethod`` only.
* :func:`listed_ids`: every method it names at all (``verificationMethod``, ``publicKey`` and
  every verification relationship), so that "not the issuer's key" and "the issuer's key, but
  not for issuing" can be told apart.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from .accessors import as_list, types_of
from .base58btc import b58decode
from .did import KeyResolutionError
from .errors import KeyFormatError, KeyTypeMismatchError
from .keys import ED25519, P256, RSA, PublicKey, public_key_from_jwk, public_key_from_multibase
from .urls import origin

MAX_REFERENCE_LENGTH = 2048
RELATIONSHIPS = ("assertionMethod", "authentication", "keyAgreement", "capabilityInvocation",
                 "capabilityDelegation")
KEY_MATERIAL = ("publicKeyMultibase", "publicKeyJwk", "publicKeyPem", "publicKeyBase58")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")


@dataclass(frozen=True)
class ResolvedMethod:
    """A resolved verification method.

    ``controller``: the id (a DID or an https URL) of the controller document that was read
    for this method: the document that defines it, or the one a standalone key names. ``None``
    for a key from a JWK Set, which names no controller. ``assertion_methods``: the absolute
    ids that controller document authorises for issuing (:func:`authorised_ids`);
    ``listed_methods``: every id it names (:func:`listed_ids`). Both are ``()`` when
    ``controller`` is ``None``.
    """

    id: str
    controller: str | None
    public_key: PublicKey
    source: str  # "did:key" | "did:jwk" | "did:web" | "https"
    assertion_methods: tuple[str, ...] = ()
    listed_methods: tuple[str, ...] = ()


def key_error(code: str, message: str, **details: object) -> KeyResolutionError:
    return KeyResolutionError(message, code=code, details={k: v for k, v in details.items() if v is not None})


def without_fragment(url: str) -> str:
    return url.split("#", 1)[0]


def absolute(ref: object, doc_id: str) -> str | None:
    """Resolve a method reference found in a document; None if it is not usable."""
    if not isinstance(ref, str) or not ref or len(ref) > MAX_REFERENCE_LENGTH:
        return None
    if ref.startswith("#"):
        return without_fragment(doc_id) + ref
    if _SCHEME.match(ref):
        return ref
    return None


def _inside(method_id: str, doc_id: str) -> bool:
    if doc_id.startswith("did:"):
        return without_fragment(method_id) == doc_id
    return origin(method_id) is not None and origin(method_id) == origin(doc_id)


def defined_methods(doc: dict[str, Any], doc_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Every method object the document defines, with its absolute id.

    A method defined outside the document (a DID document: an id not under the DID; an https
    document: an id on another origin) is ``did_document_mismatch``.
    """
    found: list[tuple[str, dict[str, Any]]] = []
    for prop in ("verificationMethod", "publicKey", *RELATIONSHIPS):
        for entry in as_list(doc.get(prop)):
            if not isinstance(entry, dict):
                continue
            method_id = absolute(entry.get("id"), doc_id)
            if method_id is None or not _inside(method_id, doc_id):
                raise key_error("did_document_mismatch",
                                f"The document {doc_id} defines a verification method with the id "
                                f"{str(entry.get('id'))[:200]!r}, which is not inside the document.",
                                url=doc_id)
            found.append((method_id, entry))
    return found


def _referenced_ids(doc: dict[str, Any], doc_id: str, props: tuple[str, ...]) -> tuple[str, ...]:
    listed: list[str] = []
    for prop in props:
        for entry in as_list(doc.get(prop)):
            method_id = absolute(entry.get("id") if isinstance(entry, dict) else entry, doc_id)
            if method_id is not None and method_id not in listed:
                listed.append(method_id)
    return tuple(listed)


def authorised_ids(doc: dict[str, Any], doc_id: str) -> tuple[str, ...]:
    """The methods the document authorises for issuing (see the module docstring)."""
    props = ("assertionMethod",) if doc_id.startswith("did:") else ("assertionMethod", "publicKey")
    return _referenced_ids(doc, doc_id, props)


def listed_ids(doc: dict[str, Any], doc_id: str) -> tuple[str, ...]:
    """Every method the document names, under any property."""
    return _referenced_ids(doc, doc_id, ("verificationMethod", "publicKey", *RELATIONSHIPS))


def is_controller_document(doc: dict[str, Any]) -> bool:
    return any(prop in doc for prop in ("verificationMethod", "publicKey", *RELATIONSHIPS))


def controller_of(vm: dict[str, Any]) -> object:
    return vm.get("controller", vm.get("owner"))


def _is_ob2_key(vm: dict[str, Any]) -> bool:
    return "CryptographicKey" in set(types_of(vm))


def pem_public_key(pem: object, where: str) -> PublicKey:
    """The key of an OB 2.0 ``CryptographicKey``'s ``publicKeyPem`` (Ed25519, P-256 or RSA); ``unsupported_key``."""
    if not isinstance(pem, str) or len(pem) > 16384:
        raise key_error("unsupported_key", f"{where}: publicKeyPem is not a PEM string.", method=where)
    try:
        key = serialization.load_pem_public_key(pem.encode("ascii"))
    except (ValueError, UnicodeEncodeError, TypeError) as exc:
        raise key_error("unsupported_key", f"{where}: publicKeyPem is not a public key.", method=where) from exc
    if isinstance(key, ed25519.Ed25519PublicKey):
        return PublicKey(ED25519, key)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return PublicKey(P256, key)
    if isinstance(key, rsa.RSAPublicKey):
        return PublicKey(RSA, key)
    raise key_error("unsupported_key", f"{where}: the PEM key type is not supported.", method=where)


def _base58_ed25519_key(value: object, where: str) -> PublicKey:
    """A legacy ``Ed25519VerificationKey2018``: the 32 raw key bytes in plain base58btc (no multibase prefix)."""
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise key_error("unsupported_key", f"{where}: publicKeyBase58 is not a base58 string.", method=where)
    try:
        raw = b58decode(value)
    except ValueError as exc:
        raise key_error("unsupported_key", f"{where}: publicKeyBase58 is not base58.", method=where) from exc
    if len(raw) != 32:
        raise key_error("unsupported_key", f"{where}: publicKeyBase58 has {len(raw)} bytes; an Ed25519 key has 32.",
                        method=where)
    return PublicKey(ED25519, ed25519.Ed25519PublicKey.from_public_bytes(raw))


def public_key_of_method(vm: dict[str, Any], where: str) -> PublicKey:
    """The public key of a verification method object.

    ``Multikey`` / ``Ed25519VerificationKey2020`` with ``publicKeyMultibase``; ``JsonWebKey`` /
    ``JsonWebKey2020`` with ``publicKeyJwk`` (private members refused); OB 2.0
    ``CryptographicKey`` (or no type) with ``publicKeyPem``; legacy ``Ed25519VerificationKey2018``
    with ``publicKeyBase58``. Exactly one key property; anything
    else is ``unsupported_key``.
    """
    types = set(types_of(vm))
    material = [p for p in KEY_MATERIAL if p in vm]
    try:
        if len(material) != 1:
            raise key_error("unsupported_key", f"{where} must carry exactly one public key property, "
                            f"not {material or 'none'}.", method=where)
        if types & {"Multikey", "Ed25519VerificationKey2020"} and material == ["publicKeyMultibase"] \
                and not types & {"JsonWebKey", "JsonWebKey2020", "CryptographicKey"}:
            key = public_key_from_multibase(vm["publicKeyMultibase"])
            if "Ed25519VerificationKey2020" in types and key.key_type != ED25519:
                raise key_error("unsupported_key", f"{where}: an Ed25519VerificationKey2020 must be an Ed25519 key.",
                                method=where)
            return key
        if types & {"JsonWebKey", "JsonWebKey2020"} and material == ["publicKeyJwk"] \
                and not types & {"Multikey", "Ed25519VerificationKey2020", "CryptographicKey"}:
            jwk = vm["publicKeyJwk"]
            if not isinstance(jwk, dict):
                raise key_error("unsupported_key", f"{where}: publicKeyJwk is not a JSON object.", method=where)
            return public_key_from_jwk(jwk)
        if material == ["publicKeyPem"] and types <= {"CryptographicKey"}:
            return pem_public_key(vm["publicKeyPem"], where)
        if types == {"Ed25519VerificationKey2018"} and material == ["publicKeyBase58"]:
            return _base58_ed25519_key(vm["publicKeyBase58"], where)
    except (KeyFormatError, KeyTypeMismatchError) as exc:
        raise key_error("unsupported_key", f"{where}: the key is not usable: {exc}", method=where) from exc
    raise key_error("unsupported_key", f"{where} has the unsupported type {sorted(types) or 'none'} "
                    f"with {material}.", method=where)


_SPACE_OR_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def check_reference(ref: object, what: str) -> str:
    """An absolute DID URL or http(s) URL of bounded length without spaces or controls."""
    if not isinstance(ref, str) or not ref:
        raise key_error("invalid_verification_method", f"The {what} is missing or not a string.")
    if len(ref) > MAX_REFERENCE_LENGTH:
        raise key_error("invalid_verification_method",
                        f"The {what} is longer than {MAX_REFERENCE_LENGTH} characters.")
    if _SPACE_OR_CONTROL.search(ref):
        raise key_error("invalid_verification_method", f"The {what} contains spaces or control characters.")
    if not (ref.startswith("did:") or ref.startswith("https://") or ref.startswith("http://")):
        raise key_error("invalid_verification_method",
                        f"The {what} {ref[:200]!r} is not an absolute DID URL or https URL.")
    return ref


def controller_method(controller_id: str, controller_doc: dict[str, Any], vm_url: str, key: PublicKey,
                       source: str) -> ResolvedMethod:
    return ResolvedMethod(vm_url, controller_id, key, source, authorised_ids(controller_doc, controller_id),
                          listed_ids(controller_doc, controller_id))


def check_agrees(doc: dict[str, Any], doc_id: str, vm_url: str, key: PublicKey) -> None:
    """If ``doc`` defines ``vm_url`` too, it must publish the same key."""
    for method_id, vm in defined_methods(doc, doc_id):
        if method_id == vm_url and public_key_of_method(vm, vm_url).thumbprint() != key.thumbprint():
            raise key_error("did_document_mismatch", f"{doc_id} publishes a different key for {vm_url}.", url=vm_url)


def method_from_document(doc: dict[str, Any], doc_id: str, vm_url: str, source: str) -> ResolvedMethod:
    """Look ``vm_url`` up in a controller document whose ``id`` is ``doc_id``."""
    matches = [vm for method_id, vm in defined_methods(doc, doc_id) if method_id == vm_url]
    if not matches:
        raise key_error("key_not_found", f"{doc_id} has no verification method {vm_url}.", url=vm_url)
    keys = [public_key_of_method(vm, vm_url) for vm in matches]
    controllers = {str(controller_of(vm)) for vm in matches}
    if len({key.thumbprint() for key in keys}) > 1 or len(controllers) > 1:
        raise key_error("did_document_mismatch",
                        f"{doc_id} defines {vm_url} more than once, with different keys or controllers.", url=vm_url)
    controller = controller_of(matches[0])
    if controller is None and _is_ob2_key(matches[0]):
        controller = doc_id  # OB 2.0 keys inside a profile may omit "owner"
    if controller != doc_id:
        raise key_error("did_document_mismatch",
                        f"{vm_url} names {str(controller)[:200]!r} as its controller, but it is published by "
                        f"{doc_id}.", url=vm_url)
    return controller_method(doc_id, doc, vm_url, keys[0], source)
