"""Hypothesis strategies for credential shapes (issue 11 §4 "Nothing crashes").

Everything starts from a world that verifies: a signed OB 3.0 credential (``eddsa-rdfc-2022``,
with a status entry, a hashed recipient and a signed endorsement), the same signed with
``eddsa-jcs-2022``, a VC 1.1 credential, a VC-JWT and an Open Badges 2.0 hosted assertion, with
the documents they need (status list, OB 2.0 badge and issuer) served locally. Strategies then
change that world: any field, at any depth, replaced by any JSON value (huge integers, lone
surrogates, control characters, long strings, nested junk), fields deleted or added, values
wrapped, contexts swapped, optionally re-signed so the junk is signed and reaches the checks
behind the signature; JWTs with junk headers and payloads; baked PNG and SVG images carrying
any text; and fully random JSON, text and bytes.

A :class:`Shape` is one input: the ``source`` for ``verify_credential`` (dict, str or bytes),
the ``documents`` to serve, and, for a leaf of a signed credential replaced by a different
value and not re-signed, ``changed_signed_leaf`` (such a credential must never verify).
"""
from __future__ import annotations

import base64
import contextlib
import copy
import functools
import json
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from tests.verifier import reading_attacks as attacks
from verifier.baked import OB3_PNG_KEYWORD, PNG_SIGNATURE
from verifier.jws import b64url_encode
from verifier.proofs import eddsa_jcs_2022, eddsa_rdfc_2022
from verifier.vc_jwt import jwt_claims_for

NOW = attacks.NOW
EMAIL = attacks.EMAIL
STATUS_INDEX = 17
CHALLENGE, DOMAIN = "challenge-1", "verifier.example"
OB2 = "https://w3id.org/openbadges/v2"
OB2_ASSERTION = "https://badges.example/assertions/1"
OB2_BADGE = "https://badges.example/badges/1"
OB2_ISSUER = "https://badges.example/issuer"
BUNDLED_CONTEXTS = (attacks.V2, attacks.V1, attacks.OB, attacks.DI, OB2,
                    "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
                    "https://www.w3.org/ns/credentials/examples/v2", "https://w3id.org/security/suites/ed25519-2020/v1")


# ---------------------------------------------------------------- the world that verifies

@dataclass(frozen=True)
class World:
    signer: attacks.FixtureSigner
    credentials: dict[str, dict]     # name -> a signed JSON-LD credential that verifies
    jwt_payload: dict                # the VC-JWT's payload (a credential with its registered claims)
    jwt: str
    ob2: dict                        # an OB 2.0 hosted assertion
    documents: dict[str, dict]       # status list, OB 2.0 documents
    presentation: dict = field(default_factory=dict)  # signed by the holder (CHALLENGE, DOMAIN)

    def sign(self, document: dict, suite: str = eddsa_rdfc_2022.NAME, **options: Any) -> dict:
        """``document`` (its proof removed) signed again by the issuer's key."""
        unsecured = {k: v for k, v in document.items() if k != "proof"}
        options = {"created": attacks.CREATED, "verificationMethod": self.signer.vm, "proofPurpose": "assertionMethod",
                   **options}
        module = eddsa_jcs_2022 if suite == eddsa_jcs_2022.NAME else eddsa_rdfc_2022
        return {**unsecured, "proof": module.create_proof(unsecured, options, self.signer)}

    def sign_jwt(self, payload: Any, header: Any = None) -> str:
        header = {"alg": "EdDSA", "typ": "JWT", "kid": self.signer.vm} if header is None else header
        signing_input = f"{_b64json(header)}.{_b64json(payload)}"
        return f"{signing_input}.{b64url_encode(self.signer.sign(signing_input.encode('ascii')))}"


def _b64json(value: Any) -> str:
    return b64url_encode(json.dumps(value, separators=(",", ":")).encode("utf-8", "surrogatepass"))


