"""The canonical fast path against jsonld.js canonize, byte for byte (issue 13 §1: "the contract").

The comparisons of ``tests/verifier/test_rdf_fast_differential.py`` (fast path == pyld), made
against Digital Bazaar's jsonld.js (RDFC-1.0, safe mode, only microcred's bundled contexts: the
``canonize.mjs`` and ``run_batch`` of ``test_js_interop.py``). For every document (whole, without
its proof, each proof's configuration, each embedded signed credential):

* jsonld.js canonicalizes it: the fast path gives the same bytes; where it gives up
  (``NotCovered``), pyld (what microcred then uses) gives the same bytes;
* jsonld.js refuses it: microcred refuses it too (the fast path gives up or fails, pyld fails).

Six batches, one node run each: the spec's example credentials; the W3C vector documents (with
the vectors' own contexts on both sides); ``test_js_interop.py``'s crafted edge cases with the
documents pinned here; IRIs with characters N-Quads escapes or either language calls white space;
what microcred's issuer signs (``tests/issuer/test_rdf_fast_issuer_output.py``); a few hundred
generated OB 3.0 credentials, presentations and status list credentials
(:mod:`tests.verifier.ob_generated`, derandomized: the same ones every run). Generated documents
holding a number jsonld.js reads differently are left out of the batch (see :data:`UNPORTABLE`);
there the fast path must equal pyld, which the differential tests check.

A case whose difference is understood goes in :data:`KNOWN_MISMATCHES` with the reason, as a
strict expected failure: the test fails when it starts to agree, so the entry is removed. In the
generated batch, jsonld.js's one known slip that a generator meets (:func:`repeats_json_literals`)
is excused by rule; its named case stays strict. Wherever the fast path covers a document its
bytes must also equal pyld's: that is never excused.
"""
from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from issuer.portable_numbers import UnportableNumberError, check_portable_numbers
from tests.interop.test_js_interop import (
    KNOWN_CANONICALIZATION_MISMATCHES,
    SKIP_REASON,
    base_credential,
    bundled_contexts,
    crafted_documents,
    example_documents,
    rejected_documents,
    run_batch,
    run_node,
)
from tests.issuer.test_rdf_fast_issuer_output import issued_credentials
from tests.support import VECTOR_ONLY_CONTEXTS, VECTORS, read_json, require_shared, shared_context
from tests.verifier.ob_generated import examples, ob_credentials, presentations, status_list_credentials
from tests.verifier.test_rdf_fast_differential import Outcome, outcome, signed_views
from verifier.canonicalize import canonicalize
from verifier.document_loader import DocumentLoader
from verifier.jsonld import JsonLdEngine
from verifier.rdf_walk import fast_nquads

pytestmark = pytest.mark.skipif(SKIP_REASON is not None, reason=SKIP_REASON or "")

GENERATED = 300
# Numbers jsonld.js reads differently from the JSON-LD algorithms (the strict xfails of
# test_js_interop.py): integers beyond 2**53 (JSON.parse rounds them) and fractions JavaScript
# prints without a '.' (1e-7: jsonld.js calls them integers). microcred refuses to sign them
# (issuer.portable_numbers); generated documents holding one are not sent to jsonld.js.
UNPORTABLE = UnportableNumberError

# case id -> why microcred and jsonld.js differ there (strict: an entry that agrees fails the test):
# the number cases test_js_interop.py marks, seen through the fast path (which must equal pyld there).
KNOWN_MISMATCHES: dict[str, str] = {
    **{f"{case_id} / whole": reason for case_id, reason in KNOWN_CANONICALIZATION_MISMATCHES.items()},
    "named:json-literal-twice / whole": (
        "jsonld.js writes the statement of a JSON literal twice when one node has the same JSON value twice "
        "(two credentialSchema entries naming one schema): it compares JSON literals by reference when it "
        "merges a node's values; a dataset is a set, and pyld writes it once")}
# White space only to Python's \s: microcred refuses an IRI holding any character Python or
# JavaScript calls white space (dropped_term), jsonld.js keeps these (escaped as \u001C ...).
PYTHON_ONLY_WHITE_SPACE = ("U+001C", "U+001F", "U+0085")
KNOWN_MISMATCHES.update({
    f"iri:{where}:{name} / whole": (
        f"{name} is white space to Python's \\s, not to JavaScript's: microcred refuses an IRI holding it "
        "(refusing what either reads as white space), jsonld.js keeps it; microcred never signs such a "
        "credential and refuses one signed elsewhere")
    for name in PYTHON_ONLY_WHITE_SPACE for where in ("id", "image", "type", "key")})
