"""Verification method resolution and issuer binding (research notes A 1-2, B 15-18, D 35-36)."""
from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from tests.http_fixtures import LoopbackServer, https_server, tls_material  # noqa: F401
from verifier.did import KeyResolutionError
from verifier.fetcher import Fetcher, FetchError
from verifier.key_resolution import (
    IssuerBindingError,
    ResolvedMethod,
    check_issuer_binding,
    resolve_jwt_key,
    resolve_verification_method,
)
from verifier.keys import ED25519, P256, PublicKey, b64url_encode


def ed_key() -> PublicKey:
    return PublicKey(ED25519, ed25519.Ed25519PrivateKey.generate().public_key())


def p256_key() -> PublicKey:
    return PublicKey(P256, ec.generate_private_key(ec.SECP256R1()).public_key())


def did_jwk(jwk: dict) -> str:
    return "did:jwk:" + b64url_encode(json.dumps(jwk, separators=(",", ":")).encode())


def multikey(vm_id: str, controller: str, key: PublicKey) -> dict:
    return {"id": vm_id, "type": "Multikey", "controller": controller, "publicKeyMultibase": key.to_multibase()}


def raises(call, exc_type=KeyResolutionError) -> str:
    with pytest.raises(exc_type) as info:
        call()
    return info.value.code


def resolve(vm, fetcher):
    return resolve_verification_method(vm, fetcher)


@pytest.fixture
def web(https_server):
    """A did:web issuer on the loopback HTTPS server: (did, server, fetcher factory)."""
    did = https_server.did_web()

    def publish(document: dict, path: str = "/.well-known/did.json") -> None:
        https_server.set_json(path, document, content_type="application/did+json")

    class Web:
        pass

    web = Web()
    web.did, web.server, web.publish = did, https_server, publish
    web.fetcher = lambda **kw: Fetcher(https_server.policy(**kw))
    return web


def web_document(did: str, key: PublicKey, **extra) -> dict:
    document = {"@context": ["https://www.w3.org/ns/did/v1"], "id": did,
                "verificationMethod": [multikey("#key-1", did, key)], "assertionMethod": ["#key-1"]}
    document.update(extra)
    return document


# --------------------------------------------------------------------------- #
# did:key / did:jwk
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("make", [ed_key, p256_key])
def test_did_key_method(make):
    key = make()
    did = key.to_did_key()
    vm = f"{did}#{key.to_multibase()}"
    method = resolve(vm, Fetcher(offline=True))
    assert method == ResolvedMethod(vm, did, method.public_key, "did:key", (vm,), method.listed_methods)
    assert vm in method.listed_methods
    assert method.public_key.thumbprint() == key.thumbprint()
    check_issuer_binding(method, did)


def test_did_key_fragment_must_be_the_key():
    key, other = ed_key(), ed_key()
    did = key.to_did_key()
    assert raises(lambda: resolve(f"{did}#{other.to_multibase()}", Fetcher())) == "key_not_found"
    assert raises(lambda: resolve(f"{did}#key-1", Fetcher())) == "key_not_found"
    assert raises(lambda: resolve(did, Fetcher())) == "key_not_found"  # a DID is not a method


@pytest.mark.parametrize("make", [ed_key, p256_key])
def test_did_jwk_method(make):
    key = make()
    did = did_jwk(key.to_jwk())
    method = resolve(did + "#0", Fetcher(offline=True))
    assert method.source == "did:jwk" and method.controller == did
    assert method.public_key.thumbprint() == key.thumbprint()
    check_issuer_binding(method, did)
    assert raises(lambda: resolve(did + "#1", Fetcher())) == "key_not_found"


# --------------------------------------------------------------------------- #
# did:web methods
# --------------------------------------------------------------------------- #
def test_did_web_multikey_relative_id(web):
    key = ed_key()
    web.publish(web_document(web.did, key))
    method = resolve(web.did + "#key-1", web.fetcher())
    assert method.id == web.did + "#key-1" and method.controller == web.did and method.source == "did:web"
    assert method.assertion_methods == (web.did + "#key-1",)
    assert method.public_key.thumbprint() == key.thumbprint()
    check_issuer_binding(method, web.did)


