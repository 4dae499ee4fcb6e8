"""One time budget for JSON-LD expansion, RDF conversion and canonicalization, with an injected clock."""
from __future__ import annotations

import threading
import time

import pytest

from verifier import budget
from verifier.budget import (
    Deadline,
    DeadlineExceededError,
    current_deadline,
    deadline_scope,
    effective_deadline,
)
from verifier.canonicalize import canonicalize
from verifier.errors import CanonicalizationLimitError, CredentialError
from verifier.jsonld import JsonLdEngine
from verifier.rdfc import canonicalize_quads

V2 = "https://www.w3.org/ns/credentials/v2"
OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


class FakeClock:
    """Advances by ``step`` at every read; records how often it was read."""

    def __init__(self, step: float = 0.0):
        self.now, self.step, self.reads = 0.0, step, 0

    def __call__(self) -> float:
        self.reads += 1
        self.now += self.step
        return self.now


def credential(items: int = 200) -> dict:
    return {"@context": [V2, OB], "id": "urn:uuid:00000000-0000-4000-8000-000000000001",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": {"id": "did:example:issuer", "type": ["Profile"]}, "validFrom": "2026-01-01T00:00:00Z",
            "credentialSubject": {"id": "did:example:learner", "type": ["AchievementSubject"],
                                  "https://example.com/item": [{"https://example.com/n": i} for i in range(items)]}}


def test_a_deadline_fires_when_its_clock_passes_the_budget():
    clock = FakeClock()
    deadline = Deadline(1.0, clock=clock)
    deadline.check()
    clock.now = 0.999
    deadline.check()
    assert deadline.remaining() == pytest.approx(0.001)
    clock.now = 1.001
    with pytest.raises(DeadlineExceededError, match="longer than its 1 s budget") as caught:
        deadline.check()
    assert caught.value.code == "canonicalization_limit"
    assert isinstance(caught.value, CanonicalizationLimitError)  # callers catching that still do
    with pytest.raises(ValueError):
        Deadline(0)


def test_the_deadline_stops_expansion_from_inside():
    """Each clock read costs 1 s of a 10 s budget: expansion of 200 nodes stops mid-way, deterministically."""
    engine = JsonLdEngine()
    runs = []
    for _ in range(2):
        clock = FakeClock(step=1.0)
        with pytest.raises(DeadlineExceededError):
            engine.expand(credential(), deadline=Deadline(10, clock=clock))
        runs.append(clock.reads)
    assert runs[0] == runs[1] == 12  # the creation read, 10 reads within budget, the one that fires
    clock = FakeClock(step=1.0)
    assert engine.expand(credential(items=5), deadline=Deadline(10, clock=clock))
    assert 1 < clock.reads < 10  # read inside expansion, and few times for a small document


def test_the_deadline_stops_rdf_conversion_and_canonicalization_too():
    engine = JsonLdEngine()
    clock = FakeClock(step=1.0)
    engine.expand(credential(), deadline=Deadline(10_000, clock=clock))
    expand_reads = clock.reads
    clock = FakeClock(step=1.0)
    engine.to_dataset(credential(), deadline=Deadline(10_000, clock=clock))
    assert clock.reads > expand_reads  # the node map reads it too
    with pytest.raises(DeadlineExceededError):
        engine.to_dataset(credential(), deadline=Deadline(expand_reads + 2, clock=FakeClock(step=1.0)))
    quads = [{"subject": {"type": "blank node", "value": f"_:b{i}"},
              "predicate": {"type": "IRI", "value": "https://example.com/p"},
              "object": {"type": "literal", "value": str(i), "datatype": "http://www.w3.org/2001/XMLSchema#string"}}
             for i in range(2000)]
    with pytest.raises(DeadlineExceededError):
        canonicalize_quads(quads, deadline=Deadline(3, clock=FakeClock(step=1.0)))


def test_one_deadline_is_shared_by_every_step_of_a_scope():
    clock = FakeClock()
    deadline = Deadline(5, clock=clock)
    assert current_deadline() is None
    with deadline_scope(deadline):
        assert current_deadline() is deadline
        assert effective_deadline() is deadline
        canonicalize(credential(items=3))       # within budget: the clock stands still
        clock.now = 6                           # then the verification has spent it all
        with pytest.raises(DeadlineExceededError):
            canonicalize(credential(items=4))
        explicit = Deadline(5, clock=FakeClock())
        assert effective_deadline(explicit) is explicit  # an explicit one wins
    assert current_deadline() is None


def test_without_a_deadline_each_call_gets_a_fresh_default():
    assert effective_deadline().seconds == 2.0
    assert effective_deadline(seconds=0.5).seconds == 0.5
    assert "did:example:learner" in canonicalize(credential(items=3))


def test_large_documents_take_turns_and_do_not_wait_forever(monkeypatch):
    """Over HEAVY_VALUES values a document waits for its turn (one at a time); the wait is bounded."""
    from verifier import jsonld
    engine = JsonLdEngine()
    monkeypatch.setattr(jsonld, "HEAVY_WAIT_SECONDS", 0.01)
    large = credential(items=jsonld.HEAVY_VALUES // 2)
    assert engine.expand(large)
    engine._heavy_turn.acquire()  # another large document is being processed
    try:
        assert engine.expand(credential(items=5))  # ordinary documents never wait
        with pytest.raises(CredentialError, match="busy with other large documents") as caught:
            engine.expand(large)
        assert caught.value.code == "verifier_busy"   # could not check now, not a verdict
    finally:
        engine._heavy_turn.release()
    assert engine.expand(large)


def test_the_cpu_clock_is_read_only_once_the_wall_clock_could_have_spent_the_budget():
    """A thread's CPU time is a system call to read; it cannot exceed the wall time passed, so a
    check within the budget by the wall clock reads only the wall clock."""
    deadline = Deadline(60.0)
    reads = []
    real = deadline._clock

    def counted() -> float:
        reads.append(1)
        return real()

    deadline._clock = counted
    for _ in range(1000):
        deadline.check()
    assert not deadline.expired() and reads == []


def test_cpu_work_still_runs_out_the_default_budget():
    deadline = Deadline(0.05)
    with pytest.raises(DeadlineExceededError):
        while True:  # computing: the thread's CPU time passes the budget after the wall clock does
            sum(range(1000))
            deadline.check()
    assert deadline.expired()


def test_a_new_deadline_reuses_the_threads_recent_cpu_reading():
    """Deadlines made one after another on a thread read its CPU clock once per CPU_READING_REUSE
    of wall time; starting from that earlier reading, a budget can only end sooner."""
    def in_a_fresh_thread(work):
        out = []
        thread = threading.Thread(target=lambda: out.append(work()))
        thread.start()
        thread.join()
        return out[0]

    def two_readings_then_one_later():
        first, second = budget._thread_cpu_reading(), budget._thread_cpu_reading()
        time.sleep(budget.CPU_READING_REUSE + 0.05)
        return first, second, budget._thread_cpu_reading()

    first, second, later = in_a_fresh_thread(two_readings_then_one_later)
    assert second is first and later is not first and later[0] > first[0]

    def ends():
        deadline = Deadline(1.0)
        return deadline._end, time.thread_time() + 1.0

    end, fresh_end = in_a_fresh_thread(ends)
    assert end <= fresh_end