def _ob3(signer: attacks.FixtureSigner) -> dict:
    endorsement = signer.sign_document({
        "@context": [attacks.V2, attacks.OB], "id": "urn:uuid:0b5f7a52-6d3e-4c1b-9a55-3a1f2e4d5c60",
        "type": ["VerifiableCredential", "EndorsementCredential"], "name": "Endorsement",
        "issuer": {"id": signer.did, "type": ["Profile"], "name": "Endorser"}, "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "urn:uuid:a1b2c3d4-0000-4000-8000-00000000beef",
                              "type": ["EndorsementSubject"], "endorsementComment": "Solid."}})
    return {
        "@context": [attacks.V2, attacks.OB], "id": attacks.CREDENTIAL_ID,
        "type": ["VerifiableCredential", "OpenBadgeCredential"], "name": "Teamwork",
        "issuer": {"id": signer.did, "type": ["Profile"], "name": "Example Corp"},
        "validFrom": "2026-01-15T09:00:00Z", "validUntil": "2027-02-01T00:00:00Z",
        "credentialStatus": {"id": f"{attacks.STATUS_URL}#{STATUS_INDEX}", "type": "BitstringStatusListEntry",
                             "statusPurpose": "revocation", "statusListIndex": str(STATUS_INDEX),
                             "statusListCredential": attacks.STATUS_URL},
        "credentialSubject": {
            "id": attacks.SUBJECT_ID, "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityHash": attacks._identity_hash(EMAIL),
                            "identityType": "emailAddress", "hashed": True, "salt": attacks.SALT}],
            "achievement": {"id": "urn:uuid:a1b2c3d4-0000-4000-8000-00000000beef", "type": ["Achievement"],
                            "name": "Teamwork", "description": "Works well in teams.",
                            "criteria": {"narrative": "Peer review."}},
        },
        "endorsement": [endorsement],
    }


def _ob2_documents() -> tuple[dict, dict[str, dict]]:
    assertion = {"@context": OB2, "type": "Assertion", "id": OB2_ASSERTION,
                 "recipient": {"type": "email", "hashed": False, "identity": EMAIL},
                 "issuedOn": "2026-01-01T00:00:00Z", "badge": OB2_BADGE, "verification": {"type": "hosted"}}
    badge = {"@context": OB2, "type": "BadgeClass", "id": OB2_BADGE, "name": "Robotics",
             "description": "Robots.", "image": "https://badges.example/badge.png",
             "criteria": "https://badges.example/criteria", "issuer": OB2_ISSUER}
    issuer = {"@context": OB2, "type": "Issuer", "id": OB2_ISSUER, "name": "Badges", "url": "https://badges.example"}
    return assertion, {OB2_ASSERTION: assertion, OB2_BADGE: badge, OB2_ISSUER: issuer}


@functools.cache
def world() -> World:
    """The world, built once per test session (one key; every base input verifies at NOW)."""
    signer = attacks.FixtureSigner()
    base = _ob3(signer)
    v11 = {"@context": [attacks.V1, attacks.DI], "id": attacks.CREDENTIAL_ID, "type": ["VerifiableCredential"],
           "issuer": signer.did, "issuanceDate": "2026-01-15T09:00:00Z", "expirationDate": "2027-02-01T00:00:00Z",
           "credentialSubject": {"id": f"mailto:{EMAIL}"}}
    ob2, documents = _ob2_documents()
    partial = World(signer, {}, {}, "", ob2, {attacks.STATUS_URL: attacks.status_list(signer), **documents})
    credentials = {"ob3-rdfc": partial.sign(base), "ob3-jcs": partial.sign(base, eddsa_jcs_2022.NAME),
                   "vc11": partial.sign(v11)}
    payload = {**base, **jwt_claims_for(base)}
    presentation = partial.sign({"@context": [attacks.V2], "type": ["VerifiablePresentation"], "holder": signer.did,
                                 "verifiableCredential": [credentials["ob3-rdfc"]]},
                                proofPurpose="authentication", challenge=CHALLENGE, domain=DOMAIN)
    return World(signer, credentials, payload, partial.sign_jwt(payload), ob2, partial.documents, presentation)


# ---------------------------------------------------------------- JSON values

