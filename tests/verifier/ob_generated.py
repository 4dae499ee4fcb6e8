"""Hypothesis strategies for well-formed OB 3.0 credentials (issue 13 §1, the differential tests).

:mod:`tests.verifier.credential_shapes` starts from one credential and breaks it; the strategies
here build credentials the way issuers write them, so that most of them canonicalize: random
subsets of the OB 3.0 properties in random key orders (achievement with criteria, alignments,
result descriptions and rubrics, results, evidence, images, issuer profiles with address, phone,
email and other identifiers, hashed and salted identity objects, credential schemas, Bitstring
status entries, refresh services, terms of use, validity dates, awardedDate), strings with
control characters, emoji, right-to-left and combining text, numbers of every JSON shape
(negative, beyond 2**53, 3.0, 1e21, 0.1, 5e-324), booleans, dates, nested signed endorsements
with their own ``@context`` and proofs, several subjects, proof sets, ids as https URLs,
did:key, did:web, urn:uuid, blank node labels, or no id at all (blank nodes), the same node
written twice (merged) and repeated values (one statement).

The property names and shapes are those of the bundled OB 3.0.3 context
(``contexts/ob-v3p0-context-3.0.3.json``) and of the spec's examples. Mostly VC 2.0 with
OB 3.0.3 (sometimes 3.0.0-3.0.2, the extensions context, the VC examples context whose
``@vocab`` gives undefined terms a meaning, the Data Integrity context), sometimes VC 1.1 with
OB 3.0. A document uses the types its contexts define (``1EdTech...`` types with the extensions
context, ``awardedDate`` with 3.0.3, ...), except now and then on purpose; and a few draws step
outside what the canonical fast path must cover: an undefined term where no ``@vocab`` applies
(the bundled VC 2.0 context has none: pyld's safe mode refuses it), an OB context combination
that redefines a protected term, an inline ``@context`` object, a value object, an explicit
``@list``, a ``@json`` literal, a null. There the fast path must give up (``NotCovered``) or
agree with pyld, and never guess.

Speed matters (thousands of examples per test run): every strategy is built once at import,
composites draw from those (strategies made inside a draw are validated again every time), and
a node's subset of members and their order come from one drawn seed, not a draw per member.

:func:`ob_credentials` is the entry point; :func:`must_be_covered` says whether a document is one
the fast path has to cover (bundled VC 2.0 + OB contexts named by URL, no keyword escapes).
"""
from __future__ import annotations

import contextlib
import copy
import functools
import random
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

V2 = "https://www.w3.org/ns/credentials/v2"
V1 = "https://www.w3.org/2018/credentials/v1"
OB303 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
OB302 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json"
OB301 = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.1.json"
OB300 = "https://purl.imsglobal.org/spec/ob/v3p0/context.json"
OB_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"
EXAMPLES = "https://www.w3.org/ns/credentials/examples/v2"    # {"@vocab": ...}: undefined terms mean something
DATA_INTEGRITY = "https://w3id.org/security/data-integrity/v2"
STATUS_2021 = "https://w3id.org/vc/status-list/2021/v1"
OB_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"

# What the fast path must cover: VC 2.0 first, then OB 3.0, Data Integrity and the VC examples
# contexts, all by URL.
MUST_COVER_CONTEXTS = frozenset({V2, OB303, OB302, OB301, OB300, OB_EXTENSIONS, DATA_INTEGRITY, EXAMPLES})

Draw = st.DrawFn
Strategy = st.SearchStrategy


def choose(*pairs: tuple[int, Strategy[Any]]) -> Strategy[Any]:
    """``(weight, strategy)`` pairs: one of the strategies, in proportion to its weight."""
    return st.sampled_from([s for weight, s in pairs for _ in range(weight)]).flatmap(lambda s: s)


@functools.cache
def sometimes(one_in: int) -> Strategy[bool]:
    """True about once in ``one_in`` draws (False is what shrinking goes to)."""
    return st.sampled_from((False,) * (one_in - 1) + (True,))


seeds = st.integers(0, 2**32 - 1)


def node(draw: Draw, required: dict[str, Any], optional: dict[str, Strategy[Any]]) -> dict[str, Any]:
    """An object with every ``required`` member (drawn, if a strategy) and a random subset of the
    ``optional`` ones (each drawn only when chosen), in a random key order. One drawn seed picks
    the subset and the order (a draw per key costs more than the rest of the node)."""
    rng = random.Random(draw(seeds))
    share = rng.choice((0.1, 0.3, 0.5, 0.8))
    items = [(k, draw(v) if isinstance(v, st.SearchStrategy) else v) for k, v in required.items()]
    items += [(k, draw(s)) for k, s in optional.items() if rng.random() < share]
    rng.shuffle(items)
    return dict(items)


