"""Tests for verifier.multiformats and verifier.keys (public keys only)."""
from __future__ import annotations

import json
from pathlib import Path

import base58
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from verifier import multiformats as mf
from verifier.errors import KeyFormatError, KeyTypeMismatchError
from verifier.keys import (
    PublicKey,
    b64url_decode,
    b64url_encode,
    did_key_document,
    public_key_from_did_key,
    public_key_from_jwk,
    public_key_from_multibase,
)

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
VECTORS = SHARED / "spec" / "vectors"

# did:key method spec test vectors (w3c-ccg/did-method-key)
P256_DID = "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169"
P256_JWK = {
    "kty": "EC",
    "crv": "P-256",
    "x": "fyNYMN0976ci7xqiSdag3buk-ZCwgXU4kz9XNkBlNUI",
    "y": "hW2ojTNfH7Jbi8--CJUo3OCbH3y5n91g-IMA9MLMbTU",
}
RSA_DID = (
    "did:key:z4MXj1wBzi9jUstyPMS4jQqB6KdJaiatPkAtVtGc6bQEQEEsKTic4G7Rou3iBf9vPmT5dbkm9qsZsuVNjq8HCuW1w24nhBFGkRE4cd2Uf2tfrB3N7h4mnyPp1BF3ZttHTYv3DLUPi1zMdkULiow3M1GfXkoC6DoxDUm1jmN6GBj22SjVsr6dxezRVQc7aj9TxE7JLbMH1wh5X3kA58H3DFW8rnYMakFGbca5CB2Jf6CnGQZmL7o5uJAdTwXfy2iiiyPxXEGerMhHwhjTA1mKYobyk2CpeEcmvynADfNZ5MBvcCS7m3XkFCMNUYBS9NQ3fze6vMSUPsNa6GVYmKx2x6JrdEjCk3qRMMmyjnjCMfR4pXbRMZa3i"
)
# RFC 8037 appendix A.1/A.3: Ed25519 public JWK and its RFC 7638 thumbprint
RFC8037_JWK = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
RFC8037_THUMBPRINT = "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def _public(key_type: str) -> PublicKey:
    if key_type == "Ed25519":
        return PublicKey("Ed25519", ed25519.Ed25519PrivateKey.generate().public_key())
    if key_type == "P-256":
        return PublicKey("P-256", ec.generate_private_key(ec.SECP256R1()).public_key())
    return PublicKey("RSA", rsa.generate_private_key(65537, 2048).public_key())


@pytest.fixture(scope="module", params=["Ed25519", "P-256", "RSA"])
def public(request) -> PublicKey:
    return _public(request.param)


def _shared_json(*parts: str) -> dict:
    path = VECTORS.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared spec vectors not available: {path} is missing")
    return json.loads(path.read_text())


# --- multiformats ---------------------------------------------------------------------------


@pytest.mark.parametrize("number,encoded", [(0, b"\x00"), (0x7F, b"\x7f"), (0xED, b"\xed\x01"),
                                            (0x1200, b"\x80\x24"), (0x1306, b"\x86\x26")])
def test_varint_round_trip(number: int, encoded: bytes) -> None:
    assert mf.varint_encode(number) == encoded
    assert mf.varint_decode(encoded + b"rest") == (number, len(encoded))


def test_varint_rejects_non_minimal_and_truncated() -> None:
    with pytest.raises(KeyFormatError, match="minimal"):
        mf.varint_decode(b"\xed\x81\x00")
    with pytest.raises(KeyFormatError, match="truncated"):
        mf.varint_decode(b"\xed")


def test_multibase_round_trip() -> None:
    data = b"\x00\x00hello"
    encoded = mf.multibase_encode(data)
    assert encoded == "z11" + base58.b58encode(b"hello").decode()
    assert mf.multibase_decode(encoded) == data


@pytest.mark.parametrize("value,message", [
    ("", "non-empty"),
    ("uAAAA", "only 'z'"),
    ("z", "no data"),
    ("z0OIl", "base58btc"),
])
def test_multibase_decode_rejects(value: str, message: str) -> None:
    with pytest.raises(KeyFormatError, match=message) as info:
        mf.multibase_decode(value)
    assert info.value.code == "invalid_key"


def test_multicodec_prefixes_match_the_multikey_spec() -> None:
    assert mf.encode_multikey(mf.ED25519_PUB, bytes(32)).startswith("z6Mk")
    assert mf.encode_multikey(mf.P256_PUB, b"\x02" + bytes(32)).startswith("zDn")
    assert mf.encode_multikey(mf.ED25519_PRIV, bytes(32)).startswith("z3u2")
    assert mf.decode_multikey(mf.encode_multikey(mf.P256_PRIV, b"\x01" * 32)) == (mf.P256_PRIV, b"\x01" * 32)


# --- round trips ----------------------------------------------------------------------------


