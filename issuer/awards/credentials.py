"""Build an award's OB 3.0 ``OpenBadgeCredential`` (VC 2.0 + OB context 3.0.3). Pure.

* ``id`` is the credential's public URL; ``issuer`` the embedded Profile whose ``id``
  is the issuer's did:web;
* the recipient is a salted, hashed email ``IdentityObject`` (plus ``id`` when a DID is
  known), so no email address is ever published;
* the achievement is embedded with its skill alignments and result descriptions;
* ``evidence``, ``result``, ``awardedDate``, ``validFrom``/``validUntil``,
  ``credentialSchema`` (the 1EdTech schema) and one ``credentialStatus`` entry per purpose.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from issuer.badge_art import default_badge_data_uri
from issuer.config import Settings
from issuer.db.models import Achievement
from verifier.recipient import hashed_identity, normalize_identity

CONTEXTS = ["https://www.w3.org/ns/credentials/v2", "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"]  # defines 1EdTechJsonSchemaValidator2019
OB_SCHEMA = "https://purl.imsglobal.org/spec/ob/v3p0/schema/json/ob_v3p0_achievementcredential_schema.json"


def timestamp(value: datetime) -> str:
    """Whole seconds, UTC, with Z (round-trips through VC-JWT nbf/exp). Naive means UTC."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def achievement_url(settings: Settings, achievement: Achievement) -> str:
    return settings.url(f"/achievements/{achievement.id}")


def credential_url(settings: Settings, award_id: str) -> str:
    return settings.url(f"/credentials/{award_id}")


def achievement_document(settings: Settings, achievement: Achievement, creator: dict[str, Any]) -> dict[str, Any]:
    document: dict[str, Any] = {
        "id": achievement_url(settings, achievement),
        "type": ["Achievement"],
        "name": achievement.name,
        "description": achievement.description,
        "criteria": {},
        "image": {"id": achievement.image or default_badge_data_uri(achievement.name), "type": "Image",
                  "caption": achievement.name},
        "creator": creator,
    }
    if achievement.criteria_url:
        document["criteria"]["id"] = achievement.criteria_url
    if achievement.criteria_narrative:
        document["criteria"]["narrative"] = achievement.criteria_narrative
    if achievement.achievement_type:
        document["achievementType"] = achievement.achievement_type
    if achievement.alignments:
        document["alignment"] = [{"type": ["Alignment"], **a} for a in achievement.alignments]
    if achievement.result_descriptions:
        document["resultDescription"] = [{"type": ["ResultDescription"], **r} for r in achievement.result_descriptions]
    if achievement.tags:
        document["tag"] = list(achievement.tags)
    if achievement.version:
        document["version"] = achievement.version
    return document


def identity_object(email: str, salt: str | None = None) -> dict[str, Any]:
    salt = salt or secrets.token_hex(16)
    return {"type": "IdentityObject", "identityHash": hashed_identity(normalize_identity(email), salt),
            "identityType": "emailAddress", "hashed": True, "salt": salt}


def build_credential(settings: Settings, issuer_profile: dict[str, Any], achievement: Achievement, *,
                     award_id: str, email: str, did: str | None, evidence: Sequence[dict[str, Any]],
                     results: Sequence[dict[str, Any]], awarded: datetime, valid_until: datetime | None,
                     status_entries: Sequence[dict[str, str]], salt: str | None = None) -> dict[str, Any]:
    """The unsigned credential of an award (valid from its award date). Pure but for a random salt."""
    subject: dict[str, Any] = {"type": ["AchievementSubject"], "identifier": [identity_object(email, salt)],
                               "achievement": achievement_document(settings, achievement, issuer_profile)}
    if did:
        subject["id"] = did
    if results:
        subject["result"] = [{"type": ["Result"], **r} for r in results]
    credential: dict[str, Any] = {
        "@context": CONTEXTS,
        "id": credential_url(settings, award_id),
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": achievement.name,
        "issuer": issuer_profile,
        "validFrom": timestamp(awarded),
        "awardedDate": timestamp(awarded),
        "credentialSubject": subject,
        "credentialSchema": [{"id": OB_SCHEMA, "type": "1EdTechJsonSchemaValidator2019"}],
    }
    if valid_until:
        credential["validUntil"] = timestamp(valid_until)
    if evidence:
        credential["evidence"] = [{"type": ["Evidence"], **e} for e in evidence]
    if status_entries:
        credential["credentialStatus"] = list(status_entries)
    return credential
