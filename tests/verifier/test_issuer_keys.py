"""Issue 11 section 2: the issuer's keys are the issuer's, and the verdict names the issuer in full.

An https issuer's key counts only when the issuer's own profile lists it for issuing
(``assertionMethod``, or OB 2.0 ``publicKey``); being on the issuer's host is not enough.
Every attack below is a file an attacker can put on the issuer's host (an upload folder, a
user directory) next to a real issuer profile. Loopback HTTPS only.
"""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from tests.http_fixtures import LoopbackServer, https_server, tls_material  # noqa: F401
from verifier import verify_credential
from verifier.did import KeyResolutionError
from verifier.fetcher import Fetcher
from verifier.identity import MAX_IDENTITY_LENGTH, proven_identity
from verifier.key_resolution import (
    IssuerBindingError,
    check_issuer_binding,
    resolve_jwt_key,
    resolve_verification_method,
)
from verifier.keys import ED25519, P256, PublicKey
from verifier.proofs import eddsa_jcs_2022

OB_CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]


class Ed25519Signer:
    key_type = ED25519

    def __init__(self) -> None:
        self._private = ed25519.Ed25519PrivateKey.generate()
        self.public = PublicKey(ED25519, self._private.public_key())

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)


def ed_key() -> PublicKey:
    return Ed25519Signer().public


def p256_key() -> PublicKey:
    return PublicKey(P256, ec.generate_private_key(ec.SECP256R1()).public_key())


def multikey(vm_id: str, controller: str, key: PublicKey) -> dict:
    return {"id": vm_id, "type": "Multikey", "controller": controller, "publicKeyMultibase": key.to_multibase()}


def profile(issuer: str, **members) -> dict:
    return {"@context": OB_CONTEXTS, "id": issuer, "type": "Profile", "name": "University HR", **members}


def jwk_set(*keys: tuple[str, PublicKey]) -> dict:
    return {"keys": [{**key.to_jwk(), "kid": kid} for kid, key in keys]}


def binding_code(method, issuer, fetcher) -> str:
    with pytest.raises(IssuerBindingError) as info:
        check_issuer_binding(method, issuer, fetcher)
    return info.value.code


@pytest.fixture
def host(https_server):
    """The issuer's host: a real profile at /issuer listing its own key, and room for uploads."""
    issuer = https_server.url("/issuer")
    own = ed_key()
    https_server.set_json("/issuer", profile(issuer, assertionMethod=[multikey("#key-1", issuer, own)]))

    class Host:
        pass

    h = Host()
    h.server, h.issuer, h.own = https_server, issuer, own
    h.fetcher = lambda: Fetcher(https_server.policy())
    return h


# --------------------------------------------------------------------------- #
# Attacks: refused
# --------------------------------------------------------------------------- #
def test_jwk_set_at_another_path_of_the_issuers_host_is_refused(host):
    attacker = ed_key()
    host.server.set_json("/uploads/jwks.json", jwk_set(("k", attacker)))
    vm = host.server.url("/uploads/jwks.json#k")
    fetcher = host.fetcher()
    method = resolve_verification_method(vm, fetcher)
    assert method.controller is None  # a JWK Set names no owner; the origin is not one
    assert binding_code(method, host.issuer, fetcher) == "key_not_listed_by_issuer"
    assert binding_code(method, host.issuer, None) == "key_not_listed_by_issuer"  # not consulted: fail closed
    with pytest.raises(IssuerBindingError) as info:
        resolve_jwt_key({"alg": "EdDSA", "kid": vm}, host.issuer, host.fetcher())
    assert info.value.code == "key_not_listed_by_issuer"
    # the well-known path is no better than an upload folder if the profile does not point to it
    host.server.set_json("/.well-known/jwks.json", jwk_set(("k", attacker)))
    method = resolve_verification_method(host.server.url("/.well-known/jwks.json#k"), fetcher)
    assert binding_code(method, host.issuer, fetcher) == "key_not_listed_by_issuer"


def test_bare_jwk_set_url_in_the_profile_does_not_authorise_the_whole_set(host):
    jwks_url = host.server.url("/.well-known/jwks.json")
    host.server.set_json("/.well-known/jwks.json", jwk_set(("k", ed_key())))
    host.server.set_json("/issuer", profile(host.issuer, assertionMethod=[jwks_url], jwks_uri=jwks_url))
    fetcher = host.fetcher()
    method = resolve_verification_method(jwks_url + "#k", fetcher)
    assert binding_code(method, host.issuer, fetcher) == "key_not_listed_by_issuer"


