"""The canonical fast path against pyld, byte for byte (issue 13 §1: "differential tests are the contract").

:func:`verifier.rdf_walk.fast_nquads` writes a compacted credential's RDFC-1.0 canonical N-Quads
from term tables; ``canonicalize(document, fast=False)`` is the general pyld path, the reference.
For every input:

* pyld canonicalizes it: the fast path gives the same bytes, or gives up (``NotCovered``), never
  an error of its own; and it must not give up on a document :func:`must_be_covered` names (VC 2.0
  then OB 3.0, Data Integrity or VC examples contexts, by URL; no keyword escapes), so a silent
  fallback cannot hide a gap;
* pyld refuses it: the fast path refuses too (``NotCovered``, or the same error class and code);
* ``canonicalize(document)`` (fast by default) gives what ``canonicalize(document, fast=False)``
  gives, result or error.

Each credential is compared whole, without its proof and as each proof's configuration (what
``eddsa-rdfc-2022`` canonicalizes), and so is every credential embedded in it with a proof
(endorsements). Inputs: (a) every example credential and test-vector document of
``../shared/spec`` (skipped, saying so, without it), the published canonical forms of the
vectors, and named cases below (edge cases, and regressions: a mismatch found is pinned here as
the smallest failing document); (b) thousands of generated OB 3.0 credentials
(:mod:`tests.verifier.ob_generated`), derandomized (and without the constants hypothesis would
take from whichever project modules happen to be loaded) so every run draws the same ones. A failing
generated credential is reported after a greedy shrink (members and items deleted while it still
fails), ready to be pinned as a regression case.

The issuer's credentials are compared in ``tests/issuer/test_rdf_fast_issuer_output.py`` (the
verifier's tests never import the issuer), jsonld.js in ``tests/interop/test_fast_rdf_jsonld_js.py``.
"""
from __future__ import annotations

import functools
import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from tests.support import SPEC, VECTORS, example_credentials, read_json
from tests.verifier.credential_shapes import Mutation, paths
from tests.verifier.ob_generated import (
    OB303,
    V2,
    endorsements,
    examples,
    must_be_covered,
    ob_credentials,
    presentations,
    project_constants_left_out,
    status_list_credentials,
)
from verifier.canonicalize import canonicalize
from verifier.errors import CredentialError
from verifier.jsonld import JsonLdEngine
from verifier.rdf_walk import NotCovered, fast_nquads

Document = dict[str, Any]


# ---------------------------------------------------------------- the contract

@dataclass(frozen=True)
class Outcome:
    """What one path made of a document: N-Quads, an error, or (fast path only) not covered."""

    nquads: str | None = None
    error: CredentialError | None = None
    not_covered: str | None = None

    def describe(self) -> str:
        if self.nquads is not None:
            return f"{self.nquads.count(chr(10))} quads"
        if self.error is not None:
            return f"{type(self.error).__name__}({self.error.code}): {self.error}"
        return f"NotCovered: {self.not_covered}"


def outcome(run: Callable[[Document], str], document: Document) -> Outcome:
    try:
        return Outcome(nquads=run(document))
    except NotCovered as exc:
        return Outcome(not_covered=exc.reason)
    except CredentialError as exc:
        return Outcome(error=exc)


def _same_error(a: CredentialError | None, b: CredentialError | None) -> bool:
    return a is not None and b is not None and type(a) is type(b) and a.code == b.code


def _diff(ours: str, theirs: str) -> str:
    a, b = Counter(ours.splitlines()), Counter(theirs.splitlines())
    lines = [f"- fast: {x}" + (f" (x{n})" if n > 1 else "") for x, n in sorted((a - b).items())[:8]] + \
            [f"+ pyld: {x}" + (f" (x{n})" if n > 1 else "") for x, n in sorted((b - a).items())[:8]]
    if a.total() != b.total():
        lines.append(f"line counts differ: fast {a.total()}, pyld {b.total()}")
    return "\n".join(lines) or "(same lines, different order)"


