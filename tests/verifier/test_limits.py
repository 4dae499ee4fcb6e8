"""Structural limits: oversized or absurdly nested documents are refused before JSON-LD work."""
from __future__ import annotations

import base64
import copy
import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support import example_credentials, read_json
from verifier.canonicalize import canonicalize
from verifier.jsonld import JsonLdEngine
from verifier.limits import (
    JSONLD_LIMITS,
    DocumentTooComplexError,
    JsonLdLimits,
    check_jsonld_limits,
    check_structure,
    copy_within_structure,
)

V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


def nested(depth: int) -> dict:
    doc = {"@context": [V2], "type": ["VerifiableCredential"], "credentialSubject": {}}
    node = doc["credentialSubject"]
    for _ in range(depth):
        node["https://example.com/p"] = {}
        node = node["https://example.com/p"]
    return doc


def credential(**extra) -> dict:
    return {"@context": [V2, OB], "id": "urn:uuid:00000000-0000-4000-8000-000000000001",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": {"id": "did:example:issuer", "type": ["Profile"]}, "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:learner", "type": ["AchievementSubject"]}, **extra}


def refused(document: object, limit: str, match: str) -> None:
    with pytest.raises(DocumentTooComplexError, match=match) as caught:
        check_jsonld_limits(document)
    assert caught.value.code == "too_complex"
    assert caught.value.details["limit"] == limit


def test_deep_nesting_is_refused_with_a_clear_error():
    with pytest.raises(DocumentTooComplexError, match="nested more than 64"):
        canonicalize(nested(5000))


def test_generic_json_keeps_its_own_looser_limits():
    """check_structure (API bodies, OB 2.0) still counts only depth and values."""
    with pytest.raises(DocumentTooComplexError, match="more than 100000 values"):
        check_structure({"many": [list(range(1000)) for _ in range(101)]})
    check_structure({"list": list(range(50_000))})
    check_structure(nested(20))


def test_huge_arrays_are_refused_before_json_ld_work():
    doc = credential(**{"https://example.com/many": list(range(200_000))})
    with pytest.raises(DocumentTooComplexError, match="'https://example.com/many' holds more than 1000 values"):
        canonicalize(doc)


def test_values_per_property():
    refused(credential(**{"https://example.com/p": ["x"] * 1001}), "values_per_property",
            r"holds more than 1000 values \(values per property\)")
    check_jsonld_limits(credential(**{"https://example.com/p": ["x"] * 1000}))


def test_total_values():
    # 25 properties of 900 values: each within the per-property cap, together over 20,000
    doc = credential(**{f"https://example.com/p{i}": [i] * 900 for i in range(25)})
    refused(doc, "values", "holds more than 20000 values")


def test_depth():
    refused(nested(70), "depth", "nested more than 64 levels deep")


def test_string_length():
    refused(credential(name="x" * (64 * 1024 + 1)), "string", "a value of 'name' is longer than 65536 characters")
    refused(credential(**{"k" * (64 * 1024 + 1): 1}), "string", "a key is longer than 65536")
    check_jsonld_limits(credential(name="x" * (64 * 1024)))


def test_long_values_where_credentials_carry_them():
    """Baked images as data: URIs, status lists, proof values and JWT endorsements may be long."""
    image = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + bytes(512 * 1024)).decode()
    assert len(image) > 690_000  # the largest image microcred's issuer embeds
    doc = credential(image={"id": image, "type": "Image"})
    doc["credentialSubject"]["encodedList"] = "u" + "A" * 200_000
    doc["endorsementJwt"] = ["e" * 300_000]
    check_jsonld_limits(doc)
    refused(credential(image={"id": "data:" + "A" * (1024 * 1024), "type": "Image"}), "long_string",
            "longer than 1048576 characters")
    refused(credential(name="data-but-not-a-data-uri " + "x" * (64 * 1024)), "string", "'name' is longer")


def test_total_characters():
    doc = credential(**{f"https://example.com/p{i}": "data:" + "x" * 900_000 for i in range(5)})
    refused(doc, "total_chars", "total more than 4194304 characters")


def test_inline_context_count():
    doc = credential()
    doc["@context"] = [V2, OB] + [{f"t{i}": f"https://example.com/t{i}"} for i in range(9)]
    refused(doc, "inline_contexts", "more than 8 inline @context objects")
    # scoped contexts inside an inline context count too
    doc["@context"] = [V2, OB, {f"t{i}": {"@id": f"https://example.com/t{i}", "@context": {"x": "https://x.example/"}}
                                for i in range(8)}]
    refused(doc, "inline_contexts", "more than 8 inline @context objects")


