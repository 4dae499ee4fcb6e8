"""Alembic environment for microcred's schema (``issuer.db.models``).

Used two ways:

* programmatically, by :func:`issuer.db.migrate.migrate`, which passes an open connection in
  ``config.attributes["connection"]`` (no ``alembic.ini`` needed at runtime);
* by developers through the repository's ``alembic.ini`` (``alembic revision --autogenerate``,
  ``alembic upgrade head``): the database URL then comes from ``config.attributes["url"]``,
  ``DATABASE_URL``, ``sqlalchemy.url`` in the ini file, or the default of ``issuer.config``.

``render_as_batch=True`` so that ALTERs work on SQLite (table copy) as well as PostgreSQL.
"""
from __future__ import annotations

import os
from logging.config import fileConfig

from alembic import context
from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator

from issuer.db.models import Base

config = context.config
target_metadata = Base.metadata

if config.config_file_name and config.file_config.has_section("loggers") \
        and "connection" not in config.attributes:
    fileConfig(config.config_file_name, disable_existing_loggers=False)   # command line only


def _database_url() -> str:
    url = config.attributes.get("url") or os.environ.get("DATABASE_URL") \
        or config.get_main_option("sqlalchemy.url")
    if not url:
        from issuer.config import load_settings
        url = load_settings().database_url
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return url


def _render_item(type_, obj, autogen_context):
    """Render the project's column types as plain SQLAlchemy types, so that migration scripts
    never import application code (which changes; migrations must not)."""
    if type_ == "type" and isinstance(obj, TypeDecorator) and isinstance(obj.impl_instance, DateTime):
        return f"sa.DateTime(timezone={obj.impl_instance.timezone!r})"
    return False


def _configure(**kwargs) -> None:
    context.configure(
        target_metadata=target_metadata,
        render_as_batch=True,
        compare_type=True,
        render_item=_render_item,
        **kwargs,
    )


def run_migrations_offline() -> None:
    _configure(url=_database_url(), literal_binds=True, dialect_opts={"paramstyle": "named"})
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection=connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    from issuer.db.engine import make_engine
    engine = make_engine(_database_url())
    try:
        with engine.connect() as connection:
            _configure(connection=connection)
            with context.begin_transaction():
                context.run_migrations()
            connection.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
