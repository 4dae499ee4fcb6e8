"""One processing-time budget for the JSON-LD work of one verification.

Everything that runs before a signature is known to be good (JSON-LD expansion,
RDF conversion, RDFC-1.0 canonicalization) works on untrusted input, so it runs
under a :class:`Deadline`: the loops of :mod:`verifier.jsonld` and
:mod:`verifier.rdfc` call :meth:`Deadline.check` at cheap points and stop with a
:class:`DeadlineExceededError` (reason code ``canonicalization_limit``) once the
budget is spent.

One deadline covers a whole verification: the credential, its proof
configurations, status list credentials and endorsements. The caller either
passes it explicitly (``engine.expand(doc, deadline=d)``, ``canonicalize(doc,
deadline=d)``) or sets it for everything below a block::

    with deadline_scope(Deadline(2.0)):
        report = ...  # every JSON-LD step in here shares the 2 s

With neither, each top-level call gets a fresh :data:`DEFAULT_SECONDS` budget,
so existing callers keep working.

The default clock is the calling thread's CPU time (:func:`time.thread_time`):
waiting for the network, or for the GIL while other requests run, does not use
up the budget; computing does. A deadline on that clock belongs to the thread
that created it.
"""
from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .errors import CanonicalizationLimitError

DEFAULT_SECONDS = 2.0

Clock = Callable[[], float]


class DeadlineExceededError(CanonicalizationLimitError):
    """The JSON-LD processing of a document used up its time budget."""

    code = "canonicalization_limit"


class Deadline:
    """A processing-time budget, checked with :meth:`check`.

    Args:
        seconds: the budget (> 0).
        clock: seconds as a float, monotonic; default the thread's CPU time.
    """

    __slots__ = ("_clock", "_end", "seconds")

    def __init__(self, seconds: float = DEFAULT_SECONDS, *, clock: Clock = time.thread_time):
        if not seconds > 0:
            raise ValueError("a deadline needs a positive number of seconds")
        self.seconds = float(seconds)
        self._clock = clock
        self._end = clock() + self.seconds

    def remaining(self) -> float:
        """Seconds left (negative once exceeded)."""
        return self._end - self._clock()

    def expired(self) -> bool:
        return self._clock() > self._end

    def check(self) -> None:
        """Raise :class:`DeadlineExceededError` if the budget is spent.

        Raises:
            DeadlineExceededError: the budget is spent.
        """
        if self._clock() > self._end:
            raise DeadlineExceededError(
                f"processing the document took longer than its {self.seconds:g} s budget "
                "(it is too complex to check safely)",
                details={"budget_seconds": self.seconds})


_current: ContextVar[Deadline | None] = ContextVar("microcred_deadline", default=None)


@contextmanager
def deadline_scope(deadline: Deadline) -> Iterator[Deadline]:
    """Make ``deadline`` the budget of every JSON-LD step run inside the block (this thread/task)."""
    token = _current.set(deadline)
    try:
        yield deadline
    finally:
        _current.reset(token)


def current_deadline() -> Deadline | None:
    """The deadline set by the innermost :func:`deadline_scope`, if any."""
    return _current.get()


def effective_deadline(deadline: Deadline | None = None, seconds: float = DEFAULT_SECONDS) -> Deadline:
    """``deadline`` if given, else the scope's, else a fresh one of ``seconds``."""
    if deadline is not None:
        return deadline
    return _current.get() or Deadline(seconds)
