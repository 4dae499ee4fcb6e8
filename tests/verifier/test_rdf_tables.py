"""The fast path's tables, plans and walk: bounded, never guessing, giving way to pyld.

The byte-for-byte comparisons with pyld and jsonld.js on many documents are in
test_rdf_fast_differential.py and tests/interop; here: what the fast path does with what it
does not cover, with hostile input, and with its own memory.
"""
from __future__ import annotations

import copy
import itertools
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verifier import rdf_plans
from verifier.budget import Deadline
from verifier.canonicalize import canonicalize
from verifier.errors import CredentialError
from verifier.jsonld import JsonLdEngine, default_engine
from verifier.nquads import escape_iri
from verifier.rdf_tables import MAX_TRANSITIONS, iri_term, is_absolute_iri
from verifier.rdf_walk import NotCovered, fast_nquads, fast_quads

VC2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
EXT = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"


def badge(**extra: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "@context": [VC2, OB],
        "id": "urn:uuid:7a0e5c1e-4d3b-4b87-9d5e-000000000001",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "https://issuer.example/profile", "type": ["Profile"], "name": "Example Corp"},
        "validFrom": "2026-01-01T00:00:00Z",
        "name": "Teamwork",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://issuer.example/achievements/teamwork", "type": ["Achievement"],
                "name": "Teamwork", "description": "Works in a team.",
                "criteria": {"narrative": "Peer nominated."},
            },
        },
    }
    doc.update(extra)
    return doc


def both_paths(document: dict[str, Any]) -> tuple[Any, Any]:
    """(general path, default path) results: N-Quads text or the error code."""
    results = []
    for fast in (False, True):
        try:
            results.append(canonicalize(copy.deepcopy(document), fast=fast))
        except CredentialError as exc:
            results.append(exc.code)
    return results[0], results[1]


# -- what the fast path does not cover: it gives way, and the general path answers as before ----

NOT_COVERED = {
    "inline context object": badge(**{"@context": [VC2, OB, {"extra": "https://example.com/extra"}],
                                      "extra": "x"}),
    "value object": badge(name={"@value": "Teamwork", "@language": "en"}),
    "blank node identifier": badge(id="_:b0"),
    "relative @id": badge(id="credentials/1"),
    "undefined term (no @vocab in VC 2.0)": badge(undefinedTerm="x"),
    "array inside an array": badge(name=[["Teamwork"]]),
    "keyword key": badge(**{"@included": [{"id": "https://example.com/n"}]}),
    "@type given as an object": badge(type={"a": "b"}),
    "unbundled context URL": badge(**{"@context": [VC2, "https://example.com/context.jsonld"]}),
    "top-level @graph": {"@context": [VC2], "@graph": [badge()]},
}


@pytest.mark.parametrize("name", sorted(NOT_COVERED))
def test_what_the_tables_do_not_cover_takes_the_general_path(name: str) -> None:
    document = NOT_COVERED[name]
    with pytest.raises(NotCovered):
        fast_quads(copy.deepcopy(document))
    general, default = both_paths(document)
    assert default == general  # same N-Quads, or the same error


def test_a_covered_credential_takes_the_fast_path_and_equals_the_general_one() -> None:
    document = badge()
    assert fast_nquads(document) == canonicalize(document, fast=False) == canonicalize(document)


def test_an_absolute_iri_key_is_covered_as_pyld_reads_it() -> None:
    document = badge(**{"ex:term": "x", "https://example.com/vocab#p": 3})
    assert fast_nquads(document) == canonicalize(document, fast=False)
    assert "<ex:term>" in fast_nquads(document)


def test_the_walk_does_not_change_the_document() -> None:
    document = badge(credentialStatus={"id": "https://issuer.example/status/1#5",
                                       "type": "BitstringStatusListEntry", "statusPurpose": "revocation",
                                       "statusListIndex": "5",
                                       "statusListCredential": "https://issuer.example/status/1"})
    before = copy.deepcopy(document)
    fast_nquads(document)
    assert document == before


# -- hostile input stays bounded on the fast path ----------------------------------------------

def test_a_document_over_the_caps_is_refused_as_before() -> None:
    """The walk gives way on anything over the caps; the general path checks them and refuses."""
    too_long = badge(name="x" * (64 * 1024 + 1))
    with pytest.raises(NotCovered):
        fast_quads(too_long)
    assert both_paths(too_long) == ("too_complex", "too_complex")
    image = badge(image={"id": "data:image/png;base64," + "A" * 100_000, "type": "Image"})
    assert fast_nquads(image) == canonicalize(image, fast=False)  # a long data: URI is within the caps
    deep: dict[str, Any] = {"type": ["Achievement"], "name": "leaf"}
    for _ in range(70):
        deep = {"type": ["Achievement"], "name": "n", "related": [deep]}
    nested = badge(credentialSubject={"type": ["AchievementSubject"], "achievement": deep})
    with pytest.raises(NotCovered):
        fast_quads(nested)
    assert both_paths(nested) == ("too_complex", "too_complex")
    too_many = badge(credentialSubject={"type": ["AchievementSubject"],
                                        "achievement": [{"type": ["Achievement"], "name": str(i)}
                                                        for i in range(1001)]})
    assert both_paths(too_many) == ("too_complex", "too_complex")


