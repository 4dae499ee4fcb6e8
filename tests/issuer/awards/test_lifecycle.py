"""Issuing, revoking, suspending, renewing and rotating keys, on SQLite and PostgreSQL.

Status changes, renewals and the expiring list go through the service every entry point calls
(:class:`issuer.awards.status_service.StatusService`). The verifier checks every outcome against
the issuer's own documents (offline), so what is tested is what a recruiter would see.
"""
from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from issuer.awards.issuance import AwardRequest, IssuerContext, issue_award
from issuer.awards.lifecycle import LifecycleError, change_status, renew
from issuer.awards.rules import AwardRuleError
from issuer.awards.status_service import StatusService
from issuer.cli.achievements import achievement_from_definition
from issuer.config import load_settings
from issuer.db.models import Achievement, AuditEntry, Award, StatusAllocation
from issuer.errors import Conflict, InvalidInput, NotFound
from issuer.identity import load_issuer
from issuer.instance import open_instance
from issuer.keys.keyring import add_key
from issuer.runtime import Runtime
from issuer.services import build_services
from issuer.setup import init_instance
from tests.issuer.web.api.test_api import another_issuers_award
from verifier import verify_credential

RUBRIC = "urn:uuid:5f0c3c1e-0000-4000-8000-000000000001"


@pytest.fixture()
def instance(db_url, tmp_path):
    settings = load_settings({}, instance=tmp_path / "instance", keys_dir=tmp_path / "keys", database_url=db_url,
                             base_url="https://hr.example.com")
    init_instance(settings, name="Example Corp", url="https://example.com")
    factory = open_instance(settings)
    with factory.begin() as session:
        issuer = load_issuer(session, settings)
        session.add(Achievement(issuer_id=issuer.id, **achievement_from_definition({
            "slug": "sql", "name": "SQL fundamentals", "description": "Writes correct SQL queries.",
            "criteria_narrative": "Passed a supervised practical.", "validity_months": 12,
            "alignments": [{"targetName": "SQL", "targetUrl": "https://example.com/skills/sql",
                            "targetFramework": "ESCO", "targetType": "ceasn:Competency"}],
            "result_descriptions": [{"id": RUBRIC, "name": "Grade", "resultType": "LetterGrade"}]})))
    return settings, factory


def status(instance) -> StatusService:
    settings, factory = instance
    return build_services(Runtime(settings, factory)).status


def issue(instance, email="alex@example.com", achievement="sql", **kwargs):
    settings, factory = instance
    with factory.begin() as session:
        issuer = load_issuer(session, settings)
        award, created = issue_award(session, IssuerContext.load(session, settings, issuer),
                                     AwardRequest(achievement, email, **kwargs), actor="test")
        return award.id, created


def check(instance, award_id):
    """Verify the stored credential as a recruiter would, against the issuer's current documents."""
    settings, factory = instance
    with factory() as session:
        issuer = load_issuer(session, settings)
        ctx = IssuerContext.load(session, settings, issuer)
        credential = json.loads(session.get(Award, award_id).credential)
    return verify_credential(credential, offline=True, documents=ctx.documents)


def test_an_issued_award_verifies_and_passes_the_schema(instance):
    award_id, created = issue(instance, results=({"resultDescription": RUBRIC, "value": "A"},),
                              evidence=({"id": "https://git.example.com/alex/sql-exam"},))
    report = check(instance, award_id)
    assert created and report.verified, report.to_dict()
    assert report.check("conformance").status == "passed"
    assert report.check("status").status == "passed"
    credential = json.loads(instance[1]().get(Award, award_id).credential)
    assert credential["id"] == f"https://hr.example.com/credentials/{award_id}"
    assert credential["issuer"]["id"] == "did:web:hr.example.com"
    assert "alex@example.com" not in json.dumps(credential)  # only a salted hash is published
    assert {s["statusPurpose"] for s in credential["credentialStatus"]} == {"revocation", "suspension"}
    valid_from = datetime.fromisoformat(credential["validFrom"].replace("Z", "+00:00"))
    valid_until = datetime.fromisoformat(credential["validUntil"].replace("Z", "+00:00"))
    assert 360 <= (valid_until - valid_from).days <= 366