def test_multibase_jwk_did_key_round_trip(public: PublicKey) -> None:
    multibase = public.to_multibase()
    prefix = {"Ed25519": "z6Mk", "P-256": "zDn", "RSA": "z"}[public.key_type]
    assert multibase.startswith(prefix)
    from_multibase = public_key_from_multibase(multibase)
    from_jwk = public_key_from_jwk(public.to_jwk())
    from_did = public_key_from_did_key(public.to_did_key())
    for key in (from_multibase, from_jwk, from_did):
        assert key.key_type == public.key_type
        assert key.to_jwk() == public.to_jwk()
        assert key.to_multibase() == multibase
    assert public.to_did_key() == "did:key:" + multibase


def test_jwk_members(public: PublicKey) -> None:
    jwk = public.to_jwk()
    expected = {"Ed25519": {"kty", "crv", "x"}, "P-256": {"kty", "crv", "x", "y"}, "RSA": {"kty", "n", "e"}}
    assert set(jwk) == expected[public.key_type]
    if public.key_type == "P-256":
        assert len(b64url_decode(jwk["x"])) == len(b64url_decode(jwk["y"])) == 32


def test_did_key_vectors_p256_and_rsa() -> None:
    p256 = public_key_from_did_key(P256_DID)
    assert p256.key_type == "P-256"
    assert p256.to_jwk() == P256_JWK
    assert public_key_from_jwk(P256_JWK).to_did_key() == P256_DID
    rsa_key = public_key_from_did_key(RSA_DID)
    assert (rsa_key.key_type, rsa_key.key.key_size, rsa_key.to_jwk()["e"]) == ("RSA", 2048, "AQAB")
    assert rsa_key.to_did_key() == RSA_DID


def test_rfc8037_vector_and_thumbprint() -> None:
    key = public_key_from_jwk(RFC8037_JWK)
    assert key.thumbprint() == RFC8037_THUMBPRINT
    assert key.to_jwk() == RFC8037_JWK


def test_shared_ed25519_public_vectors_parse() -> None:
    pairs = [_shared_json("keyPair.json"), *_shared_json("proof-set-chain", "multiKeyPairs.json").values()]
    for pair in pairs:
        key = public_key_from_multibase(pair["publicKeyMultibase"])
        assert key.key_type == "Ed25519"
        assert key.to_multibase() == pair["publicKeyMultibase"]


# --- did:key --------------------------------------------------------------------------------


def test_did_key_with_fragment() -> None:
    multibase = P256_DID.removeprefix("did:key:")
    assert public_key_from_did_key(f"{P256_DID}#{multibase}").to_jwk() == P256_JWK
    other = _public("Ed25519").to_multibase()
    with pytest.raises(KeyFormatError, match="does not match"):
        public_key_from_did_key(f"{P256_DID}#{other}")
    with pytest.raises(KeyFormatError, match="does not match"):
        public_key_from_did_key(f"{P256_DID}#")


@pytest.mark.parametrize("value", ["did:web:example.com", "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2", None])
def test_not_a_did_key(value) -> None:
    with pytest.raises(KeyFormatError, match="not a did:key"):
        public_key_from_did_key(value)


def test_did_key_document() -> None:
    multibase = P256_DID.removeprefix("did:key:")
    vm_id = f"{P256_DID}#{multibase}"
    assert did_key_document(P256_DID) == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": P256_DID,
        "verificationMethod": [
            {"id": vm_id, "type": "Multikey", "controller": P256_DID, "publicKeyMultibase": multibase}
        ],
        "assertionMethod": [vm_id],
        "authentication": [vm_id],
        "capabilityInvocation": [vm_id],
        "capabilityDelegation": [vm_id],
    }
    with pytest.raises(KeyFormatError, match="fragment"):
        did_key_document(vm_id)
    with pytest.raises(KeyFormatError):
        did_key_document("did:key:z6MkBAD")


# --- verify ---------------------------------------------------------------------------------


def test_verify_with_known_signatures() -> None:
    private = ed25519.Ed25519PrivateKey.generate()
    public = PublicKey("Ed25519", private.public_key())
    signature = private.sign(b"message")
    assert public.verify(signature, b"message") is True
    assert public.verify(signature, b"messagf") is False
    assert public.verify(signature[:-1], b"message") is False
    assert public.verify(b"", b"message") is False