def nodes(required: dict[str, Any], optional: dict[str, Strategy[Any]], *, ident: bool = False) -> Strategy[Any]:
    """:func:`node` as a strategy; ``ident``: with a drawn ``id`` (or none: a blank node)."""
    @st.composite
    def build(draw: Draw) -> dict[str, Any]:
        extra = draw(node_ids) if ident else {}
        return node(draw, {**extra, **required}, optional)
    return build()


# ---------------------------------------------------------------- leaves

EPOCH = datetime(1900, 1, 1)
LOWER = "abcdefghijklmnopqrstuvwxyz"
HEX = "0123456789abcdef"
BASE58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
BASE64URL = LOWER + LOWER.upper() + "0123456789-_"


def words(alphabet: str, min_size: int, max_size: int) -> Strategy[str]:
    """A string over ``alphabet`` (one draw, unlike a regex strategy's draw per character)."""
    return st.text(st.sampled_from(alphabet), min_size=min_size, max_size=max_size)

TEXTS = (
    "Teamwork", "Caf\u00e9 Z\u00fcrich \u00df", "\u65e5\u672c\u8a9e", "\u05e9\u05dc\u05d5\u05dd \u05e2\u05d5\u05dc\u05dd",
    "\u0645\u0631\u062d\u0628\u0627 123", "\u202eevil\u202c", "\u2067isolate\u2069", "\U0001F393",
    "\U0001F468\u200d\U0001F469\u200d\U0001F467", "a\x00b", "\x01\x1f\x7f", "tab\tnewline\ncr\r", "\u2028\u2029",
    "\ufeffbom", "\U0010ffff\uffff", "\x85\xa0", '"quoted" \\back\\slash', "  padded  ", "", "cafe\u0301",
    "<b>&amp;</b>", "# Markdown\\n*list*", "x" * 300, "_:b0", "https://looks.like/an/iri", "true", "42",
)
texts = st.one_of(st.sampled_from(TEXTS), st.text(st.characters(codec="utf-8"), max_size=24))

DID_KEYS = ("did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH",
            "did:key:zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169")
DID_WEBS = ("did:web:example.edu", "did:web:example.edu:issuers:565049", "did:web:localhost%3A8443")
HTTPS = ("https://example.edu/issuers/565049", "https://1edtech.edu/achievements/degree",
         "https://example.com/c/a%20b?x=1&y=%C3%A9#frag", "https://example.com/caf\u00e9/\U0001F393",
         "http://1edtech.edu/credentials/3732", "https://example.org/", "mailto:alex@example.com",
         # absolute for pyld and jsonld.js alike, and escaped in N-Quads (IRIs with white space
         # are named cases in the differential tests: pyld and jsonld.js read them differently)
         'https://example.com/<a>"q"\\{b}|^`', "https://example.com/\x00\x7f", "HTTPS://EXAMPLE.COM/Upper",
         "a,b+c.d-e:f")

https_urls = st.one_of(st.sampled_from(HTTPS),
                       words(LOWER + "0123456789/_-", 0, 12).map(lambda path: f"https://example.edu/{path}"))
did_keys = st.one_of(st.sampled_from(DID_KEYS), st.sampled_from(DID_KEYS).map(lambda d: f"{d}#{d[8:]}"))
urn_uuids = st.uuids().map(lambda u: f"urn:uuid:{u}")
iris = st.one_of(https_urls, did_keys, st.sampled_from(DID_WEBS), urn_uuids)
# a node's "id": an IRI, none (a fresh blank node) or, rarely, a blank node label (labels link nodes)
# or a relative reference (pyld's safe mode refuses it)
node_ids = choose((60, iris.map(lambda i: {"id": i})), (30, st.just({})),
                  (1, st.sampled_from(("_:b0", "_:issuer", "_:c14n0")).map(lambda b: {"id": b})),
                  (1, st.just({"id": "achievements/1"})))

DATE_TIMES = ("2010-01-01T00:00:00Z", "2026-01-15T09:00:00Z", "2010-01-01T00:00:00.123456789+05:30",
              "2030-12-31T23:59:60-00:00", "2026-02-30T25:00:00Z", "2026-01-01", "not a date", "")
date_times = st.one_of(
    st.integers(0, 200 * 365 * 86400).map(lambda s: (EPOCH + timedelta(seconds=s)).strftime("%Y-%m-%dT%H:%M:%SZ")),
    st.sampled_from(DATE_TIMES))
dates = st.one_of(st.integers(0, 200 * 365).map(lambda d: (EPOCH + timedelta(days=d)).date().isoformat()),
                  st.sampled_from(("2010-01-01T00:00:00Z", "1999-12-31")))

NUMBERS = (0, 1, -1, 3, 42, -273, 2**31, 2**53 - 1, 2**53, 2**53 + 1, 2**64, 10**21, 10**25, -(10**30),
           0.5, 3.0, 42.0, 36.0, -0.0, 0.1, 1.5, 123.456, 1e21, 1e20, 1e22, 1e-7, 1.5e-7, 5e-324,
           1.7976931348623157e308, -1.5e-10, 2.5e-5, 1e16, 1.25e-6, 10**400, -(2**1024))
