"""Storage: SQLAlchemy models, the engine/session setup and Alembic migrations.

Importing the package registers every table on ``Base.metadata`` (every model module).
"""
from issuer.db import models, models_api, models_employee, models_skills, models_staff

__all__ = ["models", "models_api", "models_employee", "models_skills", "models_staff"]
