"""DID resolution: did:web grammar and fetching (loopback HTTPS), did:key, did:jwk."""
from __future__ import annotations

import json

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from tests.http_fixtures import https_server, tls_material  # noqa: F401
from verifier import multiformats as mf
from verifier.did import KeyResolutionError, did_web_url, resolve_did
from verifier.fetcher import Fetcher, FetchError, FetchPolicy
from verifier.keys import ED25519, P256, PublicKey, b64url_encode


def ed_key() -> PublicKey:
    return PublicKey(ED25519, ed25519.Ed25519PrivateKey.generate().public_key())


def p256_key() -> PublicKey:
    return PublicKey(P256, ec.generate_private_key(ec.SECP256R1()).public_key())


def did_jwk(jwk: dict) -> str:
    return "did:jwk:" + b64url_encode(json.dumps(jwk, separators=(",", ":")).encode())


def code_of(call) -> str:
    with pytest.raises(KeyResolutionError) as info:
        call()
    return info.value.code


# --------------------------------------------------------------------------- #
# did:web -> URL
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("did,url", [
    ("did:web:example.com", "https://example.com/.well-known/did.json"),
    ("did:web:example.com:user:alice", "https://example.com/user/alice/did.json"),
    ("did:web:example.com%3A8443", "https://example.com:8443/.well-known/did.json"),
    ("did:web:example.com%3a8443:issuers:hr", "https://example.com:8443/issuers/hr/did.json"),
    ("did:web:hr.example.co.uk:v1.0:a_b-c", "https://hr.example.co.uk/v1.0/a_b-c/did.json"),
    ("did:web:xn--bcher-kva.example", "https://xn--bcher-kva.example/.well-known/did.json"),
    ("did:web:127.0.0.1%3A8443", "https://127.0.0.1:8443/.well-known/did.json"),
    ("did:web:169.254.169.254:latest:meta-data", "https://169.254.169.254/latest/meta-data/did.json"),
])
def test_did_web_url(did, url):
    assert did_web_url(did) == url


@pytest.mark.parametrize("did", [
    "did:web:example.com:..:..:admin", "did:web:example.com:.:x", "did:web:example.com:user:..",
    "did:web:example.com%2Fadmin", "did:web:example.com:a%2Fb", "did:web:user%40example.com",
    "did:web:example.com%3A8443%3A9443", "did:web:example.com%3A", "did:web:example.com%3A0",
    "did:web:example.com%3A99999", "did:web:example.com%3A0443", "did:web:example.com%3Ahttp",
    "did:web:example.com%20", "did:web:example.com%",
    "did:web:example.com::user", "did:web::example.com", "did:web:example.com:", "did:web:",
    "did:web", "did:web:example.com?x=1", "did:web:example.com#frag", "did:web:example.com/path",
    "did:web:Example.com", "did:web:EXAMPLE.COM:user", "did:web:example.com.", "did:web:.example.com",
    "did:web:bücher.example", "did:web:exa_mple.com", "did:web:-example.com", "did:web:example-.com",
    "did:web:2130706433", "did:web:0x7f000001", "did:web:127.1", "did:web:0177.0.0.1",
    "did:web:[::1]", "did:web:a..b", "did:web:example.com:user:alice@evil",
    "did:web:" + "a" * 2100 + ".com", "did:web:" + "a" * 64 + ".com", "did:WEB:example.com",
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", "https://example.com", 42,
])
def test_did_web_grammar_abuse(did):
    assert code_of(lambda: did_web_url(did)) == "invalid_did"


# --------------------------------------------------------------------------- #
# did:web over loopback HTTPS
# --------------------------------------------------------------------------- #
def did_document(did: str, key: PublicKey | None = None) -> dict:
    key = key or ed_key()
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": did,
        "verificationMethod": [{"id": f"{did}#key-1", "type": "Multikey", "controller": did,
                                "publicKeyMultibase": key.to_multibase()}],
        "assertionMethod": ["#key-1"],
    }


def test_did_web_resolves_over_https(https_server):
    did = https_server.did_web()
    https_server.set_json("/.well-known/did.json", did_document(did), content_type="application/did+json")
    document = resolve_did(did, Fetcher(https_server.policy()))
    assert document["id"] == did
    accept = https_server.requests[-1][1]["Accept"]
    assert accept.startswith("application/did+json") and "application/did+ld+json" in accept \
        and "application/json" in accept


