"""Bulk issuance from a CSV file: the one issuing pipeline, for many awards at once.

    result = issue_csv("awards.csv", runtime, actor="hr:alex", progress=callback)
    result.issued, result.already_issued, result.award_ids, result.credential_urls

:func:`issue_csv` checks the whole file first (:mod:`issuer.bulk.reading`: the API's rules)
and issues nothing if any row is bad, or, in ``valid-rows`` mode (:class:`~issuer.bulk.limits.BulkMode`),
only the good rows. It then issues in chunks, one transaction per chunk,
through the same steps as one award (:mod:`issuer.awards.issuance`): status slots from
:class:`~issuer.awards.allocation.StatusIndexes`, :func:`~issuer.awards.plan.plan_award`,
:class:`~issuer.awards.signer.AwardSigner` (sign and self-verify) and
:func:`~issuer.awards.store.store_awards`. A run killed half-way leaves only complete awards,
and running the same file again issues only what is missing (rows already issued are
counted, not duplicated).

What makes it fast is around those steps, not instead of them:

* the database work is per chunk, not per award (one query for the awards already issued,
  one for the recipients' DIDs, set-based writes in :func:`store_awards`);
* building, signing and self-verifying (CPU-bound) run in a pool of worker processes while
  the main process plans and writes the chunks; each worker loads the issuer's key from the
  keys folder itself (nothing secret goes through the pool's pipes);
* when a concurrent issuer took one of a chunk's status indexes first, the chunk is rolled
  back and planned again.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import UTC, datetime
from multiprocessing.connection import wait
from multiprocessing.context import BaseContext
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session

from issuer.awards.allocation import ListsFull, Slots, StatusIndexes
from issuer.awards.credentials import credential_url
from issuer.awards.issuance import IssuerContext
from issuer.awards.plan import PlannedAward, plan_award
from issuer.awards.signer import AwardSigner, SelfCheck, SignedAward
from issuer.awards.store import IN_BATCH, StoreConflict, store_awards
from issuer.bulk.limits import BulkMode
from issuer.bulk.reading import BulkRow, RowProblem, ValidationReport, existing_awards, read_source, validate_csv
from issuer.config import Settings
from issuer.db.models import Achievement, Issuer, IssuerKey, Recipient, new_id
from issuer.errors import Conflict, IssuerError, SigningFailed
from issuer.keys.files import load_key
from issuer.keys.keyring import current_key, verification_method
from issuer.metrics import IssuePath, count_awards
from issuer.runtime import Runtime

ProgressCallback = Callable[[int, int], None]
log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
IN_FLIGHT = 2                            # chunks planned and signing while the oldest is written


@dataclass(frozen=True)
class BulkAward:
    line: int
    award_id: str
    credential_url: str
    created: bool                         # False: issued before (by an earlier run or request)


@dataclass
class BulkResult:
    report: ValidationReport
    started: bool = False                 # False: nothing was done (bad rows, all-or-nothing; or a bad file)
    issued: int = 0
    already_issued: int = 0
    awards: list[BulkAward] = field(default_factory=list)     # one per row, in file order
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """Started, and every row was good."""
        return self.started and self.report.ok

    @property
    def rejected(self) -> list[RowProblem]:
        """The rows not issued, with why (a run in ``valid-rows`` mode issues the others)."""
        return self.report.problems

    @property
    def award_ids(self) -> list[str]:
        return [a.award_id for a in self.awards]

    @property
    def credential_urls(self) -> list[str]:
        return [a.credential_url for a in self.awards]


# --------------------------------------------------------------------------- signing (worker side)

@dataclass(frozen=True)
class _SignerSetup:
    """What a signer needs; no secrets: each signer loads the private key from the keys folder."""

    settings: Settings
    issuer: dict[str, Any]                # Issuer column values
    key_file: str                         # path of the current key's JWK file
    key_multibase: str                    # its public key, as the database records it
    verification_method: str
    achievements: dict[str, dict[str, Any]]   # achievement id -> column values
    now: datetime


def _achievements(setup: _SignerSetup) -> dict[str, Achievement]:
    return {ident: Achievement(**columns) for ident, columns in setup.achievements.items()}


class _Signer:
    """An :class:`AwardSigner` for one process, with the documents of the run's current version."""

    def __init__(self, setup: _SignerSetup) -> None:
        pair = load_key(setup.key_file)
        if pair.public.to_multibase() != setup.key_multibase:
            raise SigningFailed(f"the key file {setup.key_file} does not hold the key the database records",
                                code="key_mismatch")
        self.now = setup.now
        self.check = SelfCheck()
        self.signer = AwardSigner(setup.settings, Issuer(**setup.issuer), pair, setup.verification_method,
                                  _achievements(setup), self.check)
        self.documents_version = -1

    def sign_batch(self, version: int, documents: dict[str, Any],
                   plans: list[PlannedAward]) -> list[str] | tuple[str, str]:
        """The credentials as JSON text, or (code, message) of the first failure."""
        if version != self.documents_version:
            self.check.use(documents)
            self.documents_version = version
        try:
            return [self.signer.sign(planned, self.now).credential for planned in plans]
        except IssuerError as exc:
            return (exc.code, str(exc))