numbers = st.one_of(st.sampled_from(NUMBERS), st.integers(-(10**6), 10**6), st.integers(),
                    st.floats(allow_nan=False, allow_infinity=False))
scalars = st.one_of(texts, numbers, st.booleans(), date_times, iris)


@functools.cache
def typed(name: str) -> Strategy[Any]:
    """A ``type`` value: the name alone or in a list (sometimes twice: one statement)."""
    return st.sampled_from((name, [name], [name, name]))


def repeated(strategy: Strategy[Any], max_size: int = 3) -> Strategy[list[Any]]:
    """A list of values, sometimes one value written several times (one node, or one statement)."""
    return choose((5, st.lists(strategy, max_size=max_size)),
                  (1, strategy.flatmap(lambda v: st.integers(2, 3).map(lambda n: [v] * n))))


# ---------------------------------------------------------------- OB 3.0 parts

images = choose((2, iris), (3, nodes({"id": "https://example.edu/badge.png", "type": "Image"}, {"caption": texts})),
                (1, nodes({"id": "data:image/png;base64,iVBORw0KGgo=", "type": "Image"}, {"caption": texts})),
                (1, nodes({"type": "Image"}, {"caption": texts})))

alignments = nodes({"type": typed("Alignment")}, {
    "targetName": texts, "targetUrl": https_urls, "targetDescription": texts, "targetFramework": texts,
    "targetCode": texts, "targetType": st.sampled_from(("CFItem", "ceasn:Competency", "CTDL", "ext:Custom"))})
alignment_lists = repeated(alignments)

criteria = choose((4, nodes({}, {"id": https_urls, "narrative": texts})), (1, https_urls))

identifier_entries = nodes({"type": "IdentifierEntry"}, {
    "identifier": texts, "identifierType": st.sampled_from(("sourcedId", "nationalIdentityNumber", "identifier"))})

geo = nodes({"type": "GeoCoordinates"}, {"latitude": numbers, "longitude": numbers})
addresses = nodes({"type": typed("Address")}, {
    "addressCountry": texts, "addressCountryCode": st.sampled_from(("US", "DE", "IL")), "addressRegion": texts,
    "addressLocality": texts, "streetAddress": texts, "postOfficeBoxNumber": texts, "postalCode": texts, "geo": geo})

identity_objects = nodes({"type": "IdentityObject"}, {
    "identityHash": st.one_of(words(HEX, 64, 64).map(lambda h: f"sha256${h}"),
                              st.sampled_from(("student@1edtech.edu", "Alex Rivera"))),
    "identityType": st.sampled_from(("emailAddress", "name", "studentId", "ext:Other")),
    "hashed": choose((5, st.booleans()), (1, st.sampled_from(("true", 1, 0)))),
    "salt": st.one_of(words(HEX, 16, 32), texts)})

rubric_levels = nodes({"type": typed("RubricCriterionLevel")}, {
    "id": urn_uuids, "name": texts, "description": texts, "level": texts, "points": st.one_of(texts, numbers),
    "alignment": st.lists(alignments, max_size=2)})

result_descriptions = nodes({"type": typed("ResultDescription")}, {
    "id": urn_uuids, "name": texts,
    "resultType": st.sampled_from(("LetterGrade", "Status", "RubricCriterionLevel", "ext:Custom")),
    "allowedValue": st.lists(st.sampled_from(("A", "B", "C", "D")), max_size=5),   # an @list container
    "requiredValue": st.one_of(texts, numbers), "requiredLevel": urn_uuids,
    "valueMin": st.one_of(texts, numbers), "valueMax": st.one_of(texts, numbers),
    "rubricCriterionLevel": st.lists(rubric_levels, max_size=2), "alignment": st.lists(alignments, max_size=2)})

results = nodes({"type": typed("Result")}, {
    "resultDescription": urn_uuids, "value": scalars, "achievedLevel": urn_uuids,
    "status": st.sampled_from(("Completed", "Enrolled", "Failed")), "alignment": st.lists(alignments, max_size=2)})

evidence = nodes({"type": typed("Evidence")}, {
    "narrative": texts, "name": texts, "description": texts, "genre": texts, "audience": texts}, ident=True)

status_messages = st.lists(nodes({"status": st.sampled_from(("0x0", "0x1", 2))}, {"message": texts}), max_size=2)


@st.composite
def _bitstring_entry(draw: Draw) -> dict[str, Any]:
    index = draw(st.integers(0, 131071))
    return node(draw, {"id": f"https://example.edu/status/1#{index}", "type": "BitstringStatusListEntry"},
                {"statusPurpose": st.sampled_from(("revocation", "suspension", "message")),
                 "statusListIndex": st.sampled_from((str(index), index)), "statusListCredential": https_urls,
                 "statusSize": st.integers(1, 8), "statusMessage": status_messages,
                 "statusReference": https_urls})


