"""The canonical fast path on what the issuer signs (issue 13 §1: "every credential the issuer builds").

An issuer instance on SQLite issues the awards of a few typical achievements (criteria only; the
full shape with skill alignments, a rubric with levels and allowed values, tags, a version, a
criteria URL; names in other scripts with emoji and control characters), with and without a
recipient DID, evidence, results, an award date and a validity period; it publishes its signed
status lists; and ``issuer.sign_credential`` signs the sample badge once, twice (a proof set)
and with eddsa-jcs-2022. Each signed document, its unsecured form and each proof configuration
must canonicalize byte for byte as pyld does, and the fast path must cover every one of them (no
silent fallback): the contract of ``tests/verifier/test_rdf_fast_differential.py``, whose helpers
this module uses. :func:`issued_credentials` is shared with the jsonld.js comparison
(``tests/interop/test_fast_rdf_jsonld_js.py``).
"""
from __future__ import annotations

import copy
import functools
import json
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

import issuer
from issuer.awards.issuance import AwardRequest, IssuerContext, issue_award
from issuer.cli.achievements import achievement_from_definition
from issuer.config import load_settings
from issuer.db.models import Achievement, StatusList
from issuer.identity import load_issuer
from issuer.instance import open_instance
from issuer.keys.files import generate_key
from issuer.setup import init_instance
from tests.verifier.issuer_world import sample_credential
from tests.verifier.ob_generated import must_be_covered
from tests.verifier.test_rdf_fast_differential import assert_contract, covered