# Documents found by the generated batches, pinned (compared in the crafted batch).
NAMED_DOCUMENTS: dict[str, Document] = {
    "json-literal-twice": {"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"],
                           "credentialSchema": [{"id": "https://example.edu/schema.json", "type": "JsonSchema",
                                                 "jsonSchema": []}] * 2}}

Document = dict[str, Any]


def _portable(document: Document) -> bool:
    try:
        check_portable_numbers(document)
    except UNPORTABLE:
        return False
    return True


def _views(documents: dict[str, Document]) -> dict[str, Document]:
    """Case id ("<document> <view>") -> what is canonicalized (see ``signed_views``)."""
    return {f"{name} {view}": view_document for name, document in documents.items()
            for view, view_document in signed_views(document).items()}


def _problem(fast: Outcome, reference: Outcome, theirs: dict[str, Any]) -> str | None:
    """How microcred's result differs from jsonld.js's (None: it does not)."""
    if "nquads" in theirs:
        if fast.nquads is not None:
            return None if fast.nquads == theirs["nquads"] else \
                f"fast path != jsonld.js:\n{_diff(fast.nquads, theirs['nquads'])}"
        if reference.nquads is None:
            return f"jsonld.js canonicalizes it; microcred refuses it ({reference.describe()})"
        return None if reference.nquads == theirs["nquads"] else \
            f"not covered ({fast.not_covered}); pyld != jsonld.js:\n{_diff(reference.nquads, theirs['nquads'])}"
    if fast.nquads is not None or reference.nquads is not None:
        return f"jsonld.js refuses it ({theirs.get('error', '')[:300]}); microcred canonicalizes it"
    return None


def _diff(ours: str, theirs: str) -> str:
    a, b = Counter(ours.splitlines()), Counter(theirs.splitlines())
    lines = [f"- ours:   {x}" + (f" (x{n})" if n > 1 else "") for x, n in sorted((a - b).items())[:8]] + \
            [f"+ theirs: {x}" + (f" (x{n})" if n > 1 else "") for x, n in sorted((b - a).items())[:8]]
    return "\n".join(lines) or "(same lines, different order)"


RDF_JSON = "^^<http://www.w3.org/1999/02/22-rdf-syntax-ns#JSON> ."


def repeats_json_literals(ours: str, theirs: str) -> bool:
    """Whether jsonld.js's N-Quads are ours with some rdf:JSON statements written twice. jsonld.js
    does not merge equal JSON literals of one node (it compares them by reference), so it repeats
    the statement; a dataset is a set, and pyld (like RDFC-1.0) writes it once. Named case:
    ``named:json-literal-twice`` in :data:`KNOWN_MISMATCHES`."""
    extra = Counter(theirs.splitlines()) - Counter(ours.splitlines())
    return (bool(extra) and set(theirs.splitlines()) == set(ours.splitlines())
            and all(line.endswith(RDF_JSON) for line in extra))


def compare(cases: dict[str, Document], theirs: list[dict[str, Any]],
            canon: Callable[[Document, bool], str], *, repeated_json_literals: bool = False) -> None:
    """Every case against jsonld.js's result; fails listing every unexpected difference and every
    known mismatch that no longer differs. ``repeated_json_literals``: excuse jsonld.js's repeated
    JSON literal statements (:func:`repeats_json_literals`), for batches without named cases."""
    problems, unexpected = {}, {}
    for (case_id, document), their in zip(cases.items(), theirs, strict=True):
        fast = outcome(lambda d: canon(d, True), document)
        reference = outcome(lambda d: canon(d, False), document)
        problem = _problem(fast, reference, their)
        ours = fast.nquads if fast.nquads is not None else reference.nquads
        if problem is not None and repeated_json_literals and ours is not None and "nquads" in their \
                and repeats_json_literals(ours, their["nquads"]):
            problem = None
        if problem is not None:
            problems[case_id] = (problem, document)
            if case_id not in KNOWN_MISMATCHES:
                unexpected[case_id] = (problem, document)
        if fast.nquads is not None and fast.nquads != reference.nquads:    # never excused
            unexpected[case_id] = (f"fast path != pyld: {reference.describe()}" if reference.nquads is None else
                                   f"fast path != pyld:\n{_diff(fast.nquads, reference.nquads)}", document)
    now_agree = [k for k in KNOWN_MISMATCHES if k in cases and k not in problems]
    report = [f"{case_id}: {problem}\ninput: {json.dumps(document, ensure_ascii=True)[:3000]}"
              for case_id, (problem, document) in unexpected.items()]
    report += [f"{case_id}: listed in KNOWN_MISMATCHES but agrees now; remove it" for case_id in now_agree]
    assert not report, f"{len(report)} of {len(cases)} cases:\n\n" + "\n\n".join(report[:20])


