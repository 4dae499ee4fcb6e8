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

Reading a thread's CPU time is a system call, made holding the GIL: about 1 µs
alone, but a point where the kernel may switch threads, so in a busy server it
stalls every thread of the process (a sampling profile of the verifier at 1,400
verifications a second found a quarter of all GIL time in that one read), while
the wall clock is read without one. Two facts keep the CPU clock read rarely: a
thread cannot compute for longer than the wall time that passes, and its CPU time
never goes back. So a deadline starts from the thread's last reading if that is
at most :data:`CPU_READING_REUSE` seconds old (the budget then counts that little
earlier work too: it can only end sooner, never later), and :meth:`Deadline.check`
reads the CPU clock only once the wall time since that reading exceeds the budget.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from .errors import CanonicalizationLimitError

DEFAULT_SECONDS = 2.0
CPU_READING_REUSE = 0.2  # seconds of wall time a thread's CPU reading may be reused for a new deadline

Clock = Callable[[], float]


class DeadlineExceededError(CanonicalizationLimitError):
    """The JSON-LD processing of a document used up its time budget."""

    code = "canonicalization_limit"


_readings = threading.local()


def _thread_cpu_reading() -> tuple[float, float]:
    """(wall time, this thread's CPU time) read at most :data:`CPU_READING_REUSE` seconds ago."""
    now = time.monotonic()
    reading: tuple[float, float] | None = getattr(_readings, "last", None)
    if reading is None or now - reading[0] > CPU_READING_REUSE:
        reading = (now, time.thread_time())
        _readings.last = reading
    return reading


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
        if clock is time.thread_time:
            # from the thread's last CPU reading (at most CPU_READING_REUSE old: the budget can only
            # end sooner); until the wall clock passes the reading's time plus the budget, the
            # thread cannot have computed that long, and the CPU clock need not be read
            wall, cpu = _thread_cpu_reading()
            self._end = cpu + self.seconds
            self._wall_end = wall + self.seconds
        else:  # another clock (tests'): read at every check
            self._end = clock() + self.seconds
            self._wall_end = -1.0

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
