"""Credentials for the benchmarks, built here so the benchmarks need nothing outside the repo.

``ob_vector_credential`` is the credential of the 1EdTech OB 3.0 "Linked Data Proof Test
Vector" (implementation guide, chapter 9: "Teamwork Badge", 16 canonical quads). That vector
is signed under the VC 1.1 context and the pre-release OB context ``context/ob_v3p0.jsonld``,
which nobody bundles and ``../shared/spec`` does not hold; here it is carried onto the contexts
an OB 3.0 credential uses today (VC 2.0 + OB 3.0.3, ``issuanceDate`` -> ``validFrom``), same
values, same 16 quads. The issuer may be replaced by a did:key so that a full offline
verification can run on it.

``scaled_credential`` is the issue-13 "large" credential with a given number of alignments:
the vector plus 10 evidence items, 5 results (and their result descriptions) and one signed
EndorsementCredential; with 20 alignments it is the ~350-quad point of the issue.
"""
from __future__ import annotations

V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
ISSUER = {"id": "https://example.edu/issuers/565049", "type": ["Profile"], "name": "Example University"}
VECTOR_ISSUER = "https://example.edu/issuers/565049"


def small_credential() -> dict:
    """About the size of the 1EdTech OB 3.0 canonicalization test vector (15 quads)."""
    return {
        "@context": [V2, OB],
        "id": "http://example.edu/credentials/3732",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Teamwork Badge",
        "issuer": ISSUER,
        "validFrom": "2010-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://example.com/achievements/21st-century-skills/teamwork",
                "type": ["Achievement"],
                "criteria": {"narrative": "Team members are nominated for this badge by their peers."},
                "description": "This badge recognizes the development of the capacity to collaborate.",
                "name": "Teamwork",
            },
        },
    }


def ob_vector_credential(issuer_id: str = VECTOR_ISSUER) -> dict:
    """The 1EdTech OB 3.0 test-vector credential on VC 2.0 + OB 3.0.3 (16 quads), issued by ``issuer_id``."""
    return {
        "@context": [V2, OB],
        "id": "http://example.com/credentials/3527",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer_id, "type": ["Profile"], "url": "https://www.imsglobal.org", "name": "Example Corp"},
        "validFrom": "2010-01-01T00:00:00Z",
        "name": "Teamwork Badge",
        "credentialSubject": {
            "id": "did:example:ebfeb1f712ebc6f1c276e12ec21",
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://example.com/achievements/21st-century-skills/teamwork",
                "type": ["Achievement"],
                "criteria": {"narrative": "Team members are nominated for this badge by their peers and "
                                          "recognized upon review by Example Corp management."},
                "description": "This badge recognizes the development of the capacity to collaborate "
                               "within a group environment.",
                "name": "Teamwork",
            },
        },
    }


def endorsement_credential(issuer_id: str = "https://industry.example/issuers/1") -> dict:
    return {
        "@context": [V2, OB],
        "id": "urn:uuid:7a1c3f0e-2b5d-4e7a-9c11-3f4e5d6c7b8a",
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": "Industry endorsement",
        "issuer": {"id": issuer_id, "type": ["Profile"], "name": "Industry Body"},
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "https://example.com/achievements/21st-century-skills/teamwork",
            "type": ["EndorsementSubject"],
            "endorsementComment": "This achievement reflects what employers look for.",
        },
    }


def _alignment(i: int) -> dict:
    return {
        "type": ["Alignment"],
        "targetName": f"Skill {i}",
        "targetUrl": f"https://skills.example/framework/skill-{i}",
        "targetDescription": f"Description of framework skill number {i}.",
        "targetFramework": "Example Skills Framework",
        "targetCode": f"SK-{i:03d}",
        "targetType": "ceasn:Competency",
    }


def _add_bulk(doc: dict, alignments: int, signed_endorsement: dict) -> dict:
    """``doc`` with ``alignments`` alignments, 10 evidence items, 5 results and the endorsement."""
    achievement = doc["credentialSubject"]["achievement"]
    achievement["alignment"] = [_alignment(i) for i in range(alignments)]
    achievement["resultDescription"] = [{
        "id": f"urn:uuid:0000000{i}-1111-4222-8333-444444444444",
        "type": ["ResultDescription"],
        "name": f"Assessment part {i}",
        "resultType": "ScaledScore",
    } for i in range(5)]
    achievement["endorsement"] = [signed_endorsement]
    doc["credentialSubject"]["result"] = [{
        "type": ["Result"],
        "resultDescription": f"urn:uuid:0000000{i}-1111-4222-8333-444444444444",
        "value": str(70 + i),
    } for i in range(5)]
    doc["evidence"] = [{
        "id": f"https://evidence.example/items/{i}",
        "type": ["Evidence"],
        "name": f"Work sample {i}",
        "narrative": f"Reviewed work sample number {i}.",
        "genre": "Project",
    } for i in range(10)]
    return doc


def scaled_credential(alignments: int, signed_endorsement: dict, issuer_id: str = VECTOR_ISSUER) -> dict:
    """The test-vector credential with ``alignments`` alignments, 10 evidence, 5 results, an endorsement."""
    return _add_bulk(ob_vector_credential(issuer_id), alignments, signed_endorsement)


def large_credential(signed_endorsement: dict) -> dict:
    """20 alignments, 10 evidence items, 5 results and an embedded signed endorsement."""
    return _add_bulk(small_credential(), 20, signed_endorsement)
