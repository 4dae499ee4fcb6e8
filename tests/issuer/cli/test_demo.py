"""``microcred demo``: a fresh instance gets an issuer, a skills framework and verifiable awards, once."""
from __future__ import annotations

import json
import re
import stat

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from issuer.access.staff import authenticate, create_user
from issuer.awards.status_lists import list_url
from issuer.cli.demo import demo
from issuer.config import load_settings
from issuer.db.engine import make_engine, session_factory
from issuer.db.migrate import migrate
from issuer.db.models import (
    Achievement,
    AuditEntry,
    Award,
    Issuer,
    IssuerKey,
    Recipient,
    StatusAllocation,
    StatusList,
)
from issuer.demo_data import ACHIEVEMENTS, AWARDS, EMPLOYEES
from issuer.identity import did_document, did_document_url
from issuer.instance import open_instance
from issuer.keys.keyring import all_keys
from issuer.runtime import Runtime
from issuer.services import build_services
from verifier import verify_credential

MODELS = (Issuer, IssuerKey, Achievement, Recipient, Award, StatusList, StatusAllocation, AuditEntry)
ALIGNMENT_TYPES = {"ceasn:Competency", "ceterms:Credential", "CFItem", "CFRubric", "CFRubricCriterion",
                   "CFRubricCriterionLevel", "CTDL"}


@pytest.fixture()
def instance(db_url, tmp_path):
    settings = load_settings({}, instance=tmp_path / "instance", keys_dir=tmp_path / "keys", database_url=db_url,
                             base_url="https://people.example.com")
    engine = make_engine(db_url)
    migrate(engine)
    sessions = session_factory(engine)
    yield settings, sessions, build_services(Runtime(settings, sessions)).setup
    engine.dispose()


def counts(sessions) -> dict[str, int]:
    with sessions() as session:
        return {m.__name__: session.scalar(select(func.count()).select_from(m)) for m in MODELS}


def issuer_documents(sessions, settings) -> dict:
    """What the issuer publishes (DID document, status lists), for verifying offline."""
    with sessions() as session:
        issuer = session.scalars(select(Issuer)).one()
        documents = {did_document_url(issuer): did_document(issuer, all_keys(session, issuer))}
        for status_list in session.scalars(select(StatusList)):
            documents[list_url(settings, status_list)] = json.loads(status_list.credential)
    return documents


def test_demo_on_a_fresh_instance_issues_verifiable_skills_badges(instance):
    settings, sessions, setup = instance
    result = setup.seed_demo()
    assert result.issuer_created and result.issuer_did == "did:web:people.example.com"
    assert result.achievements_created == len(ACHIEVEMENTS) == 5
    assert result.awards_created == len(result.awards) == len(AWARDS) == 10
    assert {a.recipient for a in result.awards} == {name for name, _, _ in EMPLOYEES}
    assert all(a.url == f"https://people.example.com/credentials/{a.award_id}" for a in result.awards)
    documents = issuer_documents(sessions, settings)
    with sessions() as session:
        issuer = session.scalars(select(Issuer)).one()
        assert issuer.name == "Example Corp People Team" and issuer.email.endswith("@example.com")
        assert [k.key_type for k in all_keys(session, issuer)] == ["Ed25519"]
        recipients = session.scalars(select(Recipient)).all()
        assert all(r.email.endswith("@example.com") and r.employee_id for r in recipients)
        awards = session.scalars(select(Award)).all()
        for award in awards:
            report = verify_credential(json.loads(award.credential), offline=True, documents=documents)
            assert report.verified, [c.to_dict() for c in report.checks if c.status != "passed"]
            report = verify_credential(award.credential_jwt, offline=True, documents=documents)
            assert report.verified, [c.to_dict() for c in report.checks if c.status != "passed"]