def test_did_web_path_based(https_server):
    did = https_server.did_web("users", "alice")
    assert did == f"did:web:127.0.0.1%3A{https_server.port}:users:alice"
    https_server.set_json("/users/alice/did.json", did_document(did))
    assert resolve_did(did, Fetcher(https_server.policy()))["id"] == did
    assert https_server.hits("/.well-known/did.json") == 0


def test_did_web_document_id_must_equal_the_did(https_server):
    did = https_server.did_web()
    https_server.set_json("/.well-known/did.json", did_document("did:web:evil.example"))
    assert code_of(lambda: resolve_did(did, Fetcher(https_server.policy()))) == "did_document_mismatch"
    # two DIDs on one host: the path decides, and each document must name its own DID
    https_server.set_json("/users/bob/did.json", did_document(https_server.did_web("users", "alice")))
    assert code_of(lambda: resolve_did(https_server.did_web("users", "bob"), Fetcher(https_server.policy()))) \
        == "did_document_mismatch"
    https_server.set_json("/.well-known/did.json", [did_document(did)])
    assert code_of(lambda: resolve_did(did, Fetcher(https_server.policy()))) == "did_document_mismatch"


@pytest.mark.parametrize("setup,fetch_error", [
    (lambda s: s.set("/.well-known/did.json", b"gone", status=404), "http_status"),
    (lambda s: s.set("/.well-known/did.json", b"busy", status=500), "http_status"),
    (lambda s: s.set("/.well-known/did.json", b"<html>hello</html>", content_type="text/html"), "not_json"),
    (lambda s: s.set("/.well-known/did.json", b'{"id": 1, "id": 2}'), "not_json"),
    (lambda s: s.huge("/.well-known/did.json", 1 << 20), "too_large"),  # DID documents: 256 KiB
])
def test_did_web_unresolvable(https_server, setup, fetch_error):
    setup(https_server)
    did = https_server.did_web()
    with pytest.raises(KeyResolutionError) as info:
        resolve_did(did, Fetcher(https_server.policy()))
    assert info.value.code == "key_unresolvable"
    assert isinstance(info.value.__cause__, FetchError) and info.value.__cause__.code == fetch_error
    assert info.value.details["url"] == https_server.url("/.well-known/did.json")
    assert info.value.details["fetch_error"] == fetch_error


def test_did_web_slow_host_is_unresolvable_in_bounded_time(https_server):
    https_server.trickle("/.well-known/did.json", interval=0.5)
    with pytest.raises(KeyResolutionError) as info:
        resolve_did(https_server.did_web(), Fetcher(https_server.policy(total_timeout=0.6)))
    assert info.value.code == "key_unresolvable" and info.value.details["fetch_error"] == "timeout"


@pytest.mark.parametrize("did,fetch_error", [
    ("did:web:169.254.169.254:latest:meta-data", "private_address"),
    ("did:web:localhost%3A5432", "port_not_allowed"),
    ("did:web:localhost", "private_address"),
    ("did:web:10.0.0.1", "private_address"),
    ("did:web:127.0.0.1", "private_address"),
])
def test_did_web_ssrf_targets_refused(did, fetch_error):
    with pytest.raises(KeyResolutionError) as info:
        resolve_did(did, Fetcher(resolve_host=lambda host, port: ["127.0.0.1"]))
    assert info.value.code == "key_unresolvable" and info.value.details["fetch_error"] == fetch_error


def test_did_web_name_resolving_to_private_address_refused():
    fetcher = Fetcher(resolve_host=lambda host, port: ["192.168.0.10"])
    with pytest.raises(KeyResolutionError) as info:
        resolve_did("did:web:intranet.example.com", fetcher)
    assert info.value.details["fetch_error"] == "private_address"


def test_did_web_offline_uses_local_documents_only():
    did = "did:web:issuer.example"
    fetcher = Fetcher(offline=True, local_documents={
        "https://issuer.example/.well-known/did.json": json.dumps(did_document(did)).encode()})
    assert resolve_did(did, fetcher)["id"] == did
    with pytest.raises(KeyResolutionError) as info:
        resolve_did("did:web:other.example", fetcher)
    assert info.value.code == "key_unresolvable" and info.value.details["fetch_error"] == "network_forbidden"


