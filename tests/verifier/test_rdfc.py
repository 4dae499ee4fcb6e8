"""RDFC-1.0: literal escaping as rdf-canonize writes it, and the work limit on poison graphs."""
from __future__ import annotations

import time

import pytest

from verifier.canonicalize import canonicalize
from verifier.contexts import context_index
from verifier.errors import CanonicalizationLimitError
from verifier.nquads import escape_iri, escape_literal
from verifier.proofs import eddsa_rdfc_2022
from verifier.rdfc import CanonicalizationLimits, canonicalize_quads

V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


@pytest.mark.parametrize("raw,escaped", [
    ("plain text", "plain text"),
    ('quote " and backslash \\', 'quote \\" and backslash \\\\'),
    ("tab\tnewline\ncarriage\r", "tab\\tnewline\\ncarriage\\r"),
    ("backspace\b formfeed\f", "backspace\\b formfeed\\f"),
    ("nul\x00 vtab\x0b esc\x1b unit\x1f del\x7f", "nul\\u0000 vtab\\u000B esc\\u001B unit\\u001F del\\u007F"),
    ("non-ASCII stays: é ✓ \u2028 \U0001F600", "non-ASCII stays: é ✓ \u2028 \U0001F600"),
])
def test_literal_escaping_matches_rdf_canonize(raw, escaped):
    assert escape_literal(raw) == escaped


def test_iri_escaping():
    assert escape_iri("https://example.com/a b<c>") == "https://example.com/a\\u0020b\\u003Cc\\u003E"
    assert escape_iri("https://example.com/ok#frag") == "https://example.com/ok#frag"


def test_a_badge_name_with_control_characters_canonicalizes_exactly():
    doc = {
        "@context": [V2, OB],
        "id": "urn:uuid:00000000-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:example:issuer", "type": ["Profile"]},
        "validFrom": "2026-01-01T00:00:00Z",
        "name": "Line\vbreak\bback\fform\x7fdel",
        "credentialSubject": {"id": "did:example:learner", "type": ["AchievementSubject"]},
    }
    nquads = canonicalize(doc)
    assert ('<urn:uuid:00000000-0000-4000-8000-000000000001> <https://schema.org/name> '
            '"Line\\u000Bbreak\\bback\\fform\\u007Fdel" .\n') in nquads


def _clique(size: int) -> list[dict]:
    """Every blank node linked to every other by the same predicate: no first-degree hash tells them apart."""
    def node(i):
        return {"type": "blank node", "value": f"_:n{i}"}
    pred = {"type": "IRI", "value": "https://example.com/knows"}
    return [{"subject": node(i), "predicate": pred, "object": node(j)}
            for i in range(size) for j in range(size) if i != j]


def test_a_poison_graph_is_refused_quickly():
    started = time.monotonic()
    with pytest.raises(CanonicalizationLimitError, match="work limit"):
        canonicalize_quads(_clique(10))
    assert time.monotonic() - started < 5  # bounded; pyld alone would take minutes


def test_the_time_limit_also_applies():
    limits = CanonicalizationLimits(max_work_factor=20, max_seconds=0.2)
    started = time.monotonic()
    with pytest.raises(CanonicalizationLimitError, match="longer than"):
        canonicalize_quads(_clique(9), limits)
    assert time.monotonic() - started < 5


def test_a_poison_graph_inside_a_credential_is_refused():
    subject = {"id": "did:example:learner", "type": ["AchievementSubject"],
               "https://example.com/links": [
                   {"@id": f"_:p{i}", "https://example.com/knows": [{"@id": f"_:p{j}"} for j in range(8) if j != i]}
                   for i in range(8)]}
    doc = {"@context": [V2, OB], "type": ["VerifiableCredential", "OpenBadgeCredential"],
           "issuer": "did:example:issuer", "validFrom": "2026-01-01T00:00:00Z", "credentialSubject": subject}
    with pytest.raises(CanonicalizationLimitError):
        canonicalize(doc)


def test_the_statement_count_is_capped():
    with pytest.raises(CanonicalizationLimitError, match="statements"):
        canonicalize_quads(_clique(3), CanonicalizationLimits(max_quads=5))


def test_identical_blank_nodes_still_canonicalize():
    """Two identical evidence items are told apart by the deep step within the limit."""
    evidence = {"type": ["Evidence"], "name": "Portfolio"}
    doc = {"@context": [V2, OB], "type": ["VerifiableCredential", "OpenBadgeCredential"],
           "issuer": "did:example:issuer", "validFrom": "2026-01-01T00:00:00Z",
           "credentialSubject": {"id": "did:example:learner", "type": ["AchievementSubject"]},
           "evidence": [evidence, dict(evidence)]}
    nquads = canonicalize(doc)
    assert "_:c14n0" in nquads and "_:c14n1" in nquads


@pytest.mark.parametrize("config", [
    {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-01-02T03:04:05Z",
     "verificationMethod": "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
     "proofPurpose": "assertionMethod"},
    {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-01-02T03:04:05.123+02:00",
     "verificationMethod": "https://issuer.example/keys/1", "proofPurpose": "assertionMethod"},
    {"type": "DataIntegrityProof", "cryptosuite": "eddsa-jcs-2022", "created": "2026-01-02T03:04:05Z",
     "verificationMethod": "did:web:issuer.example%3A8443:org#key-1", "proofPurpose": "assertionMethod"},
])
@pytest.mark.parametrize("context", [
    [V2, OB], [V2], [V2, OB, "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"],
    [V2, "https://w3id.org/security/data-integrity/v2", OB]])
def test_direct_proof_configuration_equals_the_full_algorithm(config, context):
    fast = eddsa_rdfc_2022._fast_proof_configuration({**config, "@context": context})
    assert fast is not None
    assert fast == canonicalize({**config, "@context": context})
    assert eddsa_rdfc_2022.proof_configuration(config, {"@context": context}) == fast


def test_unusual_proof_configurations_take_the_full_algorithm():
    base = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-01-02T03:04:05Z",
            "verificationMethod": "did:example:issuer#key-1", "proofPurpose": "assertionMethod", "@context": [V2, OB]}
    assert eddsa_rdfc_2022._fast_proof_configuration({**base, "id": "urn:uuid:1"}) is None
    assert eddsa_rdfc_2022._fast_proof_configuration({**base, "proofPurpose": "authentication"}) is None
    for other in context_index():
        if other not in (V2, OB, "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json",
                         "https://w3id.org/security/data-integrity/v2"):
            assert eddsa_rdfc_2022._fast_proof_configuration({**base, "@context": [V2, other]}) is None, other
