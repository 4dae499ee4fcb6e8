"""PARSE's readability check takes one walk for a readable document and reports exactly what the
checks in order report for any other (:func:`verifier.checks.parse.check_readable`)."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest

from verifier.checks.parse import _first_problem, check_readable

V2 = "https://www.w3.org/ns/credentials/v2"


def _nested(depth: int) -> dict:
    document: dict = {"leaf": 1}
    for _ in range(depth):
        document = {"a": document}
    return document


DOCUMENTS = {
    "readable": {"@context": [V2], "type": ["VerifiableCredential"], "name": "Bádge ✓"},
    "surrogate in a value": {"@context": [V2], "name": "bad \ud800 text"},
    "surrogate in a key": {"@context": [V2], "na\udfffme": "x"},
    "surrogate in an inline context": {"@context": [V2, {"term": "https://x.example/\ud800"}]},
    "surrogate and too many values": {"name": "\ud800", "list": list(range(30_000))},
    "too deep": _nested(70),
    "between the two value caps": {"list": [[i] for i in range(15_000)]},
    "over both value caps": {"list": [[i] for i in range(60_000)]},
    "too long a string": {"name": "x" * (64 * 1024 + 1)},
    "too many contexts": {"@context": [V2] * 65},
    "not JSON values": {"@context": [V2], "when": datetime(2026, 1, 1, tzinfo=UTC)},
}


@pytest.mark.parametrize("name", sorted(DOCUMENTS))
def test_the_one_walk_reports_what_the_checks_in_order_report(name):
    document = DOCUMENTS[name]
    fast, in_order = check_readable(document), _first_problem(document)
    assert (fast is None) == (in_order is None)
    if fast is not None:
        assert fast.to_dict() == in_order.to_dict()
    assert (fast is None) == (name in ("readable", "not JSON values"))