def test_attacker_uploaded_key_file_naming_the_issuer_as_controller_is_refused(host):
    attacker = ed_key()
    key_url = host.server.url("/uploads/key.json")
    host.server.set_json("/uploads/key.json", multikey(key_url, host.issuer, attacker))
    method = resolve_verification_method(key_url, host.fetcher())
    assert method.controller == host.issuer  # it claims the issuer ...
    assert binding_code(method, host.issuer, None) == "key_not_listed_by_issuer"  # ... the issuer does not claim it
    # OB 2.0 flavour: a CryptographicKey naming the issuer as owner, next to a publicKey profile
    pem = attacker.key.public_bytes(serialization.Encoding.PEM,
                                    serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    host.server.set_json("/uploads/key.json", {"type": "CryptographicKey", "id": key_url, "owner": host.issuer,
                                               "publicKeyPem": pem})
    host.server.set_json("/issuer", {"@context": "https://w3id.org/openbadges/v2", "type": "Issuer",
                                     "id": host.issuer, "publicKey": host.server.url("/issuer/key")})
    method = resolve_verification_method(key_url, host.fetcher())
    assert binding_code(method, host.issuer, None) == "key_not_listed_by_issuer"


def test_profile_without_any_relationship_no_longer_vouches_for_same_origin_keys(host):
    attacker = ed_key()
    key_url = host.server.url("/uploads/key.json")
    host.server.set_json("/uploads/key.json", multikey(key_url, host.issuer, attacker))
    host.server.set_json("/issuer", profile(host.issuer))  # names no keys at all
    method = resolve_verification_method(key_url, host.fetcher())
    assert binding_code(method, host.issuer, None) == "key_not_listed_by_issuer"


@pytest.mark.parametrize("relationship", ["authentication", "capabilityInvocation", "keyAgreement"])
def test_key_listed_only_under_another_relationship_is_refused(host, relationship):
    key = ed_key()
    issuer = host.issuer
    host.server.set_json("/issuer", profile(issuer, verificationMethod=[multikey("#key-1", issuer, key)],
                                            **{relationship: ["#key-1"]}))
    method = resolve_verification_method(issuer + "#key-1", host.fetcher())
    assert binding_code(method, issuer, None) == "method_not_in_assertion_method"
    # the same for a JWK Set key the profile points to for authentication only
    jwks_url = host.server.url("/.well-known/jwks.json")
    host.server.set_json("/.well-known/jwks.json", jwk_set(("k", key)))
    host.server.set_json("/issuer", profile(issuer, **{relationship: [jwks_url + "#k"]}))
    fetcher = host.fetcher()
    method = resolve_verification_method(jwks_url + "#k", fetcher)
    assert binding_code(method, issuer, fetcher) == "method_not_in_assertion_method"


def test_key_of_a_user_profile_on_the_same_host_is_not_the_universitys(host):
    mallory = host.server.url("/~mallory/issuer")
    key = ed_key()
    host.server.set_json("/~mallory/issuer", profile(mallory, assertionMethod=[multikey("#key-1", mallory, key)]))
    method = resolve_verification_method(mallory + "#key-1", host.fetcher())
    check_issuer_binding(method, mallory)  # mallory's own key, for mallory's own badges
    assert binding_code(method, host.issuer, None) == "key_not_controlled_by_issuer"


def test_jwk_set_key_disagreeing_with_the_profile_is_refused(host):
    jwks_url = host.server.url("/.well-known/jwks.json")
    host.server.set_json("/.well-known/jwks.json", jwk_set(("k", ed_key())))
    # the profile defines the same id with another key
    host.server.set_json("/issuer", profile(host.issuer, assertionMethod=[multikey(jwks_url + "#k", host.issuer,
                                                                                   ed_key())]))
    fetcher = host.fetcher()
    method = resolve_verification_method(jwks_url + "#k", fetcher)
    with pytest.raises(KeyResolutionError) as info:
        check_issuer_binding(method, host.issuer, fetcher)
    assert info.value.code == "did_document_mismatch"


def test_issuer_profile_consulted_for_a_jwk_set_must_be_the_issuers(host, tls_material):
    jwks_url = host.server.url("/.well-known/jwks.json")
    host.server.set_json("/.well-known/jwks.json", jwk_set(("k", ed_key())))
    fetcher = host.fetcher()
    method = resolve_verification_method(jwks_url + "#k", fetcher)
    # a profile claiming another id
    host.server.set_json("/issuer", profile("https://univ.example/issuer", assertionMethod=[jwks_url + "#k"]))
    with pytest.raises(KeyResolutionError) as info:
        check_issuer_binding(method, host.issuer, host.fetcher())
    assert info.value.code == "did_document_mismatch"
    # a profile served after an open redirect to the attacker's site
    with LoopbackServer(tls=tls_material) as evil:
        evil.set_json("/issuer", profile(host.issuer, assertionMethod=[jwks_url + "#k"]))
        host.server.redirect("/issuer", evil.url("/issuer"))
        with pytest.raises(KeyResolutionError) as info:
            check_issuer_binding(method, host.issuer, host.fetcher())
        assert info.value.code == "key_from_another_origin"
    # the profile is gone: the key cannot be checked
    host.server.set("/issuer", b"gone", status=404)
    with pytest.raises(KeyResolutionError) as info:
        check_issuer_binding(method, host.issuer, host.fetcher())
    assert info.value.code == "key_unresolvable"


# --------------------------------------------------------------------------- #
# Legitimate forms: accepted
# --------------------------------------------------------------------------- #
def test_profile_with_an_embedded_multikey_under_assertion_method(host):
    fetcher = host.fetcher()
    method = resolve_verification_method(host.issuer + "#key-1", fetcher)
    assert method.public_key.thumbprint() == host.own.thumbprint()
    check_issuer_binding(method, host.issuer)  # read from the issuer's own profile: no second fetch
    check_issuer_binding(method, host.issuer, fetcher)
    assert fetcher.fetch_count == 1


def test_profile_with_a_json_web_key_referenced_from_assertion_method(host):
    key = p256_key()
    issuer = host.issuer
    host.server.set_json("/issuer", profile(issuer, verificationMethod=[
        {"id": "#key-2", "type": "JsonWebKey", "controller": issuer, "publicKeyJwk": key.to_jwk()}],
        assertionMethod=["#key-2"]))
    method = resolve_verification_method(issuer + "#key-2", host.fetcher())
    assert method.public_key.key_type == P256
    check_issuer_binding(method, issuer)


def test_ob2_profile_with_public_key(host):
    issuer, key_url = host.issuer, host.server.url("/issuer/key")
    private = ec.generate_private_key(ec.SECP256R1())
    pem = private.public_key().public_bytes(serialization.Encoding.PEM,
                                            serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    ob2 = {"@context": "https://w3id.org/openbadges/v2", "type": "Issuer", "id": issuer}
    # by reference: a CryptographicKey document whose owner is the issuer
    host.server.set_json("/issuer/key", {"@context": "https://w3id.org/openbadges/v2", "type": "CryptographicKey",
                                         "id": key_url, "owner": issuer, "publicKeyPem": pem})
    host.server.set_json("/issuer", {**ob2, "publicKey": key_url})
    check_issuer_binding(resolve_verification_method(key_url, host.fetcher()), issuer)
    # embedded in the profile
    host.server.set_json("/issuer", {**ob2, "publicKey": [{"type": "CryptographicKey", "id": issuer + "#key",
                                                           "owner": issuer, "publicKeyPem": pem}]})
    check_issuer_binding(resolve_verification_method(issuer + "#key", host.fetcher()), issuer)


def test_jwk_set_pointed_to_by_the_profile(host):
    jwks_url = host.server.url("/.well-known/jwks.json")
    k1, k2 = ed_key(), p256_key()
    host.server.set_json("/.well-known/jwks.json", jwk_set(("k1", k1), ("k2", k2)))
    host.server.set_json("/issuer", profile(host.issuer, assertionMethod=[jwks_url + "#k1"]))
    fetcher = host.fetcher()
    method = resolve_verification_method(jwks_url + "#k1", fetcher)
    check_issuer_binding(method, host.issuer, fetcher)
    assert fetcher.fetch_count == 2  # the JWK Set, then the issuer's profile
    assert resolve_jwt_key({"alg": "EdDSA", "kid": jwks_url + "#k1"}, host.issuer, host.fetcher()).id \
        == jwks_url + "#k1"
    # only the key the profile lists: its neighbour in the set is not authorised
    other = resolve_verification_method(jwks_url + "#k2", fetcher)
    assert binding_code(other, host.issuer, fetcher) == "key_not_listed_by_issuer"
    # the ?kid= form counts when the profile lists exactly that URL
    host.server.set_json("/issuer", profile(host.issuer, assertionMethod=[jwks_url + "?kid=k2"]))
    fetcher = host.fetcher()
    check_issuer_binding(resolve_verification_method(jwks_url + "?kid=k2", fetcher), host.issuer, fetcher)


# --------------------------------------------------------------------------- #
# End to end through verify_credential
# --------------------------------------------------------------------------- #
def signed_credential(issuer: str, vm: str, signer: Ed25519Signer) -> dict:
    credential = {
        "@context": OB_CONTEXTS, "id": "urn:uuid:3f5c1f0a-8f7e-4a52-9d7a-6b1c0e2d4f10",
        "type": ["VerifiableCredential", "OpenBadgeCredential"], "name": "Teamwork",
        "issuer": {"id": issuer, "type": ["Profile"], "name": "University HR"}, "validFrom": "2026-01-15T09:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"], "id": "did:example:alex", "achievement": {
            "id": "urn:uuid:a1b2c3d4-0000-4000-8000-00000000beef", "type": ["Achievement"], "name": "Teamwork",
            "description": "Works well in teams.", "criteria": {"narrative": "Peer review."}}},
    }
    credential["proof"] = eddsa_jcs_2022.create_proof(
        credential, {"created": "2026-01-15T09:00:00Z", "verificationMethod": vm, "proofPurpose": "assertionMethod"},
        signer)
    return credential