def test_the_same_request_never_issues_twice(instance):
    first, created = issue(instance)
    again, created_again = issue(instance)
    assert created and not created_again and first == again
    with instance[1]() as session:
        assert session.scalar(select(func.count()).select_from(Award)) == 1


def test_bad_requests_store_nothing(instance):
    for kwargs, code in (({"achievement": "no-such-badge"}, "unknown_achievement"),
                         ({"results": ({"resultDescription": "urn:uuid:unknown", "value": "A"},)},
                          "unknown_result_description")):
        with pytest.raises(AwardRuleError) as info:
            issue(instance, **kwargs)
        assert info.value.code == code
    with instance[1]() as session:
        assert session.scalar(select(func.count()).select_from(Award)) == 0
        assert session.scalar(select(func.count()).select_from(StatusAllocation)) == 0


def test_revoke_suspend_unsuspend_show_in_verification(instance):
    service = status(instance)
    award_id, _ = issue(instance)
    service.change_status(award_id, "suspend", {"reason": "under review"}, actor="hr")
    report = check(instance, award_id)
    assert (report.check("status").status, report.check("status").reason) == ("failed", "suspended")
    service.change_status(award_id, "unsuspend", {"reason": "cleared"}, actor="hr")
    assert check(instance, award_id).verified
    change = service.change_status(award_id, "revoke", {"reason": " assessment fraud "}, actor="hr")
    assert (change.id, change.action, change.state, change.changed) == (award_id, "revoke", "revoked", True)
    report = check(instance, award_id)
    assert (report.check("status").status, report.check("status").reason) == ("failed", "revoked")
    assert service.change_status(award_id, "revoke", {"reason": "again"}, actor="hr").changed is False
    with pytest.raises(LifecycleError) as refused:
        service.change_status(award_id, "unsuspend", {"reason": "undo"}, actor="hr")
    assert isinstance(refused.value, Conflict) and refused.value.code == "invalid_transition"
    assert str(refused.value) == "an award that is revoked cannot be unsuspended"
    with instance[1]() as session:
        trail = session.scalars(select(AuditEntry).where(AuditEntry.award_id == award_id)
                                .order_by(AuditEntry.id)).all()
        assert session.get(Award, award_id).state_reason == "assessment fraud"
    assert [e.action for e in trail] == ["issue", "suspend", "unsuspend", "revoke"]
    assert trail[-1].actor == "hr" and trail[-1].details["reason"] == "assessment fraud"
    assert set(trail[-1].details) == {"reason", "purpose", "index"}


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_what_a_status_change_refuses_changes_nothing(instance):
    """Unknown awards (and another issuer's) are NotFound whatever was asked; a request needs a reason."""
    service = status(instance)
    award_id, _ = issue(instance)
    foreign_id = another_issuers_award(instance[1])[0]
    for unknown in ("00000000-0000-4000-8000-000000000000", "not-an-id", "x" * 500, foreign_id):
        with pytest.raises(NotFound) as missing:
            service.change_status(unknown, "revoke", {"more": 1}, actor="hr")
        assert (missing.value.code, missing.value.http_status) == ("unknown_award", 404)
        with pytest.raises(NotFound):
            service.renew(unknown, actor="hr", body={"x": 1})
    for body, code in (({}, "reason_required"), ({"reason": "   "}, "reason_required"), ({"reason": None}, None),
                       ({"reason": 5}, None), ({"reason": "x" * 1001}, None), ({"reason": "x", "more": 1}, None)):
        with pytest.raises(InvalidInput) as refused:
            service.change_status(award_id, "revoke", body, actor="hr")
        assert refused.value.http_status == 422 and (code is None or refused.value.code == code), body
    with pytest.raises(InvalidInput, match="takes no parameters"):
        service.renew(award_id, actor="hr", body={"validity": 3})
    with instance[1]() as session:
        assert session.get(Award, award_id).state == "active"
        assert session.get(Award, foreign_id).state == "active"
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.award_id == award_id)).all() == ["issue"]
    assert check(instance, award_id).verified


