"""One reading of the credential (issue 11 §1): re-spelled signed fields never verify.

Every fixture in :mod:`tests.verifier.reading_attacks` keeps a valid signature (checked here
first, so each is a real attack and not refused by accident) and hides a field the checks read.
Each must be refused by the contexts check with its named reason, through the library, the
CLI, a baked PNG and the standalone verifier web app (the issuer's web paths are in
tests/issuer/test_reading_paths.py).
"""
from __future__ import annotations

import contextlib
import copy
import io
import json

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from tests.support import example_credentials, read_json
from tests.verifier import reading_attacks as attacks
from tests.verifier.ob_generated import ob_credentials, presentations
from verifier import verify_credential
from verifier.baked import bake_png
from verifier.cli import verify as verify_command
from verifier.limits import survey_document
from verifier.proofs.data_integrity import verify_proofs
from verifier.reading import ReadingError, _plainly_one_reading, check_single_reading
from verifier.vocabulary import bundled_vocabulary
from verifier.web import create_app


@pytest.fixture(scope="module")
def signer() -> attacks.FixtureSigner:
    return attacks.FixtureSigner()


@pytest.fixture(scope="module")
def fixtures(signer) -> dict[str, tuple[dict, str]]:
    return attacks.fixtures(signer)


@pytest.fixture(scope="module")
def documents(signer) -> dict:
    return attacks.documents(signer)


NAMES = sorted(attacks.fixtures(attacks.FixtureSigner()))


def read_both_ways(document: dict) -> None:
    """:func:`check_single_reading` as the verifier calls it (with the objects its PARSE walk
    listed, for the shortcut) and without them: the same outcome either way, then that outcome."""
    outcomes = []
    for objects in (survey_document(document).objects, None):
        try:
            check_single_reading(document, objects=objects)
            outcomes.append(None)
        except ReadingError as exc:
            outcomes.append((exc.code, str(exc), exc.details))
    assert outcomes[0] == outcomes[1]
    check_single_reading(document)


def _reasons(report) -> dict[str, tuple[str, str | None]]:
    return {c.check: (c.status, c.reason) for c in report.checks}


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), "white").save(out, format="PNG")
    return out.getvalue()


def test_the_genuine_credential_is_refused_for_every_field_the_attacks_hide(signer, documents):
    report = verify_credential(attacks.base_credential(signer), now=attacks.NOW, documents=documents,
                               recipient="bob@example.com")
    reasons = _reasons(report)
    assert reasons["proof"] == ("passed", None)
    assert reasons["validity"] == ("failed", "expired")
    assert reasons["status"] == ("failed", "revoked")
    assert reasons["recipient"] == ("failed", "recipient_mismatch")
    assert reasons["endorsements"] == ("warning", "endorsement_invalid")   # failed under strict
    strict = verify_credential(attacks.base_credential(signer), now=attacks.NOW, documents=documents, strict=True)
    assert _reasons(strict)["endorsements"] == ("failed", "endorsement_invalid")
    v11 = verify_credential(attacks.v11_credential(signer), now=attacks.NOW, offline=True)
    assert _reasons(v11)["validity"] == ("failed", "expired")


@pytest.mark.parametrize("name", NAMES)
def test_the_attack_keeps_a_valid_signature(fixtures, signer, name):
    document, _reason = fixtures[name]
    assert verify_proofs(document, lambda vm: signer.public).verified


@pytest.mark.parametrize("name", NAMES)
def test_a_respelled_field_is_refused_by_the_library(fixtures, documents, name):
    document, reason = fixtures[name]
    report = verify_credential(document, now=attacks.NOW, documents=documents, recipient="bob@example.com")
    assert _reasons(report)["contexts"] == ("failed", reason), report.to_dict()
    assert report.outcome == "not_verified"
    assert _reasons(report)["proof"] == ("skipped", "blocked_by_contexts")


@pytest.mark.parametrize("name", NAMES)
def test_a_respelled_field_is_refused_by_the_cli(fixtures, documents, tmp_path, name):
    document, reason = fixtures[name]
    path = tmp_path / "credential.json"
    path.write_text(json.dumps(document))
    status_file = tmp_path / "status.json"
    status_file.write_text(json.dumps(documents[attacks.STATUS_URL]))
    result = CliRunner().invoke(verify_command, [str(path), "--json", "--offline", "--at", attacks.NOW.isoformat(),
                                                 "--resolve", f"{attacks.STATUS_URL}={status_file}"])
    assert result.exit_code == 1, result.output
    report = json.loads(result.output)
    contexts = next(c for c in report["checks"] if c["check"] == "contexts")
    assert (contexts["status"], contexts["reason"]) == ("failed", reason)


@pytest.mark.parametrize("name", NAMES)
def test_a_respelled_field_inside_a_baked_png_is_refused(fixtures, documents, name):
    document, reason = fixtures[name]
    image = bake_png(_png(), json.dumps(document))
    report = verify_credential(image, now=attacks.NOW, documents=documents)
    assert _reasons(report)["contexts"] == ("failed", reason)
    assert report.outcome == "not_verified"


