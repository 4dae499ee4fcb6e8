"""One reading of the credential (issue 11 §1) on the issuer's web paths: the verifier mounted at
/verify (its page and /verify/api/verify) and the VC-API /credentials/verify and
/presentations/verify. The fixtures and the library, CLI, baked-image and standalone-app paths
are in tests/verifier/test_reading.py.
"""
from __future__ import annotations

import json

import pytest

from tests.issuer.web.vcapi.test_vcapi import env, post  # noqa: F401  (shared fixtures)
from tests.verifier import reading_attacks as attacks

NAMES = sorted(attacks.fixtures(attacks.FixtureSigner()))


@pytest.fixture(scope="module")
def fixtures() -> dict[str, tuple[dict, str]]:
    return attacks.fixtures(attacks.FixtureSigner())


@pytest.mark.parametrize("name", NAMES)
def test_the_mounted_verifier_api_refuses_a_respelled_field(env, fixtures, name):  # noqa: F811
    document, reason = fixtures[name]
    body = env.client.post("/verify/api/verify", json={"credential": document}).get_json()
    contexts = next(c for c in body["checks"] if c["check"] == "contexts")
    assert (contexts["status"], contexts["reason"], body["verified"]) == ("failed", reason, False)


def test_the_mounted_verifier_page_says_not_verified(env, fixtures):  # noqa: F811
    document, _reason = fixtures["validity-inline_alias"]
    page = env.client.post("/verify", data={"credential": json.dumps(document)}).get_data(as_text=True)
    assert "Not verified" in page and "Verified:" not in page


@pytest.mark.parametrize("name", NAMES)
def test_the_vc_api_refuses_a_respelled_field(post, fixtures, name):  # noqa: F811
    document, reason = fixtures[name]
    status, _mimetype, body = post("/credentials/verify", {"verifiableCredential": document}, token="read")
    assert status in (400, 422), body
    assert body["verified"] is False
    assert any(e.get("check") == "contexts" and e.get("reason") == reason for e in body["errors"]), body


@pytest.mark.parametrize("name", ["status-full_iri", "validity-nest", "endorsement-included", "recipient-reverse"])
def test_a_presentation_carrying_a_respelled_credential_is_refused(post, fixtures, name):  # noqa: F811
    document, reason = fixtures[name]
    presentation = {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiablePresentation"],
                    "verifiableCredential": [document]}
    status, _mimetype, body = post("/presentations/verify", {"verifiablePresentation": presentation}, token="read")
    assert status == 422, body
    assert body["verified"] is False
