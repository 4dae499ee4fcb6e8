"""What the issuer signs, the verifier verifies (moved from tests/verifier, issue 11 §8).

The verifier's own tests sign their fixtures with the verifier's proof stages
(tests/verifier/signing_support.py) and never import the issuer; the tests here are the ones
that were about the issuer's output: ``issuer.sign_credential`` / ``issuer.sign_jwt`` with every
cryptosuite and key type, proof sets, an embedded-JWK VC-JWT, and the installed ``microcred
verify`` command on everything microcred signs. The issuer's keys live in an
:class:`~tests.verifier.issuer_world.IssuerWorld` (a loopback did:web issuer) or a did:key.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

import issuer
from issuer.keys.files import generate_key
from issuer.vc_jwt import sign_vc_jwt
from tests.verifier.issuer_world import CREATED, IssuerWorld, sample_credential
from verifier import verify_credential

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


@pytest.fixture()
def world(https_server):
    world = IssuerWorld(https_server)
    yield world
    world.close()


def verify(world, source, **kwargs):
    return verify_credential(source, now=NOW, policy=world.server.policy(), **kwargs)


def issuer_signed(world: IssuerWorld, credential: dict, cryptosuite: str = "eddsa-rdfc-2022"):
    """``credential`` signed by microcred's issuer code with the world's did:web key."""
    return issuer.sign_credential(credential, world.key.private_jwk(), verification_method=world.vm,
                                  cryptosuite=cryptosuite, created=CREATED)


@pytest.mark.parametrize("cryptosuite", ["eddsa-rdfc-2022", "eddsa-jcs-2022", "jwt"])
def test_an_issuer_signed_did_web_credential_verifies(world, cryptosuite):
    report = verify(world, issuer_signed(world, world.unsigned(), cryptosuite), recipient="alex.rivera@example.com")
    assert report.verified, report.to_dict()
    assert report.check("recipient").status == "passed"
    assert report.summary["issuer"]["proven"].startswith(world.did)


def test_issuer_proof_sets_need_one_issuer_key_and_every_proof_valid(world):
    signed = issuer_signed(world, world.unsigned())
    stranger = generate_key("ed25519")
    stranger_vm = f"{stranger.public.to_did_key()}#{stranger.public.to_multibase()}"
    both = issuer.sign_credential(signed, stranger, verification_method=stranger_vm, created=CREATED)
    assert verify(world, both).verified
    only_stranger = issuer.sign_credential(world.unsigned(), stranger, verification_method=stranger_vm,
                                           created=CREATED)
    assert verify(world, only_stranger).check("issuer_binding").reason == "key_not_controlled_by_issuer"


def test_issuer_proof_sets_by_the_same_key_are_accepted():
    key = generate_key("ed25519")
    did = key.public.to_did_key()
    vm = f"{did}#{did[8:]}"
    credential = sample_credential()
    credential["issuer"]["id"] = did
    once = issuer.sign_credential(credential, key, verification_method=vm, created="2026-01-10T00:00:00Z")
    twice = issuer.sign_credential(once, key, verification_method=vm, created="2026-01-11T00:00:00Z")
    report = verify_credential(twice, now=NOW)
    assert report.verified, report.to_dict()


@pytest.mark.parametrize("key_type,expected_alg", [("p256", "ES256"), ("ed25519", "EdDSA")])
def test_issuer_sign_jwt_for_did_key_issuers_with_other_key_types(key_type, expected_alg):
    key = generate_key(key_type)
    did = key.public.to_did_key()
    credential = sample_credential()
    credential["issuer"]["id"] = did
    token = issuer.sign_jwt(credential, key, verification_method=f"{did}#{did[8:]}")
    report = verify_credential(token, now=NOW)
    assert report.verified, report.to_dict()
    assert report.check("proof").details["alg"] == expected_alg


def test_an_issuer_rsa_key_published_by_an_https_issuer_signs_rs256(world):
    rsa = generate_key("rsa")
    profile, method = world.publish_https_profile(rsa.public.to_jwk())
    credential = world.unsigned()
    credential["issuer"]["id"] = profile
    report = verify(world, issuer.sign_jwt(credential, rsa, verification_method=method))
    assert report.verified, report.to_dict()
    assert report.check("proof").details["alg"] == "RS256"
    assert report.summary["issuer"]["proven"] == profile


def test_an_issuer_vc_jwt_with_an_embedded_jwk_is_not_the_issuers_key(world):
    token = sign_vc_jwt(world.unsigned(), generate_key("ed25519"), embed_jwk=True)
    check = verify(world, token).check("issuer_binding")
    assert (check.status, check.reason) == ("failed", "jwk_not_issuers")


# ---------------------------------------------------------------- through the installed command

def _microcred() -> str:
    return shutil.which("microcred") or str(Path(sys.executable).parent / "microcred")


def _signed_variants(world: IssuerWorld) -> dict[str, str | dict]:
    p256 = generate_key("p256")
    p256_did = p256.public.to_did_key()
    es256_credential = sample_credential()
    es256_credential["issuer"]["id"] = p256_did
    return {
        "eddsa-rdfc-2022": issuer_signed(world, world.unsigned()),
        "eddsa-jcs-2022": issuer_signed(world, world.unsigned(), "eddsa-jcs-2022"),
        "jwt-eddsa": issuer_signed(world, world.unsigned(), "jwt"),
        "jwt-es256": issuer.sign_jwt(es256_credential, p256, verification_method=f"{p256_did}#{p256_did[8:]}"),
    }


def test_every_kind_of_signed_credential_round_trips_through_microcred_verify(https_server, tmp_path):
    world = IssuerWorld(https_server)
    for name, signed in _signed_variants(world).items():
        path = tmp_path / name
        path.write_text(signed if isinstance(signed, str) else json.dumps(signed))
        done = subprocess.run([_microcred(), "verify", str(path), "--json", "--at", NOW.isoformat(),
                               "--allow-http-host", "127.0.0.1", "--ca-file", https_server.ca_file],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (name, done.stdout, done.stderr)
        assert json.loads(done.stdout)["verified"] is True
        tampered = (signed.replace(".", ".x", 1) if isinstance(signed, str)
                    else json.dumps({**signed, "name": "Forged"}))
        path.write_text(tampered)
        done = subprocess.run([_microcred(), "verify", str(path), "--at", NOW.isoformat(),
                               "--allow-http-host", "127.0.0.1", "--ca-file", https_server.ca_file],
                              capture_output=True, text=True, timeout=60)
        assert done.returncode == 1, (name, done.stdout, done.stderr)
        assert done.stdout.startswith("Not verified:")