def test_did_web_other_method_types(web):
    ed, p256, jwk_key = ed_key(), p256_key(), ed_key()
    did = web.did
    web.publish({
        "id": did,
        "verificationMethod": [
            {"id": f"{did}#ed2020", "type": "Ed25519VerificationKey2020", "controller": did,
             "publicKeyMultibase": ed.to_multibase()},
            {"id": "#jwk2020", "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": p256.to_jwk()},
        ],
        "assertionMethod": [f"{did}#ed2020", "#jwk2020",
                            {"id": "#embedded", "type": "JsonWebKey", "controller": did,
                             "publicKeyJwk": jwk_key.to_jwk()}],
    })
    fetcher = web.fetcher()
    for fragment, key in (("ed2020", ed), ("jwk2020", p256), ("embedded", jwk_key)):
        method = resolve(f"{did}#{fragment}", fetcher)
        assert method.public_key.thumbprint() == key.thumbprint()
        check_issuer_binding(method, did)
    assert fetcher.fetch_count == 1  # one DID document per verification
    assert raises(lambda: resolve(f"{did}#missing", fetcher)) == "key_not_found"


@pytest.mark.parametrize("vm", [
    {"type": "EcdsaSecp256k1VerificationKey2019", "publicKeyJwk": {"kty": "EC", "crv": "secp256k1", "x": "AA", "y": "AA"}},
    {"type": "Ed25519VerificationKey2018", "publicKeyBase58": "H3C2AVvLMv6gmMNam3uVAjZpfkcJCwDwnZn6z3wX"},  # 30 bytes: not an Ed25519 key
    {"type": "Multikey", "publicKeyJwk": "ED_JWK"},
    {"type": "JsonWebKey2020", "publicKeyMultibase": "ED_MB"},
    {"type": "JsonWebKey2020", "publicKeyJwk": "ED_JWK_PRIVATE"},
    {"type": "Ed25519VerificationKey2020", "publicKeyMultibase": "P256_MB"},
    {"type": "Multikey", "publicKeyMultibase": "ED_MB", "publicKeyJwk": "ED_JWK"},
    {"type": "Multikey", "publicKeyMultibase": "uAAAA"},
    {"type": "Multikey"},
    {"type": ["Multikey", "JsonWebKey"], "publicKeyMultibase": "ED_MB"},
    {"type": "JsonWebKey", "publicKeyJwk": {"kty": "oct", "k": "c2VjcmV0"}},
])
def test_unsupported_keys(web, vm):
    ed, p256 = ed_key(), p256_key()
    placeholders = {"ED_JWK": ed.to_jwk(), "ED_MB": ed.to_multibase(), "P256_MB": p256.to_multibase(),
                    "ED_JWK_PRIVATE": {**ed.to_jwk(), "d": ed.to_jwk()["x"]}}
    vm = {k: placeholders.get(v, v) if isinstance(v, str) else v for k, v in vm.items()}
    web.publish({"id": web.did, "verificationMethod": [{"id": "#k", "controller": web.did, **vm}],
                 "assertionMethod": ["#k"]})
    assert raises(lambda: resolve(web.did + "#k", web.fetcher())) == "unsupported_key"


