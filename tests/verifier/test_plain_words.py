"""Recruiters read plain words (issue 14 §2): no spec terms in what the verifier says.

Every registered check title and reason sentence, every clause that says what went wrong
reaching an address, and every message of real verifications (hypothesis shapes: valid, changed,
broken and random inputs) are scanned for a list of jargon words; the precise terms stay in the
details (and the web page's collapsed technical details). The issuer is named by its name and the
website the signature proved, never by a raw DID.
"""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings

from tests.verifier import credential_shapes as shapes
from verifier.fetcher import FETCH_ERROR_CODES
from verifier.identity import proven_website
from verifier.plain import KEY_ONLY, fetch_clause, issuer_words, reason_words
from verifier.registry import CHECK_TITLES, REASONS
from verifier.report import CheckResult, VerificationReport
from verifier.verify import verify_credential
from verifier.web.display import STATUS_WORDS

JARGON = ["vocabular", "chunk", "json", "jsonld", "json-ld", "@context", "context", "jwt", "jws", "jwk",
          "credential", "verifiable", "schema", "cryptosuite", "canonical", "rdf", "base64", "base64url",
          "multibase", "gzip", "digest", "assertion", "token", "payload", "proof", "exception", "traceback",
          "parser", "parse", "status list", "bitstring", "verification method", "data model", "w3c",
          "presentation", "enveloped", "iri", "uri", "urn", "keyword", "did:", "did:web", "%3a", "vc", "multikey",
          "alg", "header", "subject"]
_WORDS = re.compile(r"(?<![a-z0-9])(" + "|".join(re.escape(w) for w in sorted(JARGON, key=len, reverse=True))
                    + r")(?![a-z0-9])", re.I)
_DID = re.compile(r"\bDIDs?\b")          # the acronym, in capitals (the verb "did" is plain English)


def jargon(text: str) -> list[str]:
    return _WORDS.findall(text) + _DID.findall(text)


def test_the_jargon_scan_finds_jargon():
    assert jargon("The credential uses a vocabulary (JSON-LD @context)") == ["credential", "JSON-LD", "@context"]
    assert jargon("The issuer's DID is malformed.") == ["DID"]
    assert jargon("A compressed iTXt chunk.") == ["chunk"]
    assert jargon("The signature did not match.") == []


@pytest.mark.parametrize("code", sorted(REASONS))
def test_every_reason_is_said_in_plain_words(code):
    assert jargon(REASONS[code].message) == [], REASONS[code].message


def test_every_check_title_and_status_word_is_plain():
    for text in [*CHECK_TITLES.values(), *STATUS_WORDS.values()]:
        assert jargon(text) == [], text
    assert "Known vocabularies" not in CHECK_TITLES.values()


@pytest.mark.parametrize("code", sorted(FETCH_ERROR_CODES))
def test_every_refused_or_failed_fetch_has_a_plain_clause(code):
    details = {"url": "https://issuer.example:8443/.well-known/did.json", "http_status": 503, "port": 8443}
    clause = fetch_clause(code, details)
    assert clause and jargon(clause) == [], (code, clause)
    assert clause[0].islower() and not clause.endswith(".")


def test_the_real_reason_names_what_happened_to_which_address():
    plain_http = {"url": "http://127.0.0.1:5000/credentials/1", "fetch_error": "scheme_not_allowed"}
    assert reason_words("The badge could not be fetched from its address.", plain_http) == (
        "The badge could not be fetched from its address: the address uses plain http, which is refused.")
    redirected = {"url": "https://issuer.example/c/1", "fetch_url": "https://10.20.30.40/c", "fetch_error":
                  "private_address"}
    assert "10.20.30.40 is a private or local address" in reason_words("Could not.", redirected)
    status = {"url": "https://issuer.example/.well-known/did.json", "fetch_error": "http_status", "http_status": 404}
    assert reason_words("Key.", status) == "Key: issuer.example answered with an error (HTTP 404)."
    assert reason_words("Unchanged.", {"error": "anything"}) == "Unchanged."