bitstring_entries = _bitstring_entry()
status_2021_entries = nodes({"id": "https://example.edu/status/2021#94567", "type": "StatusList2021Entry"}, {
    "statusPurpose": st.sampled_from(("revocation", "suspension")), "statusListIndex": st.sampled_from(("94567", 0)),
    "statusListCredential": https_urls})
revocation_lists = nodes({"id": "https://example.edu/credentials/3732/revocations", "type": "1EdTechRevocationList"},
                         {})
ob_schemas = st.just({"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"})
json_schemas = nodes({"id": OB_SCHEMA, "type": "JsonSchema"}, {"jsonSchema": st.deferred(lambda: extension_values)})
refresh_services = nodes({"id": "http://1edtech.edu/credentials/3732", "type": "1EdTechCredentialRefresh"}, {})
terms_of_use = nodes({"type": "https://example.edu/vocab#TrustFrameworkPolicy"}, {"id": https_urls})

PROOF_MEMBERS = {
    "cryptosuite": st.sampled_from(("eddsa-rdfc-2022", "eddsa-jcs-2022", "eddsa-rdf-2022")),
    "created": date_times,
    "proofPurpose": choose((6, st.just("assertionMethod")), (2, st.just("authentication")),
                           (1, st.sampled_from(("capabilityInvocation", "keyAgreement", "https://example.edu/vocab#p",
                                                "unknownPurpose")))),
    "verificationMethod": did_keys, "proofValue": words(BASE58, 20, 88).map(lambda v: f"z{v}")}
di_proofs = nodes({"type": "DataIntegrityProof"}, {
    **PROOF_MEMBERS, "id": urn_uuids, "expires": date_times, "challenge": texts, "domain": texts, "nonce": texts,
    "previousProof": urn_uuids})
ed25519_2018_proofs = nodes({"type": "Ed25519Signature2018"}, {
    "created": date_times, "proofPurpose": st.sampled_from(("assertionMethod", "authentication")),
    "verificationMethod": did_keys, "jws": st.tuples(words(BASE64URL, 10, 40), words(BASE64URL, 20, 86))
    .map(lambda parts: f"eyJ{parts[0]}..{parts[1]}")})


@functools.cache
def proof_sets(proof: Strategy[Any]) -> Strategy[Any]:
    """One proof, or a proof set (a list)."""
    return choose((3, proof), (2, st.lists(proof, min_size=1, max_size=3)))


PROFILE_MEMBERS: dict[str, Strategy[Any]] = {
    "name": texts, "url": https_urls, "phone": st.sampled_from(("1-222-333-4444", "+44 20 7946 0000")),
    "email": st.sampled_from(("registrar@1edtech.edu", "b\u00fcro@example.de")), "description": texts,
    "image": images, "address": addresses, "otherIdentifier": st.lists(identifier_entries, max_size=2),
    "official": texts, "givenName": texts, "familyName": texts, "honorificPrefix": texts, "dateOfBirth": dates}
plain_profiles = nodes({"type": typed("Profile")}, PROFILE_MEMBERS, ident=True)


class Terms(NamedTuple):
    """What a document's contexts define, so that it uses those (``wrong``: now and then, not)."""
    vc2: bool
    ext: bool
    ob303: bool
    di: bool
    sl2021: bool = False
    wrong: bool = False

    @classmethod
    def of(cls, context: list[str], wrong: bool = False) -> Terms:
        return cls(V2 in context, OB_EXTENSIONS in context, OB303 in context,
                   V2 in context or DATA_INTEGRITY in context, STATUS_2021 in context, wrong)


ENDORSEMENT_CONTEXTS = ([V2, OB303], [V2, OB303, OB_EXTENSIONS])


@st.composite
def endorsements(draw: Draw, nested: bool = False) -> dict[str, Any]:
    """A signed ``EndorsementCredential`` with its own ``@context`` and proof(s). ``nested``: its
    issuer may itself carry endorsements (one level)."""
    context = list(draw(st.sampled_from(ENDORSEMENT_CONTEXTS)))
    terms = Terms.of(context, draw(sometimes(20)))
    subject = {**draw(node_ids), "type": draw(typed("EndorsementSubject"))}
    return node(draw, {"@context": context, "id": draw(urn_uuids),
                       "type": ["VerifiableCredential", "EndorsementCredential"],
                       "issuer": draw(endorsed_profiles if nested else simple_issuers),
                       "credentialSubject": node(draw, subject, {"endorsementComment": texts, "name": texts})},
                {"name": texts, "validFrom": date_times, "validUntil": date_times, "description": texts,
                 "proof": proof_sets(di_proofs), **credential_extras(terms)})


simple_issuers = choose((1, iris), (2, plain_profiles))
endorsement_lists = st.lists(endorsements(), max_size=1)
endorsed_profiles = nodes({"type": typed("Profile")}, {
    **PROFILE_MEMBERS, "parentOrg": st.one_of(iris, plain_profiles), "endorsement": endorsement_lists}, ident=True)