def test_concurrent_revocations_lose_no_update(instance):
    service = status(instance)
    award_ids = [issue(instance, email=f"person{i}@example.com")[0] for i in range(6)]
    errors = []

    def revoke(award_id):
        try:
            service.change_status(award_id, "revoke", {"reason": "batch"}, actor="hr")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=revoke, args=(a,)) for a in award_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    for award_id in award_ids:
        assert check(instance, award_id).check("status").reason == "revoked"


def test_the_factory_functions_are_the_same_steps(instance):
    """lifecycle.change_status and renew (for code without services) take the service's path."""
    settings, factory = instance
    award_id, _ = issue(instance)
    assert change_status(factory, settings, award_id, "suspend", reason="check", actor="script").changed
    assert check(instance, award_id).check("status").reason == "suspended"
    with pytest.raises(LifecycleError, match="suspended cannot be renewed"):
        renew(factory, settings, award_id, actor="script")
    change_status(factory, settings, award_id, "unsuspend", reason="fine", actor="script")
    assert renew(factory, settings, award_id, actor="script").id == status(instance).renew(award_id, actor="x").award.id


def test_status_indexes_are_unique_and_random(instance):
    award_ids = [issue(instance, email=f"p{i}@example.com")[0] for i in range(20)]
    with instance[1]() as session:
        rows = session.execute(select(StatusAllocation.list_id, StatusAllocation.index)).all()
    assert len(rows) == 2 * len(award_ids) == len(set(rows))
    indexes = sorted(i for _, i in rows)
    assert indexes != list(range(indexes[0], indexes[0] + len(indexes)))  # not sequential


def test_renewal_supersedes_and_the_old_credential_still_verifies(instance):
    service = status(instance)
    old_id, _ = issue(instance)
    renewal = service.renew(old_id, actor="hr")
    assert renewal.created and renewal.award.recipient.email == "alex@example.com"
    assert renewal.award.achievement.slug == "sql" and renewal.award.state == "active"
    again = service.renew(old_id, actor="hr")
    assert (again.award.id, again.created) == (renewal.award.id, False)
    with instance[1]() as session:
        old = session.get(Award, old_id)
        assert old.state == "superseded" and old.superseded_by == renewal.award.id
        assert session.scalars(select(AuditEntry.action).where(AuditEntry.award_id == old_id)
                               .order_by(AuditEntry.id)).all() == ["issue", "renew"]
    assert check(instance, old_id).verified
    assert check(instance, renewal.award.id).verified


def test_key_rotation_keeps_old_credentials_verifying(instance):
    settings, factory = instance
    before, _ = issue(instance)
    with factory.begin() as session:
        add_key(session, settings, load_issuer(session, settings))
    after, _ = issue(instance, email="sam@example.com")
    assert check(instance, before).verified
    report = check(instance, after)
    assert report.verified
    credential = json.loads(factory().get(Award, after).credential)
    assert credential["proof"]["verificationMethod"].endswith("#key-2")


def test_expiring_lists_awards_ending_soon(instance):
    soon, _ = issue(instance, awarded_at=datetime.now(UTC).replace(microsecond=0) - timedelta(days=350))
    issue(instance, email="later@example.com")
    found = status(instance).expiring(30)
    assert [a.id for a in found] == [soon]
    assert (found[0].achievement.slug, found[0].recipient.email) == ("sql", "alex@example.com")   # loaded
    assert status(instance).expiring(5) == []