def test_did_document_mismatches(web):
    key, other = ed_key(), ed_key()
    did, fetcher = web.did, web.fetcher
    # the document's id is not the DID
    web.publish(web_document("did:web:univ.example", key))
    assert raises(lambda: resolve(did + "#key-1", fetcher())) == "did_document_mismatch"
    # a method whose id is outside the DID
    web.publish(web_document(did, key, verificationMethod=[multikey("did:web:univ.example#key-1", did, key),
                                                           multikey("#key-1", did, key)]))
    assert raises(lambda: resolve(did + "#key-1", fetcher())) == "did_document_mismatch"
    # a method id that is a relative path, not a fragment
    web.publish(web_document(did, key, verificationMethod=[multikey("key-1", did, key)]))
    assert raises(lambda: resolve(did + "#key-1", fetcher())) == "did_document_mismatch"
    # the method's controller is a foreign DID
    web.publish(web_document(did, key, verificationMethod=[multikey("#key-1", "did:web:evil.example", key)]))
    assert raises(lambda: resolve(did + "#key-1", fetcher())) == "did_document_mismatch"
    # no controller at all
    web.publish(web_document(did, key, verificationMethod=[{"id": "#key-1", "type": "Multikey",
                                                            "publicKeyMultibase": key.to_multibase()}]))
    assert raises(lambda: resolve(did + "#key-1", fetcher())) == "did_document_mismatch"
    # one id, two different keys (verificationMethod vs. embedded in assertionMethod)
    web.publish(web_document(did, key, assertionMethod=[multikey("#key-1", did, other)]))
    assert raises(lambda: resolve(did + "#key-1", fetcher())) == "did_document_mismatch"
    # the same method repeated identically is fine
    web.publish(web_document(did, key, assertionMethod=[multikey(f"{did}#key-1", did, key)]))
    assert resolve(did + "#key-1", fetcher()).public_key.thumbprint() == key.thumbprint()


def test_unresolvable_key_keeps_the_fetch_error(web):
    web.server.set("/.well-known/did.json", b"nope", status=404)
    with pytest.raises(KeyResolutionError) as info:
        resolve(web.did + "#key-1", web.fetcher())
    assert info.value.code == "key_unresolvable"
    assert isinstance(info.value.__cause__, FetchError) and info.value.__cause__.code == "http_status"
    assert info.value.details["url"] == web.server.url("/.well-known/did.json")
    with pytest.raises(KeyResolutionError) as info:
        resolve(web.did + "#key-1", Fetcher(web.server.policy(), offline=True))
    assert info.value.code == "key_unresolvable" and info.value.details["fetch_error"] == "network_forbidden"


@pytest.mark.parametrize("vm,code", [
    ("did:web:Example.com#key-1", "invalid_did"),
    ("did:web:example.com:..:admin#key-1", "invalid_did"),
    ("did:web:example.com/path#key-1", "invalid_did"),
    ("did:web:example.com?service=x#key-1", "invalid_did"),
    ("did:web:example.com#", "invalid_did"),
    ("did:example:123#key-1", "unsupported_did_method"),
    ("../../keys/issuer.pem", "invalid_verification_method"),
    ("#key-1", "invalid_verification_method"),
    ("key-1", "invalid_verification_method"),
    ("' OR 1=1 --", "invalid_verification_method"),
    ("https://example.com/" + "a" * 10000, "invalid_verification_method"),
    ("ftp://example.com/key", "invalid_verification_method"),
    ("file:///etc/passwd", "invalid_verification_method"),
    ("https://example.com/key#k\x00", "invalid_verification_method"),
    ("", "invalid_verification_method"),
    (None, "invalid_verification_method"),
])
def test_bad_method_references(vm, code):
    assert raises(lambda: resolve(vm, Fetcher(resolve_host=lambda h, p: ["93.184.216.34"]))) == code


def test_https_key_urls_go_through_the_fetcher_rules():
    fetcher = Fetcher(resolve_host=lambda host, port: ["10.0.0.8"])
    with pytest.raises(KeyResolutionError) as info:
        resolve("https://issuer.example/keys/1", fetcher)
    assert info.value.code == "key_unresolvable" and info.value.details["fetch_error"] == "private_address"
    with pytest.raises(KeyResolutionError) as info:
        resolve("http://issuer.example/keys/1", Fetcher())
    assert info.value.details["fetch_error"] == "scheme_not_allowed"