SPECIAL_STRINGS = (
    "", " ", "\ud800", "\udfff", "a\ud83dz", "\x00", "\x1b[31m", "\u202e\u2066", "\ufeff", "nul\x00l", "\n\r\t",
    "x" * 70_000, "é" * 5000, "😀" * 100, "0", "-1", "1e400", "NaN", "true", "null", "{}", "[]", "{\"a\":",
    "2026-01-01T00:00:00Z", "2026-01-01T00:00:00", "2026-02-30T00:00:00Z", "2026-01-01T24:00:00Z",
    "2026-01-01T23:59:60Z", "9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "0000-01-01T00:00:00Z",
    "+275760-09-13T00:00:00Z", "2026-01-01T00:00:00+25:00", "2026-01-01T00:00:00.123456789123Z", "2026",
    "https://", "https://status.example/lists/1", "https://status.example/lists/1#99999999999999999999",
    "http://127.0.0.1/", "https://[::1]/", "https://a@b.example/", "urn:uuid:x", "did:", "did:key:",
    "did:key:z6Mk", "did:key:z6MkInvalid#z6MkInvalid", "did:web:", "did:web:%3A", "did:web:localhost%3A5432",
    "did:jwk:", "did:jwk:e30", "did:jwk:eyJrdHkiOiJPS1AifQ", "did:example:alice#", "#key-1", "relative/path",
    "z", "z0OIl", "u", "uAAAA", "m", "zQmUNM6", "sha256$", "sha384-AAAA", "eyJhbGciOiJub25lIn0..",
    "a.b.c", "....", "@context", "@id", "@type", "@graph", "@json", "@none", "_:b0", "VerifiableCredential",
    "DataIntegrityProof", "eddsa-rdfc-2022", "eddsa-jcs-2022", "Ed25519Signature2020", "Ed25519Signature2018",
    "assertionMethod", "authentication", "BitstringStatusListEntry", "StatusList2021Entry",
    "1EdTechRevocationList", "revocation", "suspension", "emailAddress", "99999999999999999999", "-5", "4242",
)
SPECIAL_NUMBERS = (0, -1, 1, 2**31, 2**53 + 1, 2**64, -(2**63) - 1, 10**100, 10**4000, 0.5, -0.0, 1e308,
                   5e-324, 1.0, 1e16)
KEYS = ("@context", "@id", "@type", "@value", "@language", "@direction", "@list", "@set", "@graph", "@nest",
        "@included", "@reverse", "@index", "@vocab", "@base", "@protected", "@import", "@propagate", "@version",
        "id", "type", "proof", "proofValue", "cryptosuite", "verificationMethod", "proofPurpose", "created",
        "expires", "challenge", "domain", "previousProof", "issuer", "credentialStatus", "credentialSubject",
        "validFrom", "validUntil", "issuanceDate", "expirationDate", "endorsement", "relatedResource",
        "digestSRI", "digestMultibase", "credentialSchema", "evidence", "name", "vc", "iss", "nbf", "exp",
        "https://www.w3.org/2018/credentials#validUntil", "cred:validUntil", "\ud800", "", "a.b")

json_strings = st.one_of(st.sampled_from(SPECIAL_STRINGS), st.text(max_size=40),
                         st.text(st.characters(categories=["Cc", "Cf", "Zs", "Co", "Cs"]),
                                 max_size=10))
json_numbers = st.one_of(st.sampled_from(SPECIAL_NUMBERS), st.integers(),
                         st.floats(allow_nan=False, allow_infinity=False))
json_leaves = st.one_of(st.none(), st.booleans(), json_numbers, json_strings)
json_keys = st.one_of(st.sampled_from(KEYS), st.text(max_size=12))
json_values = st.recursive(
    json_leaves,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.dictionaries(json_keys, children, max_size=4)),
    max_leaves=12)
context_values = st.one_of(
    st.sampled_from(BUNDLED_CONTEXTS),
    st.lists(st.sampled_from(BUNDLED_CONTEXTS), max_size=4),
    st.dictionaries(json_keys, st.one_of(json_leaves, st.sampled_from(BUNDLED_CONTEXTS),
                                         st.dictionaries(st.sampled_from(("@id", "@type", "@container", "@context",
                                                                          "@protected", "@reverse", "@nest")),
                                                         json_leaves, max_size=3)), max_size=4))


# ---------------------------------------------------------------- mutations

Path = tuple[Any, ...]