def disagreement(document: Document, engine: JsonLdEngine | None = None, *, default: bool = True) -> str | None:
    """What breaks the contract for ``document`` itself (None: nothing); see the module docstring.
    ``default``: compare ``canonicalize(document)`` with the reference too."""
    reference = outcome(lambda d: canonicalize(d, engine=engine, fast=False), document)
    fast = outcome(lambda d: fast_nquads(d, engine), document)
    if reference.nquads is not None:
        if fast.error is not None:
            return f"pyld canonicalizes it, the fast path raises {fast.describe()}"
        if fast.nquads is not None and fast.nquads != reference.nquads:
            return f"the fast path's N-Quads differ from pyld's:\n{_diff(fast.nquads, reference.nquads)}"
        if fast.nquads is None and must_be_covered(document):
            return f"the fast path must cover this document but gives up: {fast.not_covered}"
    else:
        if fast.nquads is not None:
            return f"the fast path canonicalizes what pyld refuses ({reference.describe()})"
        if fast.error is not None and not _same_error(fast.error, reference.error):
            return f"pyld raises {reference.describe()}, the fast path {fast.describe()}"
    if not default:
        return None
    usual = outcome(lambda d: canonicalize(d, engine=engine), document)
    if usual.nquads != reference.nquads or (reference.error is not None
                                            and not _same_error(usual.error, reference.error)):
        return f"canonicalize(document) gives {usual.describe()}, with fast=False {reference.describe()}"
    return None


def embedded_credentials(value: Any, here: str = "") -> Iterator[tuple[str, Document]]:
    """Every object below the top with both an ``@context`` and a ``proof`` (a signed endorsement)."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from embedded_credentials(item, f"{here}/{index}")
    elif isinstance(value, dict):
        if here and "@context" in value and "proof" in value:
            yield here, value
        for key, item in value.items():
            if key not in ("@context", "proof"):
                yield from embedded_credentials(item, f"{here}/{key}")


def signed_views(document: Document) -> dict[str, Document]:
    """What is canonicalized when ``document`` is signed or verified with eddsa-rdfc-2022: the
    document whole, without its proof, and each proof's configuration (the proof without its
    value, under the document's ``@context``); the same for each embedded signed credential."""
    views: dict[str, Document] = {}
    for where, credential in [("", document), *embedded_credentials(document)]:
        views[f"{where or '/'} whole"] = credential
        if "proof" not in credential:
            continue
        views[f"{where or '/'} unsecured"] = {k: v for k, v in credential.items() if k != "proof"}
        proofs = credential["proof"] if isinstance(credential["proof"], list) else [credential["proof"]]
        for index, proof in enumerate(proofs):
            if isinstance(proof, dict):
                config = {k: v for k, v in proof.items() if k != "proofValue"}
                if "@context" in credential:
                    config["@context"] = credential["@context"]
                views[f"{where or '/'} proof configuration {index}"] = config
    return views


def first_disagreement(document: Document, engine: JsonLdEngine | None = None) -> str | None:
    """The first view of ``document`` (see :func:`signed_views`) that breaks the contract, and how;
    ``canonicalize(document)`` is compared with ``fast=False`` on the whole document."""
    for view, candidate in signed_views(document).items():
        problem = disagreement(candidate, engine, default=candidate is document)
        if problem is not None:
            return f"{view}: {problem}"
    return None


def shrunk(document: Document, still_fails: Callable[[Document], bool], budget: int = 1500) -> Document:
    """A smaller document that still fails: members and items deleted one at a time, greedily."""
    current = document
    progress = True
    while progress and budget > 0:
        progress = False
        for path in sorted(paths(current), key=len):
            if not path or path[-1] == "@context":
                continue
            budget -= 1
            candidate = Mutation("delete", path).apply(current)
            if isinstance(candidate, dict) and still_fails(candidate):
                current, progress = candidate, True
                break
            if budget <= 0:
                break
    return current


def assert_contract(document: Document, engine: JsonLdEngine | None = None) -> None:
    problem = first_disagreement(document, engine)
    if problem is None:
        return
    smallest = shrunk(document, lambda d: first_disagreement(d, engine) is not None)
    pytest.fail(f"{problem}\n\nsmallest failing document (pin it in REGRESSIONS):\n"
                f"{json.dumps(smallest, ensure_ascii=True, indent=1)}\n"
                f"its problem: {first_disagreement(smallest, engine)}", pytrace=False)


def covered(document: Document, engine: JsonLdEngine | None = None) -> bool:
    return outcome(lambda d: fast_nquads(d, engine), document).nquads is not None


# ---------------------------------------------------------------- (a) the spec's examples and vectors

def _example_ids() -> list[Any]:
    return [pytest.param(path, id=path.stem) for path in example_credentials()] or [
        pytest.param(None, marks=pytest.mark.skip(reason=f"the spec examples are not at {SPEC} (../shared/spec)"))]


