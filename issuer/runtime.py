"""The ports every issuer service is built with: settings, database sessions, clock, mail transport.

:class:`Runtime` is built once, by :func:`issuer.web.app.create_app` and by the CLI's context
(:func:`issuer.cli.support.cli_services`), and handed to every service
(:class:`issuer.services.Services`). Tests build one with an in-memory or throwaway database,
a fixed clock and a recording mail transport.

It also answers the one question every use case starts with, "which issuer is this
installation?" (:meth:`Runtime.load_issuer`), so it is written once.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy.orm import Session, sessionmaker

from issuer.config import Settings
from issuer.db.models import Issuer, utcnow
from issuer.identity import load_issuer
from issuer.mail.outbox import Delivery, send_after_commit
from issuer.mail.transport import Transport
from issuer.tasks.factory import queue_for
from issuer.tasks.names import QueueKind, TaskName
from issuer.tasks.queue import TaskQueue

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Runtime:
    """Settings, a session factory, a clock (UTC), the mail transport (None: from the environment) and
    the task queue (None: the settings' queue, :func:`issuer.tasks.factory.queue_for`)."""

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime] = field(default=utcnow)
    transport: Transport | None = None
    tasks: TaskQueue | None = None

    def __post_init__(self) -> None:
        if self.tasks is None:
            object.__setattr__(self, "tasks", queue_for(self.settings))

    @property
    def queue(self) -> TaskQueue:
        """Where services hand background work (:mod:`issuer.tasks`)."""
        return cast(TaskQueue, self.tasks)

    def mail_after_commit(self) -> Delivery | None:
        """The emails a committed transaction queued: sent now with the inline queue (None when
        delivery could not start; logged), or handed to the workers (None). Never raises: the
        outbox keeps every message until it is sent."""
        if self.queue.kind is QueueKind.INLINE:
            return send_after_commit(self.sessions, self.settings, transport=self.transport)
        try:
            self.queue.defer(TaskName.DELIVER_MAIL, lock=str(TaskName.DELIVER_MAIL))
        except Exception:   # noqa: BLE001 - the outbox keeps the emails; the periodic delivery sends them
            log.warning("emails stay queued: the task queue could not be reached", exc_info=True)
        return None

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
