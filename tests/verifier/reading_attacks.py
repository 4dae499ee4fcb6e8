"""Named fixtures for "one reading" (issue 11 §1): a signed field re-spelled so the JSON checks miss it.

A holder takes a genuine credential that the verifier refuses for one field (expired, revoked,
issued to someone else, carrying a bad endorsement) and re-spells that field in another JSON-LD
form: a full IRI as the key, a compact IRI through an inline prefix, an ``@nest`` alias, an
inline alias term, ``@included`` nodes, a ``@reverse`` property, or (VC 1.1) the bundled
``cred:`` prefix. Where the RDF stays the same the signature still verifies, which is why each
must be refused by the reading rules rather than by the proof.

Everything is signed here with the verifier's own proof stages and a did:key issuer, so no
network and no ``issuer`` package is needed; the status list is passed as a local document.
"""
from __future__ import annotations

import base64
import copy
import gzip
import hashlib
from dataclasses import dataclass
from datetime import UTC, datetime

from tests.verifier.signing_support import TestSigner
from verifier.proofs import eddsa_rdfc_2022

V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
DI = "https://w3id.org/security/data-integrity/v2"
CRED = "https://www.w3.org/2018/credentials#"
OBV = "https://purl.imsglobal.org/spec/vc/ob/vocab.html#"
XSD_DATETIME = "http://www.w3.org/2001/XMLSchema#dateTime"
CREATED = "2026-01-10T00:00:00Z"
NOW = datetime(2026, 6, 1, tzinfo=UTC)
STATUS_URL = "https://status.example/lists/1"
REVOKED_INDEX = 4242
CREDENTIAL_ID = "urn:uuid:3f5c1f0a-8f7e-4a52-9d7a-6b1c0e2d4f10"
SUBJECT_ID = "did:example:alice"
EMAIL = "alice@example.com"
SALT = "b7f2c9a1e04d3f58"


class FixtureSigner(TestSigner):
    """The one test signer (:class:`signing_support.TestSigner`, Ed25519 did:key) under the names
    these fixtures use: ``vm`` for its verification method, ``sign_document`` for one proof."""

    __test__ = False

    @property
    def vm(self) -> str:
        return self.verification_method

    def sign_document(self, document: dict) -> dict:
        """``document`` with its proof replaced by one ``eddsa-rdfc-2022`` proof created at ``CREATED``."""
        options = {"created": CREATED, "verificationMethod": self.vm, "proofPurpose": "assertionMethod"}
        return {**document, "proof": eddsa_rdfc_2022.create_proof(document, options, self)}


def encoded_list(revoked: int, size: int = 131_072) -> str:
    bits = bytearray(size // 8)
    bits[revoked // 8] |= 0x80 >> (revoked % 8)
    return "u" + base64.urlsafe_b64encode(gzip.compress(bytes(bits))).decode().rstrip("=")


def status_list(signer: FixtureSigner) -> dict:
    return signer.sign_document({
        "@context": [V2], "id": STATUS_URL, "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": signer.did, "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": f"{STATUS_URL}#list", "type": "BitstringStatusList",
                              "statusPurpose": "revocation", "encodedList": encoded_list(REVOKED_INDEX)},
    })


def _identity_hash(email: str) -> str:
    return "sha256$" + hashlib.sha256((email + SALT).encode()).hexdigest()


def _endorsement(signer: FixtureSigner) -> dict:
    """A signed endorsement, then tampered with: it does not verify."""
    signed = signer.sign_document({
        "@context": [V2, OB], "id": "urn:uuid:0b5f7a52-6d3e-4c1b-9a55-3a1f2e4d5c60",
        "type": ["VerifiableCredential", "EndorsementCredential"], "name": "Endorsement",
        "issuer": {"id": signer.did, "type": ["Profile"], "name": "Endorser"},
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "urn:uuid:a1b2c3d4-0000-4000-8000-00000000beef",
                              "type": ["EndorsementSubject"], "endorsementComment": "Solid."},
    })
    signed["credentialSubject"]["endorsementComment"] = "Outstanding."
    return signed


def base_credential(signer: FixtureSigner) -> dict:
    """A signed OB 3.0 credential the verifier refuses for four reasons at once: it has expired,
    it is revoked, it carries a bad endorsement, and it was not issued to bob@example.com."""
    return signer.sign_document({
        "@context": [V2, OB], "id": CREDENTIAL_ID, "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Teamwork",
        "issuer": {"id": signer.did, "type": ["Profile"], "name": "Example Corp"},
        "validFrom": "2026-01-15T09:00:00Z", "validUntil": "2026-02-01T00:00:00Z",
        "credentialStatus": {"id": f"{STATUS_URL}#{REVOKED_INDEX}", "type": "BitstringStatusListEntry",
                             "statusPurpose": "revocation", "statusListIndex": str(REVOKED_INDEX),
                             "statusListCredential": STATUS_URL},
        "credentialSubject": {
            "id": SUBJECT_ID, "type": ["AchievementSubject"],
            "identifier": [{"type": "IdentityObject", "identityHash": _identity_hash(EMAIL),
                            "identityType": "emailAddress", "hashed": True, "salt": SALT}],
            "achievement": {"id": "urn:uuid:a1b2c3d4-0000-4000-8000-00000000beef", "type": ["Achievement"],
                            "name": "Teamwork", "description": "Works well in teams.",
                            "criteria": {"narrative": "Peer review."}},
        },
        "endorsement": [_endorsement(signer)],
    })