@pytest.mark.parametrize("path", _example_ids())
def test_spec_example_credentials(path: Path, record_property: Any) -> None:
    document = read_json(path)
    assert_contract(document)
    record_property("fast_path_covers", covered(document))


def _vector_documents() -> list[Any]:
    if not VECTORS.is_dir():
        return [pytest.param(None, marks=pytest.mark.skip(
            reason=f"the W3C test vectors are not at {VECTORS} (../shared/spec/vectors)"))]
    found = []
    for path in sorted(VECTORS.rglob("*.json")):
        document = read_json(path)
        if isinstance(document, dict) and "@context" in document:
            found.append(pytest.param(path, id=str(path.relative_to(VECTORS))))
    return found


@pytest.mark.parametrize("path", _vector_documents())
def test_spec_vector_documents(path: Path, vector_engine: JsonLdEngine, record_property: Any) -> None:
    """Documents and proof configurations of the vc-di-eddsa vectors (some need contexts microcred
    does not ship: the vectors' engine serves them)."""
    document = read_json(path)
    assert_contract(document, vector_engine)
    record_property("fast_path_covers", covered(document, vector_engine))


def test_the_fast_path_covers_the_ob_examples_and_the_vectors_under_bundled_contexts(spec: Path) -> None:
    """The coverage recorded above, as one list: which spec documents the fast path covers."""
    uncovered = {}
    for path in example_credentials():
        document = read_json(path)
        if must_be_covered(document) and not covered(document) and \
                outcome(lambda d: canonicalize(d, fast=False), document).nquads is not None:
            uncovered[path.stem] = outcome(fast_nquads, document).describe()
    assert not uncovered, f"the fast path gives up on spec examples it must cover: {uncovered}"
    plain = [p for p in example_credentials() if must_be_covered(read_json(p))]
    assert len(plain) >= 10, f"only {len(plain)} spec examples are VC 2.0 + OB 3.0 by URL"


@pytest.mark.parametrize("folder,unsigned,suffix", [("eddsa-rdfc-2022", "unsigned.json", "DataInt"),
                                                    ("eddsa-rdfc-2022/employ", "employmentAuth.json", "DataInt")])
def test_the_fast_path_gives_the_published_canonical_forms(folder: str, unsigned: str, suffix: str,
                                                          vector_engine: JsonLdEngine) -> None:
    document = read_json(VECTORS / unsigned)
    config = read_json(VECTORS / folder / f"proofConfig{suffix}.json")
    for name, candidate in (("canonDoc", document), ("proofCanon", config)):
        published = (VECTORS / folder / f"{name}{suffix}.txt").read_text(encoding="utf-8")
        try:
            assert fast_nquads(candidate, vector_engine) == published, f"{folder}/{name}{suffix}.txt"
        except NotCovered as exc:
            assert not must_be_covered(candidate), f"{folder}/{name}: {exc.reason}"
        assert canonicalize(candidate, engine=vector_engine) == published


# ---------------------------------------------------------------- named cases

def _credential(**members: Any) -> Document:
    base: Document = {
        "@context": [V2, OB303], "id": "urn:uuid:5bd9c3a2-8f0e-4c25-9a31-57c1d1f0a001",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": "did:web:example.edu", "type": ["Profile"], "name": "Example"},
        "validFrom": "2010-01-01T00:00:00Z",
        "credentialSubject": {"type": ["AchievementSubject"], "achievement": {
            "id": "https://example.edu/achievements/1", "type": ["Achievement"], "name": "Teamwork",
            "criteria": {"narrative": "Peers."}}}}
    base.update(members)
    return base


def _achievement(**members: Any) -> Document:
    document = _credential()
    document["credentialSubject"]["achievement"].update(members)
    return document


PROOF = {"type": "DataIntegrityProof", "cryptosuite": "eddsa-rdfc-2022", "created": "2026-01-01T00:00:00Z",
         "verificationMethod": "did:web:example.edu#key-1", "proofPurpose": "assertionMethod", "proofValue": "z3FXQ"}
RUBRIC = {"id": "urn:uuid:f6ab24cd-86e8-4eaf-b8c6-ded74e8fd41c", "type": ["ResultDescription"],
          "name": "Grade", "resultType": "LetterGrade", "allowedValue": ["D", "C", "B", "A", "A"]}

