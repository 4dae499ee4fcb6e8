"""DID resolution: did:key and did:jwk locally, did:web through the hardened fetcher.

``did:web`` grammar (stricter than the did:web draft, on purpose; research notes B 16):

* ``did:web:<host>[%3A<port>][:<segment>]*`` and nothing else: no query, fragment, ``/``,
  ``@`` or other percent-escapes; ``%3A`` (either case) at most once, only in the host part,
  followed by a canonical port number (1-65535, no leading zero).
* The host must already be canonical: lower-case LDH labels (punycode for IDN), no empty label,
  no trailing dot. An upper-case host is *refused*, not lower-cased: a DID is an identifier, and
  the document's ``id`` must equal it exactly, so silently changing it would only hide the
  mismatch. The last label must not be all-numeric unless the host is a dotted-quad IPv4
  address; IP literals are accepted by the grammar, and the fetcher then refuses private ones
  unless the policy allows the host (tests, local development). IPv6 cannot be written.
* Path segments: ``[A-Za-z0-9._-]+`` only; ``.`` and ``..`` are refused.

Local documents: a document the caller gives under the DID itself (``verify_credential(...,
documents={"did:web:example.com": doc})``, ``microcred verify --resolve did:web:example.com=FILE``)
is that DID's document and nothing is fetched; one given under the document's URL
(``https://example.com/.well-known/did.json``) works too, through the fetcher. Either way its
``id`` must be the DID.

``did:key`` keys are derived from the DID itself (Ed25519, P-256, RSA; see ``verifier.keys``);
``did:jwk`` is the base64url of a public JWK (one method, ``#0``).

Errors are :class:`KeyResolutionError` with codes ``invalid_did`` (grammar),
``unsupported_did_method``, ``unsupported_key`` (a did:key / did:jwk key type we don't support),
``key_unresolvable`` (the did:web document could not be fetched or parsed; the
:class:`~verifier.fetcher.FetchError` is the ``__cause__`` and ``details`` hold ``url`` and
``fetch_error``), ``key_from_another_origin`` (the fetch was redirected to another origin: a
did:web document is only taken from the DID's own host) and ``did_document_mismatch`` (the
document's ``id`` is not the DID).
"""
from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from . import multiformats as mf
from .errors import CredentialError, KeyFormatError
from .fetcher import Fetcher, FetchError, host_allowed, strict_json_loads
from .keys import b64url_decode, did_key_document, public_key_from_jwk
from .plain import fetch_facts
from .urls import origin

__all__ = ["KeyResolutionError", "did_web_url", "resolve_did", "split_did_url", "fetch_key_document",
           "DID_ACCEPT", "MAX_DID_LENGTH"]

DID_ACCEPT = "application/did+json, application/did+ld+json;q=0.9, application/json;q=0.8"
MAX_DID_LENGTH = 2048
MAX_DID_DOCUMENT_BYTES = 256 * 1024

_DID = re.compile(r"did:([a-z0-9]+):([A-Za-z0-9._:%-]+)")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")
_SEGMENT = re.compile(r"[A-Za-z0-9._-]+")
_PORT = re.compile(r"[1-9][0-9]{0,4}")
_PUBLIC_CODECS = (mf.ED25519_PUB, mf.P256_PUB, mf.RSA_PUB)


class KeyResolutionError(CredentialError):
    """A DID or verification method could not be resolved to a usable public key."""

    code = "key_unresolvable"


def _invalid(did: str, why: str) -> KeyResolutionError:
    return KeyResolutionError(f"{did[:200]!r} is not a valid DID: {why}.", code="invalid_did",
                              details={"did": did[:200]})


def split_did_url(did_url: str) -> tuple[str, str | None]:
    """Split a DID URL into ``(did, fragment or None)``; paths and queries are refused."""
    if not isinstance(did_url, str) or not did_url.startswith("did:"):
        raise _invalid(str(did_url), "it does not start with 'did:'")
    did, sep, fragment = did_url.partition("#")
    if "/" in did or "?" in did:
        raise _invalid(did_url, "DID URLs with a path or query are not supported")
    if sep and (not fragment or not re.fullmatch(r"[A-Za-z0-9._~!$&'()*+,;=:@/?%-]+", fragment)):
        raise _invalid(did_url, "the fragment is empty or has characters a URL fragment cannot have")
    return did, (fragment if sep else None)


def _check_did(did: str) -> tuple[str, str]:
    if not isinstance(did, str):
        raise _invalid(str(did), "it is not a string")
    if len(did) > MAX_DID_LENGTH:
        raise _invalid(did, f"it is longer than {MAX_DID_LENGTH} characters")
    match = _DID.fullmatch(did)
    if not match:
        raise _invalid(did, "it does not match did:<method>:<id> (or has a query, fragment or path)")
    return match.group(1), match.group(2)


