"""Tests for issuer.vc_jwt.sign_vc_jwt and the claim helpers in verifier.vc_jwt."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from jwcrypto.jwk import JWK

from issuer.vc_jwt import sign_vc_jwt
from verifier.errors import CredentialError, KeyFormatError, KeyTypeMismatchError
from verifier.jws import parse_compact_jws, verify_compact_jws
from verifier.vc_jwt import claim_mismatches, jwt_claims_for

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SAMPLE = SHARED / "spec" / "examples" / \
    "examples__basicOpenBadgeCredential__L7__sample-openbadgecredential.json"
KID = "did:example:issuer#key-1"


@pytest.fixture
def sample_credential() -> dict:
    if not SAMPLE.is_file():
        pytest.skip(f"shared spec examples not available ({SAMPLE} missing)")
    return json.loads(SAMPLE.read_text())


@pytest.fixture
def credential() -> dict:
    """An inline OB 3.0 credential with every claim source, including validUntil."""
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2",
                     "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"],
        "id": "urn:uuid:91537dba-56cb-11ec-bf63-0242ac130002",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://example.com/issuers/876543", "type": ["Profile"],
                   "name": "Example Corp"},
        "validFrom": "2024-03-01T12:30:45Z",
        "validUntil": "2029-03-01T00:00:00+02:00",
        "name": "Forklift Safety",
        "credentialSubject": {"id": "did:example:learner", "type": ["AchievementSubject"],
                              "achievement": {"id": "https://example.com/a/1",
                                              "type": ["Achievement"], "name": "Forklift",
                                              "criteria": {"narrative": "Pass the test."}}},
    }


KEY_SPECS = {
    "EdDSA": {"kty": "OKP", "crv": "Ed25519"},
    "ES256": {"kty": "EC", "crv": "P-256"},
    "RS256": {"kty": "RSA", "size": 2048},
}


@pytest.fixture(scope="module", params=sorted(KEY_SPECS))
def keyed(request) -> tuple[str, JWK]:
    return request.param, JWK.generate(**KEY_SPECS[request.param])


@pytest.fixture(scope="module")
def ed_key() -> JWK:
    return JWK.generate(kty="OKP", crv="Ed25519")


# --------------------------------------------------------------------------- round trip
@pytest.mark.parametrize("mode", ["kid", "jwk"])
def test_round_trip_all_key_types(keyed, credential, mode):
    alg, key = keyed
    kwargs = {"kid": KID} if mode == "kid" else {"embed_jwk": True}
    token = sign_vc_jwt(credential, key, **kwargs)

    header, payload = verify_compact_jws(token, key.export_public(as_dict=True))
    assert header["alg"] == alg
    assert header["typ"] == "JWT"
    if mode == "kid":
        assert header["kid"] == KID and "jwk" not in header
    else:
        assert "kid" not in header
        assert header["jwk"] == key.export_public(as_dict=True)
        assert "d" not in header["jwk"]
    decoded = json.loads(payload)
    assert decoded == {**credential, **jwt_claims_for(credential)}
    assert claim_mismatches(decoded) == []


def test_round_trip_sample_credential(sample_credential, ed_key):
    token = sign_vc_jwt(sample_credential, ed_key, kid=KID)
    _, payload = verify_compact_jws(token, ed_key)
    decoded = json.loads(payload)
    assert decoded == {
        **sample_credential,
        "iss": "https://example.com/issuers/876543",
        "jti": "http://example.com/credentials/3527",
        "sub": "did:example:ebfeb1f712ebc6f1c276e12ec21",
        "nbf": 1262304000,  # 2010-01-01T00:00:00Z
    }
    assert "exp" not in decoded
    assert claim_mismatches(decoded) == []


def test_nbf_and_exp_round_trip_exactly(credential, ed_key):
    _, payload, _, _ = parse_compact_jws(sign_vc_jwt(credential, ed_key, kid=KID))
    assert payload["nbf"] == 1709296245  # 2024-03-01T12:30:45Z
    assert payload["exp"] == 1867010400  # 2029-02-28T22:00:00Z
    assert type(payload["nbf"]) is int and type(payload["exp"]) is int
    # The dates in the payload are untouched strings.
    assert payload["validFrom"] == "2024-03-01T12:30:45Z"
    assert payload["validUntil"] == "2029-03-01T00:00:00+02:00"


def test_vcdm11_dates(ed_key, credential):
    cred = copy.deepcopy(credential)
    cred["issuanceDate"] = cred.pop("validFrom")
    cred["expirationDate"] = cred.pop("validUntil")
    claims = jwt_claims_for(cred)
    assert claims["nbf"] == 1709296245 and claims["exp"] == 1867010400
    _, payload, _, _ = parse_compact_jws(sign_vc_jwt(cred, ed_key, kid=KID))
    assert claim_mismatches(payload) == []


def test_issuer_as_string_and_optional_claims(ed_key):
    cred = {"issuer": "did:example:issuer", "validFrom": "2024-01-01T00:00:00Z",
            "credentialSubject": {"type": ["AchievementSubject"]}}
    assert jwt_claims_for(cred) == {"iss": "did:example:issuer", "nbf": 1704067200}
    _, payload, _, _ = parse_compact_jws(sign_vc_jwt(cred, ed_key, kid=KID))
    assert not {"jti", "sub", "exp"} & payload.keys()


def test_zero_fraction_is_a_whole_second():
    cred = {"issuer": "did:example:i", "validFrom": "2024-01-01T00:00:00.000Z"}
    assert jwt_claims_for(cred)["nbf"] == 1704067200


def test_input_not_mutated(credential, ed_key):
    before = copy.deepcopy(credential)
    sign_vc_jwt(credential, ed_key, kid=KID)
    sign_vc_jwt(credential, ed_key, embed_jwk=True)
    assert credential == before


def test_accepts_jwk_dict_and_to_jwcrypto_object(credential, ed_key):
    class KeyPairLike:
        key_type = "Ed25519"

        def to_jwcrypto(self):
            return ed_key

    for private in (ed_key.export(as_dict=True), KeyPairLike()):
        token = sign_vc_jwt(credential, private, kid=KID)
        assert verify_compact_jws(token, ed_key)[0]["alg"] == "EdDSA"


def test_compact_serialization(credential, ed_key):
    token = sign_vc_jwt(credential, ed_key, kid=KID)
    assert token.count(".") == 2 and "=" not in token and " " not in token


# --------------------------------------------------------------------------- signing refusals
def test_fractional_seconds_refused(credential, ed_key):
    cred = dict(credential, validFrom="2024-03-01T12:30:45.5Z")
    with pytest.raises(CredentialError) as info:
        sign_vc_jwt(cred, ed_key, kid=KID)
    assert info.value.code == "invalid_credential"
    assert "fractional seconds" in str(info.value)


def test_fractional_valid_until_refused(credential):
    with pytest.raises(CredentialError, match="fractional"):
        jwt_claims_for(dict(credential, validUntil="2029-01-01T00:00:00.001Z"))


@pytest.mark.parametrize("bad", ["2024-03-01", "2024-03-01T12:30:45", "yesterday",
                                 "2024-13-01T00:00:00Z", "2024-02-30T00:00:00Z",
                                 "2024-01-01T24:00:00Z", "2024-01-01T00:00:00+02:60",
                                 1709296245, None])
def test_unparseable_dates_refused(credential, bad):
    with pytest.raises(CredentialError) as info:
        jwt_claims_for(dict(credential, validFrom=bad))
    assert info.value.code == "invalid_credential"


@pytest.mark.parametrize("issuer", [None, "", {"name": "No id"}, {"id": 5}, ["did:x"]])
def test_missing_issuer_refused(credential, issuer):
    cred = dict(credential, issuer=issuer)
    with pytest.raises(CredentialError) as info:
        jwt_claims_for(cred)
    assert info.value.code == "invalid_credential"


def test_missing_valid_from_refused(credential):
    cred = {k: v for k, v in credential.items() if k != "validFrom"}
    with pytest.raises(CredentialError, match="validFrom"):
        jwt_claims_for(cred)


def test_conflicting_existing_claim_refused(credential, ed_key):
    with pytest.raises(CredentialError) as info:
        sign_vc_jwt(dict(credential, iss="https://evil.example"), ed_key, kid=KID)
    assert info.value.code == "invalid_credential"
    no_until = {k: v for k, v in credential.items() if k != "validUntil"}
    with pytest.raises(CredentialError, match="exp"):
        sign_vc_jwt(dict(no_until, exp=1), ed_key, kid=KID)


@pytest.mark.parametrize("kwargs", [{}, {"kid": KID, "embed_jwk": True}])
def test_exactly_one_of_kid_or_jwk(credential, ed_key, kwargs):
    with pytest.raises(CredentialError) as info:
        sign_vc_jwt(credential, ed_key, **kwargs)
    assert info.value.code == "invalid_input"


@pytest.mark.parametrize("kid", ["", "key-1", "#key-1", "did:example:x #k"])
def test_kid_must_be_url(credential, ed_key, kid):
    with pytest.raises(CredentialError) as info:
        sign_vc_jwt(credential, ed_key, kid=kid)
    assert info.value.code == "invalid_input"


def test_public_key_cannot_sign(credential, ed_key):
    with pytest.raises(KeyFormatError):
        sign_vc_jwt(credential, ed_key.export_public(as_dict=True), kid=KID)


@pytest.mark.parametrize("spec", [{"kty": "oct", "size": 256}, {"kty": "EC", "crv": "P-384"},
                                  {"kty": "RSA", "size": 1024}, {"kty": "OKP", "crv": "X25519"}])
def test_unsupported_key_types(credential, spec):
    with pytest.raises(KeyTypeMismatchError) as info:
        sign_vc_jwt(credential, JWK.generate(**spec), kid=KID)
    assert info.value.code == "key_type_mismatch"


# --------------------------------------------------------------------------- claim_mismatches
@pytest.fixture
def good_payload(credential) -> dict:
    return {**credential, **jwt_claims_for(credential)}


@pytest.mark.parametrize("claim,value,fragment", [
    ("iss", "https://evil.example/issuer", "iss does not equal the credential's issuer"),
    ("jti", "urn:uuid:other", "jti does not equal the credential's id"),
    ("sub", "did:example:someone-else", "sub does not equal the credential's credentialSubject"),
    ("nbf", 1709296244, "nbf does not equal the credential's validFrom"),
    ("exp", 1867010401, "exp does not equal the credential's validUntil"),
])
def test_value_disagreement(good_payload, claim, value, fragment):
    problems = claim_mismatches(dict(good_payload, **{claim: value}))
    assert len(problems) == 1 and problems[0].startswith(fragment)


@pytest.mark.parametrize("claim", ["iss", "jti", "sub", "nbf", "exp"])
def test_missing_claim(good_payload, claim):
    payload = {k: v for k, v in good_payload.items() if k != claim}
    problems = claim_mismatches(payload)
    assert len(problems) == 1 and problems[0].startswith(f"{claim} is missing")


def test_unexpected_claims(good_payload):
    payload = {k: v for k, v in good_payload.items()
               if k not in ("validUntil", "id")}
    payload["credentialSubject"] = {"type": ["AchievementSubject"]}
    problems = claim_mismatches(payload)
    assert len(problems) == 3
    assert any(p.startswith("jti is present") for p in problems)
    assert any(p.startswith("sub is present") for p in problems)
    assert any(p.startswith("exp is present") for p in problems)


@pytest.mark.parametrize("claim", ["nbf", "exp"])
@pytest.mark.parametrize("confused", ["1867010400", 1867010400.0, 1867010400.5, None,
                                      [1867010400], {"value": 1867010400}, True])
def test_numeric_date_type_confusion(good_payload, credential, claim, confused):
    payload = dict(good_payload, **{claim: confused})
    problems = claim_mismatches(payload)
    assert len(problems) == 1
    assert problems[0].startswith(f"{claim} must be an integer NumericDate")


@pytest.mark.parametrize("claim", ["iss", "jti", "sub"])
@pytest.mark.parametrize("confused", [None, ["x"], {"id": "x"}, 5])
def test_string_claim_type_confusion(good_payload, claim, confused):
    problems = claim_mismatches(dict(good_payload, **{claim: confused}))
    assert len(problems) == 1 and problems[0].startswith(f"{claim} must be a string")


def test_iss_object_is_type_confusion(good_payload, credential):
    problems = claim_mismatches(dict(good_payload, iss=credential["issuer"]))
    assert problems and problems[0].startswith("iss must be a string")


def test_vcdm11_vc_claim(credential):
    claims = jwt_claims_for(credential)
    payload = {**claims, "vc": credential}
    assert claim_mismatches(payload) == []
    assert claim_mismatches({**payload, "sub": "did:example:other"})[0].startswith(
        "sub does not equal")
    assert claim_mismatches({"vc": "not an object"}) == ["the 'vc' claim is not a JSON object"]


def test_a_fractional_second_matches_its_claim_truncated_to_the_second(good_payload):
    # A NumericDate is whole seconds (RFC 7519): walt.id and didkit write fractional dates
    assert claim_mismatches(dict(good_payload, validFrom="2024-03-01T12:30:45.25Z")) == []


def test_non_object_payload():
    assert claim_mismatches(["not", "a", "dict"]) == ["the JWT payload is not a JSON object"]


@pytest.mark.parametrize("key_type", ["Ed25519", "P-256", "RSA"])
def test_works_with_project_key_objects(credential, key_type):
    """issuer.keys.files.KeyPair signs; its verifier.keys.PublicKey verifies (if those modules exist)."""
    keys = pytest.importorskip("issuer.keys.files", reason="issuer/keys/files.py not available")
    pair = keys.generate_key(key_type)
    token = sign_vc_jwt(credential, pair, kid=KID)
    _, payload = verify_compact_jws(token, pair.public)
    assert claim_mismatches(json.loads(payload)) == []