# Edge cases worth naming (each must pass the contract; most must be covered).
EDGE_CASES: dict[str, Document] = {
    "allowed-values-as-an-rdf-list": _achievement(resultDescription=[RUBRIC]),
    "empty-allowed-values": _achievement(resultDescription=[{**RUBRIC, "allowedValue": []}]),
    "numbers-coerced-and-plain": _achievement(creditsAvailable=[3.0, 0.1, 1e21, -0, 2**53 + 1, True, "1.50"],
                                              humanCode=[42, 1.5, -1e-7, 10**25]),
    "proof-set-in-named-graphs": _credential(proof=[PROOF, {**PROOF, "created": "2026-01-02T00:00:00Z"}]),
    "identical-blank-nodes": _achievement(alignment=[{"type": ["Alignment"], "targetName": "Same"}] * 3),
    "issuer-merged-with-creator": _achievement(creator={"id": "did:web:example.edu", "type": ["Profile"],
                                                        "name": "Another name", "url": "https://example.edu"}),
    "nested-signed-endorsement": _credential(endorsement=[{
        "@context": [V2, OB303], "id": "urn:uuid:0b5f7a52-6d3e-4c1b-9a55-3a1f2e4d5c60",
        "type": ["VerifiableCredential", "EndorsementCredential"], "issuer": "did:web:endorser.example",
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "https://example.edu/achievements/1", "type": ["EndorsementSubject"],
                              "endorsementComment": "Solid."}, "proof": PROOF}]),
    "null-and-empty-values": _credential(description=None, evidence=[], name=["", None]),
    "iri-keys-and-types": _credential(**{"https://schema.org/keywords": ["a", "b"], "urn:example:flag": True,
                                         "type": ["VerifiableCredential", "OpenBadgeCredential",
                                                  "https://example.edu/vocab#Custom"]}),
    "control-characters-and-rtl": _credential(name="a\x00\x1f\x7f\u2028\u202e\u05e9\u05dc\u05d5\u05dd\U0001F393",
                                              description='"q" \\ \t\n\r'),
    "proof-purposes": _credential(proof=[{**PROOF, "proofPurpose": p} for p in (
        "authentication", "capabilityInvocation", "https://example.edu/vocab#p")]),
    # two anonymous nodes alike at first degree: the serialized quads go back to the general
    # algorithm (WalkedQuads.quads(): literals with spaces, quotes and escapes split right)
    "twin-anonymous-alignments": _achievement(alignment=[
        {"type": ["Alignment"], "targetName": 'Skill "one" two\n', "targetUrl": "https://x.example/s1"}
        for _ in range(2)]),
    # an anonymous node whose keys say one thing twice (a type repeated, a property under its
    # term and its IRI): its lines are not kept together as written, the quads stay a set
    "anonymous-node-saying-one-thing-twice": _achievement(alignment=[{
        "type": ["Alignment", "Alignment"], "targetName": "Same", "https://schema.org/targetName": "Same",
        "targetCode": ["c", "c"], "targetUrl": "https://x.example/s1"}]),
    "anonymous-nodes-within-anonymous-nodes": _credential(credentialSubject={
        "type": ["AchievementSubject"], "achievement": {
            "type": ["Achievement"], "name": "Inner", "criteria": {"narrative": "Done."},
            "alignment": [{"type": ["Alignment"], "targetName": f"Skill {i}"} for i in range(3)]}}),
    "subject-list-without-ids": _credential(credentialSubject=[
        {"type": ["AchievementSubject"], "role": "a"}, {"type": ["AchievementSubject"], "role": "a"}]),
    "undefined-term-without-vocab": _credential(alsoKnownAs="x"),
    "relative-id": _achievement(id="achievements/1"),
    "inline-context": _credential(**{"@context": [V2, OB303, {"colour": "https://example.edu/vocab#colour"}],
                                     "colour": "red"}),
    "language-value-object": _credential(name={"@value": "Teamwork", "@language": "en"}),
    "json-literal-twice": _credential(credentialSchema=[{"id": "https://example.edu/schema.json", "type": "JsonSchema",
                                                         "jsonSchema": {"b": [1.0, "\u2028"], "a": None}}] * 2),
    "numbers-beyond-doubles": _achievement(creditsAvailable=10**400, humanCode=-(2**1024)),
}
# Mismatches found between the fast path and pyld, pinned as their smallest failing document.
REGRESSIONS: dict[str, Document] = {}


