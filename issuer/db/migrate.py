"""Bring a database to the current schema with the Alembic migrations shipped in the package.

    from issuer.db.engine import make_engine
    from issuer.db.migrate import migrate, current_revision

    engine = make_engine(settings.database_url)
    migrate(engine)                  # empty or older database -> head; a no-op when up to date
    current_revision(engine)         # "0001" (None before the first migration)

No ``alembic.ini`` is needed: the configuration is built here, pointing at
``issuer/db/migrations`` wherever the package is installed.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib.resources import as_file, files

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine

# Serialises concurrent migrate() calls on PostgreSQL (several workers starting at once).
_PG_LOCK_KEY = 0x6D6963726F637264  # "microcrd"


@contextmanager
def _config(connection: Connection | None = None) -> Iterator[Config]:
    with as_file(files("issuer.db.migrations")) as folder:
        config = Config()
        config.set_main_option("script_location", str(folder))
        config.set_main_option("path_separator", "os")
        if connection is not None:
            config.attributes["connection"] = connection
        yield config


def migrate(engine: Engine) -> None:
    """Upgrade the database behind ``engine`` to the newest revision (one transaction)."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
        with _config(connection) as config:
            command.upgrade(config, "head")


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None if it was never migrated."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str:
    """The newest revision shipped with this version of microcred."""
    with _config() as config:
        head = ScriptDirectory.from_config(config).get_current_head()
    if head is None:
        raise RuntimeError("no migration revision is shipped")
    return head
