"""Migration 0007 on existing data (SQLite and PostgreSQL): names HR showed stay shown, and back down.

Before 0007 a recipient's name showed on all their badge pages when HR published their profile
with ``--show-name`` (``recipients.show_name``); after it, the choice is per badge
(``award_privacy``), so those awards must get a row that keeps the name shown.
"""
from __future__ import annotations

from alembic import command
from sqlalchemy import inspect

from issuer.db import migrate as migrate_module
from issuer.db.engine import make_engine

NOW = "2026-01-01 00:00:00"


def _upgrade(engine, revision: str) -> None:
    with engine.begin() as connection, migrate_module._config(connection) as config:
        command.upgrade(config, revision)


def test_migration_0007_keeps_shown_names_shown_and_downgrades(db_url):
    engine = make_engine(db_url)
    try:
        _upgrade(engine, "0006")
        with engine.begin() as connection:
            run = connection.exec_driver_sql
            run(f"INSERT INTO issuers (id, did, base_url, name, created_at) VALUES ('i', 'did:web:x', 'https://x', "
                f"'X', '{NOW}')")
            run(f"INSERT INTO achievements (id, issuer_id, slug, name, description, alignments, tags, "
                f"result_descriptions, created_at, updated_at) VALUES ('a', 'i', 's', 'S', 'D', '[]', '[]', '[]', "
                f"'{NOW}', '{NOW}')")
            for recipient, shown in (("named", "true"), ("private", "false")):
                run(f"INSERT INTO recipients (id, issuer_id, email, name, created_at, show_name) VALUES "
                    f"('{recipient}', 'i', '{recipient}@x.com', 'N', '{NOW}', {shown})")
                for n in (1, 2):
                    run(f"INSERT INTO awards (id, issuer_id, achievement_id, recipient_id, external_key, evidence, "
                        f"results, awarded_at, valid_from, state, credential, created_at) VALUES ('{recipient}-{n}', "
                        f"'i', 'a', '{recipient}', '{recipient}-{n}', '[]', '[]', '{NOW}', '{NOW}', 'active', '{{}}', "
                        f"'{NOW}')")
        _upgrade(engine, "0007")
        with engine.connect() as connection:
            rows = connection.exec_driver_sql("SELECT award_id, show_name, on_profile FROM award_privacy "
                                              "ORDER BY award_id").all()
            assert [(award, bool(shown), bool(listed)) for award, shown, listed in rows] == \
                [("named-1", True, True), ("named-2", True, True)]
            assert connection.exec_driver_sql("SELECT count(*) FROM awards").scalar() == 4
        with engine.begin() as connection, migrate_module._config(connection) as config:
            command.downgrade(config, "0006")
        tables = set(inspect(engine).get_table_names())
        assert not tables & {"award_privacy", "employee_sessions", "employee_sign_in_links"}
        with engine.connect() as connection:
            assert connection.exec_driver_sql("SELECT count(*) FROM awards").scalar() == 4
        _upgrade(engine, "head")
    finally:
        engine.dispose()
