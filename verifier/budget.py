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
that created it. Reading a thread's CPU time is a system call (2.6 µs on the
2-core VM, far more in a busy server's threads: a sampling profile of the verifier
under load found more time in it than in Ed25519), while the wall clock is read
without one; a thread cannot have computed for longer than the wall time that has
passed, so :meth:`Deadline.check` reads the CPU clock only once the wall time
since the start exceeds the budget.
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

    __slots__ = ("_clock", "_end", "_wall_end", "seconds")

    def __init__(self, seconds: float = DEFAULT_SECONDS, *, clock: Clock = time.thread_time):
        if not seconds > 0:
            raise ValueError("a deadline needs a positive number of seconds")
        self.seconds = float(seconds)
        self._clock = clock
        self._end = clock() + self.seconds
        # CPU time of this thread never runs ahead of the wall clock: until the wall clock passes
        # this, the budget cannot be spent (other clocks, e.g. tests', are always read)
        self._wall_end = time.monotonic() + self.seconds if clock is time.thread_time else -1.0

    def remaining(self) -> float:
        """Seconds left (negative once exceeded)."""
        return self._end - self._clock()

    def expired(self) -> bool:
        if time.monotonic() < self._wall_end:
            return False
        return self._clock() > self._end

    def check(self) -> None:
        """Raise :class:`DeadlineExceededError` if the budget is spent.

        Raises:
            DeadlineExceededError: the budget is spent.
        """
        if time.monotonic() < self._wall_end:
            return
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