def paths(value: Any, here: Path = ()) -> Iterator[Path]:
    """Every path in ``value``: dict keys and list indexes, the root first."""
    yield here
    if isinstance(value, dict):
        for key, child in value.items():
            yield from paths(child, (*here, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from paths(child, (*here, index))


def _get(document: Any, path: Path) -> Any:
    for step in path:
        document = document[step]
    return document


def _has(document: Any, path: Path) -> bool:
    for step in path:
        found = (isinstance(document, dict) and step in document) or (
            isinstance(document, list) and isinstance(step, int) and 0 <= step < len(document))
        if not found:
            return False
        document = document[step]
    return True


@dataclass(frozen=True)
class Mutation:
    """One change: ``replace`` the value at ``path``, ``delete`` it, ``add`` a member ``key`` to
    the object at ``path``, or ``wrap`` the value at ``path`` (in a list, an ``id`` object, a
    ``@value`` or ``@list`` object)."""

    op: str
    path: Path
    value: Any = None
    key: Any = None

    def apply(self, document: Any) -> Any:
        """``document`` changed (a copy); unchanged when an earlier change removed ``path``."""
        if self.op == "replace" and not self.path:
            return copy.deepcopy(self.value)
        if not _has(document, self.path):
            return document
        document = copy.deepcopy(document)
        if not self.path:
            return document if self.op == "delete" else self._change(document, document)
        parent = _get(document, self.path[:-1])
        last = self.path[-1]
        if self.op == "delete":
            del parent[last]
        else:
            parent[last] = self._change(parent[last], document)
        return document

    def _change(self, current: Any, document: Any) -> Any:
        if self.op == "replace":
            return copy.deepcopy(self.value)
        if self.op == "add":
            if isinstance(current, dict):
                current[self.key] = copy.deepcopy(self.value)
            elif isinstance(current, list):
                current.append(copy.deepcopy(self.value))
            return current
        return {"list": [current], "id": {"id": current}, "value": {"@value": current},
                "set": {"@list": [current]}}[self.key]

    @property
    def replaces_leaf(self) -> bool:
        return self.op == "replace" and bool(self.path)


def mutations(base: Any, *, focus: tuple[Path, ...] = ()) -> st.SearchStrategy[Mutation]:
    """One change to ``base``, anywhere in it (``focus``: paths drawn more often)."""
    every = list(paths(base))
    where = st.one_of(st.sampled_from(every), st.sampled_from([p for p in focus if p in every] or every))
    containers = [p for p in every if isinstance(_get(base, p), (dict, list))]
    at_context = [p for p in every if "@context" in p]
    return st.one_of(
        st.builds(Mutation, st.just("replace"), where, json_values),
        st.builds(Mutation, st.just("replace"), st.sampled_from(at_context or every), context_values),
        st.builds(Mutation, st.just("delete"), where),
        st.builds(Mutation, st.just("add"), st.sampled_from(containers), json_values, json_keys),
        st.builds(Mutation, st.just("wrap"), where, st.none(), st.sampled_from(("list", "id", "value", "set"))),
    )


FOCUS: tuple[Path, ...] = (
    ("proof",), ("proof", "type"), ("proof", "cryptosuite"), ("proof", "verificationMethod"),
    ("proof", "proofPurpose"), ("proof", "proofValue"), ("proof", "created"), ("@context",), ("@context", 0),
    ("@context", 1), ("type",), ("issuer",), ("issuer", "id"), ("validFrom",), ("validUntil",), ("issuanceDate",),
    ("credentialStatus",), ("credentialStatus", "statusListIndex"), ("credentialStatus", "statusListCredential"),
    ("credentialStatus", "type"), ("credentialStatus", "statusPurpose"), ("credentialSubject",),
    ("credentialSubject", "identifier"), ("credentialSubject", "identifier", 0, "identityHash"),
    ("credentialSubject", "identifier", 0, "hashed"), ("endorsement",), ("endorsement", 0),
    ("endorsement", 0, "proof"), ("endorsement", 0, "issuer"), ("id",),
)


def _same_meaning(old: Any, new: Any) -> bool:
    """Whether ``new`` cannot be told from ``old`` once signed (JCS writes 1 and 1.0 alike)."""
    if isinstance(old, bool) or isinstance(new, bool):
        return type(old) is type(new) and old == new
    if isinstance(old, (int, float)) and isinstance(new, (int, float)):
        return old == new
    return type(old) is type(new) and old == new


def _changes_a_signed_leaf(document: Any, change: Mutation) -> bool:
    """A scalar outside ``@context`` replaced by a scalar that means something else: the signed
    statements change. (A list of the same value, an ``@value`` object, or an equivalent bundled
    context would say the same thing, so they do not count.)"""
    if not change.replaces_leaf or "@context" in change.path:
        return False
    old, new = _get(document, change.path), change.value
    scalar = (type(None), bool, int, float, str)
    return isinstance(old, scalar) and isinstance(new, scalar) and not _same_meaning(old, new)


@dataclass(frozen=True)
class Shape:
    """One input: what to verify, the documents to serve, and whether it must not verify."""

    name: str
    source: Any
    documents: dict = field(default_factory=dict, repr=False)
    changed_signed_leaf: bool = False

    def __repr__(self) -> str:
        source = repr(self.source)
        source = source if len(source) <= 3000 else source[:3000] + f"... ({len(source)} characters)"
        return f"Shape({self.name!r}, {source}, changed_signed_leaf={self.changed_signed_leaf})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:     # hypothesis prints examples with it
        printer.text(repr(self))


def _as_form(document: Any, form: str) -> Any:
    """``document`` as a dict, JSON text, or JSON bytes (non-objects always as text)."""
    if form == "dict" and isinstance(document, dict):
        return document
    text = json.dumps(document, ensure_ascii=form != "text")
    return text.encode("utf-8") if form == "bytes" else text


forms = st.sampled_from(("dict", "dict", "text", "bytes"))


@st.composite
def mutated_credentials(draw: st.DrawFn) -> Shape:
    """A signed credential changed in one to three places; sometimes signed again afterwards."""
    w = world()
    name = draw(st.sampled_from(sorted(w.credentials)))
    document: Any = w.credentials[name]
    changes = draw(st.lists(mutations(document, focus=FOCUS), min_size=1, max_size=3))
    leaf = len(changes) == 1 and _changes_a_signed_leaf(document, changes[0])
    for change in changes:
        document = change.apply(document)
    resign = draw(st.booleans()) and isinstance(document, dict)
    if resign:
        try:
            document = w.sign(document, "eddsa-jcs-2022" if name == "ob3-jcs" else "eddsa-rdfc-2022")
        except Exception:           # noqa: BLE001 - signing is not under test: whatever the
            resign = False          # junk does to the signer, verify it unsigned
    return Shape(f"{name}{'+resigned' if resign else ''}", _as_form(document, draw(forms)), w.documents,
                 changed_signed_leaf=leaf and not resign)


@st.composite
def changed_leaves(draw: st.DrawFn) -> Shape:
    """A signed credential (or the VC-JWT's payload) with one signed scalar, outside ``@context``,
    replaced by a scalar that means something else, and not signed again."""
    w = world()
    name = draw(st.sampled_from([*sorted(w.credentials), "jwt"]))
    base = w.jwt_payload if name == "jwt" else w.credentials[name]
    leaves = [p for p in paths(base) if p and "@context" not in p and not isinstance(_get(base, p), (dict, list))]
    path = draw(st.sampled_from(leaves))
    value = draw(json_leaves.filter(lambda new: not _same_meaning(_get(base, path), new)))
    document = Mutation("replace", path, value).apply(base)
    if name == "jwt":
        header, _payload, signature = w.jwt.split(".")
        return Shape("jwt", f"{header}.{_b64json(document)}.{signature}", w.documents, changed_signed_leaf=True)
    return Shape(name, _as_form(document, draw(forms)), w.documents, changed_signed_leaf=True)


@st.composite
def mutated_status_lists(draw: st.DrawFn) -> Shape:
    """A genuine credential whose status list credential is changed (and mostly signed again)."""
    w = world()
    status = w.documents[attacks.STATUS_URL]
    changes = draw(st.lists(mutations(status, focus=(("credentialSubject", "encodedList"), ("issuer",),
                                                     ("credentialSubject", "statusPurpose"), ("validFrom",),
                                                     ("type",), ("credentialSubject",))), min_size=1, max_size=2))
    for change in changes:
        status = change.apply(status)
    if isinstance(status, dict) and draw(st.booleans()):
        with contextlib.suppress(Exception):     # signing is not under test: serve it unsigned
            status = w.sign(status)
    served = status if isinstance(status, dict) else json.dumps(status)
    return Shape("status-list", w.credentials["ob3-rdfc"], {**w.documents, attacks.STATUS_URL: served})


@st.composite
def mutated_ob2(draw: st.DrawFn) -> Shape:
    """An Open Badges 2.0 hosted assertion, or one of its badge and issuer documents, changed."""
    w = world()
    target = draw(st.sampled_from((None, OB2_ASSERTION, OB2_BADGE, OB2_ISSUER)))
    base = w.ob2 if target is None else w.documents[target]
    document = base
    for change in draw(st.lists(mutations(base), min_size=1, max_size=2)):
        document = change.apply(document)
    if target is None:
        return Shape("ob2", _as_form(document, draw(forms)), {**w.documents, OB2_ASSERTION: document})
    return Shape(f"ob2-{target.rsplit('/', 1)[-1]}", w.ob2, {**w.documents, target: document})


@st.composite
def mutated_jwts(draw: st.DrawFn) -> Shape:
    """The VC-JWT with its header or payload changed and signed again, or its parts replaced."""
    w = world()
    header = {"alg": "EdDSA", "typ": "JWT", "kid": w.signer.vm}
    part = draw(st.sampled_from(("header", "payload", "payload", "raw")))
    if part == "raw":
        pieces = w.jwt.split(".")
        index = draw(st.integers(0, 2))
        pieces[index] = draw(b64_parts)
        return Shape("jwt-raw", ".".join(pieces), w.documents)
    if part == "header":
        for change in draw(st.lists(mutations(header), min_size=1, max_size=2)):
            header = change.apply(header)
        return Shape("jwt-header", w.sign_jwt(w.jwt_payload, header), w.documents)
    payload: Any = w.jwt_payload
    for change in draw(st.lists(mutations(payload, focus=FOCUS + (("vc",), ("nbf",), ("iss",), ("exp",))),
                                min_size=1, max_size=3)):
        payload = change.apply(payload)
    if draw(st.booleans()) and isinstance(payload, dict):
        payload = {"vc": payload, **{k: payload[k] for k in ("iss", "nbf") if k in payload}}
        payload = {k: v for k, v in payload.items() if k != "@context"}
    return Shape("jwt-payload", w.sign_jwt(payload, header), w.documents)


b64_parts = st.one_of(
    st.builds(lambda value: b64url_encode(json.dumps(value).encode("utf-8")), json_values),
    st.builds(b64url_encode, st.binary(max_size=80)),
    st.text(alphabet="ABCDEFabcdef0123456789-_=+/ .", max_size=40),
)


@st.composite
def junk_jwts(draw: st.DrawFn) -> str:
    """A compact JWS (3 or 5 parts) whose parts are base64url of any JSON, any bytes, or junk."""
    count = draw(st.sampled_from((3, 3, 5, 2, 4)))
    return ".".join(draw(b64_parts) for _ in range(count))


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


_IHDR = png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
_IDAT = png_chunk(b"IDAT", zlib.compress(b"\x00\x80"))
_IEND = png_chunk(b"IEND", b"")


def baked_png(text: bytes, *, kind: bytes = b"iTXt", keyword: bytes = OB3_PNG_KEYWORD) -> bytes:
    body = keyword + b"\0" + (b"\0\0\0\0" if kind == b"iTXt" else b"") + text
    return PNG_SIGNATURE + _IHDR + png_chunk(kind, body) + _IDAT + _IEND


def baked_svg(text: str, *, attribute: bool = False) -> bytes:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    inner = f'<openbadges:credential verify="{escaped}"/>' if attribute else \
        f"<openbadges:credential><![CDATA[{text.replace(']]>', '')}]]></openbadges:credential>"
    return (f'<svg xmlns="http://www.w3.org/2000/svg" xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0">'
            f"{inner}</svg>").encode("utf-8", "surrogatepass")


@st.composite
def images(draw: st.DrawFn) -> Shape:
    """A PNG or SVG badge carrying the credential, a changed credential, a JWT, or any text or bytes."""
    w = world()
    payload = draw(st.one_of(
        st.just(json.dumps(w.credentials["ob3-rdfc"])), st.just(w.jwt),
        st.builds(lambda s: json.dumps(s.source) if isinstance(s.source, dict) else
                  s.source if isinstance(s.source, str) else s.source.decode("utf-8"), mutated_credentials()),
        junk_jwts(), json_strings, st.builds(json.dumps, json_values)))
    raw = payload.encode("utf-8", "surrogatepass")
    image = draw(st.one_of(
        st.builds(baked_png, st.just(raw), kind=st.sampled_from((b"iTXt", b"tEXt", b"zTXt")),
                  keyword=st.sampled_from((OB3_PNG_KEYWORD, b"openbadges"))),
        st.builds(baked_svg, st.just(payload), attribute=st.booleans()),
        st.builds(lambda junk: PNG_SIGNATURE + junk, st.binary(max_size=200)),
        st.builds(lambda cut: baked_png(raw)[:cut], st.integers(8, 120)),
        st.builds(lambda junk: b"<svg " + junk, st.binary(max_size=200)),
    ))
    return Shape("image", image, w.documents)


@st.composite
def random_documents(draw: st.DrawFn) -> Shape:
    """Fully random input: any JSON value (as dict, text or bytes), any text, any bytes, junk JWTs."""
    kind = draw(st.sampled_from(("json", "object", "text", "bytes", "jwt")))
    if kind == "json":
        return Shape("json", _as_form(draw(json_values), draw(forms)))
    if kind == "object":
        document = draw(st.dictionaries(json_keys, json_values, max_size=6))
        if draw(st.booleans()):
            document["@context"] = draw(context_values)
        return Shape("object", _as_form(document, draw(forms)))
    if kind == "text":
        return Shape("text", draw(json_strings))
    if kind == "bytes":
        return Shape("bytes", draw(st.binary(max_size=300)))
    return Shape("jwt", draw(junk_jwts()))


@dataclass(frozen=True)
class PresentationShape:
    presentation: Any
    challenge: Any
    domain: Any

    def __repr__(self) -> str:
        text = repr(self.presentation)
        text = text if len(text) <= 3000 else text[:3000] + f"... ({len(text)} characters)"
        return f"PresentationShape({text}, challenge={self.challenge!r}, domain={self.domain!r})"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))


