"""Migration 0010 (the LinkedIn company id on the issuer) keeps existing data, both ways, on SQLite and PostgreSQL."""
from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from issuer.db import migrate as migrate_module
from issuer.db.engine import make_engine, session_factory
from issuer.db.models import Award, Issuer

NOW = "2026-01-01 00:00:00"


def _to(engine, revision: str, *, down: bool = False) -> None:
    with engine.begin() as connection, migrate_module._config(connection) as config:
        (command.downgrade if down else command.upgrade)(config, revision)


def test_migration_0010_adds_the_linkedin_id_to_existing_issuers_and_removes_it_again(db_url):
    engine = make_engine(db_url)
    try:
        _to(engine, "0009")
        with engine.begin() as connection:
            connection.exec_driver_sql(f"INSERT INTO issuers (id, did, base_url, name, created_at) VALUES "
                                       f"('i', 'did:web:x', 'https://x', 'X Corp', '{NOW}')")
            connection.exec_driver_sql(f"INSERT INTO achievements (id, issuer_id, slug, name, description, "
                                       f"alignments, tags, result_descriptions, created_at, updated_at) VALUES "
                                       f"('a', 'i', 's', 'S', 'D', '[]', '[]', '[]', '{NOW}', '{NOW}')")
            connection.exec_driver_sql(f"INSERT INTO recipients (id, issuer_id, email, created_at, show_name) "
                                       f"VALUES ('r', 'i', 'e@x.com', '{NOW}', false)")
            connection.exec_driver_sql(f"INSERT INTO awards (id, issuer_id, achievement_id, recipient_id, "
                                       f"external_key, evidence, results, awarded_at, valid_from, state, credential, "
                                       f"created_at) VALUES ('w', 'i', 'a', 'r', 'k', '[]', '[]', '{NOW}', '{NOW}', "
                                       f"'active', '{{}}', '{NOW}')")
        _to(engine, "0010")
        with session_factory(engine)() as session, session.begin():
            issuer = session.get(Issuer, "i")
            assert (issuer.name, issuer.linkedin_organization_id) == ("X Corp", None)
            issuer.linkedin_organization_id = "1337"
        with session_factory(engine)() as session:
            assert session.get(Issuer, "i").linkedin_organization_id == "1337"
            assert session.get(Award, "w").issuer_id == "i"
        _to(engine, "0009", down=True)
        columns = {column["name"] for column in inspect(engine).get_columns("issuers")}
        assert "linkedin_organization_id" not in columns and "name" in columns
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT name FROM issuers").scalar() == "X Corp"
            assert connection.exec_driver_sql("SELECT count(*) FROM awards").scalar() == 1
    finally:
        engine.dispose()