def test_inline_context_terms_and_size():
    doc = credential()
    doc["@context"] = [V2, OB, {f"t{i}": f"https://example.com/{i}" for i in range(257)}]
    refused(doc, "context_terms", "defines more than 256 terms")
    doc["@context"] = [V2, OB, {f"t{i}": "https://example.com/" + "v" * 100 + str(i) for i in range(200)}]
    refused(doc, "inline_context_bytes", "inline @context is larger than 16384 bytes")


def test_context_entries():
    doc = credential()
    doc["credentialSubject"]["https://example.com/p"] = [{"@context": [V2, OB], "id": f"urn:x:{i}"} for i in range(40)]
    refused(doc, "contexts", "more than 64 @context entries")


def test_caps_are_checked_before_any_json_ld_work():
    """An unknown context would fail JSON-LD processing; the cap answers first."""
    doc = credential(**{"https://example.com/p": ["x"] * 5000})
    doc["@context"].append("https://attacker.example/never-fetched")
    with pytest.raises(DocumentTooComplexError, match="values per property"):
        JsonLdEngine().expand(doc)


def test_an_engine_may_have_other_caps():
    doc = credential(**{"https://example.com/p": ["x"] * 1500})
    engine = JsonLdEngine(limits=JsonLdLimits(max_array=2000))
    assert canonicalize(doc, engine=engine).count("<https://example.com/p>") == 1


def test_every_published_example_passes_with_room_to_spare():
    examples = [read_json(p) for p in example_credentials()]
    for doc in examples:
        check_jsonld_limits(doc)
    if examples:
        biggest = max(examples, key=lambda d: len(str(d)))
        grown = copy.deepcopy(biggest)
        grown["credentialSubject"] = [copy.deepcopy(biggest["credentialSubject"]) for _ in range(8)]
        check_jsonld_limits(grown)
    assert JSONLD_LIMITS.max_values < 100_000


# ---------------------------------------------------------------- copy_within_structure (signing's one pass)

def _structure_outcome(call):
    try:
        return ("ok", call())
    except DocumentTooComplexError as exc:
        return ("refused", str(exc), exc.details)


@pytest.mark.parametrize("document", [
    {}, [], "text", 5, None, {"a": [1, {"b": [2.5, True, None, "x"]}], "c": {}},
    nested(63), nested(64), nested(65), [nested(63)], {"many": [list(range(1000)) for _ in range(101)]},
    {"list": list(range(99_998))}, {"list": list(range(99_999))}, [[[]] * 3] * 3,
], ids=lambda d: repr(d)[:40])
@pytest.mark.parametrize("caps", [{}, {"max_depth": 3, "max_values": 12}])
def test_the_copying_walk_refuses_as_check_structure_does(document, caps):
    seen: list[object] = []

    def odd(number):
        seen.append(number)
        return isinstance(number, float)

    expected = _structure_outcome(lambda: check_structure(document, number_problem=odd, **caps))
    first_numbers = list(seen)
    seen.clear()
    got = _structure_outcome(lambda: copy_within_structure(document, number_problem=odd, **caps))
    assert got[0] == expected[0]
    if expected[0] == "refused":
        assert got[1:] == expected[1:]
    else:
        copied, flagged = got[1]
        assert flagged == expected[1] and copied == document and seen == first_numbers


def test_the_copy_shares_nothing_with_the_original():
    original = read_json(example_credentials()[0]) if example_credentials() else {"a": {"b": [{"c": 1}]}}
    copied, _ = copy_within_structure(original)
    assert copied == original and list(copied) == list(original)

    def containers(value, found):
        if isinstance(value, (dict, list)):
            found.append(id(value))
            for child in (value.values() if isinstance(value, dict) else value):
                containers(child, found)
        return found

    assert not set(containers(copied, [])) & set(containers(original, []))


def _depth_and_values(value, depth=1):
    """The deepest level any value sits at (the document at 1) and how many values there are."""
    children = list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else []
    deepest, count = depth, 1
    for child in children:
        child_depth, child_count = _depth_and_values(child, depth + 1)
        deepest, count = max(deepest, child_depth), count + child_count
    return deepest, count


_json = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=3),
                     lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=2), inner, max_size=4),
                     max_leaves=30)


@settings(max_examples=300, deadline=None)
@given(_json, st.integers(1, 6), st.integers(1, 40))
def test_the_walks_refuse_exactly_past_the_caps(document, max_depth, max_values):
    """Against a plain recursive count: refused only when a cap is passed, for a cap that is."""
    deepest, count = _depth_and_values(document)
    for walk in (check_structure, copy_within_structure):
        outcome = _structure_outcome(functools.partial(walk, document, max_depth=max_depth, max_values=max_values))
        if deepest <= max_depth and count <= max_values:
            assert outcome[0] == "ok"
        else:
            assert outcome[0] == "refused"
            limit = outcome[2]["limit"]
            assert (limit == "depth" and deepest > max_depth) or (limit == "values" and count > max_values)