@pytest.fixture(scope="module")
def web_client():
    return create_app({"TESTING": True}).test_client()


@pytest.mark.parametrize("name", NAMES)
def test_a_respelled_field_is_refused_by_the_verifier_web_api(fixtures, web_client, name):
    document, reason = fixtures[name]
    body = web_client.post("/api/verify", json={"credential": document}).get_json()
    contexts = next(c for c in body["checks"] if c["check"] == "contexts")
    assert (contexts["status"], contexts["reason"]) == ("failed", reason)
    assert body["verified"] is False


def test_the_verifier_page_says_not_verified_for_a_respelled_field(fixtures, web_client):
    document, _reason = fixtures["status-nest"]
    response = web_client.post("/", data={"credential": json.dumps(document)})
    assert response.status_code in (200, 422)
    page = response.get_data(as_text=True)
    assert "Not verified" in page and "Verified:" not in page


# ---------------------------------------------------------------- what stays allowed

def test_an_inline_context_that_only_adds_new_vocabulary_verifies(signer):
    credential = {
        "@context": [attacks.V2, {"ExampleVerifiableCredential": "https://example.org/#ExampleVerifiableCredential"}],
        "id": attacks.CREDENTIAL_ID, "type": ["VerifiableCredential", "ExampleVerifiableCredential"],
        "issuer": signer.did, "validFrom": "2026-01-15T09:00:00Z",
        "credentialSubject": {"id": attacks.SUBJECT_ID, "https://example.com/vocab#level": "gold"},
    }
    report = verify_credential(signer.sign_document(credential), now=attacks.NOW, offline=True)
    assert report.verified, report.to_dict()


# ---------------------------------------------------------------- the rules, one by one

def _base() -> dict:
    return {"@context": [attacks.V2], "type": ["VerifiableCredential"], "issuer": "did:example:issuer",
            "credentialSubject": {"id": attacks.SUBJECT_ID}}


@pytest.mark.parametrize("context, reason", [
    ({"@vocab": "https://www.w3.org/2018/credentials#"}, "inline_context_alias"),
    ({"@vocab": "https://example.org/vocab#"}, None),
    ({"ns": "https://www.w3.org/2018/credentials#"}, "inline_context_alias"),
    ({"ns": "https://example.org/"}, "inline_context_alias"),            # a prefix, whatever it names
    ({"validUntil": "https://example.org/until"}, "inline_context_alias"),  # redefines a bundled term
    ({"until": {"@id": "https://example.org/until", "@context": {}}}, "inline_context_not_allowed"),
    ({"until": {"@reverse": "https://example.org/until"}}, "inline_context_not_allowed"),
    ({"until": {"@id": "https://example.org/until", "@prefix": True}}, "inline_context_not_allowed"),
    ({"@base": "https://example.org/"}, "inline_context_not_allowed"),
    ({"@import": "https://example.org/context"}, "inline_context_not_allowed"),
    ({"until": "https://www.w3.org/2018/credentials#validUntil"}, "inline_context_alias"),
    ({"until": "cred:validUntil"}, "inline_context_alias"),  # through a bundled prefix
    ({"exampleLevel": {"@id": "https://example.org/level", "@type": "@id"}}, None),
])
def test_inline_context_rules(context, reason):
    document = _base()
    document["@context"] = [attacks.V2, context]
    if reason is None:
        read_both_ways(document)
        return
    with pytest.raises(ReadingError) as caught:
        read_both_ways(document)
    assert caught.value.code == reason


def test_a_null_context_entry_is_refused():
    document = _base()
    document["@context"] = [attacks.V2, None]
    with pytest.raises(ReadingError, match="neither a URL nor an object"):
        read_both_ways(document)


@pytest.mark.parametrize("key", ["@id", "@type", "@graph", "@nest", "@included", "@reverse", "@list", "@set"])
def test_keywords_that_move_statements_are_refused_as_keys(key):
    document = _base()
    document["credentialSubject"][key] = "x"
    with pytest.raises(ReadingError) as caught:
        read_both_ways(document)
    assert caught.value.code == "keyword_not_allowed"


def test_value_objects_keep_their_keywords():
    document = _base()
    document["name"] = {"@value": "Teamwork", "@language": "en", "@direction": "ltr"}
    read_both_ways(document)


def test_an_extension_property_spelled_as_a_new_iri_is_allowed():
    document = _base()
    document["credentialSubject"]["https://example.com/vocab#level"] = "gold"
    read_both_ways(document)


def test_a_type_spelled_as_an_iri_of_known_vocabulary_is_refused():
    document = _base()
    document["type"] = ["VerifiableCredential", "https://purl.imsglobal.org/spec/vc/ob/vocab.html#OpenBadgeCredential"]
    with pytest.raises(ReadingError) as caught:
        read_both_ways(document)
    assert caught.value.code == "non_term_type"