def test_the_walk_checks_the_deadline() -> None:
    many = badge(credentialSubject={"type": ["AchievementSubject"],
                                    "achievement": [{"type": ["Achievement"], "name": f"n{i}",
                                                     "criteria": {"narrative": "x"}} for i in range(200)]})
    ticks = iter(itertools.count())
    spent = Deadline(5, clock=lambda: float(next(ticks)))  # every clock reading costs a second
    with pytest.raises(CredentialError) as caught:
        fast_quads(many, deadline=spent)
    assert caught.value.code == "canonicalization_limit"


def test_large_documents_take_their_turn_on_the_general_path() -> None:
    large = badge(credentialSubject={"type": ["AchievementSubject"],
                                     "achievement": [{"type": ["Achievement"], "name": f"n{i}",
                                                      "alignment": [{"type": ["Alignment"], "targetName": "t",
                                                                     "targetUrl": "https://example.com/t"}]}
                                                     for i in range(400)]})
    with pytest.raises(NotCovered, match="large document"):
        fast_quads(large)


# -- the tables' own memory is bounded -------------------------------------------------------

def test_documents_with_new_keys_do_not_grow_the_tables() -> None:
    engine = JsonLdEngine()
    achievement_tables = []

    def run(i: int) -> None:
        document = badge()
        document["credentialSubject"]["achievement"][f"https://example.com/vocab#k{i}"] = f"v{i}"
        canonicalize(document, engine=engine)

    for i in range(5):
        run(i)
    sizes = _table_sizes(engine, achievement_tables)
    for i in range(5, 400):
        run(i)
    assert _table_sizes(engine, achievement_tables) == sizes
    assert 0 < len(engine.tables.shapes) <= rdf_plans.MAX_SHAPES


def _table_sizes(engine: JsonLdEngine, seen: list[Any]) -> tuple[int, int]:
    stack, tables, rules, iris = [engine.tables], set(), 0, 0
    while stack:
        table = stack.pop()
        if id(table) in tables:
            continue
        tables.add(id(table))
        seen.append(table)
        rules += len(table._rules)
        iris += len(table._vocab_iris)
        stack.extend(entry[1] for entry in table._transitions.values())
    return rules, iris


def test_context_transitions_are_bounded() -> None:
    engine = JsonLdEngine()
    urls = [OB, EXT, "https://w3id.org/security/data-integrity/v2", "https://w3id.org/security/multikey/v1",
            "https://www.w3.org/ns/credentials/examples/v2", "https://www.w3.org/ns/credentials/status/v1"]
    lists = [[VC2, *rest] for n in range(1, 5) for rest in itertools.permutations(urls, n)]
    assert len(lists) > MAX_TRANSITIONS
    for context in lists:
        canonicalize({"@context": context, "type": "VerifiableCredential",
                      "issuer": "https://issuer.example", "credentialSubject": {"id": "did:example:1"}},
                     engine=engine)
    assert 0 < len(engine.tables._transitions) <= MAX_TRANSITIONS


def test_one_shape_is_planned_once() -> None:
    engine = JsonLdEngine()
    canonicalize(badge(), engine=engine)
    before = dict(engine.tables.shapes)
    for n in range(20):
        canonicalize(badge(name=f"Teamwork {n}", validFrom=f"2026-01-{n + 1:02d}T00:00:00Z"), engine=engine)
    assert engine.tables.shapes == before  # the same shapes, the very same objects: nothing worked out again


def test_node_plans_live_and_die_with_their_engine() -> None:
    """An issuer makes an engine per self-check: its tables and plans must not outlive it."""
    import gc
    import weakref

    engine = JsonLdEngine()
    canonicalize(badge(), engine=engine)
    assert engine.tables.shapes
    other = JsonLdEngine()
    canonicalize(badge(), engine=other)
    assert not set(engine.tables.shapes) & set(other.tables.shapes)  # nothing shared between engines
    gone = weakref.ref(engine.tables)
    del engine
    gc.collect()
    assert gone() is None


# -- identifiers at once: ContextTables.id_term is iri_term(expand_id(...)), shortcut or not --------

_ID_TABLES = {
    "no context": [],
    "vc2 and ob 3.0.3": [VC2, OB],
    "security v2 (prefixes dc, sec, xsd)": ["https://w3id.org/security/v2"],
    "ob 3.0.1 (prefix xsd)": ["https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json"],
}


def _id_outcome(call: Any) -> str:
    try:
        return str(call())
    except NotCovered:
        return "not covered"


@pytest.mark.parametrize("contexts", list(_ID_TABLES.values()), ids=list(_ID_TABLES))
@settings(max_examples=400, deadline=None)
@given(prefix=st.sampled_from(["", "xsd:", "sec:", "dc:", "did:", "urn:", "https:", "https://", "_:", "@",
                               "a+b.c-d:", "a,b:", "1a:", "xsd://"]),
       rest=st.text(st.sampled_from('ab09:/#?[]@!$&()*+,;=-._~%<>"{}|^`\\ \t\n\x00\x7f\u00e9\ufeff\u2028'),
                    max_size=12))
def test_an_identifier_is_written_as_the_long_way_writes_it(contexts: list[str], prefix: str, rest: str) -> None:
    def long_way(iri: str) -> str:  # iri_term without its shortcut
        if not is_absolute_iri(iri):
            raise NotCovered("not absolute")
        return "<" + escape_iri(iri) + ">"

    tables = default_engine().tables.after(contexts) if contexts else default_engine().tables
    value = prefix + rest
    expected = _id_outcome(lambda: long_way(tables.expand_id(value)))
    assert _id_outcome(lambda: tables.id_term(value)) == expected
    assert _id_outcome(lambda: iri_term(value)) == _id_outcome(lambda: long_way(value))