RUBRIC = "urn:uuid:5f0c3c1e-0000-4000-8000-000000000001"
LEVEL = "urn:uuid:5f0c3c1e-0000-4000-8000-0000000000a1"
ACHIEVEMENTS = [
    {"slug": "plain", "name": "Plain", "description": "Criteria only.", "criteria_narrative": "Did it."},
    {"slug": "full", "name": "SQL fundamentals", "description": "Writes correct SQL queries.",
     "criteria_narrative": "Passed a supervised practical.", "criteria_url": "https://example.com/criteria/sql",
     "achievement_type": "Competency", "validity_months": 12, "version": "2.1", "tags": ["sql", "data", "sql"],
     "alignments": [{"targetName": "SQL", "targetUrl": "https://example.com/skills/sql", "targetFramework": "ESCO",
                     "targetType": "ceasn:Competency", "targetCode": "S1.2", "targetDescription": "Queries."},
                    {"targetName": "Data", "targetUrl": "https://example.com/skills/data"},
                    {"targetName": "Data", "targetUrl": "https://example.com/skills/data"}],
     "result_descriptions": [
         {"id": RUBRIC, "name": "Grade", "resultType": "LetterGrade", "allowedValue": ["C", "B", "A"]},
         {"id": "urn:uuid:5f0c3c1e-0000-4000-8000-000000000002", "name": "Rubric",
          "resultType": "RubricCriterionLevel", "requiredLevel": LEVEL,
          "rubricCriterionLevel": [{"id": LEVEL, "type": ["RubricCriterionLevel"], "name": "Mastery",
                                    "level": "Mastered", "points": "4", "description": "All of it."}]}]},
    {"slug": "unicode", "name": "\u05e9\u05dc\u05d5\u05dd \U0001F393 caf\u00e9 \u65e5\u672c",
     "description": "tab\tnew line\n\"quoted\" \\ \u2028 \u202e", "criteria_narrative": "# Markdown\n*list*"},
]
AWARDED = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)
AWARDS = {
    "plain": AwardRequest("plain", "alex@example.com"),
    "plain-with-did": AwardRequest("plain", "sam@example.com", did="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
    "full-with-evidence-and-results": AwardRequest(
        "full", "kim@example.com", awarded_at=AWARDED,
        evidence=({"id": "https://git.example.com/kim/sql-exam"},
                  {"narrative": "Peer review \u2014 \u00e9t\u00e9", "name": "Review", "genre": "Assessment",
                   "audience": "HR"}),
        results=({"resultDescription": RUBRIC, "value": "A"},
                 {"resultDescription": "urn:uuid:5f0c3c1e-0000-4000-8000-000000000002", "achievedLevel": LEVEL})),
    "full-bare": AwardRequest("full", "lee@example.com"),
    "unicode": AwardRequest("unicode", "\u00fcser@example.com", awarded_at=AWARDED),
}


@functools.cache
def issued_credentials() -> dict[str, dict[str, Any]]:
    """Name -> a credential as microcred signs it: stored awards, published status lists, and
    ``issuer.sign_credential`` output (built once per process, in a temporary instance)."""
    with tempfile.TemporaryDirectory() as folder:
        return _issue(Path(folder))


def _issue(folder: Path) -> dict[str, dict[str, Any]]:
    settings = load_settings({}, instance=folder / "instance", keys_dir=folder / "keys",
                             database_url=f"sqlite:///{folder / 'microcred.db'}", base_url="https://hr.example.com")
    init_instance(settings, name="Example Corp", url="https://example.com")
    factory = open_instance(settings)
    with factory.begin() as session:
        issuer_row = load_issuer(session, settings)
        for definition in ACHIEVEMENTS:
            session.add(Achievement(issuer_id=issuer_row.id, **achievement_from_definition(definition)))
    found: dict[str, dict[str, Any]] = {}
    with factory.begin() as session:
        issuer_row = load_issuer(session, settings)
        ctx = IssuerContext.load(session, settings, issuer_row)
        for name, request in AWARDS.items():
            award, _created = issue_award(session, ctx, request, actor="test")
            found[f"award:{name}"] = json.loads(award.credential)
    with factory() as session:
        for index, status_list in enumerate(session.scalars(select(StatusList).order_by(StatusList.id))):
            if status_list.credential is not None:
                found[f"status-list:{index}"] = json.loads(status_list.credential)
    return {**found, **_signed_samples()}


def _signed_samples() -> dict[str, dict[str, Any]]:
    key = generate_key("ed25519")
    did = key.public.to_did_key()
    vm = f"{did}#{did[8:]}"
    credential = sample_credential()
    credential["issuer"]["id"] = did
    once = issuer.sign_credential(credential, key, verification_method=vm, created="2026-01-10T00:00:00Z")
    twice = issuer.sign_credential(once, key, verification_method=vm, created="2026-01-11T00:00:00Z")
    jcs = issuer.sign_credential(credential, key, verification_method=vm, cryptosuite="eddsa-jcs-2022",
                                 created="2026-01-10T00:00:00Z")
    assert isinstance(once, dict) and isinstance(twice, dict) and isinstance(jcs, dict)
    return {"sign:sample": once, "sign:sample-proof-set": twice, "sign:sample-eddsa-jcs-2022": jcs}


NAMES = [*(f"award:{name}" for name in AWARDS), "status-list:0", "status-list:1",
         "sign:sample", "sign:sample-proof-set", "sign:sample-eddsa-jcs-2022"]


def test_the_issuer_built_what_this_module_names() -> None:
    assert sorted(issued_credentials()) == sorted(NAMES)
    full = issued_credentials()["award:full-with-evidence-and-results"]
    achievement = full["credentialSubject"]["achievement"]
    assert {"alignment", "resultDescription", "tag", "version", "achievementType"} <= set(achievement)
    assert {"evidence", "credentialStatus", "credentialSchema", "validUntil", "proof"} <= set(full)


@pytest.mark.parametrize("name", NAMES)
def test_the_fast_path_gives_pyld_bytes_on_what_the_issuer_signs(name: str, record_property: Any) -> None:
    document = copy.deepcopy(issued_credentials()[name])
    assert must_be_covered(document), f"{name} is not in the form the fast path must cover"
    assert_contract(document)
    record_property("fast_path_covers", covered(document))
    assert document == issued_credentials()[name], "canonicalization changed its input"