def test_did_web_local_document_keyed_by_the_did(https_server):
    # `microcred verify --resolve did:web:...=FILE` keys the document by the DID, not its URL
    did = https_server.did_web()
    https_server.set_json("/.well-known/did.json", did_document("did:web:evil.example"))
    fetcher = Fetcher(https_server.policy(), local_documents={did: json.dumps(did_document(did)).encode()})
    assert resolve_did(did, fetcher)["id"] == did
    assert https_server.total_hits() == 0 and fetcher.fetch_count == 0  # the given document wins; no network
    offline = Fetcher(offline=True, local_documents={"did:web:issuer.example": json.dumps(
        did_document("did:web:issuer.example")).encode()})
    assert resolve_did("did:web:issuer.example", offline)["id"] == "did:web:issuer.example"


@pytest.mark.parametrize("body,code,fetch_error", [
    (json.dumps(did_document("did:web:evil.example")).encode(), "did_document_mismatch", None),
    (json.dumps([did_document("did:web:issuer.example")]).encode(), "did_document_mismatch", None),
    (b'{"id": "did:web:issuer.example", "id": "x"}', "key_unresolvable", "not_json"),
    (b"not json", "key_unresolvable", "not_json"),
    (b'{"id": "' + b"x" * (300 * 1024) + b'"}', "key_unresolvable", "too_large"),
])
def test_did_web_local_document_keyed_by_the_did_is_checked(body, code, fetch_error):
    fetcher = Fetcher(offline=True, local_documents={"did:web:issuer.example": body})
    with pytest.raises(KeyResolutionError) as info:
        resolve_did("did:web:issuer.example", fetcher)
    assert info.value.code == code and info.value.details.get("fetch_error") == fetch_error


def test_verify_credential_with_a_did_keyed_document():
    """``verify_credential(..., documents={DID: document})`` verifies offline (README: --resolve DID=FILE)."""
    from verifier import verify_credential
    from verifier.proofs import eddsa_jcs_2022

    did = "did:web:issuer.example:hr"
    private = ed25519.Ed25519PrivateKey.generate()

    class Signer:
        key_type = ED25519

        def sign(self, data: bytes) -> bytes:
            return private.sign(data)

    document = {"@context": ["https://www.w3.org/ns/did/v1"], "id": did, "assertionMethod": [
        {"id": "#key-1", "type": "Multikey", "controller": did,
         "publicKeyMultibase": PublicKey(ED25519, private.public_key()).to_multibase()}]}
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:3f5c1f0a-8f7e-4a52-9d7a-6b1c0e2d4f10", "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Teamwork", "issuer": {"id": did, "type": ["Profile"], "name": "HR"},
        "validFrom": "2026-01-15T09:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"], "id": "did:example:alex", "achievement": {
            "id": "urn:uuid:a1b2c3d4-0000-4000-8000-00000000beef", "type": ["Achievement"], "name": "Teamwork",
            "description": "Works well in teams.", "criteria": {"narrative": "Peer review."}}},
    }
    credential["proof"] = eddsa_jcs_2022.create_proof(credential, {
        "created": "2026-01-15T09:00:00Z", "verificationMethod": did + "#key-1", "proofPurpose": "assertionMethod"},
        Signer())
    report = verify_credential(credential, offline=True, documents={did: document})
    assert report.outcome == "verified", report
    assert report.check("key").status == "passed" and report.check("issuer_binding").status == "passed"
    # keyed by its URL it works too; keyed by nothing it cannot be checked offline
    url = "https://issuer.example/hr/did.json"
    assert verify_credential(credential, offline=True, documents={url: document}).outcome == "verified"
    assert verify_credential(credential, offline=True).check("key").reason == "key_unresolvable"


# --------------------------------------------------------------------------- #
# did:key and did:jwk (local)
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize("make", [ed_key, p256_key])
def test_did_key(make):
    key = make()
    did = key.to_did_key()
    document = resolve_did(did, Fetcher(offline=True))
    vm_id = f"{did}#{key.to_multibase()}"
    assert document["id"] == did and document["assertionMethod"] == [vm_id]
    assert document["verificationMethod"][0]["publicKeyMultibase"] == key.to_multibase()