_worker: _Signer | None = None


def _init_worker(setup: _SignerSetup) -> None:
    global _worker
    parent = multiprocessing.parent_process()
    if parent is not None:   # a worker whose parent was killed would otherwise wait for work forever
        threading.Thread(target=_exit_with, args=(parent.sentinel,), daemon=True, name="exit-with-parent").start()
    _worker = _Signer(setup)


def _exit_with(sentinel: int) -> None:
    wait([sentinel])
    os._exit(1)


def _worker_sign_batch(version: int, documents: dict[str, Any],
                       plans: list[PlannedAward]) -> list[str] | tuple[str, str]:
    if _worker is None:
        raise RuntimeError("the worker was not initialised")
    return _worker.sign_batch(version, documents, plans)


class _Done:
    """A finished batch signed in this process (no pool)."""

    def __init__(self, value: list[str] | tuple[str, str]) -> None:
        self.value = value

    def result(self) -> list[str] | tuple[str, str]:
        return self.value

    def cancel(self) -> bool:
        return False


# --------------------------------------------------------------------------- issuing (main side)

@dataclass
class _Chunk:
    rows: list[BulkRow]
    existing: dict[str, str]              # key -> award id, issued before
    planned: list[PlannedAward]
    lines: dict[str, int]                 # award id -> line
    batches: list[Future[Any] | _Done] = field(default_factory=list)
    attempt: int = 1

    @property
    def slots(self) -> list[Slots]:
        return [p.slots for p in self.planned]


