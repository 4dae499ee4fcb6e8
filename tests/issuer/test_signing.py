"""issuer.sign_credential: every OB 3.0 example signs and verifies; any edit breaks it."""
from __future__ import annotations

import copy
import json

import pytest

import issuer
from issuer.keys.files import generate_key
from tests.support import EXAMPLES, example_credentials, read_json
from verifier.errors import CredentialError, DroppedTermError, KeyTypeMismatchError, UnknownContextError
from verifier.jws import verify_compact_jws
from verifier.keys import public_key_from_did_key
from verifier.proofs import verify_proofs

SUITES = ["eddsa-rdfc-2022", "eddsa-jcs-2022"]

# Spec examples that cannot be canonicalized as RDF, and why (checked, not skipped):
UNSIGNABLE_AS_RDF = {
    # these name https://www.w3.org/2018/credentials/examples/v2, which does not exist
    "equality-and-comparison__L17__sample-credential-a.json": UnknownContextError,
    "equality-and-comparison__L52__sample-credential-b.json": UnknownContextError,
    "equality-and-comparison__L93__sample-credential-c.json": UnknownContextError,
    "equality-and-comparison__L128__sample-credential-d.json": UnknownContextError,
    "readme__L76__sample-assertion-credential.json": UnknownContextError,
    # uses "alsoKnownAs", which none of its contexts define
    "impl__migrating__L176__upgraded-ob-2-0-assertion-included-within-clr-2-0.json": DroppedTermError,
}


@pytest.fixture(scope="module")
def ed25519():
    key = generate_key("ed25519")
    did = key.public.to_did_key()
    return key, f"{did}#{key.public.to_multibase()}"


def _examples():
    paths = example_credentials()
    return paths or [pytest.param(None, marks=pytest.mark.skip(reason=f"no examples at {EXAMPLES}"))]


def _leaf_paths(node, prefix=()):
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "@context":
                yield from _leaf_paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _leaf_paths(value, (*prefix, i))
    else:
        yield prefix


def _tampered(doc, path):
    doc = copy.deepcopy(doc)
    target = doc
    for step in path[:-1]:
        target = target[step]
    value = target[path[-1]]
    if isinstance(value, bool):
        target[path[-1]] = not value
    elif isinstance(value, (int, float)):
        target[path[-1]] = value + 1
    elif isinstance(value, str) and ":" in value and not value.startswith("http"):
        target[path[-1]] = value + "x"  # stays an absolute IRI / date stays parseable as text
    elif isinstance(value, str):
        target[path[-1]] = value + "X"
    else:
        target[path[-1]] = "changed"
    return doc


@pytest.mark.parametrize("cryptosuite", SUITES)
@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.name[:50] if p else "none")
def test_every_example_credential_signs_and_verifies(path, cryptosuite, ed25519):
    key, vm = ed25519
    credential = read_json(path)
    original = copy.deepcopy(credential)
    expected_error = UNSIGNABLE_AS_RDF.get(path.name) if cryptosuite == "eddsa-rdfc-2022" else None
    if expected_error:
        with pytest.raises(expected_error):
            issuer.sign_credential(credential, key, verification_method=vm, cryptosuite=cryptosuite)
        return
    signed = issuer.sign_credential(credential, key, verification_method=vm, cryptosuite=cryptosuite)
    assert credential == original, "the input must not be mutated"
    assert signed["proof"]["cryptosuite"] == cryptosuite
    assert verify_proofs(signed, public_key_from_did_key).verified


@pytest.mark.parametrize("cryptosuite", SUITES)
def test_editing_any_leaf_of_a_signed_credential_breaks_the_proof(cryptosuite, ed25519, spec):
    key, vm = ed25519
    credential = read_json(EXAMPLES / "examples__fullOpenBadge__L3__complete-openbadgecredential.json")
    signed = issuer.sign_credential(credential, key, verification_method=vm, cryptosuite=cryptosuite,
                                    created="2026-01-01T00:00:00Z")
    checked = 0
    for path in _leaf_paths({k: v for k, v in signed.items() if k != "proof"}):
        result = verify_proofs(_tampered(signed, path), public_key_from_did_key)
        assert not result.verified, f"editing {'/'.join(map(str, path))} went unnoticed"
        checked += 1
    assert checked > 50


def test_signing_is_reproducible_and_adds_to_existing_proofs(ed25519, spec):
    key, vm = ed25519
    credential = read_json(EXAMPLES / "examples__basicOpenBadgeCredential__L7__sample-openbadgecredential.json")
    first = issuer.sign_credential(credential, key, verification_method=vm, created="2026-02-03T04:05:06Z")
    again = issuer.sign_credential(credential, key, verification_method=vm, created="2026-02-03T04:05:06Z")
    assert first == again  # Ed25519 is deterministic
    other = generate_key("ed25519")
    other_vm = f"{other.public.to_did_key()}#{other.public.to_multibase()}"
    both = issuer.sign_credential(first, other, verification_method=other_vm)
    assert len(both["proof"]) == 2
    result = verify_proofs(both, public_key_from_did_key)
    assert result.verified and len(result.results) == 2


def test_jwt_variant_returns_a_compact_jws(ed25519, spec):
    key, vm = ed25519
    credential = read_json(EXAMPLES / "examples__basicOpenBadgeCredential__L7__sample-openbadgecredential.json")
    token = issuer.sign_credential(credential, key, verification_method=vm, cryptosuite="jwt")
    assert token == issuer.sign_jwt(credential, key, verification_method=vm)
    header, payload = verify_compact_jws(token, key.public)
    assert header["kid"] == vm
    assert json.loads(payload)["credentialSubject"] == credential["credentialSubject"]


def test_a_jwk_dict_is_accepted_as_the_key(ed25519, spec):
    key, vm = ed25519
    credential = read_json(EXAMPLES / "examples__basicOpenBadgeCredential__L7__sample-openbadgecredential.json")
    signed = issuer.sign_credential(credential, key.to_jwk(), verification_method=vm)
    assert verify_proofs(signed, public_key_from_did_key).verified


@pytest.mark.parametrize("key_type", ["p256", "rsa"])
def test_eddsa_suites_refuse_other_key_types(key_type, spec):
    key = generate_key(key_type)
    credential = read_json(EXAMPLES / "examples__basicOpenBadgeCredential__L7__sample-openbadgecredential.json")
    with pytest.raises(KeyTypeMismatchError, match="Ed25519"):
        issuer.sign_credential(credential, key, verification_method="did:example:issuer#key-1")


@pytest.mark.parametrize("kwargs,code", [
    ({"cryptosuite": "ecdsa-rdfc-2019"}, "unsupported_cryptosuite"),
    ({"created": "yesterday"}, "invalid_created"),
    ({"created": "2026-01-01T00:00:00"}, "invalid_created"),
    ({"verification_method": "key-1"}, "invalid_verification_method"),
])
def test_bad_arguments_are_clear_errors(kwargs, code, ed25519, spec):
    key, vm = ed25519
    credential = read_json(EXAMPLES / "examples__basicOpenBadgeCredential__L7__sample-openbadgecredential.json")
    args = {"verification_method": vm, **kwargs}
    with pytest.raises(CredentialError) as info:
        issuer.sign_credential(credential, key, **args)
    assert info.value.code == code