def test_did_key_needs_no_network():
    fetcher = Fetcher(FetchPolicy(max_fetches=0), offline=True)
    resolve_did(ed_key().to_did_key(), fetcher)
    assert fetcher.fetch_count == 0


def test_did_key_abuse():
    raw = bytes(range(32))
    assert code_of(lambda: resolve_did("did:key:" + "6Mk" + "a" * 40, Fetcher())) == "invalid_did"  # no 'z'
    assert code_of(lambda: resolve_did("did:key:z", Fetcher())) == "invalid_did"
    assert code_of(lambda: resolve_did("did:key:z0OIl", Fetcher())) == "invalid_did"  # not base58btc
    x25519 = mf.multibase_encode(mf.varint_encode(0xEC) + raw)
    assert code_of(lambda: resolve_did("did:key:" + x25519, Fetcher())) == "unsupported_key"
    short = mf.multibase_encode(mf.varint_encode(0xED) + raw[:31])
    assert code_of(lambda: resolve_did("did:key:" + short, Fetcher())) == "invalid_did"
    private = mf.encode_multikey(mf.ED25519_PRIV, raw)
    assert code_of(lambda: resolve_did("did:key:" + private, Fetcher())) == "unsupported_key"
    p256_uncompressed = mf.multibase_encode(mf.varint_encode(0x1200) + b"\x04" + raw + raw)
    assert code_of(lambda: resolve_did("did:key:" + p256_uncompressed, Fetcher())) == "invalid_did"
    did = ed_key().to_did_key()
    assert code_of(lambda: resolve_did(did + "#" + did[8:], Fetcher())) == "invalid_did"  # not a bare DID


@pytest.mark.parametrize("make", [ed_key, p256_key])
def test_did_jwk(make):
    key = make()
    did = did_jwk(key.to_jwk())
    document = resolve_did(did, Fetcher(offline=True))
    assert document["id"] == did
    assert document["verificationMethod"][0]["id"] == did + "#0"
    assert document["verificationMethod"][0]["publicKeyJwk"] == key.to_jwk()
    assert document["assertionMethod"] == [did + "#0"]


def test_did_jwk_encryption_key_is_not_an_assertion_method():
    did = did_jwk({**p256_key().to_jwk(), "use": "enc"})
    document = resolve_did(did, Fetcher(offline=True))
    assert "assertionMethod" not in document and document["keyAgreement"] == [did + "#0"]


def test_did_jwk_abuse():
    key_jwk = ed_key().to_jwk()
    assert code_of(lambda: resolve_did(did_jwk({**key_jwk, "d": key_jwk["x"]}), Fetcher())) == "unsupported_key"
    assert code_of(lambda: resolve_did(did_jwk({"kty": "oct", "k": "AAAA"}), Fetcher())) == "unsupported_key"
    assert code_of(lambda: resolve_did(did_jwk({"kty": "OKP", "crv": "X25519", "x": key_jwk["x"]}), Fetcher())) \
        == "unsupported_key"
    assert code_of(lambda: resolve_did("did:jwk:" + b64url_encode(b"not json"), Fetcher())) == "invalid_did"
    assert code_of(lambda: resolve_did("did:jwk:" + b64url_encode(b"[1]"), Fetcher())) == "invalid_did"
    assert code_of(lambda: resolve_did("did:jwk:eyJ=", Fetcher())) == "invalid_did"
    dup = b'{"kty":"OKP","crv":"Ed25519","x":"' + key_jwk["x"].encode() + b'","x":"AAAA"}'
    assert code_of(lambda: resolve_did("did:jwk:" + b64url_encode(dup), Fetcher())) == "invalid_did"


@pytest.mark.parametrize("did", ["did:example:123", "did:ion:EiAbc", "did:ethr:0xabc", "did:peer:2.Ez6"])
def test_unsupported_methods(did):
    assert code_of(lambda: resolve_did(did, Fetcher())) == "unsupported_did_method"


@pytest.mark.parametrize("did", ["did:", "did:web", "web:example.com", "did:key:", "did:Key:z6Mk", "", None,
                                 "did:key:z6Mk?x=1", "did:key:z6Mk/path"])
def test_malformed_dids(did):
    assert code_of(lambda: resolve_did(did, Fetcher())) == "invalid_did"