def _check_host(did: str, host: str) -> None:
    if not host:
        raise _invalid(did, "the host is empty")
    if host != host.lower():
        raise _invalid(did, "the host must be lower-case (DIDs are compared exactly)")
    labels = host.split(".")
    if not all(_LABEL.fullmatch(label) for label in labels):
        raise _invalid(did, "the host is not a valid DNS name (empty label, trailing dot or bad character)")
    if labels[-1].isdigit() or labels[-1][0].isdigit():
        try:
            ipaddress.IPv4Address(host)
        except ValueError:
            raise _invalid(did, "the host is neither a DNS name nor a dotted-quad IPv4 address") from None


def did_web_url(did: str) -> str:
    """The https URL of a did:web DID's document (see the module docstring for the grammar).

    Remembered for DIDs that pass (the same issuer comes back with every credential); a
    refusal is worked out every time."""
    return _remembered_web_url(did) if isinstance(did, str) and len(did) <= _MEMO_MAX_DID else _did_web_url(did)


_MEMO_MAX_DID = 1024


@lru_cache(maxsize=1024)
def _remembered_web_url(did: str) -> str:
    return _did_web_url(did)


def _did_web_url(did: str) -> str:
    method, msid = _check_did(did)
    if method != "web":
        raise _invalid(did, "it is not a did:web DID")
    segments = msid.split(":")
    if any(not segment for segment in segments):
        raise _invalid(did, "it has an empty segment")
    host_part, path = segments[0], segments[1:]
    host, port = host_part, None
    escapes = re.findall(r"%[0-9A-Fa-f]{2}|%", host_part)
    if escapes:
        if len(escapes) != 1 or escapes[0].upper() != "%3A":
            raise _invalid(did, "the only escape allowed is one %3A before a port")
        host, _, port = host_part.partition(escapes[0])
        if not _PORT.fullmatch(port) or int(port) > 65535:
            raise _invalid(did, "the port after %3A is not a number from 1 to 65535")
    _check_host(did, host)
    for segment in path:
        if "%" in segment:
            raise _invalid(did, "percent-escapes are not allowed in path segments")
        if not _SEGMENT.fullmatch(segment) or segment in (".", ".."):
            raise _invalid(did, f"the path segment {segment!r} is not allowed")
    authority = f"{host}:{port}" if port else host
    suffix = "/".join(path) + "/did.json" if path else ".well-known/did.json"
    return f"https://{authority}/{suffix}"


def _did_key(did: str) -> dict[str, Any]:
    multibase = did[len("did:key:"):]
    try:
        codec, _payload = mf.decode_multikey(multibase)
    except KeyFormatError as exc:
        if "unknown or unsupported multicodec" in str(exc):
            raise KeyResolutionError(f"{did[:80]}... uses a key type microcred does not support: {exc}",
                                     code="unsupported_key", details={"did": did[:200]}) from exc
        raise _invalid(did, str(exc)) from exc
    if codec not in _PUBLIC_CODECS:
        raise KeyResolutionError(f"did:key must hold a public key, not {codec}.", code="unsupported_key",
                                 details={"did": did[:200]})
    try:
        return did_key_document(did)
    except KeyFormatError as exc:
        raise _invalid(did, str(exc)) from exc


def _did_jwk(did: str, msid: str) -> dict[str, Any]:
    try:
        raw = b64url_decode(msid, "did:jwk value")
        jwk = strict_json_loads(raw)
    except (KeyFormatError, UnicodeDecodeError, ValueError) as exc:
        raise _invalid(did, f"the did:jwk value is not base64url JSON ({exc})") from exc
    if not isinstance(jwk, dict):
        raise _invalid(did, "the did:jwk value is not a JSON object")
    try:
        public_key_from_jwk(jwk)
    except KeyFormatError as exc:  # includes private key members: never accepted
        raise KeyResolutionError(f"did:jwk key is not usable: {exc}", code="unsupported_key",
                                 details={"did": did[:200]}) from exc
    vm_id = did + "#0"
    document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/suites/jws-2020/v1"],
        "id": did,
        "verificationMethod": [{"id": vm_id, "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": jwk}],
    }
    if jwk.get("use") != "enc":
        for relation in ("assertionMethod", "authentication", "capabilityInvocation", "capabilityDelegation"):
            document[relation] = [vm_id]
    if jwk.get("use") != "sig":
        document["keyAgreement"] = [vm_id]
    return document


