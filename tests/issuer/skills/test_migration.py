"""Migration 0009 on a real database created at revision 0008 whose achievements split one
framework over several names: the frameworks become entities, obvious duplicates are merged by
the documented rule, alignments are rewritten to the kept name, signed credentials stay as they
were. SQLite and PostgreSQL."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import command

from issuer.db import migrate as migrate_module
from issuer.db.engine import make_engine
from issuer.db.migrate import current_revision, head_revision, migrate

ESCO_LONG = "ESCO (European Skills, Competences, Qualifications and Occupations)"
SIGNED = json.dumps({"credentialSubject": {"achievement": {"alignment": [{"targetFramework": ESCO_LONG}]}}})


def _align(name: str, url: str, framework: str) -> dict:
    return {"targetName": name, "targetUrl": url, "targetFramework": framework}


def _at_0008(db_url: str) -> sa.Engine:
    engine = make_engine(db_url)
    with engine.begin() as connection, migrate_module._config(connection) as config:
        command.upgrade(config, "0008")
    assert current_revision(engine) == "0008"
    return engine


def _seed(engine: sa.Engine) -> None:
    meta = sa.MetaData()
    meta.reflect(engine, only=["issuers", "achievements", "recipients", "awards"])
    issuers, achievements = meta.tables["issuers"], meta.tables["achievements"]
    recipients, awards = meta.tables["recipients"], meta.tables["awards"]
    now = datetime(2026, 12, 1, tzinfo=UTC).replace(tzinfo=None) if engine.dialect.name == "sqlite" \
        else datetime(2026, 12, 1, tzinfo=UTC)
    rows = {
        "sql": [_align("SQL", "http://data.europa.eu/esco/skill/1", "ESCO"),
                _align("Teamwork", "https://skills.example.com/teamwork", "Example Corp skills")],
        "python": [_align("Python", "http://data.europa.eu/esco/skill/2", ESCO_LONG),
                   _align("Reading", "https://www.onetonline.org/find/descriptor/result/2.A.1.a", "O*NET 29.0")],
        "kotlin": [_align("Kotlin", "http://data.europa.eu/esco/skill/3", "European skills classification"),
                   _align("Git", "http://data.europa.eu/esco/skill/4", "esco ")],
        "plain": [_align("Listening", "https://skills.example.com/listening", "Example Corp skills"),
                  {"targetName": "No framework", "targetUrl": "https://x.example/1"}],
        "again": [_align("SQL", "http://data.europa.eu/esco/skill/1", "ESCO")],
    }
    with engine.begin() as connection:
        connection.execute(issuers.insert(), [
            {"id": "i1", "did": "did:web:one.example", "base_url": "https://one.example", "name": "One", "created_at": now},
            {"id": "i2", "did": "did:web:two.example", "base_url": "https://two.example", "name": "Two", "created_at": now}])
        for slug, alignments in rows.items():
            connection.execute(achievements.insert().values(
                id=f"a-{slug}", issuer_id="i1", slug=slug, name=slug, description="d", alignments=alignments,
                tags=[], result_descriptions=[], created_at=now, updated_at=now))
        connection.execute(achievements.insert().values(
            id="a-two", issuer_id="i2", slug="sql", name="SQL", description="d", tags=[], result_descriptions=[],
            alignments=[_align("SQL", "http://data.europa.eu/esco/skill/1", ESCO_LONG)], created_at=now, updated_at=now))
        connection.execute(recipients.insert().values(id="r1", issuer_id="i1", email="a@example.com", created_at=now,
                                                      show_name=False))
        connection.execute(awards.insert().values(
            id="w1", issuer_id="i1", achievement_id="a-python", recipient_id="r1", external_key="k1", evidence=[],
            results=[], awarded_at=now, valid_from=now, state="active", credential=SIGNED, created_at=now))


def _frameworks(engine: sa.Engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        found: dict[str, list[tuple]] = {}
        for issuer_id, name, name_key, publisher, url in connection.execute(sa.text(
                "SELECT issuer_id, name, name_key, publisher, url FROM skill_frameworks ORDER BY name_key")):
            found.setdefault(issuer_id, []).append((name, name_key, publisher, url))
        return found


def _alignments(engine: sa.Engine) -> dict[str, list]:
    table = sa.table("achievements", sa.column("id"), sa.column("alignments", sa.JSON()))
    with engine.connect() as connection:
        return {row.id: row.alignments for row in connection.execute(sa.select(table.c.id, table.c.alignments))}


def test_split_framework_names_become_one_framework_each(db_url):
    engine = _at_0008(db_url)
    try:
        _seed(engine)
        migrate(engine)
        assert current_revision(engine) == head_revision()
        frameworks = _frameworks(engine)
        assert frameworks["i1"] == [
            ("ESCO", "esco", "European Commission", "https://esco.ec.europa.eu/"),
            ("Example Corp skills", "example corp skills", None, None),
            ("O*NET 29.0", "o*net 29.0", "U.S. Department of Labor, O*NET Resource Center", "https://www.onetcenter.org/"),
        ]
        # the other issuer's only name is kept as it is, in its own framework
        assert [f[0] for f in frameworks["i2"]] == [ESCO_LONG]
        alignments = _alignments(engine)
        assert [a["targetFramework"] for a in alignments["a-python"]] == ["ESCO", "O*NET 29.0"]
        assert [a["targetFramework"] for a in alignments["a-kotlin"]] == ["ESCO", "ESCO"]
        assert alignments["a-plain"][1] == {"targetName": "No framework", "targetUrl": "https://x.example/1"}
        assert alignments["a-two"][0]["targetFramework"] == ESCO_LONG
        with engine.connect() as connection:
            assert connection.scalar(sa.text("SELECT credential FROM awards WHERE id = 'w1'")) == SIGNED
    finally:
        engine.dispose()


def test_downgrade_drops_the_tables_and_keeps_the_merged_names(db_url):
    engine = _at_0008(db_url)
    try:
        _seed(engine)
        with engine.begin() as connection, migrate_module._config(connection) as config:
            command.upgrade(config, "0009")
        with engine.begin() as connection, migrate_module._config(connection) as config:
            command.downgrade(config, "0008")
        assert not {"skill_frameworks", "skills"} & set(sa.inspect(engine).get_table_names())
        assert _alignments(engine)["a-kotlin"][0]["targetFramework"] == "ESCO"
        migrate(engine)                     # and up again: the names are already merged
        assert [f[0] for f in _frameworks(engine)["i1"]] == ["ESCO", "Example Corp skills", "O*NET 29.0"]
    finally:
        engine.dispose()
