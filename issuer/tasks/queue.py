"""The task-queue port, and its in-process adapter (the embedded default).

    queue = queue_for(settings)                 # InlineQueue, or PostgresQueue with MICROCRED_QUEUE=postgres
    queue.bind(task_handlers(services))         # what each TaskName does, once the services exist
    queue.defer(TaskName.BULK_JOB, lock=f"bulk:{job_id}", job_id=job_id, actor="staff:ann")

Services never start threads or talk to a queue server themselves: they call :meth:`TaskQueue.defer`
on the runtime's queue. :class:`InlineQueue` (``MICROCRED_QUEUE=inline``, the default: SQLite,
``./scripts/demo.sh``, one server) runs the task in this process, long ones
(:data:`~issuer.tasks.names.BACKGROUND`) in a thread of their own, the others at once in the
caller's thread, and its periodic work is done by :mod:`issuer.tasks.periodic` inside
``microcred serve``. :class:`~issuer.tasks.pg_queue.PostgresQueue` stores the task in PostgreSQL
for ``microcred worker`` processes. The handlers are the same functions either way
(:mod:`issuer.tasks.handlers`), so a task behaves the same whichever queue runs it.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from issuer.tasks.names import BACKGROUND, QueueKind, TaskName

log = logging.getLogger(__name__)

Handler = Callable[..., object]
Handlers = Mapping[TaskName, Handler]


class TaskQueue(Protocol):
    """Where the services hand work that should not hold up the caller."""

    kind: QueueKind

    def bind(self, handlers: Handlers) -> None:
        """What each task does (this process's services)."""

    def defer(self, task: TaskName, *, lock: str | None = None, **kwargs: Any) -> None:
        """Run ``task`` with ``kwargs`` later or elsewhere. ``lock``: at most one such task waits and
        none runs twice at once (a second defer while one waits is dropped)."""

    def running_here(self, lock: str) -> bool:
        """True while a task deferred with ``lock`` runs in this process."""

    def depth(self) -> dict[str, int]:
        """What the queue holds beyond the bulk jobs' rows (readiness, metrics); {} when nothing more."""


class InlineQueue:
    """Tasks run in this process: long ones in a thread of their own, the others at once."""

    kind = QueueKind.INLINE

    def __init__(self) -> None:
        self._handlers: dict[TaskName, Handler] = {}
        self._threads: dict[str, threading.Thread] = {}
        self._lock = threading.RLock()

    def bind(self, handlers: Handlers) -> None:
        self._handlers = dict(handlers)

    def handler(self, task: TaskName) -> Handler:
        try:
            return self._handlers[task]
        except KeyError:
            raise LookupError(f"no handler is bound for {task}") from None

    def defer(self, task: TaskName, *, lock: str | None = None, **kwargs: Any) -> None:
        handler = self.handler(task)
        if task not in BACKGROUND:
            handler(**kwargs)
            return
        key = lock or f"{task}:{id(kwargs)}"
        with self._lock:
            if self.running_here(key):
                return
            thread = threading.Thread(target=self._run, args=(task, handler, kwargs), name=f"task {key}", daemon=True)
            self._threads[key] = thread
            thread.start()

    @staticmethod
    def _run(task: TaskName, handler: Handler, kwargs: dict[str, Any]) -> None:
        try:
            handler(**kwargs)
        except Exception:   # noqa: BLE001 - a thread has no caller to tell: logged with its traceback
            log.exception("task %s failed", task)

    def running_here(self, lock: str) -> bool:
        with self._lock:
            thread = self._threads.get(lock)
            return thread is not None and thread.is_alive()

    def depth(self) -> dict[str, int]:
        return {}                         # its tasks are threads of this process: the bulk jobs' rows say it all

    def wait(self, lock: str, timeout: float | None = None) -> bool:
        """Wait for the thread of the task deferred with ``lock``; True when none runs."""
        with self._lock:
            thread = self._threads.get(lock)
        if thread is not None:
            thread.join(timeout)
            return not thread.is_alive()
        return True

    def wait_all(self, timeout: float | None = None) -> bool:
        """Wait for every task thread of this process (each up to ``timeout``); True when none runs."""
        with self._lock:
            locks = list(self._threads)
        return all([self.wait(lock, timeout) for lock in locks])