def fetch_key_document(fetcher: Fetcher, url: str, *, accept: str, max_bytes: int, what: str) -> object:
    """Fetch and strictly parse a DID / key / controller document.

    Redirects may move within the URL's origin only: a document served after a redirect to
    another origin (an open redirect on the issuer's site, say) is refused with
    ``key_from_another_origin``. Fetch failures become ``key_unresolvable`` (the
    :class:`~verifier.fetcher.FetchError` is the ``__cause__``; ``details``: ``url``,
    ``fetch_error``).
    """
    try:
        response = fetcher.fetch(url, accept=accept, max_bytes=max_bytes)
        if origin(response.final_url) != origin(url):
            raise KeyResolutionError(
                f"The {what} at {url} redirected to another site ({response.final_url}); keys must be "
                "served from the same origin.", code="key_from_another_origin",
                details={"url": url, "final_url": response.final_url})
        try:
            return strict_json_loads(response.body)
        except (UnicodeDecodeError, ValueError) as exc:
            raise FetchError(f"The document at the URL is not valid JSON: {exc}", code="not_json",
                             details={"url": url}) from exc
    except FetchError as exc:
        raise KeyResolutionError(f"The {what} could not be retrieved from {url}: {exc}", code="key_unresolvable",
                                 details={"url": url, "fetch_error": exc.code, **fetch_facts(exc.details)}) from exc


def _local_did_document(did: str, fetcher: Fetcher) -> bytes | None:
    """The document given locally under the DID itself (``--resolve did:web:...=FILE``), if any.

    A DID is never a network URL, so the fetcher can only answer it from its local documents;
    its other refusals (``scheme_not_allowed``, ``network_forbidden``) just mean "none given".
    """
    try:
        return fetcher.fetch(did, accept=DID_ACCEPT, max_bytes=MAX_DID_DOCUMENT_BYTES).body
    except FetchError as exc:
        if exc.code != "too_large":
            return None
        raise KeyResolutionError(f"The DID document given for {did} could not be used: {exc}",
                                 code="key_unresolvable", details={"url": did, "fetch_error": exc.code}) from exc


def _fetch_did_web(did: str, url: str, fetcher: Fetcher) -> tuple[str, object]:
    try:
        return url, fetch_key_document(fetcher, url, accept=DID_ACCEPT, max_bytes=MAX_DID_DOCUMENT_BYTES,
                                       what=f"DID document of {did}")
    except KeyResolutionError as exc:
        # Local development: a host explicitly allowed over plain http (e.g. a
        # did:web:localhost%3A5000 issuer on Flask's server) is tried again over http.
        parts = urlsplit(url)
        if exc.details.get("fetch_error") not in ("tls_error", "connection_failed") or not host_allowed(
                fetcher.policy.allow_hosts, parts.hostname or "", parts.port or 443):
            raise
        url = "http://" + url[len("https://"):]
        return url, fetch_key_document(fetcher, url, accept=DID_ACCEPT, max_bytes=MAX_DID_DOCUMENT_BYTES,
                                       what=f"DID document of {did}")


def _did_web(did: str, fetcher: Fetcher) -> dict[str, Any]:
    url = did_web_url(did)
    local = _local_did_document(did, fetcher)
    if local is None:
        url, document = _fetch_did_web(did, url, fetcher)
    else:
        url = did
        try:
            document = strict_json_loads(local)
        except (UnicodeDecodeError, ValueError) as exc:
            raise KeyResolutionError(f"The DID document given for {did} is not valid JSON: {exc}",
                                     code="key_unresolvable", details={"url": did, "fetch_error": "not_json"}) from exc
    if not isinstance(document, dict):
        raise KeyResolutionError(f"The document at {url} is not a JSON object.", code="did_document_mismatch",
                                 details={"url": url, "did": did})
    if document.get("id") != did:
        raise KeyResolutionError(
            f"The document at {url} describes {str(document.get('id'))[:200]!r}, not {did}.",
            code="did_document_mismatch", details={"url": url, "did": did})
    return document


def resolve_did(did: str, fetcher: Fetcher) -> dict[str, Any]:
    """Resolve a bare DID (no fragment) to its DID document (a dict with ``id == did``)."""
    method, msid = _check_did(did)
    if method == "key":
        return _did_key(did)
    if method == "jwk":
        return _did_jwk(did, msid)
    if method == "web":
        return _did_web(did, fetcher)
    raise KeyResolutionError(f"DID method did:{method} is not supported (did:key, did:jwk, did:web are).",
                             code="unsupported_did_method", details={"did": did[:200]})
