"""The skills service (issuer.skills.service) on SQLite and PostgreSQL: frameworks as entities,
catalogue import (all or nothing, or skipping bad rows), re-import without duplicates, search,
and achievements whose framework names are kept consistent."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from issuer.db.models import Achievement, AuditEntry
from issuer.db.models_skills import Skill, SkillFramework
from issuer.errors import Conflict, NotFound
from issuer.skills.catalogue import FrameworkError, FrameworkFields
from issuer.skills.readers import CsvFormat, SkillsFileError
from issuer.skills.service import ImportRefused
from tests.admin_support import console_app
from tests.issuer.skills.csv_samples import ESCO, ESCO_SQL, ONET, OWN

ESCO_LONG = "ESCO (European Skills, Competences, Qualifications and Occupations)"


@pytest.fixture()
def services(db_url, tmp_path):
    app = console_app(tmp_path, db_url)
    yield app.extensions["microcred"].use
    app.extensions["microcred"].engine.dispose()


def _count(services, model) -> int:
    with services.runtime.reading() as session:
        return session.scalar(select(func.count()).select_from(model))


def _definition(slug: str, framework: str) -> dict:
    return {"slug": slug, "name": slug.upper(), "description": "**Writes** SQL.", "criteria_narrative": "A test.",
            "alignments": [{"targetName": "SQL", "targetUrl": ESCO_SQL, "targetFramework": framework}]}


def test_import_creates_the_framework_with_its_known_publisher_and_reimport_updates(services):
    report = services.skills.import_csv(ESCO.encode(), framework="ESCO", actor="cli")
    assert report.created and report.format is CsvFormat.ESCO
    assert (report.counts.added, report.counts.updated, report.counts.unchanged) == (3, 0, 0)
    assert (report.framework.publisher, report.framework.url) == ("European Commission", "https://esco.ec.europa.eu/")
    changed = ESCO.replace("work in teams", "work in a team")
    again = services.skills.import_csv(changed.encode(), framework="esco", actor="cli")   # any case: same framework
    assert not again.created and again.framework.id == report.framework.id
    assert (again.counts.added, again.counts.updated, again.counts.unchanged) == (0, 1, 2)
    assert _count(services, Skill) == 3 and _count(services, SkillFramework) == 1
    assert [h.name for h in services.skills.search("team")] == ["work in a team"]
    with services.runtime.reading() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "import_skills")).all()
        assert [(e.actor, e.details["added"], e.details["updated"]) for e in entries] == [("cli", 3, 0), ("cli", 0, 1)]


def test_a_file_with_bad_rows_imports_nothing_unless_asked_to_skip_them(services):
    bad = OWN + "ftp://skills.example.com/x,Bad,,\n"
    with pytest.raises(ImportRefused, match=r"Nothing was imported: 1 row of the file has a problem \(first: line 4"):
        services.skills.import_csv(bad.encode(), framework="Example Corp skills", actor="cli")
    assert _count(services, Skill) == 0 and _count(services, SkillFramework) == 0
    report = services.skills.import_csv(bad.encode(), framework="Example Corp skills", actor="cli", skip_bad_rows=True,
                                        publisher="Example Corp", url="https://skills.example.com/")
    assert report.counts.added == 2 and report.bad_rows == 1 and [p.line for p in report.problems] == [4]
    assert "2 skills added" in report.summary() and "1 bad rows skipped" in report.summary()
    assert report.framework.publisher == "Example Corp"


def test_unreadable_files_and_missing_framework_names_are_refused(services):
    with pytest.raises(SkillsFileError):
        services.skills.import_csv(b"what,ever\n1,2\n", framework="X", actor="cli")
    with pytest.raises(Exception, match="Name the framework"):
        services.skills.import_csv(ONET.encode(), framework="  ", actor="cli")


def test_search_ranks_names_starting_with_the_words_first_and_escapes_wildcards(services):
    services.skills.import_csv(ESCO.encode(), framework="ESCO", actor="cli")
    onet = services.skills.import_csv(ONET.encode(), framework="O*NET", actor="cli").framework
    services.skills.import_csv(b"url,name\nhttps://a.example/1,100% listening\n"
                               b"https://a.example/2,listening to customers on the phone\n", framework="Ours", actor="cli")
    assert [h.name for h in services.skills.search("sql")] == ["SQL"]
    # the name that starts with the words first (though longest), then shorter names first
    assert [h.name for h in services.skills.search("LISTEN")] == [
        "listening to customers on the phone", "100% listening", "Active Listening"]
    assert [h.name for h in services.skills.search("%")] == ["100% listening"]
    assert [h.name for h in services.skills.search("_")] == []
    assert [h.name for h in services.skills.search("listen", framework_id=onet.id)] == ["Active Listening"]
    assert {h.code for h in services.skills.search("2.a.1")} == {"2.A.1.a", "2.A.1.b"}
    assert services.skills.search("   ") == []
    assert [h.name for h in services.skills.search("python programming")] == ["Python (computer programming)"]


def test_frameworks_cannot_split_and_a_rename_reaches_the_achievements(services):
    esco = services.skills.create_framework(FrameworkFields("ESCO", "European Commission"), actor="staff:ada")
    with pytest.raises(Conflict, match="'ESCO' exists already"):
        services.skills.create_framework(FrameworkFields(ESCO_LONG), actor="staff:ada")
    with pytest.raises(FrameworkError):
        services.skills.create_framework(FrameworkFields("X", url="javascript:alert(1)"), actor="staff:ada")
    services.achievements.create(_definition("sql", ESCO_LONG), actor="api:t")
    services.achievements.create(_definition("sql2", "esco"), actor="api:t")
    services.achievements.create(_definition("sql3", "Our skills"), actor="api:t")      # a new name: a new framework
    stored = {a.slug: a.alignments[0]["targetFramework"] for a in services.achievements.all()}
    assert stored == {"sql": "ESCO", "sql2": "ESCO", "sql3": "Our skills"}
    assert [f.name for f in services.skills.frameworks()] == ["ESCO", "Our skills"]
    preview = services.achievements.preview(_definition("p", "ESCO (anything)"))
    assert preview["credentialSubject"]["achievement"]["alignment"][0]["targetFramework"] == "ESCO"
    services.skills.update_framework(esco.id, FrameworkFields("ESCO v1.2", "European Commission"), actor="staff:ada")
    assert {a.alignments[0]["targetFramework"] for a in services.achievements.all() if a.slug != "sql3"} == {"ESCO v1.2"}
    with pytest.raises(Conflict):
        services.skills.update_framework("ESCO v1.2", FrameworkFields("Our skills"), actor="staff:ada")
    listed = {entry.framework.name: (entry.skills, entry.achievements) for entry in services.skills.listing()}
    assert listed == {"ESCO v1.2": (0, 2), "Our skills": (0, 1)}
    with pytest.raises(NotFound):
        services.skills.framework("nothing")
    with pytest.raises(FrameworkError, match="Skill 1: The framework name is longer than 255") as caught:
        services.achievements.create(_definition("long", "x" * 300), actor="api:t")
    assert caught.value.field == "alignments.0"


def test_a_skill_is_found_only_within_the_issuer(services):
    services.skills.import_csv(OWN.encode(), framework="Ours", actor="cli")
    hit = services.skills.search("feedback")[0]
    skill, framework = services.skills.skill(hit.id)
    assert (skill.name, framework.name) == ("Give feedback", "Ours")
    with pytest.raises(NotFound):
        services.skills.skill("0" * 36)
    with services.runtime.reading() as session:
        assert session.scalar(select(func.count()).select_from(Achievement)) == 0