issuers = choose((2, iris), (5, endorsed_profiles))

achievements = nodes({"type": typed("Achievement")}, {
    "name": texts, "description": texts, "criteria": criteria, "image": images,
    "achievementType": st.sampled_from(("Badge", "Competency", "Degree", "ext:Custom")),
    "alignment": alignment_lists, "creator": choose((1, iris), (2, plain_profiles)),
    "creditsAvailable": numbers, "fieldOfStudy": texts, "humanCode": texts,
    "otherIdentifier": st.lists(identifier_entries, max_size=2),
    "related": st.lists(nodes({"type": ["Related"]}, {"id": urn_uuids, "version": texts, "inLanguage": texts}),
                        max_size=2),
    "resultDescription": st.lists(result_descriptions, max_size=2), "specialization": texts,
    "tag": st.lists(st.sampled_from(("research", "computer science", "\U0001F393", "research")), max_size=4),
    "version": texts, "inLanguage": st.sampled_from(("en", "en-US", "he")), "endorsement": endorsement_lists},
    ident=True)

achievement_subjects = nodes({"type": typed("AchievementSubject")}, {
    "achievement": achievements, "identifier": st.lists(identity_objects, max_size=2),
    "result": st.lists(results, max_size=3), "creditsEarned": numbers, "activityStartDate": dates,
    "activityEndDate": dates, "licenseNumber": texts, "role": texts, "source": st.one_of(iris, plain_profiles),
    "term": texts, "image": images, "narrative": texts}, ident=True)
endorsement_subjects = nodes({"type": typed("EndorsementSubject")}, {"endorsementComment": texts}, ident=True)


@functools.cache
def credential_extras(terms: Terms) -> dict[str, Strategy[Any]]:
    """The optional credential members whose types depend on the contexts: status, schema,
    refresh service, terms of use."""
    status, schema = [], []
    if terms.vc2 or terms.wrong:
        status.append((4, bitstring_entries))
        schema.append((1, json_schemas))
    if terms.ext or terms.wrong:
        status.append((1, revocation_lists))
        schema.append((3, ob_schemas))
    if terms.sl2021 or terms.wrong:
        status.append((3, status_2021_entries))
    extras: dict[str, Strategy[Any]] = {"termsOfUse": choose((2, terms_of_use), (1, st.lists(terms_of_use,
                                                                                               max_size=2)))}
    if status:
        extras["credentialStatus"] = choose((3, choose(*status)), (1, st.lists(choose(*status), max_size=2)))
    if schema:
        extras["credentialSchema"] = choose((1, choose(*schema)), (2, st.lists(choose(*schema), max_size=2)))
    if terms.ext or terms.wrong:
        extras["refreshService"] = refresh_services
    return extras


# ---------------------------------------------------------------- credentials

VC2_CONTEXTS = ((12, [V2, OB303]), (8, [V2, OB303, OB_EXTENSIONS]), (3, [V2, OB303, EXAMPLES]),
                (3, [V2, OB303, OB_EXTENSIONS, EXAMPLES]), (2, [V2, OB302]), (1, [V2, OB300]),
                (1, [V2, OB303, DATA_INTEGRITY]), (1, [V2, OB301]), (1, [V2, OB300, OB_EXTENSIONS]))
VC11_CONTEXTS = ((2, [V1, OB300]), (2, [V1, OB303]), (2, [V1, OB300, DATA_INTEGRITY]),
                 (1, [V1, OB303, OB_EXTENSIONS, DATA_INTEGRITY]), (1, [V1, DATA_INTEGRITY]),
                 (1, [V1, OB300, STATUS_2021]), (1, [V1, STATUS_2021, DATA_INTEGRITY]))
CREDENTIAL_TYPES = ("OpenBadgeCredential", "AchievementCredential", "EndorsementCredential")
UNDEFINED_TERMS = ("alsoKnownAs", "favouriteColour", "x", "ext:term")   # "ext:term": an absolute IRI
# keys any context reads (absolute IRIs), and under VC 1.1 a compact IRI with a prefix it defines
IRI_KEYS = ("https://schema.org/keywords", "https://example.edu/vocab#score", "urn:example:flag")
# the JWT claim names VC 2.0 defines (integers coerced to xsd:nonNegativeInteger, IRIs, JSON literals)
JWT_CLAIMS: dict[str, Strategy[Any]] = {
    "iss": iris, "sub": iris, "aud": st.one_of(iris, st.lists(iris, max_size=2)),
    "nbf": numbers, "iat": st.integers(0, 2**31), "exp": st.one_of(st.integers(0, 2**40), date_times),
    "jku": https_urls, "kid": did_keys, "x5u": https_urls, "_sd_alg": st.just("sha-256"), "...": texts,
    "cnf": st.one_of(st.builds(lambda k: {"kid": k}, did_keys),
                     st.just({"jwk": {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}})),
    "_sd": st.lists(words(BASE64URL, 43, 43), max_size=2)}
