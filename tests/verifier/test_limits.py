"""Structural limits: oversized or absurdly nested documents are refused before JSON-LD work."""
from __future__ import annotations

import pytest

from verifier.canonicalize import canonicalize
from verifier.limits import DocumentTooComplexError, check_structure

V2 = "https://www.w3.org/ns/credentials/v2"


def nested(depth: int) -> dict:
    doc = {"@context": [V2], "type": ["VerifiableCredential"], "credentialSubject": {}}
    node = doc["credentialSubject"]
    for _ in range(depth):
        node["https://example.com/p"] = {}
        node = node["https://example.com/p"]
    return doc


def test_deep_nesting_is_refused_with_a_clear_error():
    with pytest.raises(DocumentTooComplexError, match="nested more than 64"):
        canonicalize(nested(5000))


def test_huge_arrays_are_refused():
    doc = {"@context": [V2], "type": ["VerifiableCredential"], "credentialSubject": {"id": "did:example:1"},
           "https://example.com/many": list(range(200_000))}
    with pytest.raises(DocumentTooComplexError, match="more than 100000 values"):
        canonicalize(doc)


def test_ordinary_documents_pass():
    check_structure(nested(20))
    check_structure({"list": list(range(1000))})