# --------------------------------------------------------------------------- #
# Binding for DID issuers
# --------------------------------------------------------------------------- #
def test_attacker_did_key_for_a_did_web_issuer(web):
    web.publish(web_document(web.did, ed_key()))
    attacker = ed_key()
    method = resolve(f"{attacker.to_did_key()}#{attacker.to_multibase()}", web.fetcher())
    assert raises(lambda: check_issuer_binding(method, web.did), IssuerBindingError) == "key_not_controlled_by_issuer"


def test_key_only_under_authentication(web):
    key = ed_key()
    web.publish(web_document(web.did, key, assertionMethod=[], authentication=["#key-1"],
                             capabilityInvocation=["#key-1"]))
    method = resolve(web.did + "#key-1", web.fetcher())
    assert method.assertion_methods == ()
    assert raises(lambda: check_issuer_binding(method, web.did), IssuerBindingError) \
        == "method_not_in_assertion_method"
    document = web_document(web.did, key, authentication=["#key-1"])
    del document["assertionMethod"]
    web.publish(document)
    method = resolve(web.did + "#key-1", web.fetcher())
    assert raises(lambda: check_issuer_binding(method, web.did), IssuerBindingError) \
        == "method_not_in_assertion_method"


def test_did_web_key_for_another_did_web_issuer(web):
    web.publish(web_document(web.did, ed_key()))
    method = resolve(web.did + "#key-1", web.fetcher())
    assert raises(lambda: check_issuer_binding(method, "did:web:univ.example"), IssuerBindingError) \
        == "key_not_controlled_by_issuer"
    assert raises(lambda: check_issuer_binding(method, "https://univ.example/issuer"), IssuerBindingError) \
        == "key_not_controlled_by_issuer"
    assert raises(lambda: check_issuer_binding(method, ""), IssuerBindingError) == "key_not_controlled_by_issuer"