def test_verify_credential_refuses_an_uploaded_jwk_set_signing_for_the_issuer(host):
    attacker = Ed25519Signer()
    host.server.set_json("/uploads/jwks.json", jwk_set(("k", attacker.public)))
    credential = signed_credential(host.issuer, host.server.url("/uploads/jwks.json#k"), attacker)
    report = verify_credential(credential, policy=host.server.policy())
    assert report.outcome == "not_verified"
    assert (report.check("issuer_binding").status, report.check("issuer_binding").reason) \
        == ("failed", "key_not_listed_by_issuer")


def test_verify_credential_accepts_the_issuers_listed_key(host):
    signer = Ed25519Signer()
    host.server.set_json("/issuer", profile(host.issuer, assertionMethod=[multikey("#key-1", host.issuer,
                                                                                   signer.public)]))
    report = verify_credential(signed_credential(host.issuer, host.issuer + "#key-1", signer),
                               policy=host.server.policy())
    assert report.outcome == "verified", report


# --------------------------------------------------------------------------- #
# The verdict names the issuer in full
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("issuer_id,shown", [
    ("https://univ.example/~mallory/issuer", "https://univ.example/~mallory/issuer"),
    ("https://univ.example/issuer", "https://univ.example/issuer"),
    ("https://univ.example/", "https://univ.example/"),
    ("https://univ.example:8443/issuer?tenant=hr#me", "https://univ.example:8443/issuer?tenant=hr#me"),
    ("did:web:univ.example", "did:web:univ.example (univ.example)"),
    ("did:web:univ.example:people:alice", "did:web:univ.example:people:alice (univ.example/people/alice)"),
    ("did:web:localhost%3A5000", "did:web:localhost%3A5000 (localhost:5000)"),
    ("did:web:Univ.example", "did:web:Univ.example"),  # not a valid did:web: shown as itself, not decoded
    ("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
     "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
    ("https://univ.example/<b>HR</b>", "https://univ.example/<b>HR</b>"),  # escaping is the page's job
])
def test_proven_identity(issuer_id, shown):
    assert proven_identity(issuer_id) == shown


def test_proven_identity_never_shortens_an_https_issuer_to_its_host():
    assert "~mallory" in proven_identity("https://univ.example/~mallory/issuer")
    assert proven_identity("https://univ.example/~mallory/issuer") != "univ.example"


def test_proven_identity_makes_invisible_characters_visible():
    # a right-to-left override would make ".../evil\u202elanigiro" display as something else
    assert proven_identity("https://univ.example/x\u202eevil") == "https://univ.example/x\\u202eevil"
    assert proven_identity("https://univ.example/a\u200bb") == "https://univ.example/a\\u200bb"
    assert proven_identity("https://univ.example/é") == "https://univ.example/é"


def test_proven_identity_is_bounded_and_keeps_both_ends():
    long_id = "https://univ.example/" + "a" * 1000 + "/issuer"
    shown = proven_identity(long_id)
    assert len(shown) == MAX_IDENTITY_LENGTH and "…" in shown
    assert shown.startswith("https://univ.example/aaa") and shown.endswith("aaa/issuer")


@pytest.mark.parametrize("bad,error", [("", ValueError), (None, TypeError), (42, TypeError)])
def test_proven_identity_misuse(bad, error):
    with pytest.raises(error):
        proven_identity(bad)
