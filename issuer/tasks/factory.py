"""The queue an installation uses, from its settings (``MICROCRED_QUEUE``).

    queue = queue_for(settings)        # InlineQueue (default) or PostgresQueue
"""
from __future__ import annotations

from issuer.config import Settings
from issuer.errors import ConfigError
from issuer.tasks.names import QUEUE_ENV, QueueKind
from issuer.tasks.pg_queue import PostgresQueue
from issuer.tasks.queue import InlineQueue, TaskQueue


def queue_for(settings: Settings) -> TaskQueue:
    """The settings' queue. ConfigError: the PostgreSQL queue asked for on a database that is not PostgreSQL."""
    if QueueKind.from_setting(settings.queue) is QueueKind.INLINE:
        return InlineQueue()
    if not settings.database_url.startswith("postgresql"):
        raise ConfigError(f"{QUEUE_ENV}=postgres needs a PostgreSQL database (DATABASE_URL=postgresql://...); "
                          "with the embedded SQLite database, leave it unset: tasks then run inside microcred serve.",
                          code="queue_needs_postgresql")
    return PostgresQueue(settings.database_url)