@pytest.mark.parametrize(("issuer_id", "website"), [
    ("did:web:example.com", "example.com"),
    ("did:web:127.0.0.1%3A8443", "127.0.0.1:8443"),
    ("did:web:univ.example:people:alice", "univ.example/people/alice"),
    ("did:web:xn--exmple-cua.com", "xn--exmple-cua.com"),            # punycode stays: no look-alike letters
    ("https://univ.example/~mallory/issuer", "univ.example/~mallory/issuer"),
    ("https://example.com/", "example.com"),
    ("https://example.com@evil.example/issuer", "evil.example/issuer"),
    ("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK", None),
    ("did:jwk:eyJrdHkiOiJPS1AifQ", None),
    ("did:web:bad%41host", None),
    ("urn:uuid:1", None),
])
def test_the_proven_website_is_what_a_reader_types(issuer_id, website):
    assert proven_website(issuer_id) == website


def test_the_headline_names_the_issuer_and_the_proven_website():
    issuer = {"id": "did:web:example.com%3A8443", "proven": "did:web:example.com%3A8443 (example.com:8443)",
              "proven_website": "example.com:8443", "name_as_claimed": "Example Corp"}
    assert issuer_words(issuer) == "Example Corp — proven: example.com:8443"
    assert issuer_words({**issuer, "name_as_claimed": None}) == "an issuer that gives no name — proven: example.com:8443"
    assert issuer_words({**issuer, "proven": None}) is None                     # nothing proven, nothing named
    # a name that pretends to be the proof is quoted, so the real proof stays recognisable
    tricky = issuer_words({**issuer, "name_as_claimed": "Harvard — proven: harvard.edu"})
    assert tricky == "“Harvard — proven: harvard.edu” — proven: example.com:8443"
    assert "\\u202e" in issuer_words({**issuer, "name_as_claimed": "Corp\u202emoc.live"})
    assert len(issuer_words({**issuer, "name_as_claimed": "A" * 5000})) < 200
    # a key anyone can make: its claimed name is never put next to "issued by"
    key_only = {"id": "did:key:z6Mk", "proven": "did:key:z6Mk", "proven_website": None,
                "name_as_claimed": "Harvard University"}
    assert issuer_words(key_only) == KEY_ONLY and "Harvard" not in KEY_ONLY


def test_a_report_headline_carries_no_did():
    summary = {"issuer": {"id": "did:web:127.0.0.1%3A8443", "proven": "did:web:127.0.0.1%3A8443 (127.0.0.1:8443)",
                          "proven_website": "127.0.0.1:8443", "name_as_claimed": "Example Corp"}}
    checks = [CheckResult(c, "passed", "ok") for c in ("parse", "key", "issuer_binding", "proof")]
    headline = VerificationReport(checks, summary).headline
    assert headline == "Verified: issued by Example Corp — proven: 127.0.0.1:8443."
    assert jargon(headline) == []


PROPERTY = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                             HealthCheck.data_too_large])


def _without_names(text: str, report: VerificationReport) -> str:
    """``text`` without what the badge itself says about its issuer (its own words, not ours)."""
    words = issuer_words(report.summary.get("issuer"))
    return text.replace(words, "") if words else text


@PROPERTY
@given(shapes.shapes)
def test_what_any_verification_says_is_plain(shape):
    report = verify_credential(shape.source, documents=shape.documents, offline=True, now=shapes.NOW)
    assert jargon(_without_names(report.headline, report)) == [], report.headline
    for check in report.checks:
        assert jargon(check.message) == [], (check.check, check.message)
        assert jargon(reason_words(check.message, check.details)) == [], (check.check, check.details)


def test_what_the_valid_world_says_is_plain():
    world = shapes.world()
    for name, credential in world.credentials.items():
        report = verify_credential(credential, documents=world.documents, offline=True, now=shapes.NOW,
                                   recipient=shapes.EMAIL)
        assert report.verified, (name, report.to_dict())
        for check in report.checks:
            assert jargon(check.message) == [], (name, check.check, check.message)
