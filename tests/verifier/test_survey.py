"""The PARSE walk's survey (:func:`verifier.limits.survey_document`) answers what the walks it
replaces answered: whether the W3C examples vocabulary is used (CONFORMANCE) and whether there
are endorsements to collect (ENDORSEMENTS), on the published examples, generated OB 3.0
credentials and presentations, and hand-made placements of ``@context`` and endorsements."""
from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import example_credentials, read_json
from tests.verifier.ob_generated import EXAMPLES, V2, ob_credentials, presentations
from verifier.checks.endorsements import embedded_endorsements
from verifier.limits import survey_document
from verifier.vocabulary_notes import EXAMPLES_VOCABULARY, contexts_use_examples, uses_examples_vocabulary


def assert_same_answers(document: Any) -> None:
    survey = survey_document(document)
    assert contexts_use_examples(survey.context_values) is uses_examples_vocabulary(document)
    if embedded_endorsements(document):
        assert survey.endorsement_keys  # when False, ENDORSEMENTS does not look: there must be none


HAND_MADE = {
    "no contexts": {"name": "x"},
    "examples URL at the top": {"@context": [V2, EXAMPLES]},
    "examples URL in an embedded credential": {"@context": [V2], "credentialSubject": {
        "endorsement": [{"@context": [V2, EXAMPLES], "type": ["VerifiableCredential"]}]}},
    "examples @vocab inline": {"@context": [V2, {"@vocab": EXAMPLES_VOCABULARY}]},
    "examples @vocab in a scoped context": {"@context": [V2, {"Thing": {"@id": "https://x.example/Thing",
                                                                        "@context": {"@vocab": EXAMPLES_VOCABULARY}}}]},
    "examples URL as a scoped context": {"@context": [V2, {"Thing": {"@id": "https://x.example/Thing",
                                                                     "@context": EXAMPLES}}]},
    "examples URL as a plain value": {"@context": [V2], "name": EXAMPLES, "note": {"@vocab": EXAMPLES_VOCABULARY}},
    "endorsement under proof": {"@context": [V2], "proof": {"endorsement": {"id": "x"}}},
    "endorsement under @context": {"@context": [V2, {"endorsement": "https://x.example/e"}]},
    "endorsementJwt deep down": {"a": [{"b": {"endorsementJwt": ["x.y.z"]}}]},
    "endorsement as a string": {"credentialSubject": {"achievement": {"endorsement": "not an object"}}},
}


@pytest.mark.parametrize("name", sorted(HAND_MADE))
def test_hand_made_placements(name: str) -> None:
    assert_same_answers(HAND_MADE[name])


def test_the_answers_are_not_all_the_same() -> None:
    """The cases above tell both answers apart (a survey that always said yes would pass less)."""
    surveys = {name: survey_document(doc) for name, doc in HAND_MADE.items()}
    assert {contexts_use_examples(s.context_values) for s in surveys.values()} == {True, False}
    assert {s.endorsement_keys for s in surveys.values()} == {True, False}


@pytest.mark.parametrize("path", example_credentials(), ids=lambda p: p.name)
def test_published_examples(path: Any) -> None:
    assert_same_answers(read_json(path))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.one_of(ob_credentials(), presentations()))
def test_generated_credentials_and_presentations(document: dict) -> None:
    assert_same_answers(document)
