"""Storage: SQLAlchemy models, the engine/session setup and Alembic migrations."""