CUSTOM_TYPES = ("https://example.edu/vocab#CustomCredential", "urn:example:Type")


def _weighted(pairs: tuple[tuple[int, list[str]], ...]) -> Strategy[list[str]]:
    return st.sampled_from([c for weight, c in pairs for _ in range(weight)])


CONTEXT_CHOICES = {False: _weighted(VC2_CONTEXTS), True: _weighted(VC11_CONTEXTS)}
SUBJECTS = {kind: choose((5, one), (2, st.lists(one, min_size=1, max_size=3)))
            for kind, one in (("EndorsementCredential", endorsement_subjects),
                              ("OpenBadgeCredential", achievement_subjects),
                              ("AchievementCredential", achievement_subjects))}
CREDENTIAL_TYPE_LISTS = {kind: st.sampled_from((["VerifiableCredential", kind], [kind, "VerifiableCredential"]))
                         for kind in CREDENTIAL_TYPES}
nested_endorsement_lists = st.lists(endorsements(nested=True), max_size=2)
evidence_lists = st.lists(evidence, max_size=3)


extension_values = st.recursive(scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(UNDEFINED_TERMS[:3]), inner, max_size=2)),
    max_leaves=4)


@st.composite
def escapes(draw: Draw, document: dict[str, Any]) -> dict[str, Any]:
    """One construct outside what the fast path covers: an inline context, a value object, an
    explicit list, a null, a keyword spelt out, a JSON literal."""
    kind = draw(st.sampled_from(("inline-context", "language", "value", "list", "null", "keyword-id", "json")))
    document = dict(document)
    if kind == "inline-context":
        document["@context"] = [*document["@context"], {"favouriteColour": "https://example.edu/vocab#colour"}]
        document["favouriteColour"] = draw(texts)
    elif kind == "language":
        document["name"] = {"@value": draw(texts), "@language": draw(st.sampled_from(("en", "de-CH", "he")))}
    elif kind == "value":
        document["name"] = {"@value": draw(st.one_of(texts, numbers, st.booleans()))}
    elif kind == "list":
        document["description"] = {"@list": draw(st.lists(texts, max_size=2))}
    elif kind == "null":
        document["description"] = None
    elif kind == "keyword-id":
        document["@id"] = document.pop("id", None) or draw(urn_uuids)
    else:
        document["name"] = {"@type": "@json", "@value": draw(extension_values)}
    return document


@st.composite
def ob_credentials(draw: Draw, *, vc11: bool | None = None, escape: bool = True) -> dict[str, Any]:
    """An OB 3.0 credential (unsigned, or with proofs). ``vc11``: VC 1.1 contexts (None: one in
    eight); ``escape``: one in ten has a construct outside the fast path's tables."""
    if vc11 is None:
        vc11 = draw(sometimes(8))
    context = list(draw(CONTEXT_CHOICES[vc11]))
    terms = Terms.of(context, draw(sometimes(15)))
    kind = draw(st.sampled_from(CREDENTIAL_TYPES))
    optional: dict[str, Strategy[Any]] = {
        "id": iris, "name": texts, "description": texts, "image": images, "evidence": evidence_lists,
        "endorsement": nested_endorsement_lists, **credential_extras(terms)}
    optional.update({"issuanceDate": date_times, "expirationDate": date_times} if vc11 else
                    {"validFrom": date_times, "validUntil": date_times})
    if terms.ob303 or terms.wrong:
        optional["awardedDate"] = date_times
    if not (terms.vc2 and terms.ob303 or terms.wrong):
        del optional["endorsement"]
    if terms.di or terms.wrong:
        optional["proof"] = proof_sets(di_proofs)
    elif vc11:
        optional["proof"] = proof_sets(ed25519_2018_proofs)
    document = node(draw, {"@context": context, "type": CREDENTIAL_TYPE_LISTS[kind], "issuer": issuers,
                           "credentialSubject": SUBJECTS[kind]}, optional)
    if not (terms.vc2 and terms.ob303 or terms.wrong):
        # endorsements' VC 2.0 + OB 3.0.3 contexts would redefine protected terms; older OB contexts
        # do not define inLanguage
        _drop(document, ("endorsement", "inLanguage"))
    if draw(sometimes(6)):
        _share_a_node(document)
    if draw(sometimes(8)) or (EXAMPLES in context and draw(st.booleans())):
        document[draw(st.sampled_from(UNDEFINED_TERMS))] = draw(extension_values)
    if draw(sometimes(6)):
        document[draw(st.sampled_from(IRI_KEYS))] = draw(st.one_of(scalars, st.lists(scalars, max_size=3)))
    if not vc11 and draw(sometimes(6)):
        document.update(node(draw, {}, JWT_CLAIMS))
    if vc11 and draw(sometimes(4)):
        document["sec:nonce"] = draw(texts)
    if draw(sometimes(8)):
        document["type"] = [*document["type"], draw(st.sampled_from(CUSTOM_TYPES))]
    if draw(sometimes(4)):
        document = draw(tweaks(document))
    if escape and draw(sometimes(10)):
        document = draw(escapes(document))
    return document