def test_demo_achievements_are_a_real_skills_framework(instance):
    _settings, sessions, setup = instance
    setup.seed_demo()
    with sessions() as session:
        award = session.scalars(select(Award)).first()
        credential = json.loads(award.credential)
    achievement = credential["credentialSubject"]["achievement"]
    frameworks = {a["targetFramework"].split(" ")[0] for a in achievement["alignment"]}
    assert frameworks == {"ESCO", "O*NET"}
    for alignment in achievement["alignment"]:
        assert alignment["targetType"] in ALIGNMENT_TYPES
        assert alignment["targetUrl"].startswith(("http://data.europa.eu/esco/skill/",
                                                  "https://www.onetonline.org/"))
        assert alignment["targetCode"] in alignment["targetUrl"]
    assert achievement["criteria"]["narrative"] and achievement["achievementType"] == "Competency"
    [rubric] = achievement["resultDescription"]
    levels = {level["id"] for level in rubric["rubricCriterionLevel"]}
    [result] = credential["credentialSubject"]["result"]
    assert result["resultDescription"] == rubric["id"] and result["achievedLevel"] in levels
    assert credential["validUntil"] > credential["validFrom"]       # validity period from the achievement


def test_running_the_demo_twice_adds_nothing(instance):
    _settings, sessions, setup = instance
    first = setup.seed_demo()
    before = counts(sessions)
    second = setup.seed_demo()
    assert counts(sessions) == before
    assert not second.issuer_created and second.achievements_created == 0 and second.awards_created == 0
    assert [a.award_id for a in second.awards] == [a.award_id for a in first.awards]


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_demo_command_is_idempotent_and_prints_credential_urls(tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("MICROCRED_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("MICROCRED_KEYS", str(tmp_path / "keys"))
    monkeypatch.setenv("MICROCRED_BASE_URL", "http://localhost:5000")
    monkeypatch.setenv("DATABASE_URL", db_url)
    first = CliRunner().invoke(demo, [])
    assert first.exit_code == 0, first.output
    urls = [line.split()[0] for line in first.stdout.splitlines() if line.startswith("  http://")]
    assert len(urls) == len(AWARDS) and all(u.startswith("http://localhost:5000/credentials/") for u in urls)
    assert "awards: 10 (10 new)" in first.stdout
    assert "http://localhost:5000/.well-known/did.json" in first.stdout
    second = CliRunner().invoke(demo, [])
    assert second.exit_code == 0, second.output
    assert "awards: 10 (0 new)" in second.stdout and "already set up" in second.stdout
    assert [line.split()[0] for line in second.stdout.splitlines() if line.startswith("  http://")] == urls


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_demo_command_reports_bad_configuration_in_one_line(tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("MICROCRED_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("MICROCRED_BASE_URL", "ftp://nowhere")
    result = CliRunner().invoke(demo, [])
    assert result.exit_code == 2
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1 and result.stdout == ""


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_demo_creates_a_console_account_once_and_prints_it(tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("MICROCRED_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("MICROCRED_KEYS", str(tmp_path / "keys"))
    monkeypatch.setenv("MICROCRED_BASE_URL", "http://localhost:5000")
    monkeypatch.setenv("DATABASE_URL", db_url)
    first = CliRunner().invoke(demo, [])
    match = re.search(r"HR console: http://localhost:5000/admin/  user hr-admin, password (\S+) ", first.stdout)
    assert match, first.stdout
    password_file = tmp_path / "instance" / "demo-admin-password"
    assert password_file.read_text().strip() == match.group(1)
    assert stat.S_IMODE(password_file.stat().st_mode) == 0o600
    with open_instance(load_settings()).begin() as session:
        assert authenticate(session, "hr-admin", match.group(1)).role == "admin"
    second = CliRunner().invoke(demo, [])
    assert f"user hr-admin, password {match.group(1)} " in second.stdout      # the same account, shown again


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_demo_adds_no_account_where_staff_accounts_exist(tmp_path, db_url, monkeypatch):
    monkeypatch.setenv("MICROCRED_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("MICROCRED_KEYS", str(tmp_path / "keys"))
    monkeypatch.setenv("MICROCRED_BASE_URL", "http://localhost:5000")
    monkeypatch.setenv("DATABASE_URL", db_url)
    with open_instance(load_settings()).begin() as session:
        create_user(session, "hana", "a long enough passphrase", "admin")
    result = CliRunner().invoke(demo, [])
    assert result.exit_code == 0 and "HR console" not in result.stdout
    assert not (tmp_path / "instance" / "demo-admin-password").exists()