@pytest.mark.parametrize("name", [*EDGE_CASES, *REGRESSIONS])
def test_named_cases(name: str) -> None:
    assert_contract({**EDGE_CASES, **REGRESSIONS}[name])


def test_named_vc2_cases_are_covered() -> None:
    plain = {name: doc for name, doc in EDGE_CASES.items() if must_be_covered(doc)
             and outcome(lambda d: canonicalize(d, fast=False), doc).nquads is not None}
    assert len(plain) >= 10
    assert [name for name, doc in plain.items() if not covered(doc)] == []


# Characters Python's ``\s`` matches, so that pyld calls an IRI holding one relative (jsonld.js's
# ``\s`` differs: it has U+FEFF and lacks U+001C-U+001F and U+0085). pyld leaves such an IRI out
# of the dataset, and with it every statement about or pointing to the node, without an error:
# what is signed would lack them (found by these tests; microcred now refuses such IRIs). Refusing
# or keeping them is fine; dropping them is not.
WHITE_SPACE = {"space": " ", "U+000B": "\x0b", "U+001C": "\x1c", "U+001F": "\x1f", "U+0085": "\x85",
               "U+00A0": "\xa0", "U+2028": "\u2028", "U+3000": "\u3000"}


def _with_iri(where: str, iri: str) -> Document:
    if where == "achievement-id":
        return _achievement(id=iri)
    if where == "image":
        return _achievement(image=iri)
    return _credential(type=["VerifiableCredential", "OpenBadgeCredential", iri])


@pytest.mark.parametrize("name", WHITE_SPACE)
def test_an_iri_with_white_space_is_refused_or_kept_never_dropped(name: str) -> None:
    dropped = []
    for where in ("achievement-id", "image", "type"):
        expected = canonicalize(_with_iri(where, "https://example.edu/a-b"), fast=False).count("\n")
        document = _with_iri(where, f"https://example.edu/a{WHITE_SPACE[name]}b")
        for fast in (True, False):
            result = outcome(functools.partial(canonicalize, fast=fast), document)
            if result.nquads is not None and result.nquads.count("\n") != expected:
                dropped.append(f"{where}, fast={fast}: {result.nquads.count(chr(10))} quads instead of {expected}")
    assert not dropped, f"statements vanish with an IRI holding {name}: {dropped}"


# ---------------------------------------------------------------- (b) generated credentials

@pytest.fixture(scope="module", autouse=True)
def _reproducible_draws() -> Iterator[None]:
    with project_constants_left_out():
        yield


GENERATED = settings(derandomize=True, database=None, deadline=None, phases=[Phase.explicit, Phase.generate],
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                            HealthCheck.large_base_example])


@settings(GENERATED, max_examples=500)
@given(ob_credentials(vc11=False))
def test_generated_vc2_credentials(document: Document) -> None:
    assert_contract(document)


@settings(GENERATED, max_examples=450)
@given(ob_credentials(vc11=False, escape=False))
def test_generated_vc2_credentials_without_escapes(document: Document) -> None:
    assert_contract(document)


@settings(GENERATED, max_examples=250)
@given(ob_credentials(vc11=True))
def test_generated_vc11_credentials(document: Document) -> None:
    assert_contract(document)


@settings(GENERATED, max_examples=400)
@given(endorsements(nested=True))
def test_generated_endorsement_credentials(document: Document) -> None:
    assert_contract(document)


@settings(GENERATED, max_examples=150)
@given(status_list_credentials())
def test_generated_status_list_credentials(document: Document) -> None:
    assert_contract(document)


@settings(GENERATED, max_examples=150)
@given(presentations())
def test_generated_presentations(document: Document) -> None:
    """Presentations: credentials in named graphs, each with its own context and proofs (the fast
    path may leave a presentation to pyld, but never differ from it)."""
    assert_contract(document)


def test_the_generated_credentials_are_mostly_covered() -> None:
    """Not vacuous: most generated credentials canonicalize, and the fast path covers them."""
    documents = examples(ob_credentials(vc11=False), 150)
    canonical = [d for d in documents if outcome(lambda x: canonicalize(x, fast=False), d).nquads is not None]
    plain = [d for d in canonical if must_be_covered(d)]
    assert len(canonical) >= 0.65 * len(documents), f"pyld canonicalizes only {len(canonical)} of {len(documents)}"
    assert len(plain) >= 0.4 * len(documents), f"only {len(plain)} of {len(documents)} must be covered"
    assert all(covered(d) for d in plain)