# Properties defined only in some type's scoped context (or with another meaning there), put
# anywhere by a tweak: where they are not defined pyld refuses, and so must the fast path.
SCOPED_KEYS = ("achievementType", "hashed", "targetName", "creditsEarned", "resultDescription", "allowedValue",
               "endorsementComment", "statusPurpose", "level", "caption", "identifier", "value", "status", "source",
               "address", "image", "version", "jsonSchema", "proofPurpose", "url")
OB_TYPE_IRIS = ("https://purl.imsglobal.org/spec/vc/ob/vocab.html#Achievement",
                "https://purl.imsglobal.org/spec/vc/ob/vocab.html#Profile")


def _objects(value: Any, found: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Every JSON object in ``value`` (not inside an ``@context``), the outermost first."""
    if isinstance(value, list):
        for item in value:
            _objects(item, found)
    elif isinstance(value, dict):
        found.append(value)
        for key, item in value.items():
            if key != "@context":
                _objects(item, found)
    return found


@st.composite
def tweaks(draw: Draw, document: dict[str, Any]) -> dict[str, Any]:
    """``document`` (a copy) with one or two objects in it changed: a scoped property where its
    type is not, a type removed, spelt as a full IRI or doubled with another OB type, the
    document's ``@context`` (or VC 2.0's) repeated inside, a literal given as a node reference, an
    IRI-valued property given a number or a boolean."""
    document = copy.deepcopy(document)
    for _ in range(draw(st.integers(1, 2))):
        objects = _objects(document, [])
        target = objects[draw(st.integers(0, len(objects) - 1))]
        kind = draw(st.sampled_from(("misplace", "untype", "retype", "context", "node", "number")))
        if kind == "misplace":
            target[draw(st.sampled_from(SCOPED_KEYS))] = draw(st.one_of(scalars, st.lists(scalars, max_size=2)))
        elif kind == "untype":
            target.pop("type", None)
        elif kind == "retype":
            target["type"] = draw(st.sampled_from((
                [OB_TYPE_IRIS[0]], [OB_TYPE_IRIS[1], "Profile"], ["Profile", "Achievement"],
                ["Result", "Alignment"], ["ResultDescription", "RubricCriterionLevel"], ["Image", "Evidence"])))
        elif kind == "context" and target is not document:
            target["@context"] = draw(st.sampled_from((document["@context"], [V2], [V2, OB303])))
        elif kind == "node":
            literal = [k for k, v in target.items() if isinstance(v, str) and k not in ("id", "type")]
            if literal:
                target[draw(st.sampled_from(literal))] = {"id": draw(iris)}
        else:
            target[draw(st.sampled_from(("image", "criteria", "source", "url", "statusListCredential",
                                         "parentOrg")))] = draw(st.one_of(numbers, st.booleans()))
    return document


def _drop(value: Any, keys: tuple[str, ...]) -> None:
    """``keys`` removed from every object in ``value``."""
    if isinstance(value, list):
        for item in value:
            _drop(item, keys)
    elif isinstance(value, dict):
        for key in keys:
            value.pop(key, None)
        for item in value.values():
            _drop(item, keys)


def _share_a_node(document: dict[str, Any]) -> None:
    """The issuer written again as the achievement's creator, with another name (same id: one node,
    merged statements), or the issuer's id given to a subject."""
    subject = document["credentialSubject"]
    first = subject[0] if isinstance(subject, list) and subject else subject
    issuer = document["issuer"]
    if isinstance(first, dict) and isinstance(first.get("achievement"), dict):
        first["achievement"]["creator"] = {**issuer, "name": "Another name"} if isinstance(issuer, dict) else issuer
    elif isinstance(first, dict) and (isinstance(issuer, str) or "id" in issuer):
        first["id"] = issuer if isinstance(issuer, str) else issuer["id"]


ENCODED_LISTS = ("H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",
                 "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA", "")


@st.composite
def status_list_credentials(draw: Draw) -> dict[str, Any]:
    """A Bitstring status list credential (VC 2.0) or a StatusList2021 one (VC 1.1), signed."""
    if draw(st.booleans()):
        subject = node(draw, {"id": "https://example.edu/status/1#list", "type": "BitstringStatusList"},
                       {"statusPurpose": st.sampled_from(("revocation", "suspension", "message")),
                        "encodedList": st.sampled_from(ENCODED_LISTS), "ttl": st.integers(0, 10**6)})
        return node(draw, {"@context": [V2], "id": "https://example.edu/status/1",
                           "type": ["VerifiableCredential", "BitstringStatusListCredential"], "issuer": iris,
                           "credentialSubject": subject},
                    {"validFrom": date_times, "validUntil": date_times, "name": texts, "proof": proof_sets(di_proofs)})
    subject = node(draw, {"id": "https://example.edu/status/2021#list", "type": "StatusList2021"},
                   {"statusPurpose": st.sampled_from(("revocation", "suspension")),
                    "encodedList": st.sampled_from(ENCODED_LISTS)})
    context = draw(st.sampled_from(([V1, STATUS_2021], [V1, STATUS_2021, DATA_INTEGRITY])))
    return node(draw, {"@context": context, "id": "https://example.edu/status/2021",
                       "type": ["VerifiableCredential", "StatusList2021Credential"], "issuer": iris,
                       "issuanceDate": date_times, "credentialSubject": subject},
                {"description": texts, "name": texts,
                 "proof": proof_sets(di_proofs if DATA_INTEGRITY in context else ed25519_2018_proofs)})


