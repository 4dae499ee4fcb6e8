"""The ports every issuer service is built with: settings, database sessions, clock, mail transport.

:class:`Runtime` is built once, by :func:`issuer.web.app.create_app` and by the CLI's context
(:func:`issuer.cli.support.cli_services`), and handed to every service
(:class:`issuer.services.Services`). Tests build one with an in-memory or throwaway database,
a fixed clock and a recording mail transport.

It also answers the one question every use case starts with, "which issuer is this
installation?" (:meth:`Runtime.load_issuer`), so it is written once.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from issuer.config import Settings
from issuer.db.models import Issuer, utcnow
from issuer.identity import load_issuer
from issuer.mail.transport import Transport


@dataclass(frozen=True)
class Runtime:
    """Settings, a session factory, a clock (UTC) and the mail transport (None: from the environment)."""

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime] = field(default=utcnow)
    transport: Transport | None = None

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in a transaction: committed when the block ends, rolled back if it raises."""
        with self.sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A session for reading (nothing is committed)."""
        with self.sessions() as session:
            yield session

    def load_issuer(self, session: Session) -> Issuer:
        """This installation's issuer (:func:`issuer.identity.load_issuer`); NotReady before ``microcred init``."""
        return load_issuer(session, self.settings)
