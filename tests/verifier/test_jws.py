"""Tests for verifier.jws: strict compact-JWS parsing and verification.

Hostile tokens are crafted by hand (base64url of our own header/payload) so each
rejection path is exercised with exactly one thing wrong.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwcrypto.jwe import JWE
from jwcrypto.jwk import JWK
from jwcrypto.jws import JWS

from verifier.errors import JwsError, KeyTypeMismatchError
from verifier.jws import ALLOWED_ALGS, parse_compact_jws, verify_compact_jws

PAYLOAD = {"iss": "https://example.com/issuers/1", "name": "Teamwork Badge"}


# --------------------------------------------------------------------------- helpers
def b64(data: bytes | dict | list | str) -> str:
    if isinstance(data, (dict, list)):
        data = json.dumps(data).encode()
    elif isinstance(data, str):
        data = data.encode()
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def craft(header: dict, payload=PAYLOAD, signature: bytes = b"\x01" * 64) -> str:
    return f"{b64(header)}.{b64(payload)}.{b64(signature)}"


def sign(key: JWK, alg: str, payload=PAYLOAD, header: dict | None = None) -> str:
    jws = JWS(json.dumps(payload).encode())
    jws.allowed_algs = [alg]
    jws.add_signature(key, alg=alg, protected=json.dumps(header or {"alg": alg}))
    return jws.serialize(compact=True)


def sign_ed25519_raw(key: JWK, header: dict, payload=PAYLOAD) -> str:
    """Sign with Ed25519 directly (for headers jwcrypto itself refuses to produce)."""
    signing_input = f"{b64(header)}.{b64(payload)}"
    signature = key.get_op_key("sign").sign(signing_input.encode())
    return f"{signing_input}.{b64(signature)}"


@pytest.fixture(scope="module")
def ed_key() -> JWK:
    return JWK.generate(kty="OKP", crv="Ed25519")


@pytest.fixture(scope="module")
def p256_key() -> JWK:
    return JWK.generate(kty="EC", crv="P-256")


@pytest.fixture(scope="module")
def rsa_key() -> JWK:
    return JWK.generate(kty="RSA", size=2048)


@pytest.fixture(scope="module")
def ed_token(ed_key) -> str:
    return sign(ed_key, "EdDSA")


def code_of(token, key, **kw) -> str:
    with pytest.raises(JwsError) as info:
        verify_compact_jws(token, key, **kw)
    return info.value.code


def mismatch_code(token, key, **kw) -> str:
    with pytest.raises(KeyTypeMismatchError) as info:
        verify_compact_jws(token, key, **kw)
    return info.value.code


# --------------------------------------------------------------------------- happy path
@pytest.mark.parametrize("fixture,alg", [("ed_key", "EdDSA"), ("p256_key", "ES256"),
                                         ("rsa_key", "RS256")])
def test_verifies_each_allowed_alg(request, fixture, alg):
    key = request.getfixturevalue(fixture)
    header, payload = verify_compact_jws(sign(key, alg), key.export_public(as_dict=True))
    assert header == {"alg": alg}
    assert json.loads(payload) == PAYLOAD


def test_accepts_jwcrypto_key_private_key_and_to_jwk_object(ed_key, ed_token):
    class PublicKeyLike:
        def to_jwk(self):
            return ed_key.export_public(as_dict=True)

    for key in (ed_key, JWK(**ed_key.export_public(as_dict=True)),
                ed_key.export(as_dict=True), PublicKeyLike()):
        assert verify_compact_jws(ed_token, key)[1] == json.dumps(PAYLOAD).encode()


def test_parse_returns_parts(ed_token):
    header, payload, signing_input, signature = parse_compact_jws(ed_token)
    assert header == {"alg": "EdDSA"}
    assert payload == PAYLOAD
    assert signing_input == ed_token.rsplit(".", 1)[0].encode()
    assert len(signature) == 64


def test_parse_non_json_payload_is_bytes():
    _, payload, _, _ = parse_compact_jws(craft({"alg": "EdDSA"}, payload=b"\xffnot json"))
    assert payload == b"\xffnot json"


def test_never_fetches_jku_or_x5u(ed_key, monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("network access attempted")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    header = {"alg": "EdDSA", "jku": "http://127.0.0.1:9/jwks", "x5u": "http://127.0.0.1:9/c"}
    token = sign(ed_key, "EdDSA", header=header)
    assert verify_compact_jws(token, ed_key)[0]["jku"] == "http://127.0.0.1:9/jwks"


# --------------------------------------------------------------------------- alg_none
@pytest.mark.parametrize("alg", ["none", "None", "NONE", "nOnE"])
def test_alg_none_any_casing(ed_key, alg):
    assert code_of(craft({"alg": alg}, signature=b""), ed_key) == "alg_none"
    assert code_of(craft({"alg": alg}), ed_key) == "alg_none"


def test_empty_signature_is_alg_none(ed_key):
    token = craft({"alg": "EdDSA"}).rsplit(".", 1)[0] + "."
    assert code_of(token, ed_key) == "alg_none"


# --------------------------------------------------------------------------- alg_not_allowed
def test_rs_to_hs_confusion_rejected(rsa_key):
    """Classic attack: HS256 signed with the RSA public key (PEM) as the HMAC secret."""
    pem = rsa_key.export_to_pem()  # public PEM
    signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(PAYLOAD)}"
    mac = hmac.new(pem, signing_input.encode(), hashlib.sha256).digest()
    token = f"{signing_input}.{b64(mac)}"
    public = rsa_key.export_public(as_dict=True)
    assert code_of(token, public) == "alg_not_allowed"
    # Even a caller who asks for HS256 cannot opt in.
    assert code_of(token, public, allowed_algs=("HS256", "RS256")) == "alg_not_allowed"


@pytest.mark.parametrize("alg", ["HS256", "HS384", "HS512", "ES384", "PS256", "RS512",
                                 "Ed25519", "eddsa", "ES256K"])
def test_other_algs_not_allowed(ed_key, alg):
    assert code_of(craft({"alg": alg}), ed_key) == "alg_not_allowed"


def test_allowed_algs_can_narrow(ed_key, ed_token):
    assert code_of(ed_token, ed_key, allowed_algs=("ES256",)) == "alg_not_allowed"


# --------------------------------------------------------------------------- key_type_mismatch
def test_es256_token_against_ed25519_key(p256_key, ed_key):
    assert mismatch_code(sign(p256_key, "ES256"), ed_key) == "key_type_mismatch"


def test_eddsa_token_against_p256_key(ed_token, p256_key):
    assert mismatch_code(ed_token, p256_key) == "key_type_mismatch"


def test_rs256_token_against_ec_key(rsa_key, p256_key):
    assert mismatch_code(sign(rsa_key, "RS256"), p256_key) == "key_type_mismatch"


def test_es256_token_against_p384_key(p256_key):
    p384 = JWK.generate(kty="EC", crv="P-384")
    assert mismatch_code(sign(p256_key, "ES256"), p384) == "key_type_mismatch"


def test_rs256_with_short_rsa_key():
    small = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    key = JWK.from_pyca(small)
    token = craft({"alg": "RS256"}, signature=b"\x01" * 128)
    assert mismatch_code(token, key.export_public(as_dict=True)) == "key_type_mismatch"


@pytest.mark.parametrize("as_dict", [True, False])
def test_oct_key_rejected(ed_token, as_dict):
    oct_key = JWK.generate(kty="oct", size=256)
    key = oct_key.export(as_dict=True) if as_dict else oct_key
    assert mismatch_code(ed_token, key) == "key_type_mismatch"


def test_key_restricted_to_other_alg(rsa_key):
    public = dict(rsa_key.export_public(as_dict=True), alg="RS512")
    assert mismatch_code(sign(rsa_key, "RS256"), public) == "key_type_mismatch"


def test_key_for_encryption_use(ed_key, ed_token):
    public = dict(ed_key.export_public(as_dict=True), use="enc")
    assert mismatch_code(ed_token, public) == "key_type_mismatch"


# --------------------------------------------------------------------------- not_a_jws
def test_jwe_from_jwcrypto(rsa_key):
    jwe = JWE(b"secret", protected=json.dumps({"alg": "RSA-OAEP-256", "enc": "A256GCM"}))
    jwe.add_recipient(rsa_key)
    token = jwe.serialize(compact=True)
    assert token.count(".") == 4
    assert code_of(token, rsa_key) == "not_a_jws"


def test_enc_header_in_three_segments(ed_key):
    assert code_of(craft({"alg": "EdDSA", "enc": "A256GCM"}), ed_key) == "not_a_jws"


# --------------------------------------------------------------------------- unsupported_header
def test_unknown_crit(ed_key):
    header = {"alg": "EdDSA", "crit": ["https://example.com/must-understand"],
              "https://example.com/must-understand": True}
    assert code_of(sign_ed25519_raw(ed_key, header), ed_key) == "unsupported_header"


def test_b64_false(ed_key):
    for header in ({"alg": "EdDSA", "b64": False, "crit": ["b64"]},
                   {"alg": "EdDSA", "b64": False}):
        assert code_of(sign_ed25519_raw(ed_key, header), ed_key) == "unsupported_header"


def test_crit_with_registered_name(ed_key):
    header = {"alg": "EdDSA", "crit": ["exp"], "exp": 1}
    assert code_of(sign_ed25519_raw(ed_key, header), ed_key) == "unsupported_header"


def test_raw_signer_produces_valid_tokens(ed_key):
    """Guard: the hand-rolled signer used above yields tokens that do verify."""
    assert verify_compact_jws(sign_ed25519_raw(ed_key, {"alg": "EdDSA"}), ed_key)


# --------------------------------------------------------------------------- malformed_jws
def _segments(token: str) -> list[str]:
    return token.split(".")


@pytest.mark.parametrize("index", [0, 1, 2])
def test_padded_base64(ed_key, index):
    # Grow a filler until the segment under test needs padding, then add it.
    for filler in range(1, 8):
        parts = _segments(craft({"alg": "EdDSA", "x": "y" * filler}, payload={"a": "b" * filler},
                                signature=b"\x01" * 65))
        if len(parts[index]) % 4:
            break
    assert len(parts[index]) % 4
    parts[index] += "=" * (-len(parts[index]) % 4)
    assert code_of(".".join(parts), ed_key) == "malformed_jws"


@pytest.mark.parametrize("bad", ["+", "/"])
def test_standard_base64_alphabet(ed_token, ed_key, bad):
    header, payload, sig = _segments(ed_token)
    assert code_of(f"{header}.{payload}.{bad}{sig[1:]}", ed_key) == "malformed_jws"


@pytest.mark.parametrize("ws", [" ", "\n", "\t", "\r\n"])
def test_whitespace(ed_token, ed_key, ws):
    header, payload, sig = _segments(ed_token)
    assert code_of(f"{header}.{payload[:10]}{ws}{payload[10:]}.{sig}", ed_key) == "malformed_jws"
    assert code_of(ed_token + ws, ed_key) == "malformed_jws"
    assert code_of(ws + ed_token, ed_key) == "malformed_jws"


def test_non_canonical_base64_trailing_bits(ed_token, ed_key):
    header, payload, sig = _segments(ed_token)
    # 64-byte signature -> 86 chars; the last char carries 2 unused bits.
    last = sig[-1]
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    flipped = alphabet[alphabet.index(last) ^ 1]
    assert code_of(f"{header}.{payload}.{sig[:-1]}{flipped}", ed_key) == "malformed_jws"


@pytest.mark.parametrize("header_bytes", [b"not json", b"[1,2]", b'"EdDSA"', b"\xff\xfe",
                                          b'{"alg":"EdDSA","alg":"EdDSA"}', b"{}",
                                          b'{"alg": 5}', b'{"alg":"EdDSA","x":NaN}'])
def test_bad_header_json(ed_key, header_bytes):
    token = f"{b64(header_bytes)}.{b64(PAYLOAD)}.{b64(b'x' * 64)}"
    assert code_of(token, ed_key) == "malformed_jws"


@pytest.mark.parametrize("count", [1, 2, 4, 6])
def test_wrong_segment_count(ed_token, ed_key, count):
    parts = (_segments(ed_token) * 2)[:count]
    assert code_of(".".join(parts), ed_key) == "malformed_jws"


def test_duplicate_payload_claims(ed_key):
    duplicated = b'{"iss":"a","iss":"b"}'
    token = f"{b64({'alg': 'EdDSA'})}.{b64(duplicated)}.{b64(b'x' * 64)}"
    assert code_of(token, ed_key) == "malformed_jws"


def test_non_string_token(ed_key):
    assert code_of(12345, ed_key) == "malformed_jws"


# --------------------------------------------------------------------------- private_key_in_header
def test_private_jwk_in_header(ed_key):
    header = {"alg": "EdDSA", "jwk": ed_key.export(as_dict=True)}
    assert "d" in header["jwk"]
    assert code_of(sign(ed_key, "EdDSA", header=header), ed_key) == "private_key_in_header"


def test_public_jwk_in_header_is_fine(ed_key):
    header = {"alg": "EdDSA", "jwk": ed_key.export_public(as_dict=True)}
    assert verify_compact_jws(sign(ed_key, "EdDSA", header=header), ed_key)[0] == header


# --------------------------------------------------------------------------- too_large
def test_oversized_token(ed_key):
    token = craft({"alg": "EdDSA"}, payload={"pad": "a" * (1024 * 1024)})
    assert code_of(token, ed_key) == "too_large"
    assert code_of(token.encode(), ed_key) == "too_large"


# --------------------------------------------------------------------------- signature_mismatch
def test_tampered_payload(ed_token, ed_key):
    header, _, sig = _segments(ed_token)
    forged = f"{header}.{b64(dict(PAYLOAD, name='Admin Badge'))}.{sig}"
    assert code_of(forged, ed_key) == "signature_mismatch"


@pytest.mark.parametrize("kty,alg,extra", [("OKP", "EdDSA", {"crv": "Ed25519"}),
                                           ("EC", "ES256", {"crv": "P-256"}),
                                           ("RSA", "RS256", {"size": 2048})])
def test_wrong_key_of_right_type(kty, alg, extra):
    signer, other = JWK.generate(kty=kty, **extra), JWK.generate(kty=kty, **extra)
    assert code_of(sign(signer, alg), other.export_public(as_dict=True)) == "signature_mismatch"


def test_der_encoded_ecdsa_signature_rejected(p256_key):
    """ES256 signatures are raw r||s; a DER signature over the same input must fail."""
    from cryptography.hazmat.primitives import hashes

    signing_input = f"{b64({'alg': 'ES256'})}.{b64(PAYLOAD)}"
    der = p256_key.get_op_key("sign").sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    assert code_of(f"{signing_input}.{b64(der)}", p256_key) == "signature_mismatch"


def test_error_codes_are_on_exceptions():
    assert JwsError("x", code="alg_none").code == "alg_none"
    assert KeyTypeMismatchError("x").code == "key_type_mismatch"
    assert ALLOWED_ALGS == ("EdDSA", "ES256", "RS256")


def test_rsa_public_pem_helper_matches_jwk(rsa_key):
    """Sanity check for the RS->HS test: the PEM we use as secret is the public key."""
    pem = rsa_key.export_to_pem()
    loaded = serialization.load_pem_public_key(pem)
    assert loaded.public_numbers() == rsa_key.get_op_key("verify").public_numbers()