# --------------------------------------------------------------------------- #
# https issuers
# --------------------------------------------------------------------------- #
def profile(issuer: str, methods: list, **extra) -> dict:
    document = {"@context": ["https://www.w3.org/ns/credentials/v2",
                             "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
                "id": issuer, "type": "Profile", "name": "HR", "verificationMethod": methods}
    document.update(extra)
    return document


def test_https_profile_with_embedded_keys(https_server):
    issuer = https_server.url("/issuer")
    key = ed_key()
    https_server.set_json("/issuer", profile(issuer, [multikey(issuer + "#key-1", issuer, key)],
                                             assertionMethod=[issuer + "#key-1"]))
    method = resolve(issuer + "#key-1", Fetcher(https_server.policy()))
    assert method.source == "https" and method.controller == issuer
    assert method.assertion_methods == (issuer + "#key-1",)
    check_issuer_binding(method, issuer)


def test_https_profile_without_relationships_no_longer_authorises_its_keys(https_server):
    # issue 11 section 2: once accepted on same origin + controller (the OB 2.0 validator's
    # rule); now the profile must list the key under assertionMethod (or OB 2.0 publicKey)
    issuer = https_server.url("/issuer")
    https_server.set_json("/issuer", profile(issuer, [multikey(issuer + "#key-1", issuer, ed_key())]))
    method = resolve(issuer + "#key-1", Fetcher(https_server.policy()))
    assert method.assertion_methods == () and method.listed_methods == (issuer + "#key-1",)
    assert raises(lambda: check_issuer_binding(method, issuer), IssuerBindingError) == "method_not_in_assertion_method"


def test_https_profile_key_only_under_authentication(https_server):
    issuer = https_server.url("/issuer")
    https_server.set_json("/issuer", profile(issuer, [multikey(issuer + "#key-1", issuer, ed_key())],
                                             authentication=["#key-1"]))
    method = resolve(issuer + "#key-1", Fetcher(https_server.policy()))
    assert raises(lambda: check_issuer_binding(method, issuer), IssuerBindingError) == "method_not_in_assertion_method"


def test_https_key_from_another_origin(https_server, tls_material):
    issuer = https_server.url("/issuer")
    with LoopbackServer(tls=tls_material) as evil:
        evil_doc = evil.url("/issuer")
        evil.set_json("/issuer", profile(evil_doc, [multikey(evil_doc + "#key-1", evil_doc, ed_key())],
                                         assertionMethod=["#key-1"]))
        method = resolve(evil_doc + "#key-1", Fetcher(evil.policy()))
        assert raises(lambda: check_issuer_binding(method, issuer), IssuerBindingError) == "key_from_another_origin"


def test_https_key_of_another_profile_on_the_same_origin(https_server):
    issuer, other = https_server.url("/issuer"), https_server.url("/other")
    https_server.set_json("/other", profile(other, [multikey(other + "#key-1", other, ed_key())],
                                            assertionMethod=["#key-1"]))
    method = resolve(other + "#key-1", Fetcher(https_server.policy()))
    assert raises(lambda: check_issuer_binding(method, issuer), IssuerBindingError) == "key_not_controlled_by_issuer"


def test_https_profile_id_must_be_its_url(https_server):
    issuer = https_server.url("/issuer")
    https_server.set_json("/issuer", profile("https://univ.example/issuer",
                                             [multikey("https://univ.example/issuer#key-1", "https://univ.example/issuer",
                                                       ed_key())]))
    assert raises(lambda: resolve(issuer + "#key-1", Fetcher(https_server.policy()))) == "did_document_mismatch"


def test_https_single_key_document_with_controller(https_server):
    issuer, key_url = https_server.url("/issuer"), https_server.url("/keys/1")
    key = p256_key()
    https_server.set_json("/keys/1", {"id": key_url, "type": "JsonWebKey", "controller": issuer,
                                      "publicKeyJwk": key.to_jwk()})
    https_server.set_json("/issuer", profile(issuer, [], assertionMethod=[key_url]))
    fetcher = Fetcher(https_server.policy())
    method = resolve(key_url, fetcher)
    assert method.controller == issuer and method.assertion_methods == (key_url,)
    assert method.public_key.thumbprint() == key.thumbprint()
    check_issuer_binding(method, issuer)
    assert fetcher.fetch_count == 2
    # the profile lists a different key: this one is not the issuer's at all
    https_server.set_json("/issuer", profile(issuer, [], assertionMethod=[https_server.url("/keys/2")]))
    method = resolve(key_url, Fetcher(https_server.policy()))
    assert raises(lambda: check_issuer_binding(method, issuer), IssuerBindingError) == "key_not_listed_by_issuer"
    # the profile names it, but only for authentication
    https_server.set_json("/issuer", profile(issuer, [], authentication=[key_url]))
    method = resolve(key_url, Fetcher(https_server.policy()))
    assert raises(lambda: check_issuer_binding(method, issuer), IssuerBindingError) == "method_not_in_assertion_method"


def test_https_single_key_document_errors(https_server):
    issuer, key_url = https_server.url("/issuer"), https_server.url("/keys/1")
    key = ed_key()
    policy = https_server.policy()
    https_server.set_json("/keys/1", multikey(https_server.url("/keys/other"), issuer, key))
    assert raises(lambda: resolve(key_url, Fetcher(policy))) == "did_document_mismatch"
    https_server.set_json("/keys/1", {"id": key_url, "type": "Multikey", "publicKeyMultibase": key.to_multibase()})
    assert raises(lambda: resolve(key_url, Fetcher(policy))) == "did_document_mismatch"
    https_server.set_json("/keys/1", multikey(key_url, issuer, key))
    https_server.set("/issuer", b"gone", status=404)
    with pytest.raises(KeyResolutionError) as info:
        resolve(key_url, Fetcher(policy))
    assert info.value.code == "key_unresolvable" and info.value.details["url"] == issuer
    https_server.set_json("/issuer", profile("https://univ.example/issuer", []))
    assert raises(lambda: resolve(key_url, Fetcher(policy))) == "did_document_mismatch"
    # the controller publishes another key under the same id
    https_server.set_json("/issuer", profile(issuer, [multikey(key_url, issuer, ed_key())]))
    assert raises(lambda: resolve(key_url, Fetcher(policy))) == "did_document_mismatch"
    https_server.set_json("/keys/1", {"id": key_url, "controller": issuer})
    assert raises(lambda: resolve(key_url, Fetcher(policy))) == "key_not_found"


def test_https_key_controlled_by_a_did(https_server, web):
    key_url = https_server.url("/keys/1")
    https_server.set_json("/keys/1", multikey(key_url, web.did, ed_key()))
    web.publish({"id": web.did, "assertionMethod": [key_url]})
    method = resolve(key_url, Fetcher(https_server.policy()))
    assert method.controller == web.did and method.assertion_methods == (key_url,)
    check_issuer_binding(method, web.did)


def test_ob2_profile_with_public_key_pem(https_server):
    issuer, key_url = https_server.url("/issuer"), https_server.url("/issuer/key")
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    https_server.set_json("/issuer/key", {"@context": "https://w3id.org/openbadges/v2", "type": "CryptographicKey",
                                          "id": key_url, "owner": issuer, "publicKeyPem": pem})
    https_server.set_json("/issuer", {"@context": "https://w3id.org/openbadges/v2", "type": "Issuer", "id": issuer,
                                      "publicKey": key_url})
    method = resolve(key_url, Fetcher(https_server.policy()))
    assert method.controller == issuer and method.public_key.key_type == P256
    check_issuer_binding(method, issuer)
    # the same key embedded in the profile
    https_server.set_json("/issuer", {"type": "Issuer", "id": issuer, "publicKey": [
        {"type": "CryptographicKey", "id": issuer + "#key", "owner": issuer, "publicKeyPem": pem}]})
    method = resolve(issuer + "#key", Fetcher(https_server.policy()))
    check_issuer_binding(method, issuer)


def test_jwks_kid_resolution(https_server, tls_material):
    k1, k2 = ed_key(), p256_key()
    https_server.set_json("/jwks.json", {"keys": [{**k1.to_jwk(), "kid": "k1"}, {**k2.to_jwk(), "kid": "k2"}]})
    fetcher = Fetcher(https_server.policy())
    method = resolve(https_server.url("/jwks.json#k2"), fetcher)
    assert method.public_key.thumbprint() == k2.thumbprint()
    assert method.controller is None and method.source == "https"  # a JWK Set names no controller
    by_query = resolve(https_server.url("/jwks.json?kid=k1"), Fetcher(https_server.policy()))
    assert by_query.public_key.thumbprint() == k1.thumbprint()
    assert raises(lambda: resolve(https_server.url("/jwks.json#k3"), fetcher)) == "key_not_found"
    assert raises(lambda: resolve(https_server.url("/jwks.json"), fetcher)) == "key_not_found"
    with LoopbackServer(tls=tls_material) as other:
        assert raises(lambda: check_issuer_binding(method, other.url("/issuer")), IssuerBindingError) \
            == "key_from_another_origin"
    https_server.set_json("/dup.json", {"keys": [{**k1.to_jwk(), "kid": "k"}, {**k2.to_jwk(), "kid": "k"}]})
    assert raises(lambda: resolve(https_server.url("/dup.json#k"), fetcher)) == "did_document_mismatch"
    https_server.set_json("/secret.json", {"keys": [{**k1.to_jwk(), "kid": "k", "d": k1.to_jwk()["x"]}]})
    assert raises(lambda: resolve(https_server.url("/secret.json#k"), fetcher)) == "unsupported_key"


def test_binding_of_hand_made_methods():
    key = ed_key()
    issuer = "https://univ.example/issuer"
    ok = ResolvedMethod(issuer + "#k", issuer, key, "https", (issuer + "#k",), (issuer + "#k",))
    check_issuer_binding(ok, issuer)
    unlisted = ResolvedMethod(issuer + "#k", issuer, key, "https")  # once accepted: same origin + controller
    assert raises(lambda: check_issuer_binding(unlisted, issuer), IssuerBindingError) == "key_not_listed_by_issuer"
    jwks = ResolvedMethod("https://univ.example/jwks.json#k", None, key, "https")  # no fetcher: fail closed
    assert raises(lambda: check_issuer_binding(jwks, issuer), IssuerBindingError) == "key_not_listed_by_issuer"
    off = ResolvedMethod("https://evil.example/key", issuer, key, "https")
    assert raises(lambda: check_issuer_binding(off, issuer), IssuerBindingError) == "key_from_another_origin"
    port = ResolvedMethod("https://univ.example:8443/key", issuer, key, "https")
    assert raises(lambda: check_issuer_binding(port, issuer), IssuerBindingError) == "key_from_another_origin"
    downgrade = ResolvedMethod("http://univ.example/key", issuer, key, "https")
    assert raises(lambda: check_issuer_binding(downgrade, issuer), IssuerBindingError) == "key_from_another_origin"
    did_vm = ResolvedMethod(key.to_did_key() + "#" + key.to_multibase(), key.to_did_key(), key, "did:key",
                            (key.to_did_key() + "#" + key.to_multibase(),), True)
    assert raises(lambda: check_issuer_binding(did_vm, issuer), IssuerBindingError) == "key_not_controlled_by_issuer"
    assert raises(lambda: check_issuer_binding(ok, "urn:uuid:1234"), IssuerBindingError) \
        == "key_not_controlled_by_issuer"


# --------------------------------------------------------------------------- #
# VC-JWT headers
# --------------------------------------------------------------------------- #
def test_jwt_jwk_header_for_a_did_key_issuer():
    key = ed_key()
    did = key.to_did_key()
    method = resolve_jwt_key({"alg": "EdDSA", "jwk": key.to_jwk()}, did, Fetcher(offline=True))
    assert method.id == f"{did}#{key.to_multibase()}" and method.source == "did:key"
    attacker = ed_key()
    assert raises(lambda: resolve_jwt_key({"alg": "EdDSA", "jwk": attacker.to_jwk()}, did, Fetcher(offline=True)),
                  IssuerBindingError) == "jwk_not_issuers"


def test_jwt_jwk_header_for_a_did_jwk_issuer():
    key = p256_key()
    did = did_jwk(key.to_jwk())
    method = resolve_jwt_key({"alg": "ES256", "jwk": key.to_jwk()}, did, Fetcher(offline=True))
    assert method.id == did + "#0"


def test_jwt_jwk_header_for_a_did_web_issuer(web):
    published, attacker = ed_key(), ed_key()
    web.publish(web_document(web.did, published))
    assert raises(lambda: resolve_jwt_key({"alg": "EdDSA", "jwk": attacker.to_jwk()}, web.did, web.fetcher()),
                  IssuerBindingError) == "jwk_not_issuers"
    method = resolve_jwt_key({"alg": "EdDSA", "jwk": published.to_jwk()}, web.did, web.fetcher())
    assert method.id == web.did + "#key-1"
    web.publish(web_document(web.did, published, assertionMethod=[], authentication=["#key-1"]))
    assert raises(lambda: resolve_jwt_key({"alg": "EdDSA", "jwk": published.to_jwk()}, web.did, web.fetcher()),
                  IssuerBindingError) == "method_not_in_assertion_method"


def test_jwt_jwk_header_for_an_https_issuer(https_server):
    issuer = https_server.url("/issuer")
    key = ed_key()
    https_server.set_json("/issuer", profile(issuer, [multikey(issuer + "#key-1", issuer, key)],
                                             assertionMethod=["#key-1"]))
    assert resolve_jwt_key({"jwk": key.to_jwk()}, issuer, Fetcher(https_server.policy())).id == issuer + "#key-1"
    assert raises(lambda: resolve_jwt_key({"jwk": ed_key().to_jwk()}, issuer, Fetcher(https_server.policy())),
                  IssuerBindingError) == "jwk_not_issuers"


def test_jwt_jwk_header_with_private_parts():
    key = ed_key()
    jwk = {**key.to_jwk(), "d": key.to_jwk()["x"]}
    assert raises(lambda: resolve_jwt_key({"jwk": jwk}, key.to_did_key(), Fetcher())) == "private_key_in_header"


def test_jwt_kid(web):
    key = ed_key()
    web.publish(web_document(web.did, key))
    assert resolve_jwt_key({"alg": "EdDSA", "kid": "#key-1"}, web.did, web.fetcher()).id == web.did + "#key-1"
    assert resolve_jwt_key({"kid": web.did + "#key-1"}, web.did, web.fetcher()).id == web.did + "#key-1"
    assert resolve_jwt_key({"kid": web.did + "#key-1", "jwk": key.to_jwk()}, web.did, web.fetcher())
    assert raises(lambda: resolve_jwt_key({"kid": web.did + "#key-1", "jwk": ed_key().to_jwk()}, web.did,
                                          web.fetcher()), IssuerBindingError) == "jwk_not_issuers"
    attacker = ed_key()
    attacker_kid = f"{attacker.to_did_key()}#{attacker.to_multibase()}"
    assert raises(lambda: resolve_jwt_key({"kid": attacker_kid}, web.did, web.fetcher()), IssuerBindingError) \
        == "key_not_controlled_by_issuer"


@pytest.mark.parametrize("kid", ["../../keys/issuer.pem", "key-1", "' OR 1=1 --", "x" * 10240, "/etc/passwd",
                                 "file:///etc/passwd", 42])
def test_jwt_hostile_kid(kid):
    key = ed_key()
    assert raises(lambda: resolve_jwt_key({"kid": kid}, key.to_did_key(), Fetcher())) == "invalid_verification_method"


def test_jwt_jku_and_x5u_are_never_fetched(https_server):
    key = ed_key()
    https_server.set_json("/jwks.json", {"keys": [{**key.to_jwk(), "kid": "k"}]})
    header = {"alg": "EdDSA", "jku": https_server.url("/jwks.json"), "x5u": https_server.url("/jwks.json")}
    assert raises(lambda: resolve_jwt_key(header, https_server.url("/issuer"), Fetcher(https_server.policy()))) \
        == "key_not_found"
    assert https_server.total_hits() == 0


def test_key_documents_never_come_from_another_origin(https_server, tls_material):
    issuer, key_url = https_server.url("/issuer"), https_server.url("/keys/1")
    key = ed_key()
    with LoopbackServer(tls=tls_material) as evil:
        # an open redirect on the issuer's site sends the fetch to the attacker, who serves a
        # document claiming the issuer's URLs
        evil.set_json("/keys/1", multikey(key_url, issuer, key))
        https_server.redirect("/keys/1", evil.url("/keys/1"))
        https_server.set_json("/issuer", profile(issuer, [], assertionMethod=[key_url]))
        with pytest.raises(KeyResolutionError) as info:
            resolve(key_url, Fetcher(https_server.policy()))
        assert info.value.code == "key_from_another_origin" and info.value.details["url"] == key_url
        evil.set_json("/.well-known/did.json", web_document(https_server.did_web(), key))
        https_server.redirect("/.well-known/did.json", evil.url("/.well-known/did.json"))
        assert raises(lambda: resolve(https_server.did_web() + "#key-1", Fetcher(https_server.policy()))) \
            == "key_from_another_origin"
    # redirects within the origin are fine
    https_server.set_json("/keys/current", multikey(key_url, issuer, key))
    https_server.redirect("/keys/1", "/keys/current")
    check_issuer_binding(resolve(key_url, Fetcher(https_server.policy())), issuer)