def v11_credential(signer: FixtureSigner) -> dict:
    """A signed VC 1.1 credential that expired (expirationDate)."""
    return signer.sign_document({
        "@context": [V1, DI], "id": CREDENTIAL_ID, "type": ["VerifiableCredential"],
        "issuer": signer.did, "issuanceDate": "2026-01-15T09:00:00Z", "expirationDate": "2026-02-01T00:00:00Z",
        "credentialSubject": {"id": SUBJECT_ID},
    })


# Each field the checks read: (where it lives: "" for the credential, "credentialSubject" for the
# subject), its key, its IRI, the JSON-LD value written out in expanded form, and the inline
# term definition that keeps its meaning.
@dataclass(frozen=True)
class Field:
    holder: str
    key: str
    iri: str
    coercion: str | None  # "@id", a datatype IRI, or None


FIELDS = {
    "validity": Field("", "validUntil", CRED + "validUntil", XSD_DATETIME),
    "status": Field("", "credentialStatus", CRED + "credentialStatus", "@id"),
    "issuer": Field("", "issuer", CRED + "issuer", "@id"),
    "endorsement": Field("", "endorsement", OBV + "endorsement", None),
    "recipient": Field("credentialSubject", "identifier", OBV + "identifier", None),
}


def _expanded(value: object, coercion: str | None) -> object:
    if coercion == "@id" and isinstance(value, str):
        return {"id": value}
    if coercion not in (None, "@id") and isinstance(value, str):
        return {"@value": value, "@type": coercion}
    return value


def _holder(document: dict, field: Field) -> dict:
    return document[field.holder] if field.holder else document


def _add_context(document: dict, context: dict) -> None:
    document["@context"] = [*document["@context"], context]


def respell(document: dict, field: Field, spelling: str) -> dict:
    """A copy of ``document`` with ``field`` written in ``spelling``."""
    doc = copy.deepcopy(document)
    holder = _holder(doc, field)
    value = holder.pop(field.key)
    if spelling == "full_iri":
        holder[field.iri] = _expanded(value, field.coercion)
    elif spelling == "compact_iri":
        namespace, local = field.iri.split("#")
        _add_context(doc, {"x": namespace + "#"})
        holder[f"x:{local}"] = _expanded(value, field.coercion)
    elif spelling == "nest":
        _add_context(doc, {"meta": "@nest"})
        holder["meta"] = {field.key: value}
    elif spelling == "inline_alias":
        definition = {"@id": field.iri, **({"@type": field.coercion} if field.coercion else {})}
        _add_context(doc, {"renamed": definition})
        holder["renamed"] = value
    elif spelling == "included":
        # the type repeats one already stated; it brings the type-scoped terms along
        node_type = "AchievementSubject" if field.holder else "VerifiableCredential"
        doc["@included"] = [{"id": holder.get("id"), "type": node_type, field.key: value}]
    elif spelling == "reverse":
        # State (credential) -credentialSubject-> (subject) again from inside the subject:
        # nothing new links the nodes, and a credential field can ride along, hidden.
        reverse: dict = {"id": CREDENTIAL_ID, "type": "VerifiableCredential"}
        if field.holder:
            holder[field.key] = value
        else:
            reverse[field.key] = value
        doc["credentialSubject"]["@reverse"] = {CRED + "credentialSubject": reverse}
    else:
        raise ValueError(spelling)
    return doc


SPELLINGS = ("full_iri", "compact_iri", "nest", "inline_alias", "included", "reverse")
EXPECTED_REASON = {
    "full_iri": "non_term_key",
    "compact_iri": "inline_context_alias",
    "nest": "inline_context_not_allowed",
    "inline_alias": "inline_context_alias",
    "included": "keyword_not_allowed",
    "reverse": "keyword_not_allowed",
}


def fixtures(signer: FixtureSigner) -> dict[str, tuple[dict, str]]:
    """Name -> (document, the reason code the contexts check must give)."""
    base = base_credential(signer)
    named = {f"{field}-{spelling}": (respell(base, FIELDS[field], spelling), EXPECTED_REASON[spelling])
             for field in FIELDS for spelling in SPELLINGS}
    v11 = v11_credential(signer)
    full = copy.deepcopy(v11)
    full[CRED + "expirationDate"] = {"@value": full.pop("expirationDate"), "@type": XSD_DATETIME}
    named["v11-expirationDate-full_iri"] = (full, "non_term_key")
    prefixed = copy.deepcopy(v11)
    prefixed["cred:expirationDate"] = {"@value": prefixed.pop("expirationDate"), "@type": XSD_DATETIME}
    named["v11-expirationDate-compact_iri"] = (prefixed, "non_term_key")
    return named


def documents(signer: FixtureSigner) -> dict[str, dict]:
    """What the verifier needs besides the credential: the status list."""
    return {STATUS_URL: status_list(signer)}