def _ours(engine: JsonLdEngine | None = None) -> Callable[[Document, bool], str]:
    def canon(document: Document, fast: bool) -> str:
        return fast_nquads(document, engine) if fast else canonicalize(document, engine=engine, fast=False)
    return canon


def _batch(cases: dict[str, Document]) -> list[dict[str, Any]]:
    return run_batch("canonize.mjs", [{"document": document} for document in cases.values()])


# ---------------------------------------------------------------- the batches

def test_spec_examples_fast_path_equals_jsonld_js() -> None:
    require_shared()
    cases = _views(dict(example_documents()))
    assert len(cases) >= 20
    compare(cases, _batch(cases), _ours())


def test_spec_vectors_fast_path_equals_jsonld_js() -> None:
    require_shared()
    extra = {url: shared_context(url) for url in VECTOR_ONLY_CONTEXTS}
    engine = JsonLdEngine(DocumentLoader(extra))
    documents = {str(p.relative_to(VECTORS)): d for p in sorted(VECTORS.rglob("*.json"))
                 if isinstance(d := read_json(p), dict) and "@context" in d}
    cases = _views(documents)
    theirs = run_node("canonize.mjs", {"contexts": {**bundled_contexts(), **extra},
                                       "jobs": [{"document": d} for d in cases.values()]})["results"]
    compare(cases, theirs, _ours(engine))


def test_crafted_documents_fast_path_equals_jsonld_js() -> None:
    """test_js_interop.py's crafted edge cases (control characters, non-ASCII, numbers, booleans,
    JSON literals, language tags, IRIs, symmetric blank nodes), the documents both refuse, and the
    named documents found here."""
    documents = {f"crafted:{k}": v for k, v in crafted_documents().items()}
    documents.update({f"rejected:{k}": v for k, v in rejected_documents().items()})
    documents.update({f"named:{k}": v for k, v in NAMED_DOCUMENTS.items()})
    cases = _views(documents)
    compare(cases, _batch(cases), _ours())


# Characters in IRIs: escaped in N-Quads (< > " { } | ^ ` \\ and controls), or white space in
# Python's ``\s`` or JavaScript's (they differ: U+FEFF is JS white space only; U+001C-U+001F and
# U+0085 Python's only), in a node id, an @id-coerced value, a type and a property name.
IRI_CHARACTERS = {"U+0000": "\x00", "U+007F": "\x7f", "angle": "<>", "quote": '"', "backslash": "\\",
                  "braces-pipe-caret-backtick": "{|}^`", "U+200B": "\u200b", "U+180E": "\u180e",
                  "space": " ", "U+000B": "\x0b", "U+00A0": "\xa0", "U+2028": "\u2028", "U+3000": "\u3000",
                  "U+FEFF": "\ufeff", "U+001C": "\x1c", "U+001F": "\x1f", "U+0085": "\x85"}


def iri_documents() -> dict[str, Document]:
    documents = {}
    for name, chars in IRI_CHARACTERS.items():
        for where in ("id", "image", "type", "key"):
            document = base_credential()
            achievement = document["credentialSubject"]["achievement"]
            if where == "id":
                achievement["id"] = f"https://example.com/a{chars}b"
            elif where == "image":
                achievement["image"] = f"https://example.com/i{chars}"
            elif where == "type":
                document["type"] = [*document["type"], f"urn:x:{chars}y"]
            else:
                document[f"urn:key:{chars}z"] = "v"
            documents[f"iri:{where}:{name}"] = document
    return documents


def test_iri_edge_cases_fast_path_equals_jsonld_js() -> None:
    cases = _views(iri_documents())
    compare(cases, _batch(cases), _ours())


def test_issuer_output_fast_path_equals_jsonld_js() -> None:
    cases = _views(issued_credentials())
    compare(cases, _batch(cases), _ours())


@functools.cache
def generated_documents() -> dict[str, Document]:
    """The generated batch: portable documents among the first draws (credentials, then
    presentations and status list credentials), numbered by draw."""
    drawn = [*examples(ob_credentials(), GENERATED), *examples(presentations(), GENERATED // 6),
             *examples(status_list_credentials(), GENERATED // 6)]
    return {f"generated:{index}": document for index, document in enumerate(drawn) if _portable(document)}


def test_generated_credentials_fast_path_equals_jsonld_js() -> None:
    documents = generated_documents()
    assert len(documents) >= GENERATED // 2, f"only {len(documents)} of {GENERATED} generated documents are portable"
    cases = _views(documents)
    compare(cases, _batch(cases), _ours(), repeated_json_literals=True)