class _Run:
    def __init__(self, runtime: Runtime, issuer_id: str, report: ValidationReport, *, actor: str, source: str,
                 now: datetime, chunk_size: int, workers: int | None, progress: ProgressCallback | None,
                 indexes: StatusIndexes) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.issuer_id = issuer_id
        self.report = report
        self.actor = actor
        self.source = source
        self.now = now
        self.chunk_size = max(1, chunk_size)
        self.progress = progress
        self.workers = workers
        self.indexes = indexes
        self.pool: ProcessPoolExecutor | None = None
        self.pool_size = 0
        self.local: _Signer | None = None
        self.documents: dict[str, Any] = {}
        self.documents_version = 0
        self.ctx: IssuerContext | None = None
        self.slugs: dict[str, str] = {}
        self.achievements: dict[str, Achievement] = {}
        self.vm = ""
        self.file_dids = {row.request.email: row.request.did for row in report.rows if row.request.did}
        self.result = BulkResult(report, started=True)
        self.done = 0

    # ---- setup

    def _load_context(self, session: Session) -> IssuerContext:
        """Open (and publish) the status lists to use; the documents the self-check verifies against."""
        issuer = session.get(Issuer, self.issuer_id)
        assert issuer is not None  # noqa: S101 - found by validate_csv
        self.ctx = IssuerContext.load(session, self.settings, issuer, self.indexes)
        self.documents = {url: doc for url, doc in self.ctx.check.documents.items()}
        self.documents_version += 1
        return self.ctx

    def _setup(self) -> _SignerSetup:
        with self.runtime.transaction() as session:
            ctx = self._load_context(session)
            key_row, _pair = current_key(session, self.settings, ctx.issuer)
            self.vm = verification_method(ctx.issuer, key_row)
            needed = sorted({row.achievement_id for row in self.report.rows})
            achievements: list[Achievement] = []
            for start in range(0, len(needed), IN_BATCH):
                achievements.extend(session.scalars(select(Achievement).where(
                    Achievement.id.in_(needed[start:start + IN_BATCH]))))
            columns = [c.key for c in inspect(Achievement).column_attrs]
            self.slugs = {a.id: a.slug for a in achievements}
            setup = _SignerSetup(
                settings=self.settings,
                issuer={c.key: getattr(ctx.issuer, c.key) for c in inspect(Issuer).column_attrs},
                key_file=str(Path(self.settings.keys_dir) / key_row.key_file),
                key_multibase=key_row.public_multibase,
                verification_method=self.vm,
                achievements={a.id: {c: getattr(a, c) for c in columns} for a in achievements},
                now=self.now)
            self.achievements = _achievements(setup)
            return setup

    def _start_signers(self, setup: _SignerSetup, to_issue: int) -> None:
        workers = self.workers if to_issue else 0
        if workers is None:
            workers = 0 if to_issue < 64 else min(2, os.cpu_count() or 1)
        if workers <= 0:
            self.local = _Signer(setup)
            return
        self.pool_size = workers
        self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=_process_context(),
                                        initializer=_init_worker, initargs=(setup,))

    # ---- planning: what to issue in a chunk, with which ids and status slots

    def _plan(self, rows: list[BulkRow], *, may_cut: bool) -> _Chunk:
        assert self.ctx is not None  # noqa: S101 - set up first
        with self.runtime.reading() as session:
            self._check_key(session)
            existing = {}
            for key, (award_id, issuer_id) in existing_awards(session, [r.key for r in rows]).items():
                if issuer_id != self.issuer_id:
                    raise Conflict("an award of another issuer has the idempotency key of line "
                                   f"{next(r.line for r in rows if r.key == key)}", code="bulk_conflict")
                existing[key] = award_id
            new = [r for r in rows if r.key not in existing]
            room = self.indexes.room(session, self.ctx.lists)
            if len(new) > room:
                if not may_cut or room <= 0:
                    raise ListsFull()
                last = new[room - 1]
                rows = rows[:rows.index(last) + 1]
                new = new[:room]
            emails = sorted({r.request.email for r in new if r.request.email not in self.file_dids})
            db_dids: dict[str, str | None] = {}
            for start in range(0, len(emails), IN_BATCH):
                db_dids.update((email, did) for email, did in session.execute(select(Recipient.email, Recipient.did)
                               .where(Recipient.issuer_id == self.issuer_id,
                                      Recipient.email.in_(emails[start:start + IN_BATCH]))))
        slots = self.indexes.claim(self.runtime.sessions, self.ctx.lists, len(new))   # seen by other processes
        planned = [plan_award(row.request, self.achievements[row.achievement_id], award_id=new_id(),
                              recipient_did=self.file_dids.get(row.request.email, db_dids.get(row.request.email)),
                              slots=slot, now=self.now) for row, slot in zip(new, slots, strict=True)]
        return _Chunk(rows, existing, planned, {p.award_id: row.line for p, row in zip(planned, new, strict=True)})

    def _check_key(self, session: Session) -> None:
        """Nothing is planned or stored with a key that is no longer the issuer's current one."""
        key_file = session.scalar(select(IssuerKey.key_file).where(IssuerKey.issuer_id == self.issuer_id,
                                                                    IssuerKey.state == "current"))
        if key_file is None or Path(self.setup.key_file).name != key_file:
            raise Conflict("the issuer's signing key changed during the run; the awards stored so far are "
                           "complete: run the file again to issue the rest with the new key", code="key_rotated")

    # ---- signing

    def _submit(self, chunk: _Chunk) -> None:
        plans = chunk.planned
        if not plans:
            return
        if self.pool is None:
            assert self.local is not None  # noqa: S101 - no pool: a local signer
            chunk.batches = [_Done(self.local.sign_batch(self.documents_version, self.documents, plans))]
            return
        size = max(4, -(-len(plans) // (self.pool_size * 4)))
        chunk.batches = [self.pool.submit(_worker_sign_batch, self.documents_version, self.documents,
                                          plans[i:i + size]) for i in range(0, len(plans), size)]

    def _credentials(self, chunk: _Chunk) -> list[str]:
        credentials: list[str] = []
        for batch in chunk.batches:
            try:
                outcome = batch.result()
            except BrokenProcessPool as exc:
                raise SigningFailed(f"a signing process stopped unexpectedly ({exc}); the awards stored so far "
                                    "are complete: run the file again to issue the rest",
                                    code="bulk_worker_died") from exc
            if isinstance(outcome, tuple):
                code, message = outcome
                raise SigningFailed(message, code=code)
            credentials.extend(outcome)
        return credentials

    # ---- writing: one transaction per chunk

    def _write(self, chunk: _Chunk, credentials: list[str]) -> None:
        signed = [SignedAward(p, credential) for p, credential in zip(chunk.planned, credentials, strict=True)]
        with self.runtime.transaction() as session:
            self._check_key(session)
            store_awards(session, self.settings, self.issuer_id, signed, actor=self.actor,
                         verification_method=self.vm, slugs=self.slugs, notify="awarded", claimed=True,
                         details=lambda a: {"bulk": self.source, "line": chunk.lines[a.planned.award_id]})
        count_awards(IssuePath.BULK, len(signed))      # committed (issuer.metrics)

    # ---- the whole run

    def _record(self, chunk: _Chunk) -> None:
        planned = {p.key: p for p in chunk.planned}
        for row in chunk.rows:
            if row.key in chunk.existing:
                award_id, created = chunk.existing[row.key], False
                self.result.already_issued += 1
            else:
                award_id, created = planned[row.key].award_id, True
                self.result.issued += 1
            self.result.awards.append(BulkAward(row.line, award_id, credential_url(self.settings, award_id), created))
        self.done += len(chunk.rows)
        if self.progress is not None:
            self.progress(self.done, len(self.report.rows))

    def _complete(self, chunk: _Chunk) -> None:
        """Wait for the chunk's credentials and store it; re-plan and retry on conflicts."""
        while True:
            try:
                credentials = self._credentials(chunk)
                self._write(chunk, credentials)
                self.indexes.stored(chunk.slots)
                self._record(chunk)
                return
            except (IntegrityError, OperationalError, StoreConflict) as exc:
                log.warning("bulk: a chunk of %d awards is planned again (%s)", len(chunk.rows), type(exc).__name__)
                self._release(chunk)
                if isinstance(exc, OperationalError) and not _is_busy(exc):
                    raise
                if chunk.attempt >= MAX_ATTEMPTS:
                    raise Conflict(f"could not store a chunk of {len(chunk.rows)} awards after {MAX_ATTEMPTS} "
                                   f"attempts ({exc}); nothing of it was stored, run the file again to issue the rest",
                                   code="bulk_conflict") from exc
                try:
                    retry = self._plan(chunk.rows, may_cut=False)
                except ListsFull:
                    raise Conflict("the status lists filled up while this chunk was issued; run the file again "
                                   "to issue the rest", code="bulk_conflict") from exc
                retry.attempt = chunk.attempt + 1
                self._submit(retry)
                chunk = retry
            except BaseException:
                self._release(chunk)
                raise

    def _release(self, chunk: _Chunk) -> None:
        """The chunk's work is rolled back: its claimed indexes go back (never raises: logged)."""
        try:
            self.indexes.release(self.runtime.sessions, chunk.slots)
        except Exception:   # noqa: BLE001 - the database is failing: the claims stay unowned, never reused
            log.warning("bulk: %d claimed status indexes could not be released", 2 * len(chunk.slots), exc_info=True)
            self.indexes.forget(chunk.slots)

    def _new_lists(self) -> None:
        with self.runtime.transaction() as session:
            self._load_context(session)

    def execute(self) -> BulkResult:
        rows = self.report.rows
        if not rows:
            return self.result
        self.setup = self._setup()
        self._start_signers(self.setup, self.report.to_issue)
        if self.progress is not None:
            self.progress(0, len(rows))
        pending: list[_Chunk] = []
        position = 0
        try:
            while position < len(rows) or pending:
                if position < len(rows) and len(pending) < IN_FLIGHT:
                    try:
                        chunk = self._plan(rows[position:position + self.chunk_size], may_cut=True)
                    except ListsFull:
                        if pending:                  # let the chunks in flight finish on the old lists
                            self._complete(pending.pop(0))
                        else:
                            self._new_lists()
                        continue
                    self._submit(chunk)
                    pending.append(chunk)
                    position += len(chunk.rows)
                    if len(pending) < IN_FLIGHT and position < len(rows):
                        continue
                self._complete(pending.pop(0))
        except BaseException:
            for chunk in pending:
                self._release(chunk)
                for batch in chunk.batches:
                    batch.cancel()
            raise
        finally:
            if self.pool is not None:
                self.pool.shutdown(wait=True, cancel_futures=True)
        return self.result


def _process_context() -> BaseContext:
    """How to start the signing processes.

    ``fork`` when this process runs a single thread: the workers start at once with every
    module already imported (ProcessPoolExecutor forks all of them before starting its own
    thread; they never touch the inherited database connections and leave with os._exit).
    With other threads running, forking could copy a lock some thread holds, so a fork
    server (with this module preloaded) or ``spawn`` is used instead.
    """
    methods = multiprocessing.get_all_start_methods()
    if "fork" in methods and threading.active_count() == 1:
        return multiprocessing.get_context("fork")
    if "forkserver" in methods:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
        return context
    return multiprocessing.get_context("spawn")


def _is_busy(exc: OperationalError) -> bool:
    text = str(exc.orig).lower() if exc.orig is not None else str(exc).lower()
    return "locked" in text or "busy" in text or "deadlock" in text


def issue_csv(path: str | os.PathLike[str] | bytes, runtime: Runtime, *, actor: str,
              progress: ProgressCallback | None = None, chunk_size: int = 500, workers: int | None = None,
              now: datetime | None = None, source_name: str | None = None,
              indexes: StatusIndexes | None = None, mode: BulkMode = BulkMode.ALL_OR_NOTHING) -> BulkResult:
    """Issue every row of a bulk file; nothing at all if any row is bad (see ``result.report``).

    ``mode=BulkMode.VALID_ROWS``: issue the valid rows and leave the bad ones (``result.rejected``),
    unless the file as a whole is bad (:attr:`ValidationReport.fatal`: then nothing is issued).

    One transaction per chunk of ``chunk_size`` rows. ``progress(done, total)`` is called
    with the rows handled so far (issued or already issued) after each chunk is stored.
    ``workers``: processes that build, sign and self-verify (default: up to 2 for large
    files, none for small ones; 0 = in this process). ``source_name``: the file's name for the
    audit log when ``path`` is its content (an upload).
    """
    started = time.monotonic()
    now = (now or runtime.now()).astimezone(UTC)
    with runtime.reading() as session:
        issuer = runtime.load_issuer(session)        # not set up: say so before reading the file
        raw, name = read_source(path)
        report = validate_csv(raw, session, issuer, now=now)
        issuer_id = issuer.id
    name = source_name or name
    if not report.issuable(BulkMode(mode)):
        return BulkResult(report, started=False, seconds=time.monotonic() - started)
    run = _Run(runtime, issuer_id, report, actor=actor, source=name, now=now, chunk_size=chunk_size,
               workers=workers, progress=progress, indexes=indexes or StatusIndexes())
    result = run.execute()
    result.seconds = time.monotonic() - started
    return result