def test_p256_verify_needs_raw_r_s() -> None:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

    private = ec.generate_private_key(ec.SECP256R1())
    public = PublicKey("P-256", private.public_key())
    der = private.sign(b"data", ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert public.verify(raw, b"data") is True
    assert public.verify(der, b"data") is False  # DER is not the JOSE/DI format
    assert public.verify(raw, b"date") is False
    assert public.verify(bytes(64), b"data") is False


# --- invalid input --------------------------------------------------------------------------


def test_unknown_codec_rejected() -> None:
    secp256k1 = mf.multibase_encode(mf.varint_encode(0xE7) + b"\x02" + bytes(32))
    with pytest.raises(KeyFormatError, match="unknown or unsupported multicodec 0xe7") as info:
        public_key_from_multibase(secp256k1)
    assert info.value.code == "invalid_key"


@pytest.mark.parametrize("codec,length", [(mf.ED25519_PUB, 31), (mf.ED25519_PUB, 33), (mf.P256_PUB, 65)])
def test_wrong_length_rejected(codec: str, length: int) -> None:
    value = mf.multibase_encode(mf.varint_encode(mf.CODECS[codec]) + b"\x02" * length)
    with pytest.raises(KeyFormatError, match=f"got {length}"):
        public_key_from_multibase(value)


def test_private_codec_is_not_a_public_key() -> None:
    value = mf.encode_multikey(mf.ED25519_PRIV, bytes(32))
    with pytest.raises(KeyFormatError, match="private key codec"):
        public_key_from_multibase(value)


def test_p256_point_not_on_curve_rejected() -> None:
    with pytest.raises(KeyFormatError, match="not a valid key"):
        public_key_from_multibase(mf.encode_multikey(mf.P256_PUB, b"\x02" + b"\xff" * 32))
    bad = dict(P256_JWK, y=P256_JWK["x"])
    with pytest.raises(KeyFormatError, match="not a valid EC public key"):
        public_key_from_jwk(bad)


def test_p256_uncompressed_multikey_rejected() -> None:
    point = public_key_from_jwk(P256_JWK).key.public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    with pytest.raises(KeyFormatError):
        public_key_from_multibase(mf.multibase_encode(mf.varint_encode(0x1200) + point))


def test_rsa_multikey_must_be_pkcs1() -> None:
    key = rsa.generate_private_key(65537, 2048).public_key()
    spki = key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    with pytest.raises(KeyFormatError, match="PKCS#1"):
        public_key_from_multibase(mf.encode_multikey(mf.RSA_PUB, spki))


def test_rsa_1024_rejected() -> None:
    weak = rsa.generate_private_key(65537, 1024).public_key()
    numbers = weak.public_numbers()
    jwk = {"kty": "RSA", "n": b64url_encode(numbers.n.to_bytes(128, "big")), "e": "AQAB"}
    with pytest.raises(KeyFormatError, match="1024 bits") as info:
        public_key_from_jwk(jwk)
    assert info.value.code == "weak_key"
    der = weak.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.PKCS1)
    with pytest.raises(KeyFormatError) as info:
        public_key_from_multibase(mf.encode_multikey(mf.RSA_PUB, der))
    assert info.value.code == "weak_key"


@pytest.mark.parametrize("member", ["d", "p", "k"])
def test_private_jwk_rejected(member: str) -> None:
    with pytest.raises(KeyFormatError, match="private key members") as info:
        public_key_from_jwk(dict(RFC8037_JWK, **{member: "AAAA"}))
    assert info.value.code == "private_key_material"


@pytest.mark.parametrize("jwk,message", [
    ({"kty": "oct", "k": "c2VjcmV0"}, "private key members"),
    ({"kty": "oct"}, "unsupported JWK key type 'oct'"),
    ({"kty": "EC", "crv": "P-384", "x": "AA", "y": "AA"}, "unsupported EC curve"),
    ({"kty": "OKP", "crv": "X25519", "x": RFC8037_JWK["x"]}, "unsupported OKP curve"),
    (dict(RFC8037_JWK, x=RFC8037_JWK["x"] + "="), "base64url"),
    (dict(RFC8037_JWK, x=RFC8037_JWK["x"][:-1]), "base64url"),
    (dict(RFC8037_JWK, x="AAAA"), "32 bytes"),
    ({"kty": "EC", "crv": "P-256", "x": P256_JWK["x"]}, "missing 'y'"),
    ("not a dict", "JSON object"),
])
def test_bad_jwk_rejected(jwk, message: str) -> None:
    with pytest.raises(KeyFormatError, match=message):
        public_key_from_jwk(jwk)


def test_jwk_alg_must_fit_key_type() -> None:
    assert public_key_from_jwk(dict(P256_JWK, alg="ES256")).key_type == "P-256"
    with pytest.raises(KeyTypeMismatchError) as info:
        public_key_from_jwk(dict(P256_JWK, alg="EdDSA"))
    assert info.value.code == "key_type_mismatch"


def test_public_key_checks_its_object() -> None:
    with pytest.raises(KeyTypeMismatchError):
        PublicKey("Ed25519", ec.generate_private_key(ec.SECP256R1()).public_key())
    with pytest.raises(KeyTypeMismatchError, match="secp384r1"):
        PublicKey("P-256", ec.generate_private_key(ec.SECP384R1()).public_key())
    with pytest.raises(KeyFormatError, match="unsupported key type"):
        PublicKey("DSA", None)