enveloped_credentials = nodes({"@context": V2, "type": "EnvelopedVerifiableCredential"}, {
    "id": words(BASE64URL, 10, 40).map(lambda jwt: f"data:application/vc+jwt,eyJ{jwt}")})


presented_credentials = choose((4, ob_credentials(vc11=False, escape=False)), (1, enveloped_credentials),
                               (1, status_list_credentials()))
PRESENTATION_MEMBERS: dict[str, Strategy[Any]] = {
    "id": urn_uuids, "holder": choose((3, iris), (1, nodes({}, {"id": iris}))),
    "verifiableCredential": choose((2, presented_credentials), (2, st.lists(presented_credentials, max_size=2))),
    "termsOfUse": terms_of_use,
    "proof": proof_sets(nodes({"type": "DataIntegrityProof"}, {**PROOF_MEMBERS, "challenge": texts, "domain": texts}))}


@st.composite
def presentations(draw: Draw) -> dict[str, Any]:
    """A ``VerifiablePresentation`` holding credentials (each in its own named graph, with its own
    ``@context`` and proofs), signed by its holder."""
    return node(draw, {"@context": draw(st.sampled_from(([V2], [V2, OB303]))), "type": ["VerifiablePresentation"]},
                PRESENTATION_MEMBERS)


JSON_LITERALS = ("jsonSchema", "_sd", "jwk")    # the bundled VC contexts' "@type": "@json" terms


def must_be_covered(document: Any) -> bool:
    """Whether the fast path must cover ``document`` (if pyld canonicalizes it): every ``@context``
    a list of :data:`MUST_COVER_CONTEXTS` URLs with VC 2.0 first, no other ``@`` keyword, no
    blank node label written as an ``id``, no array directly inside an array and no JSON literal
    (``jsonSchema``, ``jwk``, ``_sd``): legal JSON-LD no OB issuer writes, which the fast path may
    leave to pyld. Presentations are not required either (the brief names credentials)."""
    def plain(value: Any, in_list: bool = False) -> bool:
        if isinstance(value, list):
            return not in_list and all(plain(v, True) for v in value)
        if not isinstance(value, dict):
            return True
        for key, member in value.items():
            if key == "@context":
                if not (isinstance(member, list) and member and member[0] == V2
                        and all(isinstance(c, str) and c in MUST_COVER_CONTEXTS for c in member)):
                    return False
            elif key.startswith("@") or key in JSON_LITERALS or _blank_label(key, member) or not plain(member):
                return False
        return True
    types = document.get("type") if isinstance(document, dict) else None
    presentation = types == "VerifiablePresentation" or isinstance(types, list) and "VerifiablePresentation" in types
    return isinstance(document, dict) and "@context" in document and not presentation and plain(document)


def _blank_label(key: str, member: Any) -> bool:
    return key == "id" and isinstance(member, str) and member.startswith("_:")


@contextlib.contextmanager
def project_constants_left_out() -> Iterator[None]:
    """Hypothesis draws now and then a constant found in the project's loaded modules (not the
    tests'), so one derandomized test draws other values depending on which modules some earlier
    test happened to import. Without them the draws depend on the test alone, and a run is
    reproducible. (Hypothesis' internals: where they are not as expected, nothing is changed.)"""
    try:
        from hypothesis.internal.conjecture import providers
        getter, cache, empty = providers._get_local_constants, providers.CONSTANTS_CACHE.cache, providers.Constants()
    except (ImportError, AttributeError, TypeError):
        yield
        return
    providers._get_local_constants = lambda: empty
    cache.clear()
    try:
        yield
    finally:
        providers._get_local_constants = getter
        cache.clear()


def examples(strategy: Strategy[Any], count: int) -> list[Any]:
    """``count`` values of ``strategy``, the same ones on every run (a derandomized hypothesis run
    that only generates), for batches such as one node process over many documents."""
    found: list[Any] = []

    @settings(derandomize=True, database=None, max_examples=count, phases=[Phase.generate], deadline=None,
              suppress_health_check=list(HealthCheck))
    @given(strategy)
    def collect(value: Any) -> None:
        found.append(value)

    with project_constants_left_out():
        collect()
    return found