def test_another_bundled_name_for_a_checked_property_is_refused():
    # security v2 names sec:expiration both "expires" and "expiration"; the proof code reads "expires"
    document = _base()
    document["proof"] = {"type": "DataIntegrityProof", "expiration": "2020-01-01T00:00:00Z"}
    with pytest.raises(ReadingError) as caught:
        read_both_ways(document)
    assert caught.value.code == "alias_of_checked_property"


def test_a_second_description_of_the_credential_is_refused():
    document = _base()
    document["id"] = attacks.CREDENTIAL_ID
    document["credentialSubject"]["related"] = {"id": attacks.CREDENTIAL_ID, "validUntil": "2020-01-01T00:00:00Z"}
    with pytest.raises(ReadingError) as caught:
        read_both_ways(document)
    assert caught.value.code == "node_described_twice"


def test_a_bare_typed_reference_to_the_credential_is_allowed():
    # the 1EdTech complete example gives refreshService the credential's own id
    document = _base()
    document["id"] = attacks.CREDENTIAL_ID
    document["refreshService"] = {"id": attacks.CREDENTIAL_ID, "type": "1EdTechCredentialRefresh"}
    read_both_ways(document)


def test_the_bundled_contexts_name_each_checked_property_once():
    """Only "expiration" doubles a checked property (refused above), and the OB context gives the
    class "Achievement" the IRI of the property "achievement" (as a key it is refused; as a type it
    is what it is). Were a context update to add another alias, the reading rules would refuse it
    as a key, and this test names it."""
    vocab = bundled_vocabulary()
    from verifier.reading import CHECKED_KEYS

    checked = {iri for key in CHECKED_KEYS for iri in vocab.term_iris.get(key, ())}
    aliases = sorted(term for term, iris in vocab.term_iris.items() if term not in CHECKED_KEYS and iris & checked)
    assert aliases == ["Achievement", "expiration"]
    assert set(vocab.keyword_aliases) == {"id", "type"}


def test_nested_string_contexts_do_not_hide_anything(signer):
    # an endorsement repeats the bundled contexts at its own level: allowed
    document = copy.deepcopy(attacks.base_credential(signer))
    read_both_ways(document)


def test_an_embedded_context_document_is_read_like_its_context():
    # the W3C vc-di-eddsa suite's proof chains write an @context entry as {"@context": {...}}
    document = _base()
    document["@context"] = [attacks.V2, {"@context": {"exampleLevel": "https://example.org/level"}}]
    read_both_ways(document)
    document["@context"] = [attacks.V2, {"@context": {"until": "https://www.w3.org/2018/credentials#validUntil"}}]
    with pytest.raises(ReadingError):
        read_both_ways(document)


def test_a_vc_1_1_inline_context_may_define_known_vocabulary_under_its_own_name():
    # the W3C vc-di-eddsa suite's VC 1.1 credentials define name and description for themselves
    document = _base()
    document["@context"] = ["https://www.w3.org/2018/credentials/v1", {"@context": {
        "AlumniCredential": "https://www.example.org/AlumniCredential",
        "name": "https://schema.org/name", "description": "https://schema.org/description"}}]
    read_both_ways(document)
    document["@context"][1]["@context"]["title"] = "https://schema.org/name"   # another name for it
    with pytest.raises(ReadingError) as caught:
        read_both_ways(document)
    assert caught.value.code == "inline_context_alias"


def test_a_checked_name_keeps_its_meaning_inline():
    document = _base()
    document["@context"] = ["https://www.w3.org/2018/credentials/v1", {"validUntil": "https://example.org/until"}]
    with pytest.raises(ReadingError) as caught:
        read_both_ways(document)
    assert caught.value.code == "inline_context_alias"


# -- the shortcut the verifier takes (objects listed by the PARSE walk) gives the full walk's verdicts --

def test_the_shortcut_is_never_taken_for_an_attack(fixtures) -> None:
    for name, (document, _) in fixtures.items():
        assert not _plainly_one_reading(document, survey_document(document).objects), name
        read_both_ways_refused(document)


def read_both_ways_refused(document: dict) -> None:
    with pytest.raises(ReadingError):
        read_both_ways(document)


def test_the_shortcut_is_taken_for_the_usual_credentials(signer) -> None:
    """Not vacuous: the genuine fixtures and the published examples are read without the full walk."""
    documents = [attacks.base_credential(signer), attacks.v11_credential(signer)]
    documents += [read_json(path) for path in example_credentials()]
    taken = [_plainly_one_reading(d, survey_document(d).objects) for d in documents]
    assert taken[:2] == [True, True]
    assert sum(taken) >= len(taken) // 2
    for document in documents:
        read_both_ways(document)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(ob_credentials(), presentations()))
def test_generated_credentials_are_read_alike_both_ways(document: dict) -> None:
    with contextlib.suppress(ReadingError):
        read_both_ways(document)  # asserts that both ways agree, refusals included
