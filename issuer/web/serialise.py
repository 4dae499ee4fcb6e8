"""The JSON forms of the issuer's objects, as the REST API sends them (one place for every view)."""
from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from flask import request

from issuer.awards.credentials import credential_url
from issuer.bulk import jobs as bulk_jobs
from issuer.web.api.common import (
    current_time,
    iso,
    settings,
)

if TYPE_CHECKING:   # the ORM rows these functions read; the services load them
    from issuer.db.models import Achievement, Award, Recipient


def achievement_json(achievement: Achievement) -> dict:
    return {
        "id": achievement.id, "slug": achievement.slug, "name": achievement.name,
        "description": achievement.description, "criteria_narrative": achievement.criteria_narrative,
        "criteria_url": achievement.criteria_url, "image": achievement.image,
        "achievement_type": achievement.achievement_type, "alignments": list(achievement.alignments or []),
        "tags": list(achievement.tags or []), "result_descriptions": list(achievement.result_descriptions or []),
        "validity_months": achievement.validity_months, "version": achievement.version,
        "url": settings().url(f"/achievements/{achievement.id}"), "created_at": iso(achievement.created_at),
    }


def recipient_json(recipient: Recipient) -> dict:
    return {"id": recipient.id, "email": recipient.email, "name": recipient.name,
            "employee_id": recipient.employee_id, "did": recipient.did, "created_at": iso(recipient.created_at)}


def _expired(award: Award, now: datetime) -> bool:
    return award.valid_until is not None and award.valid_until <= now


def award_json(award: Award, *, with_credential: bool = False, now: datetime | None = None) -> dict:
    now = now or current_time()
    document = {
        "id": award.id, "state": award.state, "state_reason": award.state_reason,
        "expired": _expired(award, now),
        "achievement": {"id": award.achievement.id, "slug": award.achievement.slug, "name": award.achievement.name},
        "recipient": {"id": award.recipient.id, "email": award.recipient.email, "name": award.recipient.name,
                      "employee_id": award.recipient.employee_id},
        "awarded_at": iso(award.awarded_at), "valid_from": iso(award.valid_from),
        "valid_until": iso(award.valid_until), "created_at": iso(award.created_at),
        "superseded_by": award.superseded_by, "evidence": list(award.evidence or []),
        "results": list(award.results or []),
        "credential_url": credential_url(settings(), award.id),
        "credential_jwt_url": credential_url(settings(), award.id) + ".jwt" if award.credential_jwt else None,
    }
    if with_credential:
        document["credential"] = json.loads(award.credential) if award.credential else None
    return document


def vcapi_credential_json(record, status: list[dict]) -> dict:
    return {"id": record.id, "credential_id": record.credential_id, "signed_as": record.signed_as,
            "types": record.types or [], "actor": record.actor, "token_id": record.token_id, "state": record.state,
            "state_reason": record.state_reason, "created_at": iso(record.created_at), "status": status,
            "credential": json.loads(record.credential)}


def bulk_job_json(job) -> dict:
    url = f"{request.script_root}/api/v1/bulk-jobs/{job.id}"
    return {"id": job.id, "url": url, "state": job.state, "filename": job.filename, "done": job.done,
            "total": job.total, "counts": bulk_jobs.counts(job.summary), "error": job.error,
            "created_by": job.created_by, "created_at": iso(job.created_at), "started_at": iso(job.started_at),
            "finished_at": iso(job.finished_at),
            "results_url": f"{url}/results" if job.result_csv is not None else None}


# ---------------------------------------------------------------- skills (the achievements service's answers)

if TYPE_CHECKING:
    from issuer.achievements.inventory import Coverage
    from issuer.achievements.service import SkillsHeld


def skills_json(held: SkillsHeld) -> dict:
    return {"as_of": iso(held.as_of), "items": [skill.to_json() for skill in held.skills]}


def coverage_json(result: Coverage) -> dict:
    people = [{"recipient": {"id": p.recipient.id, "email": p.recipient.email, "name": p.recipient.name},
               "has": p.has, "missing": p.missing} for p in result.people]
    return {"as_of": iso(result.as_of), "skills": result.skills, "unknown_skills": result.unknown_skills,
            "has_all": [p["recipient"] for p in people if not p["missing"]], "people": people}