@st.composite
def presentations(draw: st.DrawFn) -> PresentationShape:
    """The signed presentation changed anywhere (its credential included), or one carrying any
    credential shape; asked for the right, another, or no challenge and domain."""
    w = world()
    if draw(st.booleans()):
        vp = w.presentation
        for change in draw(st.lists(mutations(vp, focus=(("proof",), ("proof", "challenge"), ("proof", "domain"),
                                                         ("holder",), ("verifiableCredential",),
                                                         ("verifiableCredential", 0))), min_size=1, max_size=2)):
            vp = change.apply(vp)
    else:
        carried = draw(st.lists(st.one_of(mutated_credentials(), random_documents()), max_size=3))
        vp = {"@context": [attacks.V2], "type": ["VerifiablePresentation"],
              "verifiableCredential": [json_value_of(s.source) for s in carried]}
    challenge = draw(st.one_of(st.none(), st.just(CHALLENGE), json_strings))
    domain = draw(st.one_of(st.none(), st.just(DOMAIN), json_strings, st.lists(json_strings, max_size=2)))
    return PresentationShape(vp, challenge, domain)


shapes = st.one_of(mutated_credentials(), mutated_credentials(), mutated_status_lists(), mutated_ob2(),
                   mutated_jwts(), images(), random_documents())


def text_of(source: Any) -> str:
    """``source`` as the text a user would paste (JSON with escapes for lone surrogates)."""
    if isinstance(source, dict):
        return json.dumps(source)
    if isinstance(source, bytes):
        return source.decode("utf-8", "replace")
    return source


def json_value_of(source: Any) -> Any:
    """The JSON value a client would send for ``source``: the parsed JSON, else the text."""
    if isinstance(source, (str, bytes)):
        try:
            return json.loads(source)
        except ValueError:
            return text_of(source)
    return source


def json_bytes(value: Any) -> bytes:
    """``value`` as JSON bytes the way an HTTP client sends it (lone surrogates as escapes)."""
    return json.dumps(value).encode("ascii")


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
