"""Credentials for the benchmarks, built here so the benchmarks need nothing outside the repo."""
from __future__ import annotations

V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
ISSUER = {"id": "https://example.edu/issuers/565049", "type": ["Profile"], "name": "Example University"}


def small_credential() -> dict:
    """About the size of the 1EdTech OB 3.0 canonicalization test vector (16 quads)."""
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


def endorsement_credential() -> dict:
    return {
        "@context": [V2, OB],
        "id": "urn:uuid:7a1c3f0e-2b5d-4e7a-9c11-3f4e5d6c7b8a",
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": "Industry endorsement",
        "issuer": {"id": "https://industry.example/issuers/1", "type": ["Profile"], "name": "Industry Body"},
        "validFrom": "2024-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "https://example.com/achievements/21st-century-skills/teamwork",
            "type": ["EndorsementSubject"],
            "endorsementComment": "This achievement reflects what employers look for.",
        },
    }


def large_credential(signed_endorsement: dict) -> dict:
    """20 alignments, 10 evidence items, 5 results and an embedded signed endorsement."""
    doc = small_credential()
    achievement = doc["credentialSubject"]["achievement"]
    achievement["alignment"] = [{
        "type": ["Alignment"],
        "targetName": f"Skill {i}",
        "targetUrl": f"https://skills.example/framework/skill-{i}",
        "targetDescription": f"Description of framework skill number {i}.",
        "targetFramework": "Example Skills Framework",
        "targetCode": f"SK-{i:03d}",
        "targetType": "ceasn:Competency",
    } for i in range(20)]
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
