"""Open an installation: its instance folder, its database (migrated), its issuer."""
from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from issuer.config import Settings
from issuer.db.engine import make_engine, session_factory

_factories: dict[str, sessionmaker[Session]] = {}


def migrate_engine(engine) -> None:
    try:
        from issuer.db.migrate import migrate
    except ImportError:  # migrations not available: create the tables directly
        from issuer.db.models import Base

        Base.metadata.create_all(engine)
        return
    migrate(engine)


def open_instance(settings: Settings) -> sessionmaker[Session]:
    """A session factory for the installation's database, created and migrated on first use."""
    factory = _factories.get(settings.database_url)
    if factory is None:
        if settings.database_url.startswith("sqlite"):
            settings.instance.mkdir(parents=True, exist_ok=True)
        engine = make_engine(settings.database_url)
        migrate_engine(engine)
        factory = _factories[settings.database_url] = session_factory(engine)
    return factory
